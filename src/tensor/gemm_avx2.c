/* The AVX2+FMA GEMM micro-kernel (see gemm_kernel.h for the contract): a register tile of up to
 * 6 rows by 16 columns (two vectors of 8 floats), one FMA per element and k: the same chain as
 * the AVX-512 kernel, so both give the same bits. One function per row count, all from the same
 * body (named accumulators, each row's code under a condition on the constant row count).
 * Compiled for AVX2 by function-level target attributes, so the rest of the library stays
 * baseline x86-64; gemm.c calls it only after cpuid said the CPU has AVX2 and FMA. The blocking
 * fits a 512 KiB L2 (AMD Zen 2/3). */
#include "tensor/gemm_kernel.h"

#ifdef LM_GEMM_X86

#include <immintrin.h>

#define LM_TARGET __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16
_Static_assert(MR <= LM_GEMM_MR_MAX && NR <= LM_GEMM_NR_MAX, "tile larger than gemm.c's buffers");
#define VEC __m256
#define VW 8 /* floats per vector */
#define LOADU(p) _mm256_loadu_ps(p)
#define LOADA(p) _mm256_load_ps(p)
#define STOREU(p, v) _mm256_storeu_ps(p, v)
#define ZERO() _mm256_setzero_ps()
#define ADD(x, y) _mm256_add_ps(x, y)
#define BCAST(p) _mm256_broadcast_ss(p)
#define FMA(x, y, z) _mm256_fmadd_ps(x, y, z)
#define NAME "avx2-6x16"
#define ISA 2
#define BLOCKING 256, 16 * MR, 192 /* kc, mc, nc: C block + 2 K blocks of B in 512 KiB */

/* Row i of the tile: accumulators c<i>a (columns 0..VW-1) and c<i>b (VW..NR-1). */
#define ROW_INIT(i)                                                                               \
    if ((i) < mr) {                                                                               \
        c##i##a = load_c ? LOADU(c + (i) * ldc) : ZERO();                                         \
        c##i##b = load_c ? LOADU(c + (i) * ldc + VW) : ZERO();                                    \
        if (bias != NULL) {                                                                       \
            c##i##a = ADD(c##i##a, LOADU(bias));                                                  \
            c##i##b = ADD(c##i##b, LOADU(bias + VW));                                             \
        }                                                                                         \
    }
#define ROW_FMA(i)                                                                                \
    if ((i) < mr) {                                                                               \
        const VEC x = BCAST(a + (i) * rs + k * ks);                                               \
        c##i##a = FMA(x, b0, c##i##a);                                                            \
        c##i##b = FMA(x, b1, c##i##b);                                                            \
    }
#define ROW_STORE(i)                                                                              \
    if ((i) < mr) {                                                                               \
        STOREU(c + (i) * ldc, c##i##a);                                                           \
        STOREU(c + (i) * ldc + VW, c##i##b);                                                      \
    }

/* c[0..mr)[0..NR) as gemm_kernel.h says: a [mr, lda], b [kc][NR] 64-byte aligned, c [mr, ldc],
 * bias [NR] or NULL; mr is a constant in every caller. */
LM_TARGET static inline __attribute__((always_inline)) void
tile(const int mr, size_t kc, const float *a, size_t rs, size_t ks, const float *b, float *c,
     size_t ldc, const float *bias, int load_c) {
    VEC c0a = ZERO(), c0b = ZERO();
    VEC c1a = ZERO(), c1b = ZERO();
    VEC c2a = ZERO(), c2b = ZERO();
    VEC c3a = ZERO(), c3b = ZERO();
    VEC c4a = ZERO(), c4b = ZERO();
    VEC c5a = ZERO(), c5b = ZERO();
    size_t k;
    ROW_INIT(0)
    ROW_INIT(1)
    ROW_INIT(2)
    ROW_INIT(3)
    ROW_INIT(4)
    ROW_INIT(5)
    for (k = 0; k < kc; k++) {
        const VEC b0 = LOADA(b), b1 = LOADA(b + VW);
        ROW_FMA(0)
        ROW_FMA(1)
        ROW_FMA(2)
        ROW_FMA(3)
        ROW_FMA(4)
        ROW_FMA(5)
        b += NR;
    }
    ROW_STORE(0)
    ROW_STORE(1)
    ROW_STORE(2)
    ROW_STORE(3)
    ROW_STORE(4)
    ROW_STORE(5)
}

/* rows<r>: A row-major (element (i, k) at a[i lda + k]); rows<r>t: A k-major (at a[k lda + i]). */
#define ROWS(r)                                                                                   \
    LM_TARGET static void rows##r(size_t kc, const float *a, size_t lda, const float *b,          \
        float *c, size_t ldc, const float *bias, int load_c) {                                    \
        tile(r, kc, a, lda, 1, b, c, ldc, bias, load_c);                                          \
    }                                                                                             \
    LM_TARGET static void rows##r##t(size_t kc, const float *a, size_t lda, const float *b,       \
        float *c, size_t ldc, const float *bias, int load_c) {                                    \
        tile(r, kc, a, 1, lda, b, c, ldc, bias, load_c);                                          \
    }
ROWS(1)
ROWS(2)
ROWS(3)
ROWS(4)
ROWS(5)
ROWS(6)

const lmi_gemm_kernel *lmi_gemm_kernel_avx2(void) {
    static const lmi_gemm_kernel k = {NAME, ISA, MR, NR, BLOCKING,
        {NULL, rows1, rows2, rows3, rows4, rows5, rows6},
        {NULL, rows1t, rows2t, rows3t, rows4t, rows5t, rows6t}};
    return &k;
}

#else
typedef int lmi_gemm_avx2_unused; /* ISO C wants a declaration in every translation unit */
#endif
