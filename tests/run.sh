#!/usr/bin/env bash
# Runs the whole suite for `make check`: every cmocka test binary, the fuzz corpus replays, the
# C++ header test and the install test. Prints one summary line at the end:
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()

record() { # name status
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

for t in $TESTS; do
    echo "== $t"
    # shellcheck disable=SC2086
    $RUNNER "$t"
    record "$(basename "$t")" $?
done

for name in $FUZZ_NAMES; do
    corpus="tests/fuzz/corpus/$name"
    echo "== fuzz replay $name ($(ls "$corpus" 2>/dev/null | wc -l) inputs)"
    # shellcheck disable=SC2086
    $RUNNER "$B/fuzz/replay_$name" "$corpus"
    record "fuzz_$name" $?
done

for script in tests/sh_*.sh; do
    [ -e "$script" ] || continue
    echo "== $script"
    B="$B" L="$L" BIN="$BIN" CC="$CC" CXX="$CXX" RUNNER="$RUNNER" bash "$script"
    record "$(basename "$script")" $?
done

echo
if [ "$failed" -ne 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
