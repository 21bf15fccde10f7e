#!/usr/bin/env bash
# `make bench-serve`: lm serve against sentence-transformers behind a minimal Python HTTP server
# (bench/st_server.py), both on all-MiniLM-L6-v2 with the same number of compute threads on this
# machine: requests/s and p50/p99 latency of POST /v1/embeddings (one SST-2 sentence a request)
# at 1, 8 and 64 concurrent keep-alive clients (bench/serve_client.py), each level bounded to
# REQUESTS requests or LEVEL_SECONDS seconds. Both servers' OpenMP threads sleep between requests
# (OMP_WAIT_POLICY=passive, lm serve's default).
#   THREADS (default: the cores), REQUESTS (default 2000), LEVEL_SECONDS (default 15),
#   LM_MINILM_DIR (default: scripts/find_minilm.sh), LM_PYENV (reference Python environment).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
threads=${THREADS:-$(nproc)}
requests=${REQUESTS:-2000}
seconds=${LEVEL_SECONDS:-15}
minilm=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh)}
py=$(bash scripts/pyenv.sh)
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
head -n 52 tests/data/model/minilm/sentences.txt > "$tmp/sentences.txt"   # the SST-2 lines
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { # URL PID
    for _ in $(seq 1 600); do
        curl -sf "$1/health" > /dev/null && return 0
        kill -0 "$2" 2> /dev/null || return 1
        sleep 0.2
    done
    return 1
}
run_levels() { # NAME URL
    for c in 1 8 64; do
        r=$(python3 bench/serve_client.py "$2" /v1/embeddings "$c" "$requests" "$seconds" "$tmp/sentences.txt")
        python3 - "$1" "$r" <<'PY'
import json, sys
r = json.loads(sys.argv[2])
print(f"{sys.argv[1]:<28} {r['concurrency']:>4} {r['requests']:>9} {r['req_per_s']:>9} "
      f"{r['p50_ms']:>9} {r['p99_ms']:>9} {r['errors']:>7}" +
      (f"   first error: {r['first_error']}" if r["first_error"] else ""))
PY
    done
}
echo "bench-serve: $threads compute threads, load average $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); up to $requests requests or $seconds s per level"
printf '%-28s %4s %9s %9s %9s %9s %7s\n' server clients requests req/s p50_ms p99_ms errors
port=$(free_port)
bin/lm serve --model "$minilm" --port "$port" --threads "$threads" 2> "$tmp/lm.err" &
pids+=($!)
wait_up "http://127.0.0.1:$port" "${pids[0]}" || { cat "$tmp/lm.err"; exit 1; }
run_levels "lm serve (liblm $(bin/lm version | cut -d' ' -f2))" "http://127.0.0.1:$port"
batches=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "lm_batch_inputs_count" {c = $2} $1 == "lm_batch_inputs_sum" {s = $2} END {printf "%d model calls for %d inputs (%.1f per call)", c, s, s / c}')
kill "${pids[0]}"
port=$(free_port)
OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=passive "$py" bench/st_server.py "$minilm" "$port" "$threads" 2> "$tmp/st.err" &
pids+=($!)
wait_up "http://127.0.0.1:$port" "${pids[1]}" || { cat "$tmp/st.err"; exit 1; }
st=$("$py" -c 'import sentence_transformers, torch; print(f"sentence-transformers {sentence_transformers.__version__}")')
run_levels "$st" "http://127.0.0.1:$port"
echo "lm serve batching: $batches. The client (one Python thread) runs on the same cores."
