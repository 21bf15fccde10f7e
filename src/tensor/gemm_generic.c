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

/* c[0..mr)[0..NR) as gemm_kernel.h says; mr is a constant in every caller. */
static inline void tile(const size_t mr, size_t kc, const float *a /* [mr, lda] */, size_t lda,
                        const float *b /* [kc][NR] */, float *c /* [mr, ldc] */, size_t ldc,
                        const float *bias /* [NR] or NULL */, int load_c) {
    v4 acc[MR][2];
    size_t k, i;
#pragma GCC unroll 4
    for (i = 0; i < mr; i++) {
        const v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
        acc[i][0] = load_c ? load4(c + i * ldc) : zero;
        acc[i][1] = load_c ? load4(c + i * ldc + 4) : zero;
        if (bias != NULL) {
            acc[i][0] += load4(bias);
            acc[i][1] += load4(bias + 4);
        }
    }
    for (k = 0; k < kc; k++) {
        const v4 b0 = load4(b), b1 = load4(b + 4);
#pragma GCC unroll 4
        for (i = 0; i < mr; i++) {
            const float x = a[i * lda + k];
            const v4 ai = {x, x, x, x};
            acc[i][0] += ai * b0;
            acc[i][1] += ai * b1;
        }
        b += NR;
    }
#pragma GCC unroll 4
    for (i = 0; i < mr; i++) {
        store4(c + i * ldc, acc[i][0]);
        store4(c + i * ldc + 4, acc[i][1]);
    }
}

#else

static void tile(const size_t mr, size_t kc, const float *a /* [mr, lda] */, size_t lda,
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
            const float x = a[i * lda + k];
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

#define ROWS(r)                                                                                   \
    static void rows##r(size_t kc, const float *a, size_t lda, const float *b, float *c,          \
                        size_t ldc, const float *bias, int load_c) {                              \
        tile(r, kc, a, lda, b, c, ldc, bias, load_c);                                             \
    }
ROWS(1)
ROWS(2)
ROWS(3)
ROWS(4)

const lmi_gemm_kernel lmi_gemm_kernel_generic = {"generic-4x8", 1, MR, NR, 256, 32 * MR, 512,
                                                 {NULL, rows1, rows2, rows3, rows4}};
