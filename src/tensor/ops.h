/* Internal: tensor ops in the llm.c style, each forward with its backward right under it. Each op
 * reads plain float arrays with the shapes written beside every pointer, writes into
 * caller-provided outputs and allocates nothing. Row-major throughout. N counts rows (B*T
 * tokens), C is the channel count. These functions trust their arguments: the model layer checks
 * every caller-controlled value before it calls them.
 *
 * Backward convention (llm.c): lmi_x_backward(ctx, d-inputs..., dout, saved..., sizes). The
 * d-inputs are the gradients of the forward's inputs and parameters, in the forward's order;
 * the gradient is ADDED into them (+=), so the caller zeroes them once per step and a tensor used
 * twice collects both contributions. dout is the gradient of the forward's output; "saved" are
 * the forward's inputs or outputs the backward needs (named in each comment). A d-buffer never
 * aliases dout or a saved tensor. Results are the same bit for bit from run to run for a fixed
 * ctx->threads; the ops that say so are also the same for any thread count. */
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
    int plain; /* 1: liblm's plain kernel instead of the BLAS (decided by lmi_ops_begin under an
                  address-space limit); 0, the default of a zeroed context: the BLAS */
    int busy;
    float *wbuf;        /* room to pack weights for liblm's GEMM (64-byte aligned), or NULL: the
                           matmuls then run on the BLAS (or the plain kernel), as the reference */
    size_t wbuf_floats; /* its size: at least lmi_gemm_pack_floats(1, R) for every reduction
                           length R of the products (tensor/gemm.h) */
} lmi_ops_ctx;

/* 1 when the environment had LM_MATMUL=blas (read once): lmi_matmul_forward and
 * lmi_matmul_backward then run on the BLAS, the reference path, whatever ctx->wbuf says. */
int lmi_matmul_blas(void);

/* out[N, OC] = inp[N, C] . weight[OC, C]^T (+ bias[OC] when not NULL).
 * weight is stored as PyTorch's Linear stores it ([out, in]). ldo is the row stride of out
 * (OC for a dense output; larger to write into a slice of a wider buffer). With ctx->wbuf:
 * liblm's GEMM (a row's result independent of the other rows and of the thread count), the
 * weight packed into wbuf a chunk at a time. Without (or with LM_MATMUL=blas in the
 * environment): ctx->threads OpenMP threads, each calling the BLAS single-threaded (the model
 * sets the BLAS to 1 thread), or liblm's plain kernel when ctx->plain is 1. */
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

/* Backward of both matmul forwards (row spans do not matter to the gradient):
 *   dinp[N, C]     += dout[N, OC] . weight[OC, C]
 *   dweight[OC, C] += dout[N, OC]^T . inp[N, C]
 *   dbias[OC]      += sum over the N rows of dout (summed in double)
 * Any of dinp, dweight, dbias may be NULL (not wanted). ldo is dout's row stride, as the
 * forward's out; for Q|K|V written by one lmi_matmul_spans_forward call with nw = 3, call this
 * three times with dout + k*OC (ldo = 3*OC), weight k and its gradients, the same dinp.
 * With ctx->wbuf: liblm's GEMM (tensor/gemm.h: the same for any thread count). Without (or
 * with LM_MATMUL=blas): CBLAS on ctx->threads OpenMP threads, each thread one block of rows or
 * columns of each result (no reduction across threads). dbias is the same for any thread
 * count. */
void lmi_matmul_backward(const lmi_ops_ctx *ctx, float *dinp, float *dweight, float *dbias,
                        const float *dout, size_t ldo, const float *inp, const float *weight,
                        size_t N, size_t C, size_t OC);
/* The same with dinp[N, C] = dout . weight (overwritten, not added to: no zeroing before, no
 * read of the old values). */
void lmi_matmul_backward_set(const lmi_ops_ctx *ctx, float *dinp, float *dweight, float *dbias,
                             const float *dout, size_t ldo, const float *inp, const float *weight,
                             size_t N, size_t C, size_t OC);

/* out[N, C] = layernorm(a + b) * weight + bias per row (residual add fused with the layer norm,
 * as BERT's post-LN blocks do); out may equal a or b. */
