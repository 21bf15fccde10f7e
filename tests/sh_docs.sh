#!/usr/bin/env bash
# The API reference is complete: Doxygen runs over include/ with every warning an error (an
# undocumented function, parameter or return value fails it), and every LM_API function of the
# headers has its own documented entry in the HTML (a header without @file would be left out).
set -eu
out="$B/docs-check"
rm -rf "$out"
mkdir -p "$out"
if ! command -v doxygen > /dev/null; then
    echo "sh_docs: doxygen is missing (scripts/bootstrap.sh installs it)"
    exit 1
fi
(cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $out") | doxygen - > "$out/log" 2>&1 || {
    cat "$out/log"
    echo "sh_docs: doxygen failed"
    exit 1
}
documented=$(grep -hA3 'class="memname"' "$out"/html/*8h.html | grep -oE 'lm_[a-z_0-9]+ ?</td>' |
    grep -oE 'lm_[a-z_0-9]+' | sort -u)
missing=0
total=0
for fn in $(grep -ohE 'LM_API [^;(]*\blm_[a-z_0-9]+\(' include/lm.h include/lm/*.h |
    grep -oE 'lm_[a-z_0-9]+\($' | tr -d '(' | sort -u); do
    total=$((total + 1))
    if ! grep -qx "$fn" <<< "$documented"; then
        echo "sh_docs: $fn has no entry in the HTML reference"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] && echo "sh_docs: all $total public functions documented"
exit "$missing"
