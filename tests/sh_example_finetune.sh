#!/usr/bin/env bash
# examples/finetune (the public API only: lm_fit with a progress callback, then lm_model_load and
# lm_classify_texts on the trained folder) on the tiny base model and the SST-2 sample.
set -u
cd "$(dirname "$0")/.."
EX="${RUNNER:-} ${B:-build}/examples/finetune"
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$(OMP_NUM_THREADS=1 $EX tests/data/fit/base tests/data/datasets/sst2.tsv \
    tests/data/datasets/sst2.csv "$tmp/out" "a fine film ." "a dull film ." 2>&1) ||
    fail "finetune: $out"
echo "$out" | grep -q '^training: 40 rows, 6 steps, 2 labels$' || fail "no start line: $out"
echo "$out" | grep -qE '^step 6/6  loss [0-9.]+' || fail "no log line: $out"
echo "$out" | grep -qE '^dev after step 6: accuracy [0-9.]+' || fail "no dev line: $out"
[ "$(echo "$out" | grep -cE ' -> [01] \(0\.[0-9]+\)$')" -eq 2 ] || fail "no predictions: $out"
[ -f "$tmp/out/model.safetensors" ] && [ -f "$tmp/out/metrics.csv" ] || fail "no trained folder"
echo "sh_example_finetune: ok"
