#!/usr/bin/env bash
# lm train killed with SIGKILL at random moments, most of them while it saves (a checkpoint every
# step): after each kill the newest complete checkpoint loads (lm eval reads it as a model
# folder), no half-written checkpoint-STEP folder is left, and --resume continues from it; after
# several kills the run ends with exactly the weights and metrics.csv of a run never killed.
set -u
cd "$(dirname "$0")/.."
LM="${RUNNER:-} ${BIN:-bin}/lm"
B=tests/data/fit/base
D=tests/data/datasets
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kills=5
[ -n "${LM_TEST_QUICK:-}" ] && kills=2
A=(--model $B --threads 1 --train $D/text.txt --dev $D/sst2.tsv --epochs 4 --batch-size 8
   --log-every 1 --eval-every 7 --save-every 1 --lr 1e-3)
$LM train "${A[@]}" --out "$tmp/whole" > /dev/null 2>&1 || fail "the run never killed"

out=$tmp/killed
args=(--out "$out")
done_run=0
for i in $(seq 1 $kills); do
    $LM train "${A[@]}" "${args[@]}" > /dev/null 2>&1 &
    pid=$!
    # a random moment after the first checkpoint of this process
    n0=$(ls -d "$out"/checkpoint-* 2>/dev/null | sort -t- -k2 -n | tail -1)
    for _ in $(seq 1 400); do
        n=$(ls -d "$out"/checkpoint-* 2>/dev/null | sort -t- -k2 -n | tail -1)
        [ -n "$n" ] && [ "$n" != "$n0" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    sleep "0.$((RANDOM % 40))"
    if ! kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" && { done_run=1; break; }
        fail "kill $i: lm train failed before it was killed"
    fi
    wait "$pid" 2>/dev/null
    # the newest complete checkpoint loads; no half-written checkpoint-STEP folder
    newest=""
    for d in $(ls -d "$out"/checkpoint-* 2>/dev/null | sort -t- -k2 -n); do
        [ -f "$d/trainer_state.json" ] || fail "kill $i: $d has no trainer_state.json"
        for f in config.json model.safetensors optimizer.safetensors vocab.txt; do
            [ -f "$d/$f" ] || fail "kill $i: $d has no $f"
        done
        newest=$d
    done
    if [ -z "$newest" ]; then
        args=(--out "$out" --overwrite) # killed before the first checkpoint
        continue
    fi
    $LM eval --model "$newest" --data $D/sst2.tsv --threads 1 > /dev/null ||
        fail "kill $i: $newest does not load"
    args=(--out "$out" --resume "$out")
done
if [ "$done_run" -eq 0 ]; then
    $LM train "${A[@]}" "${args[@]}" > "$tmp/last.log" 2>&1 || fail "the last resume: $(cat "$tmp/last.log")"
fi
ls -a "$out" | grep -q '\.tmp' && fail "temporary files left: $(ls -a "$out")"
cmp -s "$tmp/whole/model.safetensors" "$out/model.safetensors" || fail "the weights differ from the run never killed"
cmp -s "$tmp/whole/metrics.csv" "$out/metrics.csv" || fail "metrics.csv differs from the run never killed"
echo "sh_train_kill: ok ($kills kills)"
