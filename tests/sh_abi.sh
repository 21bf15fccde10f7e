#!/usr/bin/env bash
# The exported symbols are exactly the public functions: every LM_API function of include/ is
# listed by name in lm.map and exported by liblm.so, nothing else is exported, and liblm.a defines
# no global symbol outside the lm_ (public) and lmi_ (internal) prefixes. A program built against
# 0.1 (options_init without a size) binds to the compat symbols and gets exactly 0.1's bytes.
# Options struct layouts do not depend on the size of enums (-fshort-enums).
set -eu
so="$L/liblm.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -ohE 'LM_API [^;(]*\blm_[a-z_0-9]+\(' include/lm.h include/lm/*.h |
    grep -oE 'lm_[a-z_0-9]+\($' | tr -d '(' | sort -u > "$tmp/header"
grep -oE '^ +lm_[a-z_0-9]+;' lm.map | tr -d ' ;' | sort -u > "$tmp/map"
nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u > "$tmp/exported"
fail=0
if ! diff -u "$tmp/header" "$tmp/map" > "$tmp/d1"; then
    echo "lm.map and the LM_API functions of include/ differ (- header, + map):"; cat "$tmp/d1"; fail=1
fi
if ! diff -u "$tmp/header" "$tmp/exported" > "$tmp/d2"; then
    echo "liblm.so exports differ from the header (- header, + exported):"; cat "$tmp/d2"; fail=1
fi
nm -g --defined-only "$L/liblm.a" | awk 'NF == 3 {print $3}' | grep -vE '^(lm_|lmi_)' |
    grep -v '@' > "$tmp/stray" || true
if [ -s "$tmp/stray" ]; then
    echo "liblm.a defines global symbols outside lm_/lmi_:"; cat "$tmp/stray"; fail=1
fi

# Layers: only src/api/ defines or calls the public functions; the layers below use lmi_ names.
calls=$(grep -rnE '\blm_[a-z_0-9]+\(' src --include=*.c --include=*.h | grep -v '^src/api/' |
    grep -vE '^[^:]+:[0-9]+:\s*(\*|/\*|//)' | grep -oE '^[^:]+:[0-9]+:|\blm_[a-z_0-9]+\(' |
    tr -d '(' | paste -sd' ' | tr ' ' '\n' | awk '/:$/ {f=$0; next} {print f" "$0}' |
    grep -wFf "$tmp/header" || true)
if [ -n "$calls" ]; then
    echo "public functions used below src/api/ (use the lmi_ function):"; echo "$calls"; fail=1
fi

# A 0.1 program: lm_model_options_init(&o) with a 16-byte struct and a canary after it.
cat > "$tmp/old.c" <<'C'
#include <stdio.h>
#include <string.h>
void lm_model_options_init(void *opts);
int main(void) {
    unsigned char buf[64];
    size_t size;
    memset(buf, 0xAB, sizeof buf);
    lm_model_options_init(buf);
    memcpy(&size, buf, sizeof size);
    if (size != 16 || buf[16] != 0xAB) { printf("0.1 caller: struct_size %zu, byte 16 = %02x\n", size, buf[16]); return 1; }
    return 0;
}
C
printf 'lm_0.1 { global: lm_model_options_init; local: *; };\n' > "$tmp/v01.map"
printf 'void lm_model_options_init(void *p) { (void)p; }\n' > "$tmp/stub.c"
$CC -shared -fPIC -o "$tmp/liblm.so.0" -Wl,-soname,liblm.so.0 -Wl,--version-script="$tmp/v01.map" "$tmp/stub.c"
$CC -o "$tmp/old" "$tmp/old.c" "$tmp/liblm.so.0"
# An ASan build of liblm.so needs the ASan runtime loaded first in a program built without it.
preload=""
case "${SANITIZE:-}" in *address*) preload=$($CC -print-file-name=libasan.so) ;; esac
if ! LD_PRELOAD="$preload" LD_LIBRARY_PATH="$L" "$tmp/old"; then
    echo "a 0.1 program's lm_model_options_init wrote past its struct"; fail=1
fi

# Layouts with and without -fshort-enums.
cat > "$tmp/layout.c" <<'C'
#include <stdio.h>
#include <stddef.h>
#include <lm.h>
#define F(T, f) printf(#T "." #f " %zu %zu\n", offsetof(T, f), sizeof(((T *)0)->f))
int main(void) {
    printf("%zu %zu %zu\n", sizeof(lm_model_options), sizeof(lm_tokenizer_options), sizeof(lm_encode_options));
    F(lm_encode_options, truncation); F(lm_encode_options, padding); F(lm_encode_options, stride);
    F(lm_model_options, head); F(lm_model_options, seed); F(lm_model_options, no_tokenizer);
    return 0;
}
C
$CC -std=c11 -Iinclude -o "$tmp/l1" "$tmp/layout.c"
$CC -std=c11 -fshort-enums -Iinclude -o "$tmp/l2" "$tmp/layout.c"
if ! diff <("$tmp/l1") <("$tmp/l2"); then
    echo "options layouts change with -fshort-enums"; fail=1
fi
[ "$fail" -eq 0 ] && echo "sh_abi: exports = header = lm.map ($(wc -l < "$tmp/header") functions), 0.1 compat ok, layouts fixed"
exit "$fail"
