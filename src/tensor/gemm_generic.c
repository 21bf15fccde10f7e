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
#define LM_TILE_OWN /* tile() above: the shared one needs GCC or clang */

#endif

#define LM_TARGET
#define TILE_ROWS(X) X(0) X(1) X(2) X(3)
#define TILE_COUNTS(X) X(1) X(2) X(3) X(4)
#include "tensor/gemm_tile.h"

const lmi_gemm_kernel *lmi_gemm_kernel_generic(void) {
    static const lmi_gemm_kernel k = {"generic-4x8", 1, MR, NR, 256, 32 * MR, 512, TILE_TABLE};
    return &k;
}