void lmi_residual_layernorm_forward(const lmi_ops_ctx *ctx, float *out, const float *a,
                                   const float *b, const float *weight, const float *bias,
                                   size_t N, size_t C, float eps);

/* The same for training: sum[N, C] = a + b is kept (the layer norm's input), with mean[N] and
 * rstd[N]; out[N, C] = layernorm(sum) * weight + bias, the same values as the forward above.
 * sum may equal a or b; out must not equal sum. */
void lmi_residual_layernorm_keep_forward(const lmi_ops_ctx *ctx, float *out, float *sum,
                                        float *mean, float *rstd, const float *a, const float *b,
                                        const float *weight, const float *bias, size_t N,
                                        size_t C, float eps);
/* dsum[N, C] += d(a + b), dweight[C], dbias[C] += (either may be NULL), from dout[N, C] and the
 * saved sum, mean, rstd: lmi_layernorm_backward with inp = sum. The caller adds dsum into the
 * gradients of both a and b (lmi_residual_backward), or uses it for both when that is the same
 * buffer. */
void lmi_residual_layernorm_backward(const lmi_ops_ctx *ctx, float *dsum, float *dweight,
                                    float *dbias, const float *dout, const float *sum,
                                    const float *mean, const float *rstd, const float *weight,
                                    size_t N, size_t C);

/* out[N, C] (+)= table[ids[n], C] for n < N. accumulate = 0 overwrites, 1 adds.
 * ids must be in range (checked by the caller). */
void lmi_embedding_forward(const lmi_ops_ctx *ctx, float *out, const int32_t *ids,
                          const float *table, size_t N, size_t C, int accumulate);

/* dtable[V, C]: row ids[n] += dout[n, C] for n = 0, 1, ... N-1 in that order (repeated ids
 * accumulate). Threads split the columns, so every element sees the same additions in the same
 * order: bit-identical for any thread count. ids in range (checked by the caller). */
void lmi_embedding_backward(const lmi_ops_ctx *ctx, float *dtable, const int32_t *ids,
                           const float *dout, size_t N, size_t C);

/* out[N, C] = (inp - mean) * rstd * weight + bias per row; mean[N], rstd[N] may be NULL (kept for
 * backward when given). out may equal inp. */
void lmi_layernorm_forward(const lmi_ops_ctx *ctx, float *out, float *mean, float *rstd,
                          const float *inp, const float *weight, const float *bias, size_t N,
                          size_t C, float eps);

/* dinp[N, C], dweight[C], dbias[C] += (dweight and dbias may be NULL) from dout[N, C] and the
 * saved inp[N, C] (not overwritten: the training forward runs out of place), mean[N], rstd[N]
 * and weight[C]. The formula of llm.c / PyTorch: with xhat = (x - mean) rstd and g = dout weight,
 * dx = rstd (g - mean(g) - xhat mean(g xhat)). dweight and dbias are summed over rows in double,
 * threads splitting the columns: the same for any thread count. */
void lmi_layernorm_backward(const lmi_ops_ctx *ctx, float *dinp, float *dweight, float *dbias,
                           const float *dout, const float *inp, const float *mean,
                           const float *rstd, const float *weight, size_t N, size_t C);

/* out[n] = a[n] + b[n]; out may equal a or b. */
void lmi_residual_forward(const lmi_ops_ctx *ctx, float *out, const float *a, const float *b,
                         size_t n);
/* da[n] += dout[n]; db[n] += dout[n] (either may be NULL). */
void lmi_residual_backward(const lmi_ops_ctx *ctx, float *da, float *db, const float *dout,
                          size_t n);

/* Activations, elementwise over n values; out may equal inp (inference) or not (training, which
 * keeps inp for the backward). Each backward adds dout[n] * f'(x) into dinp[n]; GELU and ReLU
 * read the saved input inp[n], tanh its saved output out[n] (as PyTorch does), so tanh may run
 * in place in training too. The derivatives are PyTorch's formulas:
 *   GELU (erf):  cdf + x pdf, cdf = (1 + erf(x / sqrt 2)) / 2, pdf = exp(-x^2 / 2) / sqrt(2 pi)
 *   GELU (tanh): 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 0.044715 x^2),
 *                t = tanh(k (x + 0.044715 x^3)), k = sqrt(2 / pi)
 *   ReLU: 1 where x > 0, else 0 (0 at x = 0)          tanh: 1 - out^2 */
