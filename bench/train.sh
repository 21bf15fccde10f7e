#!/usr/bin/env bash
# `make bench-train`: liblm against eager PyTorch (same threads, same batch, same optimizer) on
# all-MiniLM-L6-v2 (32 x 128 tokens) and a random model of bert-base size (8 x 128), both with a
# 2-label classification head: training steps per second, the model FLOP rate as a share of the
# machine's sgemm peak measured in the same run (bench/peak.h: the best of liblm's GEMM and the
# BLAS on the FFN shapes),
# peak RSS (one process per measurement), and the ratios. Ends with
#   bench-train: min speed ratio R, max memory ratio M     (liblm over PyTorch)
#   THREADS (default: the cores available), STEPS (timed steps after one warm-up, default 3),
#   ROUNDS (default 3: rounds of liblm then PyTorch; the speed is the ratio of the medians),
#   LM_MINILM_DIR (default: scripts/find_minilm.sh), LM_PYENV (reference Python environment).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
threads=${THREADS:-$(nproc)}
steps=${STEPS:-3}
rounds=${ROUNDS:-3}
mkdir -p build/bench
cc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc \
    $(pkg-config --cflags openblas) -o build/bench/train bench/train.c lib/liblm.a \
    -fopenmp $(pkg-config --libs openblas libcjson libutf8proc) -lpthread -lm
py=$(bash scripts/pyenv.sh)
minilm=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}
# liblm needs no setting; OPENBLAS_CORETYPE gives the BLAS of the peak measurement its fast
# kernel (a fair peak).
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo && grep -q avx512bw /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SKYLAKEX
fi
echo "bench-train: $threads threads, load average $(cut -d" " -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
printf '%-18s %-7s %9s %9s %8s %8s %7s %6s %7s %6s %11s %6s\n' model shape liblm_ms torch_ms \
    liblm/s torch/s speed "GF/s" "%peak" "peak" "RSS_MB" mem
field() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
med() { "$py" -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.6g}")' "$@"; }
min_speed=""
max_mem=""
for model in minilm bert-base-random; do
    if [ "$model" = minilm ]; then src=(--model "$minilm"); shape=32x128; else src=(--random-base); shape=8x128; fi
    b=${shape%x*}; t=${shape#*x}
    # ROUNDS rounds, liblm then PyTorch in each (the two sides' timings drift with the machine):
    # steps/s is each side's median over the rounds
    cl=(); pl=(); cms=(); pms=()
    for ((r = 0; r < rounds; r++)); do
        c=$(build/bench/train "${src[@]}" --batch "$b" --seq "$t" --threads "$threads" --steps "$steps")
        p=$("$py" bench/train.py "${src[@]}" --batch "$b" --seq "$t" --threads "$threads" --steps "$steps" 2>/dev/null)
        cl+=("$(field "$c" steps_per_s)"); pl+=("$(field "$p" steps_per_s)")
        cms+=("$(field "$c" median_ms)"); pms+=("$(field "$p" median_ms)")
    done
    cs=$(med "${cl[@]}"); ps=$(med "${pl[@]}")
    cr=$(field "$c" peak_rss_mb); pr=$(field "$p" peak_rss_mb)
    speed=$("$py" -c "print(f'{$cs/$ps:.2f}')")
    mem=$("$py" -c "print(f'{$cr/$pr:.2f}')")
    tgf=$("$py" -c "print(f'{$(field "$c" gflop_per_step)*$ps:.1f}')")
    printf '%-18s %-7s %9s %9s %8s %8s %6sx %6s %6.1f%% %6s %11s %5sx\n' "$model" "$shape" \
        "$(med "${cms[@]}")" "$(med "${pms[@]}")" "$cs" "$ps" "$speed" \
        "$(field "$c" gflops)" "$("$py" -c "print(100*$(field "$c" peak_share))")" \
        "$(field "$c" sgemm_peak_gflops)" "$cr/$pr" "$mem"
    [ "$rounds" -gt 1 ] && echo "    (rounds, step ms: liblm ${cms[*]}; PyTorch ${pms[*]})"
    echo "    (PyTorch at $tgf GF/s; liblm load $(field "$c" load_ms) ms, kernels $(field "$c" kernel), BLAS $(field "$c" blas); torch $(field "$p" torch), attention $(field "$p" attn); losses $(field "$c" loss) / $(field "$p" loss))"
    min_speed=$("$py" -c "print(min(x for x in [$speed, ${min_speed:-1e9}]))")
    max_mem=$("$py" -c "print(max(x for x in [$mem, ${max_mem:-0}]))")
done
echo "speed = liblm steps/s over PyTorch's (above 1: liblm faster); GF/s and %peak: liblm's model FLOPs per second and their share of the sgemm peak; mem = liblm over PyTorch peak RSS."
echo "bench-train: min speed ratio $min_speed, max memory ratio $max_mem"
