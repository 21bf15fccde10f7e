#!/usr/bin/env bash
# The lm tool's mechanics, on the tiny fixture models (no text-level API needed): one argument
# parser (--help of every command, range-checked numbers with a message and exit 2, --max-length
# below the special tokens refused), every write checked (/dev/full), --input/--output files (the
# output appears whole or not at all), streaming (a line is answered before the next is written),
# an {"error":...,"line":N} line per bad input with the run going on, and lm info's unused tensors
# and fresh heads.
set -u
cd "$(dirname "$0")/.."
LM="${RUNNER:-} ${BIN:-bin}/lm"
T=tests/data/model/tiny
if [ ! -d "$T" ]; then echo "skipped: $T not found"; exit 0; fi
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M=$T/model-gelu-f32

# ---- one parser: --help everywhere, the shared options where they make sense ----------------
for c in version tokenize embed classify fill-mask qa tag info serve train eval; do
    h=$($LM $c --help) || fail "lm $c --help exits $?"
    echo "$h" | grep -q "^usage: lm $c" || fail "lm $c --help: $h"
    echo "$h" | grep -q -- "--help" || fail "lm $c --help does not list --help"
done
for c in embed classify fill-mask qa tag; do
    h=$($LM $c --help)
    for o in --model --input --output --batch-size --threads --max-length --replace-invalid-utf8; do
        echo "$h" | grep -q -- "^  $o" || fail "lm $c --help does not list $o"
    done
done
for o in --input --output --max-length --replace-invalid-utf8 --pairs; do
    $LM tokenize --help | grep -q -- "^  $o" || fail "lm tokenize --help does not list $o"
done
# the manual documents every option that --help lists
for c in tokenize embed classify fill-mask qa tag info serve train eval; do
    for o in $($LM $c --help | sed -n 's/^  \(--[a-z0-9-]*\).*/\1/p'); do
        grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" docs/lm.1 || fail "docs/lm.1 lacks lm $c $o"
    done
done
$LM embed --help | grep -q -- '--format FORMAT' || fail "embed --format"
$LM classify --help | grep -q -- '--function-to-apply' || fail "classify --function-to-apply"
$LM tag --help | grep -q -- '--aggregation' || fail "tag --aggregation"
$LM qa --help | grep -q -- '--doc-stride' || fail "qa --doc-stride"
$LM fill-mask --help | grep -q -- '--top-k' || fail "fill-mask --top-k"

# usage errors: exit 2 with a message naming the option, its range and the value
usage_error() { # WANT_MESSAGE ARGS...
    local want=$1 err rc
    shift
    err=$($LM "$@" < /dev/null 2>&1 >/dev/null); rc=$?
    [ "$rc" -eq 2 ] || fail "lm $* exits $rc (want 2): $err"
    echo "$err" | grep -qF -- "$want" || fail "lm $*: '$err' does not say '$want'"
}
usage_error "lm embed: --threads must be between 0 and 1024 (got 4097)" embed --model $M --threads 4097
usage_error "--max-length must be between 0 and 2147483647 (got 99999999999999999999)" \
    embed --model $M --max-length 99999999999999999999
usage_error "--batch-size must be between 1 and 2147483647 (got 0)" classify --model $M --batch-size 0
usage_error "--batch-size needs a whole number between 1 and 2147483647, not '12x'" \
    tag --model $M --batch-size 12x
usage_error "--threads must be between 0 and 1024 (got -1)" qa --model $M --threads=-1
usage_error "--top-k must be between 1 and 2147483647 (got 0)" fill-mask --model $M --top-k 0
usage_error "--top-k must be -1 (all) or between 1 and 2147483647 (got 0)" classify --model $M --top-k 0
usage_error "--doc-stride needs a value" qa --model $M --doc-stride
usage_error "--pooling is one of mean|cls, not 'max'" embed --model $M --pooling max
usage_error "--aggregation is one of none|simple|first|average|max, not 'all'" tag --model $M --aggregation all
usage_error "--function-to-apply is one of none|sigmoid|softmax, not 'relu'" classify --model $M --function-to-apply relu
usage_error "--format npy needs --output FILE" embed --model $M --format npy
usage_error "unknown option '--pairs'" embed --model $M --pairs
usage_error "unknown option '--nope'" version --nope
usage_error "--model DIR is required" embed
usage_error "give exactly one of --vocab, --tokenizer, --model" tokenize
# --max-length 1 never means "no truncation": below the special tokens it is refused
usage_error "--max-length must be 0 (no limit) or at least 2" tokenize --model $M --max-length 1
usage_error "--max-length must be 0 (no limit) or at least 3" tokenize --model $M --max-length 2 --pairs
usage_error "--max-length must be 0 (the model's limit) or between 3 and 64 (the model's positions) (got 1)" \
    embed --model $M --max-length 1
