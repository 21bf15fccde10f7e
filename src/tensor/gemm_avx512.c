/* The AVX-512 GEMM micro-kernel (see gemm_kernel.h for the contract): a register tile of up to
 * 14 rows by 32 columns (two vectors of 16 floats), one FMA per element and k. One function per
 * row count, all from the same body, so a last tile of fewer rows costs no more than its rows.
 * Compiled for AVX-512 by function-level target attributes, so the rest of the library stays
 * baseline x86-64; gemm.c calls it only after cpuid said the CPU has AVX-512 F/BW/VL/DQ. */
#include "tensor/gemm_kernel.h"

#ifdef LM_GEMM_X86

#include <immintrin.h>

#define LM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define MR 14
#define NV 2 /* vectors of 16 per row */
#define NR 32

/* c[0..mr)[0..NR) as gemm_kernel.h says; mr is a constant in every caller, so the loops unroll
 * and the accumulators live in registers. */
LM_AVX512 static inline __attribute__((always_inline)) void
tile(const int mr, size_t kc, const float *a /* [mr, lda] */, size_t lda,
     const float *b /* [kc][NR] */, float *c /* [mr, ldc] */, size_t ldc,
     const float *bias /* [NR] or NULL */, int load_c) {
    __m512 acc[MR][NV];
    size_t k;
    int i, v;
#pragma GCC unroll 16
    for (i = 0; i < mr; i++) {
#pragma GCC unroll 4
        for (v = 0; v < NV; v++) {
            acc[i][v] = load_c ? _mm512_loadu_ps(c + (size_t)i * ldc + 16 * v) : _mm512_setzero_ps();
        }
    }
    if (bias != NULL) {
#pragma GCC unroll 16
        for (i = 0; i < mr; i++) {
#pragma GCC unroll 4
            for (v = 0; v < NV; v++) {
                acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_loadu_ps(bias + 16 * v));
            }
        }
    }
    for (k = 0; k < kc; k++) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (v = 0; v < NV; v++) {
            bv[v] = _mm512_load_ps(b + 16 * v);
        }
#pragma GCC unroll 16
        for (i = 0; i < mr; i++) {
            __m512 ai = _mm512_set1_ps(a[(size_t)i * lda + k]);
#pragma GCC unroll 4
            for (v = 0; v < NV; v++) {
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
            }
        }
        b += NR;
    }
#pragma GCC unroll 16
    for (i = 0; i < mr; i++) {
#pragma GCC unroll 4
        for (v = 0; v < NV; v++) {
            _mm512_storeu_ps(c + (size_t)i * ldc + 16 * v, acc[i][v]);
        }
    }
}

#define ROWS(r)                                                                                   \
    LM_AVX512 static void rows##r(size_t kc, const float *a, size_t lda, const float *b,          \
                                  float *c, size_t ldc, const float *bias, int load_c) {          \
        tile(r, kc, a, lda, b, c, ldc, bias, load_c);                                             \
    }
ROWS(1)
ROWS(2)
ROWS(3)
ROWS(4)
ROWS(5)
ROWS(6)
ROWS(7)
ROWS(8)
ROWS(9)
ROWS(10)
ROWS(11)
ROWS(12)
ROWS(13)
ROWS(14)

const lmi_gemm_kernel lmi_gemm_kernel_avx512 = {
    "avx512-14x32", 3, MR, NR, 256, 8 * MR, 1024,
    {NULL, rows1, rows2, rows3, rows4, rows5, rows6, rows7, rows8, rows9, rows10, rows11, rows12,
     rows13, rows14}};

#else
typedef int lmi_gemm_avx512_unused; /* ISO C wants a declaration in every translation unit */
#endif
