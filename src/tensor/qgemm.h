/* Internal: int8 products for inference (issue 10, lm_model_options.int8): the forward of a Linear
 * out[M, N] (+)= A[M, K] . W[N, K]^T + bias with W quantised once per output channel (symmetric,
 * int8, scale max|w| / 127) and A quantised per row at each call (asymmetric, uint8, zero point
 * and scale from the row's min and max), multiplied in integers (int32 sums; AVX-512 VNNI
 * vpdpbusd where the CPU has it, AVX2 vpmaddwd, else C) and scaled back to float:
 *
 *     out[i][n] = sa[i] sw[n] (sum_k qa[i][k] qw[n][k] - za[i] sum_k qw[n][k]) + bias[n]
 *
 * Integer sums are exact, so every kernel gives the same bits, whatever the tiling, the threads
 * or the rows around a row (batch independence as the f32 GEMM). */
#ifndef LM_TENSOR_QGEMM_H
#define LM_TENSOR_QGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "tensor/gemm.h"

typedef struct lmi_q8_weight lmi_q8_weight;

/* Quantises the weight made of `parts` stacked ([N, ldw] in all, N = the sum of their rows) per
 * output row. */
lm_status lmi_q8_weight_make(lmi_q8_weight **out, const lmi_gemm_part *parts, size_t nparts,
                             size_t ldw, size_t K, int threads);
void lmi_q8_weight_free(lmi_q8_weight *w);
size_t lmi_q8_weight_n(const lmi_q8_weight *w);
size_t lmi_q8_weight_k(const lmi_q8_weight *w);

/* Bytes of scratch for quantising M rows of K values (64-byte aligned memory). */
size_t lmi_q8_scratch_bytes(size_t M, size_t K);

/* out[M, ldo] (+)= dequant(quant(a[M, lda]) . quant(w)^T) + bias, then ep on each finished row
 * piece (as lmi_gemm_forward_ep). scratch: lmi_q8_scratch_bytes(M, K) bytes. */
void lmi_q8_forward(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                    size_t lda, const lmi_q8_weight *w, const float *bias /* [N] or NULL */,
                    size_t M, int accumulate, lmi_gemm_epilogue_fn ep, void *scratch,
                    int threads);

/* The kernel that runs, e.g. "avx512-vnni-12x32". The environment's LM_GEMM=avx2|generic (read
 * once) caps it as it caps the float kernel. */
const char *lmi_q8_kernel_name(void);
/* Selects the kernel for the weights quantised from now on (tests): LMI_GEMM_AVX512 the VNNI one,
 * LMI_GEMM_AVX2, LMI_GEMM_GENERIC; LMI_GEMM_AUTO the default. LM_ERR_UNSUPPORTED when the CPU
 * cannot run it. A weight keeps the kernel it was quantised for. */
lm_status lmi_q8_set_isa(lmi_gemm_isa isa);

#endif
