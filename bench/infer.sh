#!/usr/bin/env bash
# `make bench-infer`: liblm against PyTorch and ONNX Runtime (fp32, and int8 against ONNX
# Runtime's dynamic quantisation), same thread count, on all-MiniLM-L6-v2 and on a model of
# bert-base size (random weights, saved once as a Hugging Face folder that all three load):
# latency at 1 x 128 and 1 x 512, throughput at 32 x 128 and 8 x 512. One process per
# measurement (its peak RSS is its own); median ms of ITERS forwards after a warm-up. Prints the
# machine's sgemm peak measured in this run, every time and ratio, liblm's GFLOP/s and share of
# that peak, the kernels that ran and the load average, and ends with
#   bench-infer: min ratio vs PyTorch R, vs ONNX Runtime fp32 R, int8 R
# (each ratio: the other's time over liblm's; above 1: liblm faster).
#   THREADS (default: the cores available), ITERS (default 10; rows of more than 1 sequence use
#   ITERS/2), SHAPES (default "1x128 32x128 1x512 8x512"), MODELS (default "minilm bert-base"),
#   LM_MINILM_DIR (default: scripts/find_minilm.sh), LM_PYENV (reference Python environment).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
threads=${THREADS:-$(nproc)}
iters=${ITERS:-10}
shapes=${SHAPES:-"1x128 32x128 1x512 8x512"}
models=${MODELS:-"minilm bert-base"}
mkdir -p build/bench
cc -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc \
    $(pkg-config --cflags openblas) -o build/bench/infer bench/infer.c lib/liblm.a \
    -fopenmp $(pkg-config --libs openblas libcjson libutf8proc) -lpthread -lm
py=$(bash scripts/pyenv.sh)
"$py" -c 'import onnxruntime, onnx' 2>/dev/null || py=$(bash scripts/pyenv.sh onnxruntime onnx)
minilm=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}
"$py" scripts/export_onnx.py --model "$minilm" --out build/bench/onnx/minilm 2>/dev/null
"$py" scripts/export_onnx.py --random-base --out build/bench/bert-base-random 2>/dev/null
out=build/bench/infer.jsonl
: > "$out"
# the peak: liblm's GEMM and the BLAS, this with its fast kernel (OPENBLAS_CORETYPE, for this
# measurement only: liblm itself runs with no variable set)
coretype=
if grep -q avx512f /proc/cpuinfo && grep -q avx512bw /proc/cpuinfo; then coretype=SKYLAKEX; fi
env ${coretype:+OPENBLAS_CORETYPE=$coretype} build/bench/infer --peak --threads "$threads" >> "$out"
echo "bench-infer: $threads threads, load average $(cut -d" " -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), no environment variables set for liblm"
for model in $models; do
    if [ "$model" = minilm ]; then dir=$minilm; onnx=build/bench/onnx/minilm
    else dir=build/bench/bert-base-random; onnx=$dir; fi
    for shape in $shapes; do
        b=${shape%x*}; t=${shape#*x}; n=$iters
        [ "$b" -gt 1 ] && n=$(( iters / 2 > 2 ? iters / 2 : 2 ))
        for impl in liblm liblm-int8 torch ort ort-int8; do
            case $impl in
            liblm) r=$(build/bench/infer --model "$dir" --batch "$b" --seq "$t" --threads "$threads" --iters "$n") ;;
            liblm-int8) r=$(build/bench/infer --model "$dir" --batch "$b" --seq "$t" --threads "$threads" --iters "$n" --int8) ;;
            *) r=$("$py" bench/infer.py --impl "$impl" --model "$dir" --onnx "$onnx" --batch "$b" --seq "$t" --threads "$threads" --iters "$n" 2>/dev/null) ;;
            esac
            echo "$r" | "$py" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["model"]=sys.argv[1]; print(json.dumps(d))' "$model" >> "$out"
        done
    done
done
"$py" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peak = rows[0]
print(f"sgemm peak in this run: {peak['sgemm_peak_gflops']} GFLOP/s (best of liblm's GEMM "
      f"{peak['liblm_gflops']} and the BLAS {peak['blas_gflops']}, kernel {peak['blas']}, on "
      f"4096 x 3072 x 768 and 4096 x 768 x 3072)")
cells = {}
for r in rows[1:]:
    cells[(r["model"], r["batch"], r["seq"], r["impl"])] = r
keys = []
for r in rows[1:]:
    k = (r["model"], r["batch"], r["seq"])
    if k not in keys:
        keys.append(k)
hdr = ("model", "shape", "liblm", "torch", "ort", "lm-int8", "ort-int8", "x torch", "x ort",
       "x int8", "GF/s", "%peak", "RSS MB liblm/torch/ort")
print("%-9s %-7s %8s %8s %8s %8s %8s %7s %7s %7s %6s %6s  %s" % hdr)
print("%-9s %-7s %8s %8s %8s %8s %8s" % ("", "", "ms", "ms", "ms", "ms", "ms"))
mins = [1e9, 1e9, 1e9]
kernel = ""
for k in keys:
    c = {i: cells.get(k + (i,)) for i in ("liblm", "liblm-int8", "torch", "ort", "ort-int8")}
    if any(v is None for v in c.values()):
        continue
    ms = {i: v["median_ms"] for i, v in c.items()}
    rt = ms["torch"] / ms["liblm"]
    ro = ms["ort"] / ms["liblm"]
    r8 = ms["ort-int8"] / ms["liblm-int8"]
    mins = [min(mins[0], rt), min(mins[1], ro), min(mins[2], r8)]
    kernel = c["liblm"]["kernel"]
    print("%-9s %-7s %8.1f %8.1f %8.1f %8.1f %8.1f %6.2fx %6.2fx %6.2fx %6.0f %5.0f%%  %s" % (
        k[0], f"{k[1]}x{k[2]}", ms["liblm"], ms["torch"], ms["ort"], ms["liblm-int8"],
        ms["ort-int8"], rt, ro, r8, c["liblm"]["gflops"],
        100 * c["liblm"]["gflops"] / peak["sgemm_peak_gflops"],
        "%.0f/%.0f/%.0f (int8 %.0f/%.0f)" % (c["liblm"]["peak_rss_mb"], c["torch"]["peak_rss_mb"],
                                            c["ort"]["peak_rss_mb"],
                                            c["liblm-int8"]["peak_rss_mb"],
                                            c["ort-int8"]["peak_rss_mb"])))
versions = sorted({r.get("version", "") for r in rows[1:] if r.get("version")})
print(f"liblm kernels: {kernel}; {', '.join(versions)}. x torch, x ort = their time over liblm's "
      "fp32 time, x int8 = ONNX Runtime int8 over liblm int8 (above 1: liblm faster); GF/s, "
      "%peak: liblm fp32's model FLOPs per second and their share of the sgemm peak.")
print("bench-infer: min ratio vs PyTorch %.2f, vs ONNX Runtime fp32 %.2f, int8 %.2f" % tuple(mins))
PY
