/* The portable GEMM micro-kernel (see gemm_kernel.h for the contract), for CPUs without AVX2+FMA:
 * plain C the compiler vectorises for the baseline instruction set. Each element is accumulated
 * over k in increasing order like the SIMD kernels; the multiply-add is fused only where the
 * platform has a fast fmaf (FP_FAST_FMAF, e.g. aarch64), which then gives their bits exactly. */
#include <math.h>

#include "tensor/gemm_kernel.h"

#define MR 4
#define NR 16

#ifdef FP_FAST_FMAF
#define MADD(a, b, c) fmaf(a, b, c)
#else
#define MADD(a, b, c) ((c) + (a) * (b))
#endif

static inline void tile(const size_t mr, size_t kc, const float *a /* [mr, lda] */, size_t lda,
                        const float *b /* [kc][NR] */, float *c /* [mr, ldc] */, size_t ldc,
                        const float *bias /* [NR] or NULL */, int load_c) {
    float acc[MR][NR];
    size_t k, i, j;
    for (i = 0; i < mr; i++) {
        for (j = 0; j < NR; j++) {
            acc[i][j] = (load_c ? c[i * ldc + j] : 0.0f) + (bias != NULL ? bias[j] : 0.0f);
        }
    }
    for (k = 0; k < kc; k++) {
        for (i = 0; i < mr; i++) {
            const float ai = a[i * lda + k];
#pragma omp simd
            for (j = 0; j < NR; j++) {
                acc[i][j] = MADD(ai, b[j], acc[i][j]);
            }
        }
        b += NR;
    }
    for (i = 0; i < mr; i++) {
        for (j = 0; j < NR; j++) {
            c[i * ldc + j] = acc[i][j];
        }
    }
}

#define ROWS(r)                                                                                   \
    static void rows##r(size_t kc, const float *a, size_t lda, const float *b, float *c,          \
                        size_t ldc, const float *bias, int load_c) {                              \
        tile(r, kc, a, lda, b, c, ldc, bias, load_c);                                             \
    }
ROWS(1)
ROWS(2)
ROWS(3)
ROWS(4)

const lmi_gemm_kernel lmi_gemm_kernel_generic = {"generic-4x16", 1, MR, NR, 256, 16 * MR, 1024,
                                                 {NULL, rows1, rows2, rows3, rows4}};
