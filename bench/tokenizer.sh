#!/usr/bin/env bash
# make bench-tokenizer: tokenizes the SST-2 train sentences (repeated to >= 20 MB) with liblm and
# with Hugging Face `tokenizers` (Rust, through its Python package) in one run, on 1 and 2
# threads each, and prints MB/s for both and the ratio; also liblm's vocabulary load time.
# Needs ../shared/data and the reference Python environment (scripts/pyenv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VOCAB=${VOCAB:-../shared/data/vocab/bert-base-uncased.txt}
TSV=${TSV:-../shared/data/sst2/train.tsv}
MIN_MB=${MIN_MB:-20}
mkdir -p build/bench
cc -std=c11 -O2 -Iinclude -o build/bench/bench_tokenizer bench/bench_tokenizer.c lib/liblm.a \
    -fopenmp $(pkg-config --libs libcjson libutf8proc) -lm
PY=${PY:-$(bash scripts/pyenv.sh tokenizers)}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(MB/s is wall time; on a shared machine MB per CPU-second is the steadier figure)"
lm_out=$(build/bench/bench_tokenizer "$VOCAB" "$TSV" "$MIN_MB" 1 2)
echo "$lm_out"
hf1=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=true "$PY" bench/bench_hf_tokenizer.py "$VOCAB" "$TSV" "$MIN_MB")
echo "$hf1"
hf2=$(RAYON_NUM_THREADS=2 TOKENIZERS_PARALLELISM=true "$PY" bench/bench_hf_tokenizer.py "$VOCAB" "$TSV" "$MIN_MB")
echo "$hf2"
rate() { sed -n "s/.*threads=$2 MB\/s=\([0-9.]*\).*/\1/p" <<<"$1" | head -1; }
for t in 1 2; do
    l=$(rate "$lm_out" $t)
    if [ $t -eq 1 ]; then h=$(rate "$hf1" 1); else h=$(rate "$hf2" 2); fi
    awk -v t=$t -v l="$l" -v h="$h" 'BEGIN { printf "threads=%d liblm %.2f MB/s, hf-tokenizers %.2f MB/s, ratio %.2fx\n", t, l, h, l / h }'
done
