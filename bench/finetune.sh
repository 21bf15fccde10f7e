#!/usr/bin/env bash
# `make bench-finetune` (SST-2) and `make finetune-table` (every task of docs/finetune.md):
# liblm's `lm train` and the PyTorch recipe (scripts/reference_finetune.py) on the same data,
# settings, seed and threads, one run each, one after the other; prints both dev metrics,
# training wall times, examples/s, peak RSS and the ratios, and ends with a line
#   bench-finetune: ... worst metric diff D points, max time ratio T, max memory ratio M
# Full runs take from ~25 minutes (SST-2) to hours (every task) on 2 cores: run them on a quiet
# machine. Settings (environment):
#   THREADS (default 2), MAX_TRAIN / MAX_EVAL (the first N examples on both sides; default all),
#   EPOCHS (default: the recipe's per task), SEED (default 42, both sides), LM_MINILM_DIR (default scripts/find_minilm.sh),
#   LM_PYENV (the reference Python environment), OUT (default build/bench-finetune),
#   REUSE=1 (take a side's finished results from OUT instead of training it again),
#   CHECKPOINT_EVERY=N (the recipe saves its state every N steps and continues from it).
#   usage: bash bench/finetune.sh sst2|rte|stsb|wnut17|squad|mlm|all
#          bash bench/finetune.sh trace squad|sst2|rte|stsb|wnut17   (bench/finetune_trace.py:
#          both sides step by step with no dropout, in file order, from one initial model;
#          STEPS (default 60), BATCH (16), MAX_EVAL (200), THREADS, OUT; DROPOUT=1 LR=0 keep
#          dropout on with the weights fixed, TRACE_MODEL=DIR starts from a fine-tuned folder)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
task=${1:-sst2}
py=$(bash scripts/pyenv.sh seqeval scipy scikit-learn)
minilm=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}
if [ "$task" = trace ]; then
    args=(--task "${2:-squad}" --threads "${THREADS:-2}" --model "${TRACE_MODEL:-$minilm}"
          --python "$py")
    [ -n "${DROPOUT:-}" ] && args+=(--dropout)
    [ -n "${LR:-}" ] && args+=(--lr "$LR")
    [ -n "${STEPS:-}" ] && args+=(--steps "$STEPS")
    [ -n "${BATCH:-}" ] && args+=(--batch-size "$BATCH")
    [ -n "${MAX_EVAL:-}" ] && args+=(--max-eval "$MAX_EVAL")
    [ -n "${OUT:-}" ] && args+=(--out "$OUT")
    exec "$py" bench/finetune_trace.py "${args[@]}"
fi
# liblm runs its own kernels (chosen from the CPU), PyTorch brings its own.
echo "$task: liblm $(bin/lm version | cut -d' ' -f2) vs PyTorch, ${THREADS:-2} threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
args=(--task "$task" --threads "${THREADS:-2}" --model "$minilm" --python "$py")
[ -n "${MAX_TRAIN:-}" ] && args+=(--max-train "$MAX_TRAIN")
[ -n "${MAX_EVAL:-}" ] && args+=(--max-eval "$MAX_EVAL")
[ -n "${EPOCHS:-}" ] && args+=(--epochs "$EPOCHS")
[ -n "${SEED:-}" ] && args+=(--seed "$SEED")
[ -n "${LOG_EVERY:-}" ] && args+=(--log-every "$LOG_EVERY")
[ -n "${OUT:-}" ] && args+=(--out "$OUT")
[ -n "${REUSE:-}" ] && args+=(--reuse)
[ -n "${CHECKPOINT_EVERY:-}" ] && args+=(--checkpoint-every "$CHECKPOINT_EVERY")
exec "$py" bench/finetune.py "${args[@]}"
