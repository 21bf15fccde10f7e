/* Internal: forward tensor ops in the llm.c style. Each op reads plain float arrays with the shapes
 * written beside every pointer, writes into caller-provided outputs and allocates nothing; the
 * backward of each op will sit beside its forward. Row-major throughout. N counts rows (B*T
 * tokens), C is the channel count. These functions trust their arguments: the model layer checks
 * every caller-controlled value before it calls them. */
#ifndef LM_TENSOR_OPS_H
#define LM_TENSOR_OPS_H

#include <stddef.h>
#include <stdint.h>

/* How an op runs: threads is the number of OpenMP threads (>= 1); blas is 1 when the products
 * may call the BLAS, 0 when they use liblm's plain kernel (tensor/guard.h); busy is the number of
 * BLAS callers counted for this forward by lmi_ops_begin. A forward takes its ctx from
 * lmi_ops_begin, which keeps both threads and BLAS within an address-space limit. */
typedef struct lmi_ops_ctx {
    int threads;
    int blas;
    int busy;
} lmi_ops_ctx;

/* out[N, OC] = inp[N, C] . weight[OC, C]^T (+ bias[OC] when not NULL).
 * weight is stored as PyTorch's Linear stores it ([out, in]). ldo is the row stride of out
 * (OC for a dense output; larger to write into a slice of a wider buffer). Runs on ctx->threads
 * OpenMP threads, each calling the BLAS single-threaded (the model sets the BLAS to 1 thread),
 * or liblm's plain kernel when ctx->blas is 0. */
void lmi_matmul_forward(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                       const float *weight, const float *bias, size_t N, size_t C, size_t OC);

/* A run of rows [start, start + count) multiplied as a product of its own. */
typedef struct lmi_row_span {
    size_t start;
    size_t count;
} lmi_row_span;

/* `nw` products of one input into adjacent column blocks (e.g. Q, K, V):
 * out[rows, ldo] columns [k OC, (k+1) OC) = inp[rows, C] . weights[k][OC, C]^T + biases[k][OC]
 * (biases[k] may be NULL), computed span by span: every span of rows is its own product, cut into ctx->threads column blocks, and the blocks run as tasks on the OpenMP
 * team. A row's result then depends only on its span's length and the thread count, never on
 * the other rows of the batch (the BLAS rounds a row differently by its place in a product).
 * The spans must cover the rows that matter; rows outside every span are not written. */
void lmi_matmul_spans_forward(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                             const float *const *weights, const float *const *biases, size_t nw,
                             const lmi_row_span *spans, size_t nspans, size_t C, size_t OC);

/* out[N, C] = layernorm(a + b) * weight + bias per row (residual add fused with the layer norm,
 * as BERT's post-LN blocks do); out may equal a or b. */
void lmi_residual_layernorm_forward(const lmi_ops_ctx *ctx, float *out, const float *a,
                                   const float *b, const float *weight, const float *bias,
                                   size_t N, size_t C, float eps);

/* out[N, C] (+)= table[ids[n], C] for n < N. accumulate = 0 overwrites, 1 adds.
 * ids must be in range (checked by the caller). */
void lmi_embedding_forward(const lmi_ops_ctx *ctx, float *out, const int32_t *ids,
                          const float *table, size_t N, size_t C, int accumulate);

/* out[N, C] = (inp - mean) * rstd * weight + bias per row; mean[N], rstd[N] may be NULL (kept for
 * backward when given). out may equal inp. */
void lmi_layernorm_forward(const lmi_ops_ctx *ctx, float *out, float *mean, float *rstd,
                          const float *inp, const float *weight, const float *bias, size_t N,
                          size_t C, float eps);

/* out[n] = a[n] + b[n]; out may equal a or b. */
void lmi_residual_forward(const lmi_ops_ctx *ctx, float *out, const float *a, const float *b,
                         size_t n);

/* Activations, elementwise over n values; out may equal inp. */
void lmi_gelu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n); /* erf form */
void lmi_gelu_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n);
void lmi_relu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n);
void lmi_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n);

/* Row softmax: out[N, C] = softmax(inp[N, C]) along C; out may equal inp. */
void lmi_softmax_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t N, size_t C);

/* Masked multi-head self-attention (no projections).
 * qkv[B, T, ldqkv]: per token, Q at column 0, K at column C, V at column 2C (ldqkv >= 3C).
 * mask[B, T]: 1 = attend to this key, 0 = padding (NULL = all ones). A row whose keys are all
 * padding attends uniformly to every key (as transformers' additive finfo.min mask does).
 * out[B, T, C] = concat over heads of softmax(Q_h K_h^T / sqrt(hd)) V_h, hd = C / NH.
 * scratch: at least lmi_attention_scratch_floats(T, threads) floats. */
size_t lmi_attention_scratch_floats(size_t T, int threads);
void lmi_attention_forward(const lmi_ops_ctx *ctx, float *out, const float *qkv, size_t ldqkv,
                          const int32_t *mask, float *scratch, size_t B, size_t T, size_t C,
                          size_t NH);

#endif
