#!/usr/bin/env bash
# Issue 7, item 14: the memory and time a safetensors header costs are bounded by its size. Builds
# large hostile headers and opens each with the safetensors fuzz target's replay driver (which
# holds the whole file in memory, then opens it and looks every tensor up), asserting the peak
# resident size with GNU time and the run time with timeout. Before the fix (cJSON tree):
#   100 MB JSON array        4.0 GB, 26 s    now refused at its first byte
#   10^6 empty tensors       895 MB, 5 s     (59 MB header)
#   100 MB skipped field     4.0 GB, 28 s    (a tensor with an unknown 100 MB field)
#   10^6 8-dim tensors       1.45 GB, 13 s   (72 MB header)
set -u
cd "$(dirname "$0")/.."
REPLAY="${B:-build}/fuzz/replay_safetensors"
TIME=/usr/bin/time
fail() { echo "FAIL: $*"; exit 1; }
if [ -n "${SANITIZE:-}" ] || [ -n "${RUNNER:-}" ]; then
    echo "skipped: sizes under sanitizers and valgrind are not the library's"
    exit 0
fi
[ -x "$TIME" ] || fail "GNU time is missing (/usr/bin/time, Debian package time: bootstrap.sh)"
[ -x "$REPLAY" ] || fail "$REPLAY not built"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# le64 N: N as 8 little-endian bytes
le64() {
    local n=$1 i
    for i in 0 1 2 3 4 5 6 7; do
        printf "\\$(printf '%03o' $(((n >> (8 * i)) & 255)))"
    done
}

# make NAME: $tmp/NAME.h (the header) -> $tmp/NAME (length + header, no data)
make_file() {
    le64 "$(stat -c %s "$tmp/$1.h")" >"$tmp/$1"
    cat "$tmp/$1.h" >>"$tmp/$1"
    rm -f "$tmp/$1.h"
}

# A 100 MB array (the largest header the format allows is 100,000,000 bytes).
{
    yes '0,' | tr -d '\n' | head -c 99999996
    printf '0]'
} | { printf '['; cat; } >"$tmp/array.h"
make_file array
# 10^6 empty tensors, all at [0, 0].
seq 1000000 | sed 's/.*/"t&":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}/' | paste -sd, |
    { printf '{'; tr -d '\n'; printf '}'; } >"$tmp/empty.h"
make_file empty
# One tensor with a 100 MB field that the reader skips.
{
    printf '{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":['
    yes '0,' | tr -d '\n' | head -c 99999900
    printf '0]}}'
} >"$tmp/skip.h"
make_file skip
# 10^6 tensors of 8 dimensions.
seq 1000000 | sed 's/.*/"t&":{"dtype":"U8","shape":[1,1,1,1,1,1,1,0],"data_offsets":[0,0]}/' |
    paste -sd, | { printf '{'; tr -d '\n'; printf '}'; } >"$tmp/dims.h"
make_file dims

# check NAME MAX_RATIO: peak RSS <= MAX_RATIO x the file size (the driver's own copy is 1x),
# within 60 s
check() {
    local size peak
    size=$(stat -c %s "$tmp/$1")
    timeout 60 "$TIME" -f %M -o "$tmp/peak" "$REPLAY" "$tmp/$1" ||
        fail "$1: status $? (124: over 60 s)"
    peak=$(($(tail -1 "$tmp/peak") * 1024))
    echo "$1: $size bytes, peak RSS $peak bytes"
    awk -v p="$peak" -v s="$size" -v r="$2" 'BEGIN { exit !(p <= r * s + 16e6) }' ||
        fail "$1: peak RSS $peak is over $2 x $size"
}
check array 1.2
check skip 1.2
check empty 4
check dims 4
echo "sh_hostile_headers: ok"
