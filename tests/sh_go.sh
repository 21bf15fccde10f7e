#!/usr/bin/env bash
# The Go module (bindings/go, cgo with `#cgo pkg-config: lm`) against an installed liblm:
# `make install` into a prefix under $B (or LM_PREFIX, an installed prefix to test instead), then
# gofmt, `go vet` and `go test` with GOPATH and GOCACHE under $B, no network (GOPROXY=off, the
# module has no requirements): the C API's numbers, the reference pipelines, errors read on the
# calling thread from 16 goroutines, training, fit, Close and finalizers, a 10,000-call leak check.
# Last, the README's Go snippet is examples/readme/main.go, byte for byte, and runs.
set -eu
if [ -n "${SANITIZE:-}" ] || [ -n "${RUNNER:-}" ]; then
    echo "sh_go: skipped under sanitizers / valgrind (the plain make check runs it)"
    exit 0
fi
if ! command -v go > /dev/null; then
    if [ -n "${LM_REQUIRE_BINDINGS:-}" ]; then
        echo "sh_go: go is missing (scripts/bootstrap.sh installs golang-go)"
        exit 1
    fi
    echo "sh_go: SKIP: go is missing (scripts/bootstrap.sh installs Debian's golang-go)"
    exit 0
fi
top=$(pwd)
if [ -n "${LM_PREFIX:-}" ]; then
    prefix=$LM_PREFIX
else
    prefix="$top/$B/go/prefix"
    MAKEFLAGS= make -s install PREFIX="$prefix" B="$B" L="$L" BIN="$BIN" > /dev/null
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# go's build cache does not see C headers outside the package: their hash in CGO_CFLAGS does
headers=$(cat "$prefix"/include/lm.h "$prefix"/include/lm/*.h | cksum | cut -d' ' -f1)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib" \
    GOPATH="$top/$B/go/path" GOCACHE="$top/$B/go/cache" GOFLAGS=-mod=mod GOTOOLCHAIN=local \
    GOPROXY=off GOSUMDB=off GO111MODULE=on CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -DLM_HEADERS_CKSUM=$headers" \
    LM_SOURCE_DIR="$top" OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
unset PKG_CONFIG_LIBDIR
echo "sh_go: $(go version), liblm $(pkg-config --modversion lm) in $prefix"
cd bindings/go
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
    echo "sh_go: not gofmt-formatted: $unformatted"
    exit 1
fi
go vet ./...
go test -count=1 -v ./... > "$log" 2>&1 || {
    cat "$log"
    echo "sh_go: go test failed"
    exit 1
}
grep -E '^(--- |ok|FAIL)|RSS|handles' "$log"
passed=$(grep -c '^--- PASS' "$log")
echo "sh_go: go test: $passed tests passed"

bash "$top/tests/readme_snippet.sh" go > "$log"
if ! diff -u examples/readme/main.go "$log"; then
    echo "sh_go: README.md's Go snippet differs from bindings/go/examples/readme/main.go"
    exit 1
fi
out=$(go run ./examples/readme "$top/tests/data/pipeline/models/seqcls")
echo "$out"
echo "$out" | grep -qE '^(negative|neutral|positive) 0\.[0-9]{3}$'
echo "$out" | grep -qE '^loss [0-9]+\.[0-9]{4}$'
echo "sh_go: the README snippet runs"