usage_error "between 3 and 64 (the model's positions) (got 2)" classify --model $T/seqcls-relu-f32 --max-length 2
usage_error "(got 65)" embed --model $M --max-length 65
out=$(printf 'tok5 tok6 tok7\n' | $LM tokenize --model $M --max-length 3) || fail "max-length 3"
echo "$out" | grep -q '"tokens":\["\[CLS\]","tok5","\[SEP\]"\]' || fail "max-length 3: $out"
out=$(printf 'tok5 tok6 tok7\n' | $LM tokenize --model=$M --max-length=2) || fail "--opt=value"
echo "$out" | grep -q '"tokens":\["\[CLS\]","\[SEP\]"\]' || fail "max-length 2: $out"

# ---- every write checked ---------------------------------------------------------------------
full() { # WANT_MESSAGE ARGS... (stdout to /dev/full; stdin endless)
    local want=$1 err rc
    shift
    err=$(yes 'tok5 tok6' | timeout 60 $LM "$@" 2>&1 >/dev/full); rc=$?
    [ "$rc" -eq 1 ] || fail "lm $* > /dev/full exits $rc (want 1; 124: it did not stop): $err"
    echo "$err" | grep -qF "$want" || fail "lm $* > /dev/full: '$err' does not say '$want'"
}
full "lm: cannot write to stdout: No space left on device" version
full "lm: cannot write to stdout: No space left on device" embed --help
full "lm info: cannot write to stdout: No space left on device" info --model $M
full "lm tokenize: cannot write to stdout: No space left on device" tokenize --model $M
err=$(yes tok5 | timeout 60 $LM tokenize --model $M --output /dev/full 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$err" | grep -qF "cannot write to /dev/full: No space left" ||
    fail "--output /dev/full: $rc $err"

# ---- --input / --output: the output file appears whole or not at all --------------------------
printf 'tok5\r\ntok6 tok7\n\ntok8' > "$tmp/in.txt"   # CRLF, an empty line, no final newline
$LM tokenize --model $M --input "$tmp/in.txt" --output "$tmp/out.jsonl" || fail "--input/--output"
[ "$(wc -l < "$tmp/out.jsonl")" -eq 4 ] || fail "4 lines: $(cat "$tmp/out.jsonl")"
sed -n 1p "$tmp/out.jsonl" | grep -q '"tokens":\["\[CLS\]","tok5","\[SEP\]"\]' || fail "CRLF"
sed -n 3p "$tmp/out.jsonl" | grep -q '"tokens":\["\[CLS\]","\[SEP\]"\]' || fail "empty line"
sed -n 4p "$tmp/out.jsonl" | grep -q '"tokens":\["\[CLS\]","tok8","\[SEP\]"\]' || fail "last line"
[ "$(ls "$tmp" | wc -l)" -eq 2 ] || fail "temporary files left: $(ls "$tmp")"
echo old > "$tmp/keep.jsonl"
mkdir "$tmp/dir"
err=$($LM tokenize --model $M --input "$tmp/dir" --output "$tmp/keep.jsonl" 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$err" | grep -q "cannot read $tmp/dir" || fail "read error: $rc $err"
[ "$(cat "$tmp/keep.jsonl")" = old ] || fail "a failed run replaced the output file"
[ "$(ls "$tmp" | wc -l)" -eq 4 ] || fail "temporary files left: $(ls "$tmp")"
err=$($LM tokenize --model $M --input "$tmp/none" 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$err" | grep -q "cannot open $tmp/none" || fail "missing input: $rc $err"
err=$($LM tokenize --model $M --output "$tmp/no/such/dir" < /dev/null 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$err" | grep -q "cannot create $tmp/no/such/dir" || fail "bad output: $err"

# ---- bad lines: an error line naming the line, the run goes on, exit 1 ----------------------
out=$(printf 'tok5\n\xff\ntok6\ttok7\nno tab\n' | $LM tokenize --model $M --pairs); rc=$?
[ "$rc" -eq 1 ] || fail "bad lines exit $rc"
[ "$(echo "$out" | sed -n 1p)" = '{"error":"no TAB between the text and its pair","line":1}' ] || fail "$out"
echo "$out" | sed -n 2p | grep -q '^{"error":"no TAB.*","line":2}$' || fail "$out"
echo "$out" | sed -n 3p | grep -q '^{"ids":\[2,6,3,7,3\]' || fail "$out"
echo "$out" | sed -n 4p | grep -q '"line":4}$' || fail "$out"
out=$(printf '\xff tok5\n' | $LM tokenize --model $M) ; [ $? -eq 1 ] || fail "invalid UTF-8 exit"
[ "$out" = '{"error":"invalid UTF-8 at byte offset 0","line":1}' ] || fail "utf-8: $out"
out=$(printf '\xff tok5\n' | $LM tokenize --model $M --replace-invalid-utf8) || fail "replace: $?"
echo "$out" | grep -q '"tokens":\["\[CLS\]","tok5","\[SEP\]"\]' || fail "replace: $out"

# ---- streaming: each line is answered before the next one is written -------------------------
stream_check() { # ARGS... : the command reads lines, answers each (first 6 characters compared)
    local a1 a2 rc
    coproc LMP { exec $LM "$@" 2>/dev/null; }
    local to=${LMP[1]} from=${LMP[0]} pid=$LMP_PID
    echo 'tok5' >&"$to"
    read -t 60 -r a1 <&"$from" || { kill "$pid"; fail "lm $*: no answer to a first line while the input stays open"; }
    echo 'tok6' >&"$to"
    read -t 60 -r a2 <&"$from" || { kill "$pid"; fail "lm $*: no answer to a second line"; }
    eval "exec $to>&-"
    wait "$pid"; rc=$?
    [ "$rc" -eq 0 ] || fail "lm $*: exit $rc"
    [ "${a1:0:1}" = '{' ] && [ "${a2:0:1}" = '{' ] || fail "lm $*: answers '$a1' '$a2'"
}
stream_check tokenize --model $M

# ---- info: unused tensors (config.json with fewer layers than the weights), fresh heads -----
mkdir "$tmp/short"
ln -s "$PWD/$T/seqcls-relu-f32/model.safetensors" "$PWD/$T/seqcls-relu-f32/vocab.txt" "$tmp/short/"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 1/' $T/seqcls-relu-f32/config.json > "$tmp/short/config.json"
out=$($LM info --model "$tmp/short" 2>"$tmp/err") || fail "info short: $?"
echo "$out" | grep -q '"layers":1,' || fail "info layers: $out"
echo "$out" | grep -q '"unused_tensors":16,"unused_tensor_names":\["bert.encoder.layer.1.' || fail "info unused: $out"
grep -q "warning: .*16 tensors are not used" "$tmp/err" || fail "no warning on stderr: $(cat "$tmp/err")"
$LM classify --model "$tmp/short" < /dev/null 2>"$tmp/err" || fail "classify short: $?"
grep -q "^lm classify: warning: .*16 tensors are not used" "$tmp/err" || fail "classify does not warn: $(cat "$tmp/err")"
out=$($LM info --model $M 2>"$tmp/err") || fail "info"
echo "$out" | grep -q '"fresh_head":false' || fail "fresh false: $out"
echo "$out" | grep -q '"unused_tensors":0,"unused_tensor_names":\[\]' || fail "no unused: $out"
[ ! -s "$tmp/err" ] || fail "info said: $(cat "$tmp/err")"
out=$($LM info --model $M --head sequence-classification 2>"$tmp/err") || fail "info --head"
echo "$out" | grep -q '"head":"sequence-classification","fresh_head":true' || fail "fresh: $out"
grep -q "initialised fresh" "$tmp/err" || fail "fresh head not reported: $(cat "$tmp/err")"
$LM info --model $M --output "$tmp/info.json" || fail "info --output"
grep -q '^{"model":' "$tmp/info.json" || fail "info file"

# ---- the model commands refuse what cannot work before reading anything ---------------------
err=$($LM classify --model $T/mlm-relu-f16 < /dev/null 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$err" | grep -q "is a masked-lm model, not a sequence-classification one" ||
    fail "classify on an MLM model: $rc $err"
err=$($LM embed --model /nonexistent < /dev/null 2>&1); rc=$?
[ "$rc" -eq 1 ] && echo "$err" | grep -q "cannot load the model" || fail "missing model: $rc $err"
echo "sh_cli: ok"
