/* Which BLAS kernel runs, with how many threads, and whether the CPU could run a faster one
 * (OpenBLAS builds older than the CPU pick a generic kernel such as "Prescott"; setting
 * OPENBLAS_CORETYPE before the library loads selects the right one). */
#include "tensor/blas.h"

#include <cblas.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/memlimit.h"
#include "lm.h"

const char *lmi_blas_kernel(void) {
    const char *name = openblas_get_corename();
    return name != NULL ? name : "unknown";
}

int lmi_blas_threads(void) {
    return openblas_get_num_threads();
}

void lmi_blas_set_threads(int threads) {
    static atomic_int warned = 0;
    /* A threaded OpenBLAS started its workers when it was loaded, and each took a buffer of
     * BUFFER_SIZE there; under an address-space limit one that could not spins for ever in
     * blas_memory_alloc (and process exit waits for it). liblm cannot stop them; say how to
     * avoid them (tensor/guard.h keeps liblm's own BLAS calls safe). */
    if (openblas_get_num_threads() > 1 && lmi_address_limited() && !atomic_exchange(&warned, 1)) {
        lmi_log(LM_LOG_WARN,
                "OpenBLAS was loaded with %d threads under an address-space limit: each of its "
                "workers takes a buffer when it starts and may spin for ever when it cannot have "
                "it; set OPENBLAS_NUM_THREADS=1 before the program starts (liblm calls the BLAS "
                "on one thread)",
                openblas_get_num_threads());
    }
    if (threads > 0) {
        openblas_set_num_threads(threads);
    }
}

/* 1 when kernel name k (any case) is in names[0..n). */
static int kernel_in(const char *k, const char *const *names, size_t count) {
    size_t i;
    for (i = 0; i < count; i++) {
        size_t n = strlen(names[i]), j;
        int same = strlen(k) == n;
        for (j = 0; same && j < n; j++) {
            char c = k[j];
            if (c >= 'A' && c <= 'Z') {
                c = (char)(c - 'A' + 'a');
            }
            same = c == names[i][j];
        }
        if (same) {
            return 1;
        }
    }
    return 0;
}

static const char *const avx512_kernels[] = {"skylakex", "cooperlake", "sapphirerapids", "zen4"};
static const char *const avx2_kernels[] = {"haswell", "zen", "skylakex", "cooperlake",
                                           "sapphirerapids", "zen4", "zen5"};

const char *lmi_blas_suggested_coretype(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    const char *k = lmi_blas_kernel();
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        return kernel_in(k, avx512_kernels, sizeof avx512_kernels / sizeof *avx512_kernels)
                   ? NULL
                   : "SKYLAKEX";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        !kernel_in(k, avx2_kernels, sizeof avx2_kernels / sizeof *avx2_kernels)) {
        return "HASWELL"; /* an AVX2 CPU newer than the BLAS build, e.g. a recent AMD */
    }
#endif
    return NULL;
}

const char *lmi_blas_info(void) {
    static _Thread_local char buf[320];
    const char *suggest = lmi_blas_suggested_coretype();
    const char *config = openblas_get_config();
    char version[64] = "OpenBLAS";
    if (config != NULL) { /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21" */
        size_t n = strcspn(config, " ");
        n += strcspn(config + n + (config[n] == ' '), " ") + (config[n] == ' ');
        snprintf(version, sizeof version, "%.*s", (int)(n < 63 ? n : 63), config);
    }
    snprintf(buf, sizeof buf, "%s, kernel %s%s%s%s", version, lmi_blas_kernel(),
             suggest != NULL ? " (slow path: set OPENBLAS_CORETYPE=" : "",
             suggest != NULL ? suggest : "", suggest != NULL ? " before start)" : "");
    return buf;
}
