#!/usr/bin/env bash
# `lm tokenize`: JSON lines out, an {"error":...} line for a bad input with the run going on and a
# non-zero exit at the end, --pairs, --max-length, --no-lower-case, bad arguments.
set -u
cd "$(dirname "$0")/.."
LM="${RUNNER:-} ${BIN:-bin}/lm"
VOCAB=$(mktemp)
trap 'rm -f "$VOCAB"' EXIT
xz -dc tests/data/vocab/bert-base-uncased.txt.xz > "$VOCAB"
fail() { echo "FAIL: $*"; exit 1; }

out=$(printf 'Hello, World!\n' | $LM tokenize --vocab "$VOCAB") || fail "exit status $?"
[ "$out" = '{"ids":[101,7592,1010,2088,999,102],"type_ids":[0,0,0,0,0,0],"tokens":["[CLS]","hello",",","world","!","[SEP]"],"offsets":[[0,0],[0,5],[5,6],[7,12],[12,13],[0,0]]}' ] || fail "single: $out"

out=$(printf 'caf\xc3\xa9 ok\n\xff\nlast\n' | $LM tokenize --vocab "$VOCAB"); rc=$?
[ "$rc" -eq 1 ] || fail "bad line should give exit 1, got $rc"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "three output lines expected: $out"
echo "$out" | sed -n 2p | grep -q '^{"error":"invalid UTF-8 at byte offset 0","line":2}$' || fail "error line: $out"
echo "$out" | sed -n 3p | grep -q '"tokens":\["\[CLS\]","last","\[SEP\]"\]' || fail "run goes on: $out"

out=$(printf 'a b c\tx y z w\n' | $LM tokenize --vocab "$VOCAB" --pairs --max-length 6) || fail "pairs"
[ "$out" = '{"ids":[101,1037,102,1060,1061,102],"type_ids":[0,0,0,1,1,1],"tokens":["[CLS]","a","[SEP]","x","y","[SEP]"],"offsets":[[0,0],[0,1],[0,0],[0,1],[2,3],[0,0]]}' ] || fail "pairs: $out"

out=$(printf 'Hello\n' | $LM tokenize --vocab "$VOCAB" --no-lower-case) || fail "cased"
echo "$out" | grep -q '"tokens":\["\[CLS\]","\[UNK\]","\[SEP\]"\]' || fail "cased: $out"

$LM tokenize --vocab /nonexistent/vocab.txt < /dev/null 2>/dev/null && fail "missing vocab accepted"
$LM tokenize < /dev/null 2>/dev/null && fail "no source accepted"
$LM tokenize --vocab "$VOCAB" --max-length x < /dev/null 2>/dev/null && fail "bad number accepted"
echo "sh_tokenize: ok"
