#!/bin/bash
# Compares tandem's tokenizer with llama.cpp's on many strings (see README.md).
# usage: run.sh LLAMA_CPP_DIR TANDEM_BUILD_DIR [SHARED_DIR]
# SHARED_DIR defaults to $TANDEM_SHARED_DIR, else ../shared beside the repository.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
LLAMA=$1; BUILD=$2; SHARED=${3:-${TANDEM_SHARED_DIR:-$SRC/../shared}}
[[ -d $SHARED ]] || { echo "error: no shared folder at $SHARED (set TANDEM_SHARED_DIR; see README)" >&2; exit 1; }
WORK=$(mktemp -d)
python3 "$HERE/gen.py" "$SHARED" "$WORK/inputs.bin"
g++ -O2 -std=c++17 -I"$LLAMA/include" -I"$LLAMA/ggml/include" -I"$HERE" "$HERE/ref.cpp" -o "$WORK/ref" \
  -L"$LLAMA/build/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$LLAMA/build/bin"
g++ -O2 -std=c++20 -I"$SRC/src" -I"$HERE" "$HERE/mine.cpp" "$BUILD/libtandem.a" -o "$WORK/mine" \
  $(pkg-config --libs libpcre2-32 icu-uc) -fopenmp
for gguf in "$SHARED"/models/stories260K.gguf "$SHARED"/models/llama-2-tiny-random.gguf "$SHARED"/fixtures/tokenizer/ggml-vocab-*.gguf; do
  name=$(basename "$gguf" .gguf)
  "$WORK/ref" "$gguf" "$WORK/inputs.bin" > "$WORK/$name.ref" 2>/dev/null || { echo "$name: llama.cpp failed"; continue; }
  "$WORK/mine" "$gguf" "$WORK/inputs.bin" > "$WORK/$name.mine"
  if cmp -s "$WORK/$name.ref" "$WORK/$name.mine"; then
    echo "$name: identical ($(wc -l < "$WORK/$name.ref") lines)"
  else
    echo "$name: $(diff "$WORK/$name.ref" "$WORK/$name.mine" | grep -c '^<') lines differ (see $WORK)"
  fi
done
