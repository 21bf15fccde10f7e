#!/usr/bin/env bash
# The model subcommands of `lm` (embed, classify, fill-mask, qa, tag, info) on the tiny fixture
# models of tests/data/model (numbers checked against transformers when the fixtures were made).
set -u
cd "$(dirname "$0")/.."
LM="${RUNNER:-} ${BIN:-bin}/lm"
T=tests/data/model/tiny
if [ ! -d "$T" ]; then echo "skipped: $T not found"; exit 0; fi
fail() { echo "FAIL: $*"; exit 1; }
near() { # near VALUE WANT
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5) }'
}

out=$(printf 'tok5 tok6 tok7\ntok9\n' | $LM classify --model $T/seqcls-relu-f32 --batch-size 2) || fail "classify: $?"
[ "$(echo "$out" | wc -l)" -eq 2 ] || fail "classify lines: $out"
echo "$out" | sed -n 1p | grep -q '^{"label":"neg","label_id":0,"scores":\[' || fail "classify: $out"
echo "$out" | sed -n 2p | grep -q '^{"label":"pos","label_id":2,"scores":\[' || fail "classify: $out"
p=$(echo "$out" | sed -n 1p | sed 's/.*"scores":\[\([^,]*\),.*/\1/')
near "$p" 0.4126719 || fail "classify score $p (transformers 0.4126719)"

out=$(printf 'tok5 tok6\ttok7\n' | $LM classify --model $T/seqcls-relu-f32 --pairs) || fail "pairs"
p=$(echo "$out" | sed 's/.*"scores":\[\([^,]*\),.*/\1/')
near "$p" 0.4129336 || fail "pair score $p (transformers 0.4129336): $out"

out=$(printf 'tok5 tok6 tok7\n' | $LM tag --model $T/tokcls-gelu-f32) || fail "tag"
echo "$out" | grep -q '^{"tokens":\["tok5","tok6","tok7"\],"labels":\["LABEL_[0-4]","LABEL_[0-4]","LABEL_[0-4]"\]}$' || fail "tag: $out"

out=$(printf 'tok5 [MASK] tok7\n[MASK] tok8 [MASK]\nno mask here\n' | $LM fill-mask --model $T/mlm-gelu_new-f32 --top-k 2); rc=$?
[ "$rc" -eq 1 ] || fail "fill-mask without a mask should exit 1, got $rc"
echo "$out" | sed -n 1p | grep -q '^{"predictions":\[{"token":"\[UNK\]","id":1,"score":0.0956' || fail "fill-mask: $out"
echo "$out" | sed -n 2p | grep -q '^{"predictions":\[\[{.*}\],\[{.*}\]\]}$' || fail "fill-mask two masks: $out"
echo "$out" | sed -n 3p | grep -q '^{"error":' || fail "fill-mask no mask: $out"

out=$(printf 'tok5 tok6\ttok7 tok8 tok9 tok10\n' | $LM qa --model $T/qa-relu-f32) || fail "qa"
echo "$out" | grep -q '^{"answer":"tok7 tok8 tok9","start":0,"end":14,"score":' || fail "qa: $out"
ctx='tok7 tok8 tok9 tok10 tok11 tok12 tok13 tok14 tok15 tok16 tok17 tok18 tok19'
out=$(printf 'tok5 tok6\t%s\n' "$ctx" | $LM qa --model $T/qa-relu-f32 --max-length 12 --doc-stride 2) || fail "qa windows"
echo "$out" | grep -q '^{"answer":"tok19","start":69,"end":74,"score":' || fail "qa windows: $out"
[ "${ctx:69:5}" = tok19 ] || fail "qa offsets"
out=$(printf 'no tab\n' | $LM qa --model $T/qa-relu-f32); [ $? -eq 1 ] || fail "qa without TAB"
echo "$out" | grep -q '^{"error":' || fail "qa no tab: $out"

out=$(printf 'tok5 tok6 tok7\n' | $LM embed --model $T/model-gelu-f32 --normalize --threads 1) || fail "embed"
echo "$out" | grep -q '^{"embedding":\[[-0-9.e,]*\]}$' || fail "embed: $out"
n=$(echo "$out" | tr ',' '\n' | wc -l); [ "$n" -eq 32 ] || fail "embed size $n"

# lines are run sorted by length; the output keeps the input order
all=$(printf 'tok5 tok6 tok7 tok8 tok9\ntok5\ntok6 tok7\n' | $LM embed --model $T/model-gelu-f32 --batch-size 1) || fail "embed order"
for k in 1 2 3; do
    line=$(printf 'tok5 tok6 tok7 tok8 tok9\ntok5\ntok6 tok7\n' | sed -n ${k}p)
    one=$(printf '%s\n' "$line" | $LM embed --model $T/model-gelu-f32)
    a=$(echo "$all" | sed -n ${k}p | sed 's/{"embedding":\[\([^,]*\),.*/\1/')
    b=$(echo "$one" | sed 's/{"embedding":\[\([^,]*\),.*/\1/')
    near "$a" "$b" || fail "embed order line $k: $a vs $b"
done

out=$($LM info --model $T/mlm-relu-f16) || fail "info"
echo "$out" | grep -q '"head":"masked-lm","hidden_size":32,"layers":2' || fail "info: $out"
echo "$out" | grep -q '"nan_parameters":0' || fail "info nan: $out"

$LM classify --model $T/mlm-relu-f16 < /dev/null 2>/dev/null && fail "classify on an MLM model accepted"
$LM embed --model /nonexistent < /dev/null 2>/dev/null && fail "missing model accepted"
$LM embed --model $T/model-gelu-f32 --batch-size 0 < /dev/null 2>/dev/null && fail "batch size 0 accepted"
$LM embed --model $T/model-gelu-f32 --pooling max < /dev/null 2>/dev/null && fail "pooling max accepted"
echo "sh_model_cli: ok"
