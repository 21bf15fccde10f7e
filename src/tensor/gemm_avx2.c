/* The AVX2+FMA GEMM micro-kernel (see gemm_kernel.h for the contract): a register tile of up to
 * 6 rows by 16 columns (two vectors of 8 floats), one FMA per element and k: the same chain as
 * the AVX-512 kernel, so both give the same bits. One function per row count, all from the body
 * in gemm_tile.h.
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

#define TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define TILE_COUNTS(X) X(1) X(2) X(3) X(4) X(5) X(6)
#include "tensor/gemm_tile.h"

const lmi_gemm_kernel *lmi_gemm_kernel_avx2(void) {
    static const lmi_gemm_kernel k = {NAME, ISA, MR, NR, BLOCKING, TILE_TABLE};
    return &k;
}

#else
typedef int lmi_gemm_avx2_unused; /* ISO C wants a declaration in every translation unit */
#endif
