#!/usr/bin/env bash
# Installs into a temporary prefix, then builds examples/hello.c against it with pkg-config, once
# against the shared library and once against the static one, runs both, checks which library
# each uses, and uninstalls.
set -eu
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
make -s install PREFIX="$prefix" B="$B" L="$L" BIN="$BIN" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion lm)" = "$(sed -n 's/^#define LM_VERSION_MAJOR \([0-9]*\)/\1/p' include/lm/version.h).$(sed -n 's/^#define LM_VERSION_MINOR \([0-9]*\)/\1/p' include/lm/version.h).$(sed -n 's/^#define LM_VERSION_PATCH \([0-9]*\)/\1/p' include/lm/version.h)"
# --cflags is liblm's own folder only, and pkg-config needs no other .pc file (private
# dependencies' -dev packages may be absent on the user's machine)
test "$(PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" pkg-config --cflags lm | xargs)" = "-I$prefix/include"
PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" pkg-config --static --libs lm > /dev/null
cd "$tmp"
# shared, found at run time through an rpath (the README's recipe for a private prefix)
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Werror ${SANITIZE:-} -o hello_rpath "$top/examples/hello.c" $(pkg-config --cflags --libs lm) -Wl,-rpath,"$(pkg-config --variable=libdir lm)"
env -u LD_LIBRARY_PATH ${RUNNER:-} ./hello_rpath > /dev/null
# shared
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Werror ${SANITIZE:-} -o hello_shared "$top/examples/hello.c" $(pkg-config --cflags --libs lm)
LD_LIBRARY_PATH="$prefix/lib" ${RUNNER:-} ./hello_shared
LD_LIBRARY_PATH="$prefix/lib" ldd ./hello_shared | grep -q "liblm.so.[0-9]* => $prefix/lib/"
# static: the same pkg-config line with --static, pointing the linker at liblm.a
static_libs=$(pkg-config --static --libs lm | sed 's/-llm\b/-l:liblm.a/')
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Werror ${SANITIZE:-} -o hello_static "$top/examples/hello.c" $(pkg-config --cflags lm) $static_libs
${RUNNER:-} ./hello_static
if ldd ./hello_static | grep -q liblm; then echo "static build still needs liblm.so"; exit 1; fi
test -x "$prefix/bin/lm"
"$prefix/bin/lm" version >/dev/null
test -f "$prefix/share/man/man3/liblm.3"
test -f "$prefix/share/man/man1/lm.1"
if command -v groff >/dev/null; then # the manual renders without a warning
    warnings=$(groff -man -z -ww "$prefix/share/man/man1/lm.1" 2>&1)
    [ -z "$warnings" ] || { echo "lm.1: $warnings"; exit 1; }
fi
cd "$top"
make -s uninstall PREFIX="$prefix" B="$B" L="$L" BIN="$BIN"
left=$(find "$prefix" -type f | wc -l)
if [ "$left" -ne 0 ]; then echo "uninstall left $left files:"; find "$prefix" -type f; exit 1; fi
echo "install, pkg-config (shared and static) and uninstall work"
