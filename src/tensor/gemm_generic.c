/* The portable GEMM micro-kernel (see gemm_kernel.h for the contract), for CPUs without AVX2+FMA:
 * a register tile of up to 4 rows by 8 columns in the compiler's generic vectors (GCC and clang
 * lower them to SSE2 on x86-64, NEON on aarch64, scalars elsewhere), plain C loops for other
 * compilers. Each element is accumulated over k in increasing order like the SIMD kernels, with
 * a separate multiply and add (unless the compiler contracts them), so it may differ from them in
 * the last bits but never depends on the tiling either. */
#include <string.h>

#include "tensor/gemm_kernel.h"

#define MR 4
#define NR 8
_Static_assert(MR <= LM_GEMM_MR_MAX && NR <= LM_GEMM_NR_MAX, "tile larger than gemm.c's buffers");

#if defined(__GNUC__) || defined(__clang__)

typedef float v4 __attribute__((vector_size(16)));

static inline v4 load4(const float *p) {
    v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(float *p, v4 v) {
    memcpy(p, &v, sizeof v);
}

static inline v4 bcast4(const float *p) {
    const v4 v = {*p, *p, *p, *p};
    return v;
}

#define VEC v4
#define VW 4
#define LOADU(p) load4(p)
#define LOADA(p) load4(p)
#define STOREU(p, v) store4(p, v)
#define ZERO() (v4){0.0f, 0.0f, 0.0f, 0.0f}
#define ADD(x, y) ((x) + (y))
#define BCAST(p) bcast4(p)
#define FMA(x, y, z) ((z) + (x) * (y))

/* Row i of the tile: accumulators c<i>a (columns 0..3) and c<i>b (4..7). */
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

/* c[0..mr)[0..NR) as gemm_kernel.h says; mr is a constant in every caller. */
static inline void tile(const size_t mr, size_t kc, const float *a, size_t rs, size_t ks,
                        const float *b /* [kc][NR] */, float *c /* [mr, ldc] */, size_t ldc,
                        const float *bias /* [NR] or NULL */, int load_c) {
    VEC c0a = ZERO(), c0b = ZERO();
    VEC c1a = ZERO(), c1b = ZERO();
    VEC c2a = ZERO(), c2b = ZERO();
    VEC c3a = ZERO(), c3b = ZERO();
    size_t k;
    ROW_INIT(0)
    ROW_INIT(1)
    ROW_INIT(2)
    ROW_INIT(3)
    for (k = 0; k < kc; k++) {
        const VEC b0 = LOADA(b), b1 = LOADA(b + VW);
        ROW_FMA(0)
        ROW_FMA(1)
        ROW_FMA(2)
        ROW_FMA(3)
        b += NR;
    }
    ROW_STORE(0)
    ROW_STORE(1)
    ROW_STORE(2)
    ROW_STORE(3)
}

#else

static void tile(const size_t mr, size_t kc, const float *a, size_t rs, size_t ks,
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
            const float x = a[i * rs + k * ks];
            for (j = 0; j < NR; j++) {
                acc[i][j] += x * b[j];
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

#endif

/* rows<r>: A row-major (element (i, k) at a[i lda + k]); rows<r>t: A k-major (at a[k lda + i]). */
#define ROWS(r)                                                                                   \
    static void rows##r(size_t kc, const float *a, size_t lda, const float *b,                    \
        float *c, size_t ldc, const float *bias, int load_c) {                                    \
        tile(r, kc, a, lda, 1, b, c, ldc, bias, load_c);                                          \
    }                                                                                             \
    static void rows##r##t(size_t kc, const float *a, size_t lda, const float *b,                 \
        float *c, size_t ldc, const float *bias, int load_c) {                                    \
        tile(r, kc, a, 1, lda, b, c, ldc, bias, load_c);                                          \
    }
ROWS(1)
ROWS(2)
ROWS(3)
ROWS(4)

const lmi_gemm_kernel *lmi_gemm_kernel_generic(void) {
    static const lmi_gemm_kernel k = {"generic-4x8", 1, MR, NR, 256, 32 * MR, 512,
        {NULL, rows1, rows2, rows3, rows4},
        {NULL, rows1t, rows2t, rows3t, rows4t}};
    return &k;
}
