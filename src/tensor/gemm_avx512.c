/* The AVX-512 GEMM micro-kernel (see gemm_kernel.h for the contract): a register tile of up to
 * 14 rows by 32 columns (two vectors of 16 floats), one FMA per element and k. One function per
 * row count, all from the body in gemm_tile.h, so a last tile of fewer rows costs no more than
 * its rows. Compiled for AVX-512 by function-level target attributes, so the rest of the
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

#define TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
#define TILE_COUNTS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14)
#include "tensor/gemm_tile.h"

const lmi_gemm_kernel *lmi_gemm_kernel_avx512(void) {
    static const lmi_gemm_kernel k = {NAME, ISA, MR, NR, BLOCKING, TILE_TABLE};
    return &k;
}

#else
typedef int lmi_gemm_avx512_unused; /* ISO C wants a declaration in every translation unit */
#endif
