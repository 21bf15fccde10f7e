#!/usr/bin/env bash
# Issue 7, item 13: under an address-space limit (ulimit -v) `lm embed` either works or exits
# non-zero with a message, within a bounded time; it never spins. Before the fix liblm's BLAS
# calls spun for ever in OpenBLAS's blas_memory_alloc (one buffer per calling thread) and libgomp
# ended the process when it could not start a thread.
#
# Most runs leave OPENBLAS_NUM_THREADS unset, as a user does: a threaded OpenBLAS starts its own
# worker threads when it is loaded, before any liblm code, and each takes a buffer (128 MiB in
# Debian's build); under a limit too tight for them they spin from the start, so the tool
# restarts itself with OPENBLAS_NUM_THREADS=1 (liblm runs the BLAS on one thread anyway). One
# run sets OPENBLAS_NUM_THREADS=2 at a limit where that worker fits but liblm's own callers did
# not (it hung before the fix).
set -u
cd "$(dirname "$0")/.."
LM="${BIN:-bin}/lm"
T=tests/data/model/tiny/model-gelu-f32
if [ ! -d "$T" ]; then echo "skipped: $T not found"; exit 0; fi
if [ -n "${SANITIZE:-}" ] || [ -n "${RUNNER:-}" ]; then
    echo "skipped: sanitizers and valgrind need more address space than the limits tested"
    exit 0
fi
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run LIMIT_KB THREADS OPENBLAS_THREADS: prints the exit status; stdout/stderr in $tmp
run() {
    (
        ulimit -v "$1"
        printf 'tok5 tok6 tok7\ntok8 tok9\n' |
            ${3:+env OPENBLAS_NUM_THREADS=$3} timeout 30 "$LM" embed --model "$T" --threads "$2" \
                >"$tmp/out" 2>"$tmp/err"
        echo $?
    )
}

reference=$(printf 'tok5 tok6 tok7\ntok8 tok9\n' | "$LM" embed --model "$T") || fail "no limit"
for limit in 60000 100000 150000 200000 300000; do
    for threads in 1 2 4; do
        rc=$(run $limit $threads "")
        what="ulimit -v $limit, --threads $threads"
        [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$what: still running after 30 s"
        if [ "$rc" -ne 0 ]; then
            [ -s "$tmp/err" ] || fail "$what: exit status $rc without a message"
            # the tool's own needs grow with the binary; from 150 MB on it must work
            [ "$limit" -lt 150000 ] || fail "$what: exit status $rc: $(cat "$tmp/err")"
            echo "$what: exit status $rc: $(head -c 200 "$tmp/err")"
            continue
        fi
        [ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "$what: two embeddings expected"
        # the plain kernel agrees with the BLAS to float rounding
        awk -v a="$(echo "$reference" | head -1)" -v b="$(head -1 "$tmp/out")" 'BEGIN {
            gsub(/[^-0-9.e,]/, "", a); gsub(/[^-0-9.e,]/, "", b)
            n = split(a, x, ","); split(b, y, ",")
            for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 }
        }' || fail "$what: embedding differs from the unlimited run"
    done
done

# One OpenBLAS worker thread (it takes its buffer at load); liblm's callers must not hang.
if (ulimit -v 300000; OPENBLAS_NUM_THREADS=2 timeout 10 "$LM" version >/dev/null 2>&1); then
    for threads in 2 4; do
        rc=$(run 300000 $threads 2)
        [ "$rc" -eq 0 ] || fail "ulimit -v 300000, 2 BLAS threads, --threads $threads: status $rc"
    done
else
    echo "skipped the OPENBLAS_NUM_THREADS=2 run: this BLAS cannot start its worker in 300 MB"
fi
echo "sh_memlimit: ok"