void lmi_gelu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n); /* erf form */
void lmi_gelu_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *inp,
                      size_t n);
void lmi_gelu_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n);
void lmi_gelu_tanh_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                           const float *inp, size_t n);
void lmi_relu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n);
/* The same activations in place on one run x[0..n), on the calling thread: the epilogues fused
 * into a product (lmi_gemm_forward_ep); the same values as the forwards above. */
void lmi_gelu_row(float *x, size_t n);
void lmi_gelu_tanh_row(float *x, size_t n);
void lmi_relu_row(float *x, size_t n);
void lmi_relu_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *inp,
                      size_t n);
/* One of the activations above by kind: out = f(inp), and dinp (+)= dout * f'(inp), added
 * when accumulate, else overwritten (no zeroing before, no read of the old values). */
typedef enum lmi_ops_act { LMI_OPS_GELU = 0, LMI_OPS_GELU_TANH, LMI_OPS_RELU } lmi_ops_act;
void lmi_act_forward(const lmi_ops_ctx *ctx, lmi_ops_act act, float *out, const float *inp,
                     size_t n);
void lmi_act_backward(const lmi_ops_ctx *ctx, lmi_ops_act act, float *dinp, const float *dout,
                      const float *inp, size_t n, int accumulate);
void lmi_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n);
void lmi_tanh_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *out,
                      size_t n);

/* Row softmax: out[N, C] = softmax(inp[N, C]) along C; out may equal inp. */
void lmi_softmax_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t N, size_t C);
/* dinp[N, C] += out (dout - sum_c(dout out)) per row, from the saved probabilities out[N, C]. */
void lmi_softmax_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *out,
                         size_t N, size_t C);

/* Dropout (training): out[N, C] = inp * keep / (1 - p), keep[n, c] drawn with probability 1 - p,
 * as torch.nn.functional.dropout (scale 1.0f / (1.0f - p) in float; p >= 1 gives all zeros;
 * p <= 0 keeps everything). The keep bits go to mask: row n at byte n * ceil(C / 8), bit c % 8 of
 * byte c / 8 (lmi_dropout_mask_bytes(N, C) bytes in all). Element (n, c) is drawn from a hash
 * of (seed, n, c) alone: the mask depends on seed and C only, never on the thread count. Every
 * call site and step needs its own seed (lmi_dropout_seed). out may equal inp. */
size_t lmi_dropout_mask_bytes(size_t N, size_t C);
/* A seed for one dropout call: a hash of the trainer's seed, the step and the call site
 * (e.g. layer * 8 + place), so no two calls share a mask. */
uint64_t lmi_dropout_seed(uint64_t seed, uint64_t step, uint64_t site);
void lmi_dropout_forward(const lmi_ops_ctx *ctx, float *out, uint8_t *mask, const float *inp,
                        float p, uint64_t seed, size_t N, size_t C);
/* The same with row n drawn as row row_keys[n] (rows gathered from a larger layout keep the
 * draws of their place there); row_keys NULL: row n. */
void lmi_dropout_forward_keyed(const lmi_ops_ctx *ctx, float *out, uint8_t *mask,
                               const float *inp, float p, uint64_t seed, size_t N, size_t C,
                               const size_t *row_keys);
/* dinp[N, C] += dout * keep / (1 - p), with the forward's mask and p. */
void lmi_dropout_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                         const uint8_t *mask, float p, size_t N, size_t C);
/* The same with dinp = (overwritten, not added to). */
void lmi_dropout_backward_set(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                             const uint8_t *mask, float p, size_t N, size_t C);

/* p[0..n) = softmax(p * scale + bias) in place, bias[n] 0 (a key) or -inf (padding). */
void lmi_softmax_scaled_row(float *p, const float *bias, float scale, size_t n);

/* One sequence of lmi_attention_infer: its rows are [start, start + rows) of qkv and out; its
 * keys the first `keys` of them (keys <= rows), with mask[keys] (1 = attend, 0 = padding) or
 * NULL (all attend). When no key attends, every row attends uniformly to all `keys` (as
 * transformers' additive finfo.min mask gives). */
typedef struct lmi_att_seq {
    size_t start, rows, keys;
    const int32_t *mask;
} lmi_att_seq;

