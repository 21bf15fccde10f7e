/* Internal: liblm's own single-precision matrix products, the forward of every Linear layer and
 * the two products of its backward, with a fixed summation order.
 *
 * Numeric contract. Every output element is one chain of fused multiply-adds over the reduction
 * index in increasing order, starting from (accumulate ? out : 0) + (bias ? bias : 0):
 *
 *     out[i][j] = fma(a[i][K-1], b[K-1][j], ... fma(a[i][0], b[0][j], init) ...)
 *
 * whatever M is, wherever row i sits in the product, however the work is cut into tiles and
 * however many threads run it. So a row's result is bit-identical whether it is computed alone, in
 * its own sequence or in a 4096-row batch, and every product is bit-identical for any thread
 * count. The AVX-512 and AVX2 kernels compute the same chain and give the same bits; the portable
 * C kernel (CPUs without AVX2+FMA) keeps the same order with a separate multiply and add (fused
 * where the platform has a fast fmaf, e.g. aarch64), so it may differ from them in the last bits.
 *
 * The kernel is chosen once, at first use, from cpuid: AVX-512 (F, BW, VL, DQ), else AVX2+FMA,
 * else the C kernel. The environment variable LM_GEMM=avx512|avx2|generic (read once) or
 * lmi_gemm_set_isa() (tests, benchmarks) picks another one the CPU can run. */
#ifndef LM_TENSOR_GEMM_H
#define LM_TENSOR_GEMM_H

#include <stddef.h>

#include "lm.h"

typedef enum lmi_gemm_isa {
    LMI_GEMM_AUTO = 0,    /* the best kernel this CPU runs (or LM_GEMM's choice) */
    LMI_GEMM_GENERIC = 1, /* portable C */
    LMI_GEMM_AVX2 = 2,    /* AVX2 + FMA, 8 lanes */
    LMI_GEMM_AVX512 = 3   /* AVX-512 F/BW/VL/DQ, 16 lanes */
} lmi_gemm_isa;

/* 1 when this CPU (and OS) can run the kernel, else 0. LMI_GEMM_AUTO and GENERIC: always 1. */
int lmi_gemm_isa_supported(lmi_gemm_isa isa);

/* Selects the kernel for the products and packs made from now on (process-wide; not to be called
 * while another thread multiplies). LMI_GEMM_AUTO returns to the default (LM_GEMM, else the best).
 * Returns LM_OK, or LM_ERR_UNSUPPORTED when the CPU cannot run that kernel (nothing changes). */
lm_status lmi_gemm_set_isa(lmi_gemm_isa isa);

/* The kernel now selected, and its name with its register tile, e.g. "avx512-14x32". */
lmi_gemm_isa lmi_gemm_current_isa(void);
const char *lmi_gemm_kernel_name(void);

/* ---- packed right-hand operands ----
 * A packed operand is the K x N matrix Bk of out[M, N] (+)= A[M, K] . Bk, cut into panels of the
 * kernel's register width and laid out in the order the kernel reads it. A weight is packed once
 * (at model load, or once per training step after the optimizer changed it) and multiplied by any
 * number of A's; a pack is read-only while it is used, so threads may share it. It belongs to the
 * kernel selected when it was made, which keeps running it. */
typedef struct lmi_gemm_kernel lmi_gemm_kernel;
typedef struct lmi_gemm_packed {
    const lmi_gemm_kernel *kern; /* the kernel it was packed for (and that runs it) */
    size_t n, k, panels, kb;     /* columns, K, panels of NR columns, K block length */
    float *data;                 /* the K blocks one after the other (gemm.c) */
    int owned;                   /* 1: data is the pack's own (freed with it) */
} lmi_gemm_packed;

/* Floats of a pack of N columns by K (with the kernel selected now); 0 when that overflows. */
size_t lmi_gemm_pack_floats(size_t N, size_t K);

/* Packs into caller memory (`mem`, 64-byte aligned, lmi_gemm_pack_floats(N, K) floats), into *p,
 * which then needs no lmi_gemm_packed_free (the memory stays the caller's): weights (w[N, ldw],
 * out = A . w^T) and rows (b[K, ldb], out = A . b). Allocate nothing. */
void lmi_gemm_pack_weight_to(lmi_gemm_packed *p, float *mem, const float *w /* [N, ldw] */,
                             size_t ldw, size_t N, size_t K, int threads);
void lmi_gemm_pack_rows_to(lmi_gemm_packed *p, float *mem, const float *b /* [K, ldb] */,
                           size_t ldb, size_t K, size_t N, int threads);

/* Bk = w^T for a weight w[N, K] stored as PyTorch's Linear stores it ([out, in], row stride ldw
 * >= K): out = A . w^T. */
lm_status lmi_gemm_pack_weight(lmi_gemm_packed **out, const float *w /* [N, ldw] */, size_t ldw,
                               size_t N, size_t K, int threads);

/* Bk = b for b[K, N] stored row by row (row stride ldb >= N): out = A . b. */
lm_status lmi_gemm_pack_rows(lmi_gemm_packed **out, const float *b /* [K, ldb] */, size_t ldb,
                             size_t K, size_t N, int threads);

/* A weight made of parts stacked one on another (e.g. Q, K and V as one [3C, C] weight): part i
 * is w[rows, ldw] (all with the same row stride). */
typedef struct lmi_gemm_part {
    const float *w;
    size_t rows;
} lmi_gemm_part;

/* lmi_gemm_pack_weight_to for the parts stacked (N = the sum of their rows). */
void lmi_gemm_pack_weights_to(lmi_gemm_packed *p, float *mem, const lmi_gemm_part *parts,
                              size_t nparts, size_t ldw, size_t K, int threads);
