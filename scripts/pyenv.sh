#!/usr/bin/env bash
# Prints the path of the Python interpreter of the private reference environment (Hugging Face
# transformers, tokenizers, torch and the all-MiniLM-L6-v2 package), creating it and installing
# what is missing first. Reference tools are for fixture scripts and benchmarks only: the library
# and `make check` never need them.
#   LM_PYENV   folder of the environment (default: <repo>/.venv-ref)
#   usage:     PY=$(bash scripts/pyenv.sh [packages...])   (default: the full reference set)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
env_dir=${LM_PYENV:-$repo/.venv-ref}
if [ $# -eq 0 ]; then
    set -- -r "$repo/scripts/requirements-ref.txt"
fi
if [ ! -x "$env_dir/bin/python" ]; then
    python3 -m venv "$env_dir" >&2
fi
"$env_dir/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
echo "$env_dir/bin/python"
