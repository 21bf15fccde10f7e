/* Internal to the GEMM module (gemm.c and the per-ISA kernel files): the micro-kernel interface.
 *
 * A micro-kernel computes one register tile of MR rows by NR columns of the output:
 *
 *     c[i][j] = fma-chain over k = 0 .. kc-1 of a[k][i] * b[k][j], starting from
 *               (load_c ? c[i][j] : 0) + (bias ? bias[j] : 0)
 *
 * where a holds MR rows of A (row i at a + i lda, k contiguous: the caller's own rows, or a copy
 * padded with zero rows at the edge) and b is a B micro-panel packed as [kc][NR]. Every
 * element is accumulated on its own, k in increasing order, one fused multiply-add per k (the
 * generic C kernel: one multiply and one add, unless the platform has a fast fmaf). Nothing in the
 * sum depends on i, j, the tile's place in the output, the thread that runs it or how the caller
 * cut K into blocks: a sum over K cut into blocks is the same chain, continued from the value the
 * previous block stored in c (load_c = 1, bias = NULL). That is the module's whole numeric
 * contract, and what makes a row's result independent of the rows computed beside it. */
#ifndef LM_TENSOR_GEMM_KERNEL_H
#define LM_TENSOR_GEMM_KERNEL_H

#include <stddef.h>

#include "tensor/gemm.h"

#define LM_GEMM_MR_MAX 16 /* bounds on every kernel's tile and K block */
#define LM_GEMM_NR_MAX 64
#define LM_GEMM_KC_MAX 384

/* One tile of r <= MR rows (rows[r]) by NR columns: a [r, lda] (kc columns read), b [kc][NR]
 * (64-byte aligned), c [r, ldc] (any alignment), bias [NR] or NULL. kc may be 0 (the tile is then
 * only initialised). Every row count computes each element by the same chain, so which one runs
 * for a row changes no bit. */
typedef void (*lmi_gemm_kernel_fn)(size_t kc, const float *a, size_t lda, const float *b,
                                   float *c, size_t ldc, const float *bias, int load_c);

struct lmi_gemm_kernel {
    const char *name;   /* "avx512-14x32", "avx2-6x16", "generic-4x8" */
    int isa;            /* an lmi_gemm_isa value */
    size_t mr, nr;      /* register tile */
    size_t kc, mc, nc;  /* cache blocking: K block, rows per task, columns per task */
    lmi_gemm_kernel_fn rows[LM_GEMM_MR_MAX + 1];   /* rows[r]: the tile of r rows; rows[0] NULL */
    lmi_gemm_kernel_fn rows_t[LM_GEMM_MR_MAX + 1]; /* the same with A k-major: a[k lda + i] */
};

/* The kernels (functions rather than global variables: the library exports no data symbol). The
 * SIMD ones are compiled with function-level target attributes and may only be called on a CPU
 * that has the instructions (gemm.c checks with cpuid). */
const lmi_gemm_kernel *lmi_gemm_kernel_generic(void);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LM_GEMM_X86 1
const lmi_gemm_kernel *lmi_gemm_kernel_avx2(void);
const lmi_gemm_kernel *lmi_gemm_kernel_avx512(void);
#endif

#endif
