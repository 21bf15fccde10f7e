#!/usr/bin/env bash
# Installs the Debian packages liblm needs to build, test and document itself, when they are
# missing. As root it runs apt-get; otherwise it prints the exact command to run and fails.
#   scripts/bootstrap.sh [--quiet]
set -euo pipefail
packages=(
    build-essential pkg-config make gcc g++ clang
    libopenblas-dev libcmocka-dev libutf8proc-dev libcjson-dev zlib1g-dev
    doxygen valgrind abigail-tools python3 python3-venv gzip xz-utils time coreutils
    libmicrohttpd-dev curl git
    cargo rustc golang-go
)
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    [ $quiet -eq 1 ] || echo "bootstrap: all packages present"
    exit 0
fi
cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing packages: ${missing[*]}" >&2
    echo "bootstrap: run as root:  $cmd" >&2
    exit 1
fi
echo "bootstrap: installing ${missing[*]}" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
