#!/usr/bin/env bash
# The "done" check of the bindings: from a fresh clone of the committed tree (HEAD), `make install
# PREFIX=<tmp>`, then each binding's suite against that installed library only: C++ (lm.hpp and
# the README's C and C++ snippets, built with pkg-config), Python (pip install of bindings/python,
# which finds the library through pkg-config, and its pytest suite), HTTP (the installed lm
# serve), Rust (cargo test of bindings/rust) and Go (go test of bindings/go), both through
# pkg-config. Uncommitted changes are not in the clone.
#   bash scripts/check_installed.sh        (make check-installed)
# LM_PY_VENV: a virtual environment to reuse for numpy and pytest (default: this checkout's
# build/py-venv when it exists, else a new one in the clone).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$repo" "$tmp/clone"
cd "$tmp/clone"
echo "== check-installed: clone of $(git rev-parse --short HEAD), make install PREFIX=$tmp/prefix"
make -s -j2 install PREFIX="$tmp/prefix" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
export LM_PREFIX="$tmp/prefix" B=build L=lib BIN=bin CC="${CC:-cc}" CXX="${CXX:-c++}"
if [ -z "${LM_PY_VENV:-}" ] && [ -x "$repo/build/py-venv/bin/python" ]; then
    export LM_PY_VENV="$repo/build/py-venv"
fi
# the real all-MiniLM-L6-v2 for the tests that compare with sentence-transformers (as make check)
if [ -z "${LM_MINILM_DIR:-}" ]; then
    LM_MINILM_DIR=$(bash "$repo/scripts/find_minilm.sh" 2> /dev/null || true)
    export LM_MINILM_DIR
fi
# the library is taken from the prefix only: this clone's lib/ is removed
rm -rf lib bin
mkdir -p build
for t in cpp python serve rust go; do
    echo "== tests/sh_$t.sh against $LM_PREFIX"
    bash "tests/sh_$t.sh"
done
echo "check-installed: C++, Python, HTTP, Rust and Go suites pass against the installed prefix"