/* New values of the same parts into an existing pack (after an optimizer step). */
void lmi_gemm_repack_weights(lmi_gemm_packed *p, const lmi_gemm_part *parts, size_t nparts,
                             size_t ldw, int threads);

/* A pack of N x K in `mem` with nothing packed yet (lmi_gemm_repack_weights_panels fills it). */
void lmi_gemm_pack_shape_to(lmi_gemm_packed *p, float *mem, size_t N, size_t K);
/* The same for panels [q0, q1) only (columns [q0 NR, q1 NR) of the stacked weight, NR the
 * pack's kernel's width: lmi_gemm_pack_panel_width): a weight packed a slice at a time. */
void lmi_gemm_repack_weights_panels(lmi_gemm_packed *p, const lmi_gemm_part *parts,
                                    size_t nparts, size_t ldw, size_t q0, size_t q1, int threads);
/* The width of a pack's panels (columns). */
size_t lmi_gemm_pack_panel_width(const lmi_gemm_packed *p);

/* Packs new values of the same shape into an existing pack made by lmi_gemm_pack_weight (after an
 * optimizer step); allocates nothing. */
void lmi_gemm_repack_weight(lmi_gemm_packed *p, const float *w /* [N, ldw] */, size_t ldw,
                            int threads);

void lmi_gemm_packed_free(lmi_gemm_packed *p);
size_t lmi_gemm_packed_n(const lmi_gemm_packed *p); /* N: output columns */
size_t lmi_gemm_packed_k(const lmi_gemm_packed *p); /* K: reduction length */

/* ---- the products ----
 * `threads` is the OpenMP team size (< 1 means 1); the split of the work changes no bit. Outputs
 * must not overlap the inputs. Row strides (ld*) are in floats. */

/* The forward of a Linear: out[M, N] (+)= a[M, K] . w^T (+ bias[N] when not NULL), with w packed
 * by lmi_gemm_pack_weight (or any pack: out = a . Bk). accumulate = 0 overwrites out, 1 adds to
 * it. M = 0 does nothing; K = 0 gives out = init (bias, 0, or out unchanged plus bias).
 * Allocates nothing (about 30 KiB of stack per thread). */
void lmi_gemm_forward(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                      size_t lda, const lmi_gemm_packed *w, const float *bias /* [N] or NULL */,
                      size_t M, int accumulate, int threads);

/* A function applied in place to each finished piece of an output row (n floats), while the tile
 * is still in cache: an activation fused into the product (x = act(x + bias)). */
typedef void (*lmi_gemm_epilogue_fn)(float *x, size_t n);

/* lmi_gemm_forward with an epilogue (NULL: none). */
void lmi_gemm_forward_ep(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                         size_t lda, const lmi_gemm_packed *w,
                         const float *bias /* [N] or NULL */, size_t M, int accumulate,
                         lmi_gemm_epilogue_fn ep, int threads);

/* The same with an unpacked weight w[N, K] (packed inside, per call: for one-off products). */
lm_status lmi_gemm_nt(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                      size_t lda, const float *w /* [N, ldw] */, size_t ldw,
                      const float *bias /* [N] or NULL */, size_t M, size_t N, size_t K,
                      int accumulate, int threads);

/* Backward of a Linear out = inp . w^T, input gradient: dinp[M, K] (+)= dout[M, N] . w[N, K]
 * (reduction over the N output features, in increasing order). w is packed inside. */
lm_status lmi_gemm_backward_input(float *dinp /* [M, ldi] */, size_t ldi,
                                  const float *dout /* [M, ldd] */, size_t ldd,
                                  const float *w /* [N, ldw] */, size_t ldw, size_t M, size_t N,
                                  size_t K, int accumulate, int threads);

/* Backward of a Linear, weight gradient: dw[N, K] (+)= dout^T[N, M] . inp[M, K] (reduction over
 * the M tokens, in increasing order). inp is packed inside (a temporary of M x K floats). */
lm_status lmi_gemm_backward_weight(float *dw /* [N, lddw] */, size_t lddw,
                                   const float *dout /* [M, ldd] */, size_t ldd,
                                   const float *inp /* [M, ldi] */, size_t ldi, size_t M, size_t N,
                                   size_t K, int accumulate, int threads);

/* The same three products in caller memory, allocating nothing: buf (64-byte aligned) holds
 * buf_floats floats, at least lmi_gemm_pack_floats(1, R) for the reduction length R (K of the
 * forward, N of the input gradient, the K block of the M tokens of the weight gradient: M, at
 * most 512); the weight is packed (or inp, for the weight gradient) a chunk of columns at a
 * time. The results are the same bits as with any other buffer. */
void lmi_gemm_nt_to(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                    size_t lda, const float *w /* [N, ldw] */, size_t ldw,
                    const float *bias /* [N] or NULL */, size_t M, size_t N, size_t K,
                    int accumulate, float *buf, size_t buf_floats, int threads);
void lmi_gemm_backward_input_to(float *dinp /* [M, ldi] */, size_t ldi,
                                const float *dout /* [M, ldd] */, size_t ldd,
                                const float *w /* [N, ldw] */, size_t ldw, size_t M, size_t N,
                                size_t K, int accumulate, float *buf, size_t buf_floats,
                                int threads);
void lmi_gemm_backward_weight_to(float *dw /* [N, lddw] */, size_t lddw,
                                 const float *dout /* [M, ldd] */, size_t ldd,
                                 const float *inp /* [M, ldi] */, size_t ldi, size_t M, size_t N,
                                 size_t K, int accumulate, float *buf, size_t buf_floats,
                                 int threads);

#endif
