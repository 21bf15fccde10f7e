#!/usr/bin/env bash
# `make bench-embed`: the whole job of embedding a file of texts with all-MiniLM-L6-v2, same
# thread count, in one run: `lm embed` (load, tokenize, batches sorted by length, write .npy),
# sentence-transformers' encode (which sorts by length too) and ONNX Runtime fp32 with
# length-sorted batches (bench/embed.py; the Python times start at loading the model, after the
# imports). Two files: the SST-2 dev sentences (short) and SQuAD paragraphs (long; dev and train
# contexts, truncated at the model's max_seq_length 256 by all three). Also `lm embed --int8`,
# with the cosine of its embeddings to the fp32 ones. Best of REPEAT runs each. Ends with
#   bench-embed: min ratio vs sentence-transformers R, vs ONNX Runtime fp32 R
# (their time over lm embed's; above 1: liblm faster).
#   THREADS (default: the cores available), REPEAT (default 2), BATCH (default 32),
#   LM_MINILM_DIR (default: scripts/find_minilm.sh), LM_PYENV (reference Python environment).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
threads=${THREADS:-$(nproc)}
repeat=${REPEAT:-2}
batch=${BATCH:-32}
data=${LM_DATA:-$repo/../../shared/data}
[ -d "$data/sst2" ] || data=/work/shared/data
py=$(bash scripts/pyenv.sh)
"$py" -c 'import onnxruntime, sentence_transformers' 2>/dev/null ||
    py=$(bash scripts/pyenv.sh onnxruntime onnx sentence-transformers)
minilm=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}
"$py" scripts/export_onnx.py --model "$minilm" --out build/bench/onnx/minilm 2>/dev/null
dir=build/bench/embed
mkdir -p "$dir"
tail -n +2 "$data/sst2/dev.tsv" | cut -f1 > "$dir/sst2.txt"
"$py" - "$data/squad" "$dir/paragraphs.txt" <<'PY'
import json, sys
out = open(sys.argv[2], "w", encoding="utf-8")
for split in ("dev", "train"):
    for a in json.load(open(f"{sys.argv[1]}/{split}.json"))["data"]:
        for p in a["paragraphs"]:
            out.write(" ".join(p["context"].split()) + "\n")
PY
echo "bench-embed: $threads threads, batch $batch, best of $repeat, load average $(cut -d" " -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernels: $(bin/lm info --model "$minilm" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["kernels"])')"
# lm embed, timed from outside: prints {"seconds":..,"peak_rss_mb":..}
lm_job() {
    "$py" - "$@" <<'PY'
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True)
s = time.perf_counter() - t0
print(json.dumps({"seconds": round(s, 3),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1)}))
PY
}
best() { # best of REPEAT runs of a command printing one JSON line with "seconds"
    local b="" r
    for _ in $(seq "$repeat"); do
        r=$("$@")
        b=$("$py" -c 'import json,sys; a,b=sys.argv[1],sys.argv[2]; print(b if not a or json.loads(b)["seconds"] < json.loads(a)["seconds"] else a)' "$b" "$r")
    done
    echo "$b"
}
res=$dir/results.jsonl
: > "$res"
for f in sst2 paragraphs; do
    in=$dir/$f.txt
    n=$(wc -l < "$in")
    l=$(best lm_job bin/lm embed --model "$minilm" --input "$in" --format npy --output "$dir/$f.lm.npy" --threads "$threads" --batch-size "$batch")
    q=$(best lm_job bin/lm embed --model "$minilm" --input "$in" --format npy --output "$dir/$f.lm8.npy" --threads "$threads" --batch-size "$batch" --int8)
    s=$(best "$py" bench/embed.py --impl st --model "$minilm" --input "$in" --output "$dir/$f.st.npy" --threads "$threads" --batch-size "$batch" 2>/dev/null)
    o=$(best "$py" bench/embed.py --impl ort --model "$minilm" --onnx build/bench/onnx/minilm --input "$in" --output "$dir/$f.ort.npy" --threads "$threads" --batch-size "$batch" 2>/dev/null)
    echo "{\"file\":\"$f\",\"texts\":$n,\"liblm\":$l,\"liblm_int8\":$q,\"st\":$s,\"ort\":$o}" >> "$res"
done
"$py" - "$res" "$dir" <<'PY'
import json, sys
import numpy as np
rows = [json.loads(l) for l in open(sys.argv[1])]
def cos(a, b):
    a, b = np.load(a), np.load(b)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
print("%-11s %6s %9s %9s %9s %9s %8s %8s %9s %9s  %s" % ("file", "texts", "lm s", "st s", "ort s",
      "lm-int8 s", "x st", "x ort", "int8 x lm", "cos st", "int8 cos min/mean, RSS MB lm/st/ort"))
mins = [1e9, 1e9]
for r in rows:
    d = sys.argv[2] + "/" + r["file"]
    l, q, s, o = (r[k]["seconds"] for k in ("liblm", "liblm_int8", "st", "ort"))
    xs, xo = s / l, o / l
    mins = [min(mins[0], xs), min(mins[1], xo)]
    c8 = cos(d + ".lm.npy", d + ".lm8.npy")
    print("%-11s %6d %9.2f %9.2f %9.2f %9.2f %7.2fx %7.2fx %8.2fx %9.6f  %.4f/%.4f, %.0f/%.0f/%.0f" % (
        r["file"], r["texts"], l, s, o, q, xs, xo, l / q, cos(d + ".lm.npy", d + ".st.npy").min(),
        c8.min(), c8.mean(), r["liblm"]["peak_rss_mb"], r["st"]["peak_rss_mb"],
        r["ort"]["peak_rss_mb"]))
print(f"{rows[0]['st']['version']}, {rows[0]['ort']['version']}; x st, x ort: their time over "
      "lm embed's (above 1: liblm faster); cos st: lowest cosine of lm embed's embeddings to "
      "sentence-transformers'.")
print("bench-embed: min ratio vs sentence-transformers %.2f, vs ONNX Runtime fp32 %.2f" % tuple(mins))
PY
