/* The AVX-512 GEMM micro-kernel (see gemm_kernel.h for the contract): a register tile of up to
 * 14 rows by 32 columns (two vectors of 16 floats), one FMA per element and k. One function per
 * row count, all from the same body, so a last tile of fewer rows costs no more than its rows.
 * The accumulators are named variables and every row's code sits under a condition on the
 * constant row count, so GCC and clang both keep the tile in registers without being asked to
 * unroll anything. Compiled for AVX-512 by function-level target attributes, so the rest of the
 * library stays baseline x86-64; gemm.c calls it only after cpuid said the CPU has AVX-512
 * F/BW/VL/DQ. */
#include "tensor/gemm_kernel.h"

#ifdef LM_GEMM_X86

#include <immintrin.h>

#define LM_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define MR 14
#define NR 32
_Static_assert(MR <= LM_GEMM_MR_MAX && NR <= LM_GEMM_NR_MAX, "tile larger than gemm.c's buffers");
#define VEC __m512
#define VW 16 /* floats per vector */
#define LOADU(p) _mm512_loadu_ps(p)
#define LOADA(p) _mm512_load_ps(p)
#define STOREU(p, v) _mm512_storeu_ps(p, v)
#define ZERO() _mm512_setzero_ps()
#define ADD(x, y) _mm512_add_ps(x, y)
#define BCAST(p) _mm512_set1_ps(*(p))
#define FMA(x, y, z) _mm512_fmadd_ps(x, y, z)
#define NAME "avx512-14x32"
#define ISA 3
#define BLOCKING 256, 12 * MR, 512 /* kc, mc, nc: C block + 2 K blocks of B (prefetch) in L2 */

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
    VEC c6a = ZERO(), c6b = ZERO();
    VEC c7a = ZERO(), c7b = ZERO();
    VEC c8a = ZERO(), c8b = ZERO();
    VEC c9a = ZERO(), c9b = ZERO();
    VEC c10a = ZERO(), c10b = ZERO();
    VEC c11a = ZERO(), c11b = ZERO();
    VEC c12a = ZERO(), c12b = ZERO();
    VEC c13a = ZERO(), c13b = ZERO();
    size_t k;
    ROW_INIT(0)
    ROW_INIT(1)
    ROW_INIT(2)
    ROW_INIT(3)
    ROW_INIT(4)
    ROW_INIT(5)
    ROW_INIT(6)
    ROW_INIT(7)
    ROW_INIT(8)
    ROW_INIT(9)
    ROW_INIT(10)
    ROW_INIT(11)
    ROW_INIT(12)
    ROW_INIT(13)
    for (k = 0; k < kc; k++) {
        const VEC b0 = LOADA(b), b1 = LOADA(b + VW);
        ROW_FMA(0)
        ROW_FMA(1)
        ROW_FMA(2)
        ROW_FMA(3)
        ROW_FMA(4)
        ROW_FMA(5)
        ROW_FMA(6)
        ROW_FMA(7)
        ROW_FMA(8)
        ROW_FMA(9)
        ROW_FMA(10)
        ROW_FMA(11)
        ROW_FMA(12)
        ROW_FMA(13)
        b += NR;
    }
    ROW_STORE(0)
    ROW_STORE(1)
    ROW_STORE(2)
    ROW_STORE(3)
    ROW_STORE(4)
    ROW_STORE(5)
    ROW_STORE(6)
    ROW_STORE(7)
    ROW_STORE(8)
    ROW_STORE(9)
    ROW_STORE(10)
    ROW_STORE(11)
    ROW_STORE(12)
    ROW_STORE(13)
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
ROWS(7)
ROWS(8)
ROWS(9)
ROWS(10)
ROWS(11)
ROWS(12)
ROWS(13)
ROWS(14)

const lmi_gemm_kernel *lmi_gemm_kernel_avx512(void) {
    static const lmi_gemm_kernel k = {NAME, ISA, MR, NR, BLOCKING,
        {NULL, rows1, rows2, rows3, rows4, rows5, rows6, rows7, rows8, rows9, rows10, rows11,
         rows12, rows13, rows14},
        {NULL, rows1t, rows2t, rows3t, rows4t, rows5t, rows6t, rows7t, rows8t, rows9t, rows10t,
         rows11t, rows12t, rows13t, rows14t}};
    return &k;
}

#else
typedef int lmi_gemm_avx512_unused; /* ISO C wants a declaration in every translation unit */
#endif
