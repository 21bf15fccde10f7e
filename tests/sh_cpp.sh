#!/usr/bin/env bash
# The C++17 layer include/lm.hpp: tests/cpp/test_hpp.cpp (owners, errors, every text-level call
# equal to the C API), and the README's C and C++ snippets, built with every warning an error and
# run (under the sanitizers or valgrind of the build). LM_PREFIX: build against that installed
# prefix through pkg-config (shared library) instead of this tree's static library.
set -eu
out="$B/tests/cpp"
mkdir -p "$out"
CXXFLAGS="-std=c++17 -O1 -g -Wall -Wextra -Wpedantic -Werror -Wshadow ${SANITIZE:-}"
if [ -n "${LM_PREFIX:-}" ]; then
    export PKG_CONFIG_PATH="$LM_PREFIX/lib/pkgconfig"
    # shellcheck disable=SC2046
    set -- $(pkg-config --cflags --libs lm) -Wl,-rpath,"$(pkg-config --variable=libdir lm)"
else
    # shellcheck disable=SC2046
    set -- -Iinclude "$L/liblm.a" $(pkg-config --libs openblas libcjson libutf8proc) -fopenmp -lm
fi
# shellcheck disable=SC2086
${CXX:-c++} $CXXFLAGS -o "$out/test_hpp" tests/cpp/test_hpp.cpp "$@"
# shellcheck disable=SC2086
OMP_NUM_THREADS=1 ${RUNNER:-} "$out/test_hpp" "$(pwd)"

# The README's C++ snippet, as written there, on a tiny model.
bash tests/readme_snippet.sh cpp > "$out/readme.cpp"
# shellcheck disable=SC2086
${CXX:-c++} $CXXFLAGS -o "$out/readme_cpp" "$out/readme.cpp" "$@"
# shellcheck disable=SC2086
got=$(OMP_NUM_THREADS=1 ${RUNNER:-} "$out/readme_cpp" tests/data/pipeline/models/seqcls)
echo "$got" | grep -qE '^(negative|neutral|positive) 0\.[0-9]+$' || {
    echo "sh_cpp: the README's C++ snippet printed: $got"
    exit 1
}

# The README's C snippet, as written there.
bash tests/readme_snippet.sh c > "$out/readme.c"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror ${SANITIZE:-} -o "$out/readme_c" \
    "$out/readme.c" "$@"
# shellcheck disable=SC2086
got=$(OMP_NUM_THREADS=1 ${RUNNER:-} "$out/readme_c" tests/data/pipeline/models/mlm)
echo "$got" | grep -qE '^32 dimensions, first value -?[0-9]+\.[0-9]{4}$' || {
    echo "sh_cpp: the README's C snippet printed: $got"
    exit 1
}
echo "sh_cpp: lm.hpp tests and the README's C and C++ snippets pass"
