/* The AVX2+FMA GEMM micro-kernel (see gemm_kernel.h for the contract): a register tile of up to
 * 6 rows by 16 columns (two vectors of 8 floats), one FMA per element and k: the same chain as
 * the AVX-512 kernel, so both give the same bits. One function per row count, all from the same
 * body. Compiled for AVX2 by function-level target attributes, so the rest of the library stays
 * baseline x86-64; gemm.c calls it only after cpuid said the CPU has AVX2 and FMA. */
#include "tensor/gemm_kernel.h"

#ifdef LM_GEMM_X86

#include <immintrin.h>

#define LM_AVX2 __attribute__((target("avx2,fma")))
#define MR 6
#define NV 2 /* vectors of 8 per row */
#define NR 16

/* c[0..mr)[0..NR) as gemm_kernel.h says; mr is a constant in every caller. */
LM_AVX2 static inline __attribute__((always_inline)) void
tile(const int mr, size_t kc, const float *a /* [mr, lda] */, size_t lda,
     const float *b /* [kc][NR] */, float *c /* [mr, ldc] */, size_t ldc,
     const float *bias /* [NR] or NULL */, int load_c) {
    __m256 acc[MR][NV];
    size_t k;
    int i, v;
#pragma GCC unroll 8
    for (i = 0; i < mr; i++) {
#pragma GCC unroll 4
        for (v = 0; v < NV; v++) {
            acc[i][v] = load_c ? _mm256_loadu_ps(c + (size_t)i * ldc + 8 * v) : _mm256_setzero_ps();
        }
    }
    if (bias != NULL) {
#pragma GCC unroll 8
        for (i = 0; i < mr; i++) {
#pragma GCC unroll 4
            for (v = 0; v < NV; v++) {
                acc[i][v] = _mm256_add_ps(acc[i][v], _mm256_loadu_ps(bias + 8 * v));
            }
        }
    }
    for (k = 0; k < kc; k++) {
        __m256 bv[NV];
#pragma GCC unroll 4
        for (v = 0; v < NV; v++) {
            bv[v] = _mm256_load_ps(b + 8 * v);
        }
#pragma GCC unroll 8
        for (i = 0; i < mr; i++) {
            __m256 ai = _mm256_broadcast_ss(a + (size_t)i * lda + k);
#pragma GCC unroll 4
            for (v = 0; v < NV; v++) {
                acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
            }
        }
        b += NR;
    }
#pragma GCC unroll 8
    for (i = 0; i < mr; i++) {
#pragma GCC unroll 4
        for (v = 0; v < NV; v++) {
            _mm256_storeu_ps(c + (size_t)i * ldc + 8 * v, acc[i][v]);
        }
    }
}

#define ROWS(r)                                                                                   \
    LM_AVX2 static void rows##r(size_t kc, const float *a, size_t lda, const float *b, float *c,  \
                                size_t ldc, const float *bias, int load_c) {                      \
        tile(r, kc, a, lda, b, c, ldc, bias, load_c);                                             \
    }
ROWS(1)
ROWS(2)
ROWS(3)
ROWS(4)
ROWS(5)
ROWS(6)

const lmi_gemm_kernel lmi_gemm_kernel_avx2 = {
    "avx2-6x16", 2, MR, NR, 256, 16 * MR, 256, {NULL, rows1, rows2, rows3, rows4, rows5, rows6}};

#else
typedef int lmi_gemm_avx2_unused; /* ISO C wants a declaration in every translation unit */
#endif
