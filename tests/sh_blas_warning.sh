#!/usr/bin/env bash
# liblm multiplies with its own kernels: a program that links it hears nothing about a slow BLAS
# kernel, which it does not use. On the reference path (LM_MATMUL=blas) it hears about it once,
# through the log callback (never on stdout/stderr by itself). Forces the generic BLAS kernel
# with OPENBLAS_CORETYPE.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/w.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <lm.h>
static int warnings;
static void on_log(lm_log_level level, const char *msg, void *user) {
    (void)user;
    if (level == LM_LOG_WARN && strstr(msg, "OPENBLAS_CORETYPE=") != NULL) { warnings++; printf("%s\n", msg); }
}
int main(int argc, char **argv) {
    int i;
    lm_set_log_callback(on_log, LM_LOG_DEBUG, NULL);
    for (i = 0; i < 2; i++) {
        lm_model_t *m = NULL;
        if (lm_model_load(argv[1], NULL, &m) != LM_OK) { fprintf(stderr, "%s\n", lm_last_error()); return 2; }
        lm_model_free(m);
    }
    return lm_blas_suggested_coretype() != NULL && argc > 2 ? (warnings == 1 ? 0 : 1)
                                                            : (warnings == 0 ? 0 : 1);
}
C
$CC -std=c11 ${SANITIZE:-} -Iinclude -o "$tmp/w" "$tmp/w.c" "$L/liblm.a" $(pkg-config --libs openblas libcjson libutf8proc) -fopenmp -lm
out=$(OPENBLAS_CORETYPE=PRESCOTT ${RUNNER:-} "$tmp/w" tests/data/model/tiny/model-gelu-f32)
[ -z "$out" ] || { echo "FAIL: a warning without LM_MATMUL=blas: $out"; exit 1; }
out=$(LM_MATMUL=blas OPENBLAS_CORETYPE=PRESCOTT ${RUNNER:-} "$tmp/w" tests/data/model/tiny/model-gelu-f32 blas)
echo "${out:-no warning: this CPU has no faster kernel to suggest}"
