#!/usr/bin/env bash
# Writes the random-weight benchmark models of shared/fixtures/bench/README.md into
# MODELDIR (a scratch folder outside the repo; never commit them):
#   llama-125m-{f16,q8_0,q4_0}.gguf  n_embd 768, 12 layers, 12 heads, 4 KV heads,
#                                    n_ff 2048, 32k llama-spm vocab (124.7M params)
#   llama-125m-q4_k-pure.gguf        only with LLAMA_BIN_DIR (needs llama-quantize)
#   llama-500m-{f16,q8_0,q4_0}.gguf  n_embd 1536, 16 layers, 12 heads (head_dim 128),
#                                    4 KV heads, n_ff 4096 (~0.5B params)
#   llama-500m-q4_k-pure.gguf        only with LLAMA_BIN_DIR
# Existing files are kept (delete them to regenerate). The generator is pure
# Python: expect tens of seconds per 125M file and a few minutes per 0.5B file.
#
# usage: bench/make_bench_models.sh MODELDIR [LLAMA_BIN_DIR] [--no-500m]
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 MODELDIR [LLAMA_BIN_DIR] [--no-500m]" >&2
  exit 1
fi
out=$1
bin=""
big=1
for a in "${@:2}"; do
  if [[ $a == --no-500m ]]; then big=0; else bin=$a; fi
done
# The shared/ folder (see README): TANDEM_SHARED_DIR, else ../shared beside the repository.
shared=${TANDEM_SHARED_DIR:-$(cd "$(dirname "$0")/.." && pwd)/../shared}
gen=$shared/tools/make_random_gguf.py
vocab=$shared/fixtures/tokenizer/ggml-vocab-llama-spm.gguf
for f in "$gen" "$vocab"; do
  [[ -f $f ]] || { echo "error: $f not found (set TANDEM_SHARED_DIR to the shared/ folder; see README)" >&2; exit 1; }
done
mkdir -p "$out"

make() {  # make NAME TYPE SHAPE...
  local name=$1 type=$2
  shift 2
  if [[ -f $out/$name ]]; then echo "keep $out/$name"; return; fi
  python3 "$gen" --vocab "$vocab" --arch llama "$@" --seed 7 --type "$type" --out "$out/$name.tmp"
  mv "$out/$name.tmp" "$out/$name"
}

s125=(--n-embd 768 --n-layer 12 --n-head 12 --n-head-kv 4 --n-ff 2048)
for t in f16 q8_0 q4_0; do make "llama-125m-$t.gguf" "$t" "${s125[@]}"; done

q4_k() {  # q4_k SIZE SHAPE...: F32 file, then llama-quantize --pure to Q4_K (every matrix Q4_K)
  local size=$1
  shift
  if [[ -z $bin ]]; then
    echo "note: no LLAMA_BIN_DIR given: skipping llama-$size-q4_k-pure.gguf (it needs llama-quantize)"
    return
  fi
  make "llama-$size-f32.gguf" f32 "$@"
  if [[ ! -f $out/llama-$size-q4_k-pure.gguf ]]; then
    "$bin/llama-quantize" --pure "$out/llama-$size-f32.gguf" "$out/llama-$size-q4_k-pure.gguf" Q4_K 1 >/dev/null 2>&1 \
      || { echo "error: llama-quantize failed" >&2; exit 1; }
  fi
  echo "wrote $out/llama-$size-q4_k-pure.gguf"
}
q4_k 125m "${s125[@]}"

if [[ $big == 1 ]]; then
  s500=(--n-embd 1536 --n-layer 16 --n-head 12 --n-head-kv 4 --n-ff 4096)
  for t in f16 q8_0 q4_0; do make "llama-500m-$t.gguf" "$t" "${s500[@]}"; done
  q4_k 500m "${s500[@]}"
fi
