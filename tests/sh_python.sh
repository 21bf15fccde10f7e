#!/usr/bin/env bash
# The Python package (bindings/python) against an installed liblm: `make install` into a prefix,
# a private virtual environment under $B (never the system's site-packages; numpy, pytest and
# setuptools from the Python package index, kept between runs), `pip install` of the package,
# which finds the library through pkg-config, then its pytest suite (the numbers of the C API and
# of the reference pipelines, errors, 10,000-call leak checks, the README snippet). Last, a wheel
# built with LM_BUNDLE_LIBRARY carries the library and runs without pkg-config.
# LM_PREFIX: use that installed prefix instead of installing one.
set -eu
if [ -n "${SANITIZE:-}" ] || [ -n "${RUNNER:-}" ]; then
    # Python cannot load a sanitized liblm.so without preloading the sanitizer runtimes, and
    # valgrind over the interpreter proves little: the C calls run under both in the C tests.
    echo "sh_python: skipped under sanitizers / valgrind (the plain make check runs it)"
    exit 0
fi
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${LM_PREFIX:-}" ]; then
    prefix=$LM_PREFIX
else
    prefix="$tmp/prefix"
    MAKEFLAGS= make -s install PREFIX="$prefix" B="$B" L="$L" BIN="$BIN" > /dev/null
fi
venv="${LM_PY_VENV:-$B/py-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
py="$venv/bin/python"
if ! "$py" -c 'import numpy, pytest, setuptools, wheel' 2> /dev/null; then
    "$py" -m pip install -q --disable-pip-version-check numpy pytest "setuptools>=61" wheel || {
        echo "sh_python: cannot install numpy and pytest from the Python package index"
        exit 1
    }
fi
# Built from a copy: the source folder gets no build/ nor egg-info.
cp -r bindings/python "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src/src/liblm/_lib" "$tmp/src"/src/*.egg-info
"$py" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    --force-reinstall "$tmp/src" > "$tmp/pip.log" 2>&1 || {
    cat "$tmp/pip.log"
    exit 1
}
env -u LM_LIBRARY PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LM_EXPECT_LIBDIR="$prefix/lib" \
    LM_BIN="$prefix/bin/lm" LM_SOURCE_DIR="$top" PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 \
    "$py" -m pytest -q -p no:cacheprovider "$top/bindings/python/tests" 2>&1 | tee "$tmp/pytest.log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || exit "$rc"

# A wheel that carries liblm.so: tagged for this platform, and it loads its own copy.
rm -rf "$tmp/src/build"
LM_BUNDLE_LIBRARY="$prefix/lib/liblm.so" "$py" -m pip wheel -q --no-build-isolation --no-deps \
    -w "$tmp/wheels" "$tmp/src" > "$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; exit 1; }
wheel=$(ls "$tmp"/wheels/liblm-*.whl)
case "$wheel" in *-none-any.whl) echo "sh_python: the bundled wheel is not platform-tagged: $wheel"; exit 1;; esac
"$py" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel" > /dev/null
env -u LM_LIBRARY -u LD_LIBRARY_PATH PKG_CONFIG_PATH=/nonexistent "$py" -c '
import liblm, sys
assert "/_lib/" in liblm.library_path, liblm.library_path
m = liblm.Model(sys.argv[1])
assert m.encode(["a bundled library"]).shape == (1, 32)
print("sh_python: the bundled wheel loads", liblm.library_path.split("site-packages/")[1])
' "$top/tests/data/pipeline/models/mlm"
