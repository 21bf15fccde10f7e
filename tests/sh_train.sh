#!/usr/bin/env bash
# lm train and lm eval through the command line, on the tiny base model (tests/data/fit/base) and
# the data samples of tests/data/datasets: --help and usage errors; a run of every task with the
# log lines of the reference recipe, metrics.csv, results.json, an SVG plot and lm eval's JSON; the
# trained folders answer lm classify / tag / qa / fill-mask; bad data named by file and line
# (exit 1, nothing written); an output folder holding a run is refused and left whole; SIGINT
# stops cleanly (exit 130) and --resume ends where the uninterrupted run ends, bit for bit; a
# read-only or full output folder fails with the file named and the last checkpoint intact.
set -u
cd "$(dirname "$0")/.."
LM="${RUNNER:-} ${BIN:-bin}/lm"
B=tests/data/fit/base
D=tests/data/datasets
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
T=(--model $B --threads 1)

# ---- help and usage errors ---------------------------------------------------------------------
for c in train eval; do
    $LM $c --help | grep -q "^usage: lm $c" || fail "lm $c --help"
    for o in $($LM $c --help | sed -n 's/^  \(--[a-z0-9-]*\).*/\1/p'); do
        grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" docs/lm.1 || fail "docs/lm.1 lacks lm $c $o"
    done
done
usage() { # WANT ARGS...
    local want=$1 err rc
    shift
    err=$($LM "$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" -eq 2 ] || fail "lm $* exits $rc (want 2): $err"
    echo "$err" | grep -qF -- "$want" || fail "lm $*: '$err' does not say '$want'"
}
usage "--train FILE is required" train --model $B --out "$tmp/x"
usage "--out DIR is required" train --model $B --train $D/sst2.tsv
usage "--model DIR is required" train --train $D/sst2.tsv --out "$tmp/x"
usage "--lr needs a number between 0 and 10, not 'fast'" train "${T[@]}" --lr fast
usage "--warmup-ratio must be between 0 and 1 (got 2)" train "${T[@]}" --warmup-ratio 2
usage "--optimizer is one of adamw|adam|sgd, not 'lion'" train "${T[@]}" --optimizer lion
usage "--task is one of auto|classification|regression" train "${T[@]}" --task poetry
usage "--epochs must be between 1 and 100000 (got 0)" train "${T[@]}" --epochs 0
usage "--data FILE is required" eval --model $B
[ -d "$tmp/x" ] && fail "a usage error created the output folder"

# ---- every task: log lines, metrics.csv, results.json, plot, lm eval, the saved folder --------
run() { # NAME TRAIN DEV ARGS...
    local name=$1 train=$2 dev=$3
    shift 3
    $LM train "${T[@]}" --train "$train" --dev "$dev" --out "$tmp/$name" --epochs 2 \
        --batch-size 8 --log-every 2 --lr 1e-3 --name "$name" --plot "$tmp/$name.svg" "$@" \
        > "$tmp/$name.log" 2> "$tmp/$name.err" || fail "lm train $name: $(cat "$tmp/$name.err")"
    grep -qE "^\[$name\] step [0-9]+/[0-9]+ epoch [0-9]+ loss [0-9.]+ lr [0-9.e+-]+ grad_norm [0-9.]+ \([0-9.]+ s, [0-9.]+ ex/s\)$" \
        "$tmp/$name.log" || fail "$name: no step line: $(cat "$tmp/$name.log")"
    grep -qE "^\[$name\] epoch 2 dev [a-z_]+ [0-9.-]+" "$tmp/$name.log" || fail "$name: no dev line"
    grep -qE "^\[$name\] done: train [0-9.]+ s, [0-9.]+ examples/s, [0-9]+ tokens/s, eval [0-9.]+ s, peak RSS [0-9]+ MiB$" \
        "$tmp/$name.log" || fail "$name: no done line: $(cat "$tmp/$name.log")"
    head -1 "$tmp/$name/metrics.csv" | grep -q '^step,epoch,loss,lr,grad_norm,eval_loss,' ||
        fail "$name: metrics.csv header: $(head -1 "$tmp/$name/metrics.csv")"
    [ "$(grep -c . "$tmp/$name/metrics.csv")" -ge 3 ] || fail "$name: metrics.csv rows"
    grep -q "\"tasks\":{\"$name\":{" "$tmp/$name/results.json" || fail "$name: results.json"
    grep -q '"peak_rss_mib":' "$tmp/$name/results.json" || fail "$name: results.json RSS"
    head -c 200 "$tmp/$name.svg" | grep -q '<svg xmlns="http://www.w3.org/2000/svg"' ||
        fail "$name: the plot is not SVG"
    [ "$(grep -c '<polyline' "$tmp/$name.svg")" -eq 2 ] || fail "$name: the plot lacks a line"
    tail -1 "$tmp/$name.svg" | grep -q '</svg>' || fail "$name: the plot is cut"
    if command -v xmllint > /dev/null; then
        xmllint --noout "$tmp/$name.svg" || fail "$name: the plot is not well-formed XML"
    fi
    $LM eval --model "$tmp/$name" --data "$dev" --threads 1 > "$tmp/$name.eval" ||
        fail "lm eval $name"
    grep -qE '^\{"task":"[a-z-]+","examples":[0-9]+,"loss":[0-9.e+-]+,.*\}$' "$tmp/$name.eval" ||
        fail "$name: lm eval: $(cat "$tmp/$name.eval")"
    [ -d "$tmp/$name/checkpoint-$(sed -n 's/.*"last_step":\([0-9]*\).*/\1/p' "$tmp/$name/results.json")" ] ||
        fail "$name: no checkpoint of the last step"
}
run sst2 $D/sst2.tsv $D/sst2.csv
grep -q '"confusion":\[\[' "$tmp/sst2.eval" || fail "lm eval: no confusion matrix"
grep -q '"labels":\["0","1"\]' "$tmp/sst2.eval" || fail "lm eval: labels"
$LM eval --model "$tmp/sst2" --data $D/sst2.csv --threads 1 --int8 > "$tmp/sst2.int8" ||
    fail "lm eval --int8"
