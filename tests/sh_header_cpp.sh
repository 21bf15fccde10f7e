#!/usr/bin/env bash
# The public header compiles as C11 -pedantic and as C++11 -pedantic, with every warning an error,
# and a C++ program links and runs against the library.
set -eu
out="$B/tests/header"
mkdir -p "$out"
printf '#include <lm.h>\nint main(void) { return lm_version() == LM_VERSION_NUMBER ? 0 : 1; }\n' > "$out/h.c"
printf '#include <lm.h>\n#include <cstdio>\nint main() { std::printf("%%s\\n", lm_version_string()); lm_model_t *m = nullptr; (void)m; return lm_version() == LM_VERSION_NUMBER ? 0 : 1; }\n' > "$out/h.cpp"
$CC -std=c11 -pedantic -Wall -Wextra -Werror ${SANITIZE:-} -Iinclude -o "$out/h_c" "$out/h.c" "$L/liblm.a" $(pkg-config --libs openblas libcjson libutf8proc) -fopenmp -lm
$CXX -std=c++11 -pedantic -Wall -Wextra -Werror ${SANITIZE:-} -Iinclude -o "$out/h_cpp" "$out/h.cpp" "$L/liblm.a" $(pkg-config --libs openblas libcjson libutf8proc) -fopenmp -lm
$RUNNER "$out/h_c"
$RUNNER "$out/h_cpp"
echo "header compiles as C11 and C++11 and links"
