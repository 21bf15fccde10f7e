#!/usr/bin/env bash
# lm serve: started on a free loopback port with a tiny classifier, then checked with curl (status
# codes, the README's HTTP snippet) and with Python's urllib (tests/serve_test.py: answers equal
# to the lm tool's, every 4xx error, batching, 64 clients of load within a memory bound); a
# second server on a model without a classification head refuses /predict; both stop cleanly on
# SIGTERM. LM_PREFIX: test the lm installed there instead of this tree's.
set -eu
lm="${LM_PREFIX:+$LM_PREFIX/bin/lm}"
lm="${lm:-$BIN/lm}"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
"$lm" serve --help > /dev/null || {
    echo "sh_serve: lm serve is not available"
    exit 1
}
if "$lm" serve --model tests/data/pipeline/models/seqcls --port 0 --bad 2> /dev/null; then
    echo "sh_serve: an unknown option was accepted"
    exit 1
fi

# start_server NAME MODEL [OPTIONS...]: starts lm serve on port 0, waits for its "listening"
# line, sets PORT and PID.
start_server() {
    local name=$1 model=$2
    shift 2
    # the file exists before the server opens it: the loop below may read it first
    : > "$tmp/$name.err"
    # under valgrind, lm must not restart itself (with the BLAS variables) out of valgrind
    # shellcheck disable=SC2086
    ${RUNNER:+env LM_NO_RESTART=1} ${RUNNER:-} "$lm" serve --model "$model" --port 0 --threads 1 \
        "$@" 2> "$tmp/$name.err" &
    PID=$!
    pids+=("$PID")
    for _ in $(seq 1 600); do
        PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.err")
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2> /dev/null || break
        sleep 0.1
    done
    echo "sh_serve: $name did not start:"
    cat "$tmp/$name.err"
    exit 1
}

stop_server() { # NAME PID: SIGTERM, exit status 0, nothing alarming on stderr
    local name=$1 pid=$2 rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ] || grep -qiE 'sanitizer|runtime error|leak|invalid|uninitialised' \
        "$tmp/$name.err"; then
        echo "sh_serve: $name ended with status $rc:"
        cat "$tmp/$name.err"
        exit 1
    fi
}

start_server cls tests/data/pipeline/models/seqcls --max-body 65536 --max-inputs 64
url="http://127.0.0.1:$PORT"
# curl: the status of each kind of request
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
test "$(status "$url/health")" = 200
test "$(status "$url/v1/embeddings" -H 'Content-Type: application/json' -d '{"input": "a"}')" = 200
test "$(status "$url/embed" -d '{"inputs": ["a", "b"]}')" = 200
test "$(status "$url/predict" -d '{"inputs": "a"}')" = 200
test "$(status "$url/predict" -d '{"inputs": ')" = 400
test "$(printf '{"inputs": "\xff"}' | status "$url/embed" --data-binary @-)" = 400
test "$(head -c 70000 /dev/zero | status "$url/embed" --data-binary @-)" = 413
test "$(status "$url/none")" = 404
test "$(status -X DELETE "$url/embed")" = 405
curl -s "$url/metrics" | grep -q '^lm_requests_total{endpoint="/embed",code="413"} 1$'
curl -s "$url/v1/embeddings" -d '{"input": ["x", "y"]}' | grep -q '"usage":{"prompt_tokens":6'

# the bound on the peak RSS under load: the model and 64 connections at the limits use ~25 MiB;
# the sanitizers' shadow memory and quarantine, or valgrind, add their own
export LM_SERVE_RSS_LIMIT_KB=$(((${SANITIZE:+1024 +} ${RUNNER:+1024 +} 192) * 1024))
quick=()
if [ -n "${RUNNER:-}" ] || [ -n "${LM_TEST_QUICK:-}" ]; then quick=(--quick); fi
# urllib: answers, errors, batching, load (the server's peak memory from /proc)
python3 tests/serve_test.py "$url" tests/data/pipeline/models/seqcls "$lm" "$PID" "${quick[@]}"

# a model without a classification head: /predict is a 400, /embed works
start_server mlm tests/data/pipeline/models/mlm
test "$(status "http://127.0.0.1:$PORT/predict" -d '{"inputs": "a"}')" = 400
test "$(status "http://127.0.0.1:$PORT/embed" -d '{"inputs": "a"}')" = 200
stop_server mlm "$PID"

# the README's HTTP snippet, as written there (it starts its own server on port 8080: here on a
# free port, with lm and the model of this test)
free_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash tests/readme_snippet.sh http |
    sed -e "s|8080|$free_port|g" -e "s|bin/lm|$lm|g" -e "s|\$MODEL|tests/data/pipeline/models/seqcls|g" \
    > "$tmp/readme.sh"
timeout 120 bash "$tmp/readme.sh" > "$tmp/readme.out" 2> "$tmp/readme.err" || {
    echo "sh_serve: the README's HTTP snippet failed:"
    cat "$tmp/readme.out" "$tmp/readme.err"
    exit 1
}
grep -q '"object":"list"' "$tmp/readme.out" && grep -q '"score"' "$tmp/readme.out" || {
    echo "sh_serve: the README's HTTP snippet printed:"
    cat "$tmp/readme.out"
    exit 1
}

stop_server cls "${pids[0]}"
echo "sh_serve: lm serve answers, refuses, batches and holds under load"