grep -qE '^\{"task":"classification","examples":[0-9]+,' "$tmp/sst2.int8" ||
    fail "lm eval --int8: $(cat "$tmp/sst2.int8")"
echo 'a gorgeous , witty movie .' | $LM classify --model "$tmp/sst2" | grep -qE '^\{"label":"[01]"' ||
    fail "lm classify on the trained folder"
run rte $D/rte.tsv $D/rte.tsv
run stsb $D/stsb.jsonl $D/stsb.tsv
grep -q '"pearson":' "$tmp/stsb.eval" || fail "stsb: no pearson"
run wnut17 $D/wnut17.conll $D/wnut17.conll
echo 'john lives in london' | $LM tag --model "$tmp/wnut17" | grep -q '^{"entities":\[' ||
    fail "lm tag on the trained folder"
run squad $D/squad.json $D/squad.json --max-train 3 --max-eval 3
printf 'who ruled ?\tthe yuan dynasty was ruled by kublai khan .\n' |
    $LM qa --model "$tmp/squad" | grep -q '^{"answer":' || fail "lm qa on the trained folder"
run mlm $D/text.txt $D/text.txt --mlm-pack --max-length 32
echo 'the [MASK] movie .' | $LM fill-mask --model "$tmp/mlm" | grep -q '^{"predictions":\[' ||
    fail "lm fill-mask on the trained folder"

# ---- bad data: file and line named, exit 1, nothing written ------------------------------------
bad() { # WANT FILE CONTENT [dev]
    local want=$1 file=$tmp/$2 err rc
    printf "$3" > "$file"
    if [ "${4:-}" = dev ]; then
        err=$($LM train "${T[@]}" --train $D/sst2.tsv --dev "$file" --out "$tmp/bad" 2>&1); rc=$?
    else
        err=$($LM train "${T[@]}" --train "$file" --out "$tmp/bad" 2>&1); rc=$?
    fi
    [ "$rc" -eq 1 ] || fail "bad $2 exits $rc: $err"
    echo "$err" | grep -qF -- "$want" || fail "bad $2: '$err' does not say '$want'"
    [ -e "$tmp/bad/metrics.csv" ] && fail "bad $2 wrote metrics.csv"
    return 0
}
bad "extra.tsv:3: " extra.tsv 'sentence\tlabel\ngood\t1\nbad\tfilm\t0\n'
bad "missing.csv:3: " missing.csv 'sentence,label\ngood,1\nbad\n'
bad "empty.tsv:3: " empty.tsv 'sentence\tlabel\ngood\t1\n\nbad\t0\n'
bad "utf8.tsv:2: " utf8.tsv 'sentence\tlabel\ngo\377od\t1\n'
bad "dev.tsv:3: label \"2\"" dev.tsv 'sentence\tlabel\ngood\t1\nso so\t2\n' dev
bad "bad.conll:2: " bad.conll 'a\tO\nb\n'
{ printf 'sentence\tlabel\n'; for i in $(seq 1 10000); do echo "text $i	c$i"; done; } > "$tmp/many.tsv"
err=$($LM train "${T[@]}" --train "$tmp/many.tsv" --out "$tmp/bad" 2>&1) && fail "10,000 labels accepted"
echo "$err" | grep -q "many.tsv" || fail "10,000 labels: $err"
{ printf 'sentence\tlabel\ngood\t1\n'; head -c 5000000 /dev/zero | tr '\0' a; printf '\t0\n'; } > "$tmp/long.tsv"
err=$($LM train "${T[@]}" --train "$tmp/long.tsv" --out "$tmp/bad" 2>&1) && fail "a 5 MB line accepted"
echo "$err" | grep -q "long.tsv:3: " || fail "5 MB line: $err"

