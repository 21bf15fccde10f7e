#!/usr/bin/env bash
# Checks that Hugging Face transformers loads folders written by liblm and gets the same outputs:
# every tiny fixture model (each head, activation and weight dtype) is loaded and saved by
# liblm (examples/resave.c), reloaded by transformers (scripts/check_saved_model.py) and its
# outputs compared with the fixture's expected ones. Needs the reference environment.
#   usage: bash scripts/check_liblm_save.sh   (after make)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/examples/resave
py=$(bash scripts/pyenv.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok=0
bad=0
for dir in tests/data/model/tiny/*/; do
    case=$(basename "$dir")
    build/examples/resave "$dir" "$tmp/$case"
    if out=$("$py" scripts/check_saved_model.py "$tmp/$case" "$dir/expected.safetensors" 2>/dev/null); then
        ok=$((ok + 1))
    else
        bad=$((bad + 1))
    fi
    printf '%-26s %s\n' "$case" "$(echo "$out" | tr '\n' ' ')"
done
echo "$ok passed, $bad failed"
[ "$bad" -eq 0 ]
