#!/usr/bin/env bash
# The Rust crate (bindings/rust: lm-sys + lm) against an installed liblm: `make install` into a
# prefix under $B (or LM_PREFIX, an installed prefix to test instead), then `cargo test --offline`
# with CARGO_HOME and the target folder under $B (kept between runs; nothing in ~/.cargo), which
# finds the library through pkg-config: lm-sys's struct layouts against the installed header and
# every declared function, lm's scenarios (the C API's numbers, the reference pipelines, errors,
# training, fit, threads, a 10,000-call leak check, the compile-fail borrow rules). Last, the README's
# Rust snippet is lm/examples/readme.rs, byte for byte, and runs, linked to liblm.so and
# (LM_STATIC=1) to liblm.a.
set -eu
if [ -n "${SANITIZE:-}" ] || [ -n "${RUNNER:-}" ]; then
    # cargo's programs cannot load a sanitized liblm.so without preloading the sanitizer
    # runtimes; the C calls run under the sanitizers and valgrind in the C tests.
    echo "sh_rust: skipped under sanitizers / valgrind (the plain make check runs it)"
    exit 0
fi
if ! command -v cargo > /dev/null || ! command -v rustc > /dev/null; then
    if [ -n "${LM_REQUIRE_BINDINGS:-}" ]; then
        echo "sh_rust: cargo or rustc is missing (scripts/bootstrap.sh installs them)"
        exit 1
    fi
    echo "sh_rust: SKIP: cargo or rustc is missing (scripts/bootstrap.sh installs Debian's cargo and rustc)"
    exit 0
fi
top=$(pwd)
if [ -n "${LM_PREFIX:-}" ]; then
    prefix=$LM_PREFIX
else
    # a fixed prefix: cargo rebuilds lm-sys when PKG_CONFIG_PATH changes, not when the library does
    prefix="$top/$B/rust/prefix"
    MAKEFLAGS= make -s install PREFIX="$prefix" B="$B" L="$L" BIN="$BIN" > /dev/null
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib" \
    CARGO_HOME="$top/$B/rust/cargo-home" CARGO_TARGET_DIR="$top/$B/rust/target" \
    LM_SOURCE_DIR="$top" OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive CARGO_TERM_COLOR=never
unset PKG_CONFIG_LIBDIR
echo "sh_rust: $(rustc --version), $(cargo --version), liblm $(pkg-config --modversion lm) in $prefix"
cd bindings/rust
cargo test --offline --locked 2>&1 | tee "$log" | grep -E '^(test |running|     Running|   Doc-tests|test result|error|warning)|panicked' || true
if ! grep -q '^test result' "$log" || grep -qE '^test result: FAILED|^error' "$log"; then
    cat "$log"
    echo "sh_rust: cargo test failed"
    exit 1
fi
passed=$(awk '/^test result: ok\./ {n += $4} END {print n + 0}' "$log")
echo "sh_rust: cargo test: $passed tests passed"

# The README's snippet is the example program, and it runs on a tiny classifier.
bash "$top/tests/readme_snippet.sh" rust > "$log"
if ! diff -u lm/examples/readme.rs "$log"; then
    echo "sh_rust: README.md's Rust snippet differs from bindings/rust/lm/examples/readme.rs"
    exit 1
fi
out=$(cargo run -q --offline --locked --example readme -- "$top/tests/data/pipeline/models/seqcls")
echo "$out"
echo "$out" | grep -qE '^(negative|neutral|positive) 0\.[0-9]{3}$'
echo "$out" | grep -qE '^loss [0-9]+\.[0-9]{4}$'
echo "sh_rust: the README snippet runs"

# LM_STATIC=1: lm-sys links liblm.a (pkg-config --static) and the program needs no liblm.so.
CARGO_TARGET_DIR="$top/$B/rust/target-static" LM_STATIC=1 cargo build -q --offline --locked --example readme
static="$top/$B/rust/target-static/debug/examples/readme"
if ldd "$static" | grep -q liblm; then
    echo "sh_rust: the LM_STATIC=1 build still needs liblm.so"
    exit 1
fi
env -u LD_LIBRARY_PATH "$static" "$top/tests/data/pipeline/models/seqcls" | grep -qE '^loss '
echo "sh_rust: the LM_STATIC=1 build runs without liblm.so"