# ---- an output folder holding a run: refused, nothing lost --------------------------------------
cp "$tmp/sst2/model.safetensors" "$tmp/sst2.weights"
err=$($LM train "${T[@]}" --train $D/sst2.tsv --out "$tmp/sst2" 2>&1) && fail "a second run into a used folder"
echo "$err" | grep -q "already holds a training run" || fail "used folder: $err"
cmp -s "$tmp/sst2.weights" "$tmp/sst2/model.safetensors" || fail "a refused run changed the model"
err=$($LM train --model tests/data/pipeline/models/seqcls --threads 1 --train $D/sst2.tsv \
    --out "$tmp/foreign" --resume "$tmp/sst2" 2>&1) && fail "a foreign --resume folder accepted"
echo "$err" | grep -q "another model" || fail "foreign --resume: $err"

# ---- SIGINT stops cleanly; --resume ends where the uninterrupted run ends ------------------------
A=(--train $D/sst2.tsv --dev $D/sst2.csv --epochs 15 --batch-size 4 --log-every 1 --lr 1e-3)
$LM train "${T[@]}" "${A[@]}" --out "$tmp/whole" > /dev/null 2>&1 || fail "uninterrupted run"
$LM train "${T[@]}" "${A[@]}" --out "$tmp/int" > "$tmp/int.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    [ "$(ls -d "$tmp"/int/checkpoint-* 2>/dev/null | wc -l)" -gt 0 ] && break
    sleep 0.05
done
kill -INT "$pid"
wait "$pid"; rc=$?
if [ "$rc" -eq 130 ]; then
    grep -q "stopped at step [0-9]*: continue with --resume" "$tmp/int.log" || fail "SIGINT message"
elif [ "$rc" -ne 0 ]; then
    fail "SIGINT: exit $rc: $(cat "$tmp/int.log")"
fi
$LM train "${T[@]}" "${A[@]}" --out "$tmp/int" --resume "$tmp/int" > /dev/null 2>&1 || fail "resume"
cmp -s "$tmp/whole/model.safetensors" "$tmp/int/model.safetensors" || fail "resumed weights differ"
cmp -s "$tmp/whole/metrics.csv" "$tmp/int/metrics.csv" || fail "resumed metrics.csv differs"

# ---- a full or read-only output folder: the file named, the last checkpoint kept ----------------
last=$(ls -d "$tmp"/sst2/checkpoint-* | sort -t- -k2 -n | tail -1)
cp -r "$last" "$tmp/last.copy"
err=$( (trap '' XFSZ; ulimit -f 64; exec $LM train "${T[@]}" --train $D/sst2.tsv --dev $D/sst2.csv \
    --out "$tmp/sst2" --resume "$tmp/sst2" --epochs 4 --batch-size 8 --lr 1e-3) 2>&1) &&
    fail "a full disk went unnoticed"
echo "$err" | grep -q "model.safetensors.*File too large" || fail "full disk: $err"
diff -r "$last" "$tmp/last.copy" > /dev/null || fail "a failed save changed the last checkpoint"
[ -z "$(ls -a "$tmp/sst2" | grep tmp)" ] || fail "temporary files left: $(ls -a "$tmp/sst2")"
$LM eval --model "$last" --data $D/sst2.csv --threads 1 > /dev/null || fail "the last checkpoint does not load"
ro_test() { # the read-only output folder
    err=$($LM train --model $B --threads 1 --train $D/sst2.tsv --out "$1" 2>&1) && return 1
    echo "$err" | grep -q "not writable" || { echo "read-only: $err"; return 1; }
}
mkdir "$tmp/ro"
if [ "$(id -u)" -ne 0 ]; then
    chmod a-w "$tmp/ro"
    ro_test "$tmp/ro" || fail "read-only output folder"
elif unshare -m true 2> /dev/null; then
    export -f ro_test fail
    export LM B D
    unshare -m bash -c "mount --bind '$tmp/ro' '$tmp/ro' && mount -o remount,bind,ro '$tmp/ro' &&
        ro_test '$tmp/ro'" || fail "read-only output folder"
else
    echo "sh_train: skipped the read-only folder (root without mount namespaces)"
fi
echo "sh_train: ok"
