#!/usr/bin/env bash
# examples/embed_similarity on the real all-MiniLM-L6-v2 (LM_MINILM_DIR, else what
# scripts/find_minilm.sh prints; skipped when the model is absent): three lines of cosines in
# [-1, 1], the two sentences about eating the most similar (sentence-transformers gives 0.7553).
set -u
cd "$(dirname "$0")/.."
EX="${RUNNER:-} ${B:-build}/examples/embed_similarity"
dir=${LM_MINILM_DIR:-$(bash scripts/find_minilm.sh 2>/dev/null)}
if [ -z "$dir" ] || [ ! -f "$dir/model.safetensors" ]; then
    echo "SKIP: all-MiniLM-L6-v2 not found (set LM_MINILM_DIR)"
    exit 0
fi
case "${LM_TEST_QUICK:-0}" in
0 | "") ;;
*) echo "SKIP: all-MiniLM-L6-v2 in quick mode (LM_TEST_QUICK)"; exit 0 ;;
esac
fail() { echo "FAIL: $*"; exit 1; }
out=$($EX "$dir") || fail "embed_similarity exited $?: $out"
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "want 3 lines"
echo "$out" | awk '
    { v[NR] = $1; if ($1 < -1 || $1 > 1) bad = 1 }
    END { exit !(bad == 0 && v[1] > v[2] && v[1] > v[3] && v[1] > 0.74 && v[1] < 0.77) }' ||
    fail "cosines out of order or range"
out=$(LM_MINILM_DIR= $EX 2>&1); [ $? -eq 1 ] || fail "no model folder should exit 1"
echo "$out" | grep -q usage || fail "no usage line: $out"
echo "embed_similarity: ok"
