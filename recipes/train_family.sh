#!/usr/bin/env bash
# tandem's own model family: llama-architecture models trained from scratch on
# the CPU with `tandem train`, on TinyStories text plus tandem's synthetic
# arithmetic task (difficulty 2), with a 512-token SPM vocabulary trained on the
# same data. One command per model:
#
#   recipes/train_family.sh tiny     # ~0.5M parameters
#   recipes/train_family.sh small    # ~3M parameters
#   recipes/train_family.sh base     # ~10M parameters
#
# Environment: TANDEM (the tandem binary, default build/tandem), TANDEM_SHARED_DIR
# (the shared/ folder with data/, default ../shared beside the repository), OUT (output folder, default models/), THREADS
# (default 1: the build machine is shared), STEPS (override the step count).
# `tiny` trains the family's 512-token SPM vocabulary; `small` and `base` reuse it
# from OUT/tandem-tiny.gguf, so every member shares one tokenizer (speculative
# decoding, distillation and cascades need that). The F32 training output stays in
# CKPT; the shipped file is quantized to Q8_0 (`tandem quantize`), except tiny
# (F32, 2 MB), which later recipes can use as --init.
# Each run writes OUT/tandem-<size>.gguf, a loss curve (.svg), a JSON report
# (loss, time, tokens/s, held-out accuracy on 200 synthetic problems) and a
# checkpoint (CKPT, default build/checkpoints) that the same command resumes from
# if the run is interrupted.
set -euo pipefail

size=${1:?usage: $0 tiny|small|base}
TANDEM=${TANDEM:-build/tandem}
SHARED=${TANDEM_SHARED_DIR:-$(cd "$(dirname "$0")/.." && pwd)/../shared}
OUT=${OUT:-models}
THREADS=${THREADS:-1}
CKPT=${CKPT:-build/checkpoints}
mkdir -p "$OUT" "$CKPT"

case "$size" in
  tiny)  shape="--dim 96  --layers 4 --heads 4 --kv-heads 2 --ff 256"; steps=1500; lr=2e-3 ;;
  small) shape="--dim 192 --layers 6 --heads 6 --kv-heads 2 --ff 512"; steps=3000; lr=1e-3 ;;
  base)  shape="--dim 320 --layers 8 --heads 8 --kv-heads 4 --ff 864"; steps=2000; lr=8e-4 ;;
  *) echo "unknown size $size (tiny, small, base)" >&2; exit 2 ;;
esac
steps=${STEPS:-$steps}

if [ "$size" = tiny ]; then
  vocab_args="--vocab 512 --tokenizer-chars 3000000"
  trained="$OUT/tandem-$size.gguf"
else
  [ -f "$OUT/tandem-tiny.gguf" ] || { echo "train tiny first: its vocabulary is the family's" >&2; exit 1; }
  vocab_args="--tokenizer $OUT/tandem-tiny.gguf"
  trained="$CKPT/tandem-$size.f32.gguf"
fi

"$TANDEM" train \
  --data "$SHARED/data/tinystories-train/train-00.jsonl" \
  --valid "$SHARED/data/tinystories/valid.public.jsonl" \
  --synth-math 20000 --synth-difficulty 2 --synth-weight 1.0 --eval-math 200 \
  $vocab_args \
  $shape --ctx 256 --seq 128 --batch 16 --accum 1 \
  --steps "$steps" --lr "$lr" --warmup 100 --wd 0.1 --clip 1.0 --seed 1 \
  --eval-every 250 --eval-batches 8 --log-every 25 \
  --checkpoint "$CKPT/tandem-$size.ckpt" --checkpoint-every 250 --resume \
  --threads "$THREADS" \
  --name "tandem-$size" -o "$trained" \
  --svg "$OUT/tandem-$size.loss.svg" --report "$OUT/tandem-$size.report.json"

if [ "$trained" != "$OUT/tandem-$size.gguf" ]; then
  "$TANDEM" quantize "$trained" "$OUT/tandem-$size.gguf" Q8_0
fi