/* Inference attention (no dropout, nothing kept) over sequences laid out one after the other:
 * out[., ldo] head h at columns [h hd, (h+1) hd) = softmax(Q_h K_h^T / sqrt(hd)) V_h per
 * sequence, qkv[., ldqkv] = Q | K | V at columns 0, C, 2C. On liblm's GEMM, with the scores of
 * at most a tile of 64 queries at a time (scratch linear in the keys); each output element is
 * computed the same way for any tiling, thread count or batch. max_keys: the largest `keys`.
 * scratch: lmi_attention_infer_scratch_floats(max_keys, C / NH, threads) floats, 64-byte
 * aligned. */
size_t lmi_attention_infer_scratch_floats(size_t max_keys, size_t hd, int threads);
void lmi_attention_infer(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *qkv,
                         size_t ldqkv, const lmi_att_seq *seqs, size_t nseq, size_t C, size_t NH,
                         float *scratch, size_t max_keys);

/* The sequences of a padded batch laid out as [B, T]: sequence b at rows [b T, b T + T), all T
 * rows, its keys up to its last real one (all T when it has none), mask + b T. */
void lmi_att_seqs_padded(lmi_att_seq *seqs, const int32_t *mask /* [B, T] or NULL */, size_t B,
                         size_t T);

/* Masked multi-head self-attention for training (no projections), over B sequences laid out one
 * after the other (lmi_att_seq, as lmi_attention_infer; lmi_att_seqs_padded gives the padded
 * [B, T] layout): sequence b's queries are its `rows` rows from `start`, its keys the first
 * `keys` of them (keys <= rows <= T; a sequence with no real key has keys = rows = T and attends
 * uniformly to every key, as transformers' additive finfo.min mask does).
 * qkv[., ldqkv]: per row, Q at column 0, K at column C, V at column 2C (ldqkv >= 3C).
 * out[., C] = concat over heads of dropout(P_h) V_h, P_h = softmax(Q_h K_h^T / sqrt(hd)),
 * hd = C / NH. att[B, NH, T, T]: when not NULL, P (before dropout) is kept there for the
 * backward, row i of (b, h) at att + ((b NH + h) T + i) T (0 for padding keys); NULL for
 * inference, and the output is the same either way.
 * Attention dropout (BERT's attention_probs_dropout_prob, training only): p_drop > 0 drops
 * probabilities after the softmax, scaled by 1 / (1 - p), with the mask lmi_dropout_forward
 * would draw for a [B * NH * T, T] tensor with this seed (row (b NH + h) T + i): a sequence's
 * values do not depend on where its rows lie. p_drop = 0 (inference) draws nothing. The backward
 * draws the same mask again from (p_drop, seed), so it is not stored.
 * scratch: at least lmi_attention_scratch_floats(T, C / NH, threads) floats, 64-byte aligned. */
size_t lmi_attention_scratch_floats(size_t T, size_t hd, int threads);
void lmi_attention_forward(const lmi_ops_ctx *ctx, float *out, float *att, const float *qkv,
                           size_t ldqkv, const lmi_att_seq *seqs, size_t B, float *scratch,
                           size_t T, size_t C, size_t NH, float p_drop, uint64_t seed);
/* dqkv (dQ | dK | dV in the columns of Q | K | V) += from dout[., C], the saved qkv and att (the
 * forward's P) and the forward's seqs, p_drop and seed. dQ and dK of a row whose keys are all
 * padding are 0: its uniform weights do not depend on the scores (PyTorch's eager path, whose
 * finfo.min mask rounds the scores away, would still pass a gradient through them). Heads and
 * sequences run in parallel and write disjoint columns.
 * scratch: at least lmi_attention_backward_scratch_floats(T, C / NH, threads) floats, 64-byte
 * aligned. */
size_t lmi_attention_backward_scratch_floats(size_t T, size_t hd, int threads);
void lmi_attention_backward(const lmi_ops_ctx *ctx, float *dqkv, const float *dout,
                            const float *qkv, size_t ldqkv, const float *att,
                            const lmi_att_seq *seqs, size_t B, float *scratch, size_t T, size_t C,
                            size_t NH, float p_drop, uint64_t seed);

#endif
