/* Tensor ops and their backwards (see ops.h): embedding lookup, layer norm, residual add,
 * activations, softmax and dropout as plain OpenMP loops; matmul on CBLAS (or the plain kernel of
 * guard.c when the plan forbids the BLAS); masked multi-head self-attention. */
#include "tensor/ops.h"

/* The elementwise kernels below are written branch-free for the vectoriser; GCC only if-converts
 * them when it may assume that floating-point exceptions are not observed (liblm never reads the
 * FP status flags). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#if defined(__clang__) /* `omp simd` is a hint: a loop clang cannot vectorise is not an error */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

#include <cblas.h> /* the reference path (LM_MATMUL=blas) */
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"

#include "tensor/gemm.h"
#include "tensor/guard.h"

#include "tensor/mathf.h"

/* Loops shorter than this run on one thread: thread start-up costs more than the work. */
#define LM_PAR_MIN 16384

LM_CLONES static void copy_row(float *out, const float *in, size_t n) {
    size_t i;
#pragma omp simd
    for (i = 0; i < n; i++) {
        out[i] = in[i];
    }
}

/* Softmax of p[0..n) * scale in place with an additive bias row (0 or -inf per key): both
 * attention kernels use this one, so they give the same probabilities. In 16 lanes (element j
 * in lane j % 16; a last partial vector padded with -inf) reduced in a fixed tree, as GNU vectors
 * that every clone vectorises: rows are short (128 keys are 8 vectors), where a generic
 * reduction costs more than the row, and every clone gives the same bits. */
#if defined(__GNUC__) || defined(__clang__)
static inline lmi_v16 load_v16(const float *p) {
    lmi_v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store_v16(float *p, lmi_v16 v) {
    memcpy(p, &v, sizeof v);
}

/* The last n % 16 values of a row as a vector padded with `pad`, and back. */
static inline lmi_v16 load_tail(const float *p, size_t k, float pad) {
    lmi_v16 v = lmi_v16_splat(pad);
    size_t i;
    for (i = 0; i < k; i++) {
        v[i] = p[i];
    }
    return v;
}

static inline void store_tail(float *p, lmi_v16 v, size_t k) {
    size_t i;
    for (i = 0; i < k; i++) {
        p[i] = v[i];
    }
}

LM_CLONES void lmi_softmax_scaled_row(float *p, const float *bias, float scale, size_t n) {
    const lmi_v16 sc = lmi_v16_splat(scale);
    const size_t full = n / 16 * 16, k = n - full;
    lmi_v16 m = lmi_v16_splat(-INFINITY), s = lmi_v16_splat(0.0f), x, mv, inv;
    float mx, sum;
    size_t j;
    for (j = 0; j < full; j += 16) {
        x = load_v16(p + j) * sc + load_v16(bias + j);
        store_v16(p + j, x);
        m = lmi_v16_max(m, x);
    }
    if (k > 0) {
        x = load_tail(p + full, k, 0.0f) * sc + load_tail(bias + full, k, -INFINITY);
        store_tail(p + full, x, k);
        m = lmi_v16_max(m, x);
    }
    mx = m[0];
    for (j = 1; j < 16; j++) {
        mx = m[j] > mx ? m[j] : mx;
    }
    mv = lmi_v16_splat(mx);
    for (j = 0; j < full; j += 16) {
        x = lmi_v16_exp(load_v16(p + j) - mv); /* exactly 0 for padding */
        store_v16(p + j, x);
        s += x;
    }
    if (k > 0) {
        x = lmi_v16_exp(load_tail(p + full, k, -INFINITY) - mv);
        store_tail(p + full, x, k);
        s += x;
    }
    sum = ((s[0] + s[8]) + (s[4] + s[12])) + ((s[2] + s[10]) + (s[6] + s[14])) +
          (((s[1] + s[9]) + (s[5] + s[13])) + ((s[3] + s[11]) + (s[7] + s[15])));
    inv = lmi_v16_splat(1.0f / sum);
    for (j = 0; j < full; j += 16) {
        store_v16(p + j, load_v16(p + j) * inv);
    }
    if (k > 0) {
        store_tail(p + full, load_tail(p + full, k, 0.0f) * inv, k);
    }
}
#else
void lmi_softmax_scaled_row(float *p, const float *bias, float scale, size_t n) {
    float mx = -INFINITY, sum = 0.0f, inv;
    size_t j;
    for (j = 0; j < n; j++) {
        p[j] = p[j] * scale + bias[j];
        mx = p[j] > mx ? p[j] : mx;
    }
    for (j = 0; j < n; j++) {
        p[j] = lmi_expf(p[j] - mx);
        sum += p[j];
    }
    inv = 1.0f / sum;
    for (j = 0; j < n; j++) {
        p[j] *= inv;
    }
}
#endif

/* o[0..C) = layernorm(x (+ y when y is not NULL)) * weight + bias; o may equal x or y. With y,
 * the sum x + y is written to sum first (sum may be o, or a buffer of its own that keeps it). The
 * row's mean and 1/std go to *mean_out and *rstd_out when they are not NULL. */
LM_CLONES static void layernorm_row(float *o, float *sum, const float *x, const float *y,
                                    const float *weight, const float *bias, size_t C, float eps,
                                    float *mean_out, float *rstd_out) {
    float m = 0.0f, v = 0.0f, s;
    size_t c;
    if (y != NULL) {
#pragma omp simd reduction(+ : m)
        for (c = 0; c < C; c++) {
            sum[c] = x[c] + y[c];
            m += sum[c];
        }
        x = sum;
    } else {
#pragma omp simd reduction(+ : m)
        for (c = 0; c < C; c++) {
            m += x[c];
        }
    }
    m /= (float)C;
#pragma omp simd reduction(+ : v)
    for (c = 0; c < C; c++) {
        float d = x[c] - m;
        v += d * d;
    }
    v /= (float)C;
    s = 1.0f / sqrtf(v + eps);
#pragma omp simd
    for (c = 0; c < C; c++) {
        o[c] = (x[c] - m) * s * weight[c] + bias[c];
    }
    if (mean_out != NULL) {
        *mean_out = m;
    }
    if (rstd_out != NULL) {
        *rstd_out = s;
    }
}

/* Splits [0, n) into nt blocks whose starts are multiples of `align`; block t is [*lo, *hi). */
static void split_range(size_t n, size_t t, size_t nt, size_t align, size_t *lo, size_t *hi) {
    size_t blocks = (n + align - 1) / align;
    size_t a = blocks * t / nt * align, b = blocks * (t + 1) / nt * align;
    *hi = b < n ? b : n;
    *lo = a < *hi ? a : *hi;
}

/* Number of column blocks for a column-split loop over N rows and C columns: one per thread when
 * the work is large enough, else 1. */
static size_t column_blocks(const lmi_ops_ctx *ctx, size_t N, size_t C) {
    return ctx->threads > 1 && N * C >= LM_PAR_MIN ? (size_t)ctx->threads : 1;
}

/* One single-threaded sgemm: out[N, OC] = inp[N, C] . weight[OC, C]^T (+ bias); on the BLAS when
 * blas is 1. */
static void gemm_block(int blas, float *out, size_t ldo, const float *inp, const float *weight,
                       const float *bias, size_t N, size_t C, size_t OC) {
    size_t n;
    float beta = 0.0f;
    if (N == 0 || OC == 0) {
        return;
    }
    if (bias != NULL) {
        for (n = 0; n < N; n++) {
            copy_row(out + n * ldo, bias, OC);
        }
        beta = 1.0f;
    }
    lmi_sgemm(blas, 1, N, OC, C, 1.0f, inp, C, weight, C, beta, out, ldo);
}

/* 1 when the environment has LM_MATMUL=blas (read once): the products of lmi_matmul_forward and
 * lmi_matmul_backward then run on the BLAS, the reference path, instead of liblm's GEMM. */
int lmi_matmul_blas(void) {
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        const char *env = getenv("LM_MATMUL");
        v = env != NULL && strcmp(env, "blas") == 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

void lmi_matmul_forward(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                       const float *weight, const float *bias, size_t N, size_t C, size_t OC) {
    /* out[N, OC] = inp[N, C] . weight[OC, C]^T + bias[OC]
     * liblm's GEMM with ctx->wbuf (a row's result does not depend on the others), else the BLAS
     * (or the plain kernel). The BLAS runs single-threaded
     * inside one OpenMP team, so that one thread pool does every op (an OpenMP team and
     * OpenBLAS's own threads spinning side by side on the same cores cost up to 8x). Each thread
     * takes a block of rows, or of output columns when there are fewer rows than columns. */
    int threads = ctx->threads;
    if (ctx->wbuf != NULL && !lmi_matmul_blas()) {
        lmi_gemm_nt_to(out, ldo, inp, C, weight, C, bias, N, OC, C, 0, ctx->wbuf,
                       ctx->wbuf_floats, threads);
        return;
    }
    if (threads <= 1 || (double)N * C * OC < 2e5) {
        gemm_block(!ctx->plain, out, ldo, inp, weight, bias, N, C, OC);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        if (N > OC) {
            size_t lo = N * t / nt, hi = N * (t + 1) / nt;
            gemm_block(!ctx->plain, out + lo * ldo, ldo, inp + lo * C, weight, bias, hi - lo, C, OC);
        } else {
            size_t blocks = (OC + 15) / 16;
            size_t lo = blocks * t / nt * 16, hi = blocks * (t + 1) / nt * 16;
            hi = hi < OC ? hi : OC;
            lo = lo < hi ? lo : hi;
            gemm_block(!ctx->plain, out + lo, ldo, inp, weight + lo * C,
                       bias != NULL ? bias + lo : NULL, N, C, hi - lo);
        }
    }
}

void lmi_matmul_spans_forward(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                             const float *const *weights, const float *const *biases, size_t nw,
                             const lmi_row_span *spans, size_t nspans, size_t C, size_t OC) {
    /* out[rows of each span, k OC + cols] = inp[rows, C] . weights[k][cols, C]^T + biases[k][cols]
     * Column blocks are multiples of 16 wide; their number is fixed by ctx->threads alone.
     * (The BLAS path of the products per sequence: the model now runs one product over the
     * batch on liblm's GEMM instead, model/forward.c.) */
    const size_t nb = ctx->threads > 1 ? (size_t)ctx->threads : 1;
    const size_t width = ((OC + nb - 1) / nb + 15) / 16 * 16;
    const long tasks = (long)(nw * nspans * nb);
    long task;
#pragma omp parallel for num_threads(ctx->threads) schedule(dynamic, 1) if (tasks > 1)
    for (task = 0; task < tasks; task++) {
        size_t k = (size_t)task / (nspans * nb);
        size_t s = (size_t)task / nb % nspans;
        size_t lo = (size_t)task % nb * width;
        size_t hi = lo + width < OC ? lo + width : OC;
        const lmi_row_span *sp = &spans[s];
        if (lo < hi && sp->count > 0) {
            gemm_block(!ctx->plain, out + sp->start * ldo + k * OC + lo, ldo, inp + sp->start * C,
                       weights[k] + lo * C, biases[k] != NULL ? biases[k] + lo : NULL, sp->count,
                       C, hi - lo);
        }
    }
}

/* Thread t's share (of nt) of the matmul backward: a block of dinp (rows, or columns when there
 * are fewer rows than columns), a block of dweight (rows or columns alike) and a block of dbias
 * columns. The blocks of different threads never overlap, so nothing is reduced across threads. */
static void matmul_backward_part(size_t t, size_t nt, float *dinp, float beta_in, float *dweight,
                                 float *dbias, const float *dout, size_t ldo, const float *inp,
                                 const float *weight, size_t N, size_t C, size_t OC) {
    size_t lo, hi;
    if (dinp != NULL) { /* dinp[N, C] += dout[N, OC] . weight[OC, C] */
        if (N >= C) {
            split_range(N, t, nt, 1, &lo, &hi);
            if (lo < hi) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)C,
                            (int)OC, 1.0f, dout + lo * ldo, (int)ldo, weight, (int)C, beta_in,
                            dinp + lo * C, (int)C);
            }
        } else {
            split_range(C, t, nt, 16, &lo, &hi);
            if (lo < hi) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)(hi - lo),
                            (int)OC, 1.0f, dout, (int)ldo, weight + lo, (int)C, beta_in, dinp + lo,
                            (int)C);
            }
        }
    }
    if (dweight != NULL) { /* dweight[OC, C] += dout[N, OC]^T . inp[N, C] */
        if (OC >= C) {
            split_range(OC, t, nt, 16, &lo, &hi);
            if (lo < hi) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(hi - lo), (int)C,
                            (int)N, 1.0f, dout + lo, (int)ldo, inp, (int)C, 1.0f,
                            dweight + lo * C, (int)C);
            }
        } else {
            split_range(C, t, nt, 16, &lo, &hi);
            if (lo < hi) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)(hi - lo),
                            (int)N, 1.0f, dout, (int)ldo, inp + lo, (int)C, 1.0f, dweight + lo,
                            (int)C);
            }
        }
    }
    if (dbias != NULL) { /* dbias[OC] += column sums of dout, in double, rows in order */
        size_t c0, c, n;
        split_range(OC, t, nt, 16, &lo, &hi);
        for (c0 = lo; c0 < hi; c0 += 64) {
            const size_t w = hi - c0 < 64 ? hi - c0 : 64;
            double acc[64] = {0};
            for (n = 0; n < N; n++) {
                const float *d = dout + n * ldo + c0;
#pragma omp simd
                for (c = 0; c < w; c++) {
                    acc[c] += (double)d[c];
                }
            }
            for (c = 0; c < w; c++) {
                dbias[c0 + c] = (float)((double)dbias[c0 + c] + acc[c]);
            }
        }
    }
}

/* dinp (+)= dout . weight (added when accumulate), dweight += .., dbias += .. */
static void matmul_backward(const lmi_ops_ctx *ctx, float *dinp, int accumulate, float *dweight,
                            float *dbias, const float *dout, size_t ldo, const float *inp,
                            const float *weight, size_t N, size_t C, size_t OC) {
    /* dinp[N, C], dweight[OC, C], dbias[OC]; dout[N, ldo], inp[N, C], weight[OC, C]
     * One OpenMP team; each thread calls the BLAS single-threaded on its own blocks (see
     * lmi_matmul_forward on why the BLAS does not thread by itself). */
    const float beta_in = accumulate ? 1.0f : 0.0f;
    if (N == 0 || C == 0 || OC == 0) {
        if (dinp != NULL && !accumulate) {
            memset(dinp, 0, N * C * sizeof(float));
        }
        return;
    }
    if (ctx->wbuf != NULL && !lmi_matmul_blas()) { /* liblm's GEMM, then the bias below */
        if (dinp != NULL) {
            lmi_gemm_backward_input_to(dinp, C, dout, ldo, weight, C, N, OC, C, accumulate,
                                       ctx->wbuf, ctx->wbuf_floats, ctx->threads);
            dinp = NULL;
        }
        if (dweight != NULL) {
            lmi_gemm_backward_weight_to(dweight, C, dout, ldo, inp, C, N, OC, C, 1, ctx->wbuf,
                                        ctx->wbuf_floats, ctx->threads);
            dweight = NULL;
        }
    }
    if (dinp == NULL && dweight == NULL) { /* only the bias: columns split over the threads */
        long t;
        const long nt = ctx->threads > 1 && (double)N * OC >= LM_PAR_MIN ? ctx->threads : 1;
        if (dbias == NULL) {
            return;
        }
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (nt > 1)
        for (t = 0; t < nt; t++) {
            matmul_backward_part((size_t)t, (size_t)nt, NULL, beta_in, NULL, dbias, dout, ldo, inp,
                                 weight, N, C, OC);
        }
        return;
    }
    if (ctx->threads <= 1 || (double)N * C * OC < 2e5) {
        matmul_backward_part(0, 1, dinp, beta_in, dweight, dbias, dout, ldo, inp, weight, N, C,
                             OC);
        return;
    }
#pragma omp parallel num_threads(ctx->threads)
    matmul_backward_part((size_t)omp_get_thread_num(), (size_t)omp_get_num_threads(), dinp,
                         beta_in, dweight, dbias, dout, ldo, inp, weight, N, C, OC);
}

void lmi_matmul_backward(const lmi_ops_ctx *ctx, float *dinp, float *dweight, float *dbias,
                        const float *dout, size_t ldo, const float *inp, const float *weight,
                        size_t N, size_t C, size_t OC) {
    matmul_backward(ctx, dinp, 1, dweight, dbias, dout, ldo, inp, weight, N, C, OC);
}

void lmi_matmul_backward_set(const lmi_ops_ctx *ctx, float *dinp, float *dweight, float *dbias,
                             const float *dout, size_t ldo, const float *inp, const float *weight,
                             size_t N, size_t C, size_t OC) {
    matmul_backward(ctx, dinp, 0, dweight, dbias, dout, ldo, inp, weight, N, C, OC);
}

void lmi_residual_layernorm_forward(const lmi_ops_ctx *ctx, float *out, const float *a,
                                   const float *b, const float *weight, const float *bias,
                                   size_t N, size_t C, float eps) {
    /* out[N, C] = layernorm(a[N, C] + b[N, C]) with weight[C], bias[C]; out may equal b. The sum
     * is kept in out before the normalisation, in one pass over the rows. */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        layernorm_row(out + (size_t)n * C, out + (size_t)n * C, a + (size_t)n * C,
                      b + (size_t)n * C, weight, bias, C, eps, NULL, NULL);
    }
}

void lmi_residual_layernorm_keep_forward(const lmi_ops_ctx *ctx, float *out, float *sum,
                                        float *mean, float *rstd, const float *a, const float *b,
                                        const float *weight, const float *bias, size_t N,
                                        size_t C, float eps) {
    /* out[N, C], sum[N, C] = a[N, C] + b[N, C], mean[N], rstd[N]: the same row kernel as the
     * inference forward, so out holds the same values. */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        layernorm_row(out + (size_t)n * C, sum + (size_t)n * C, a + (size_t)n * C,
                      b + (size_t)n * C, weight, bias, C, eps, mean + n, rstd + n);
    }
}

void lmi_residual_layernorm_backward(const lmi_ops_ctx *ctx, float *dsum, float *dweight,
                                    float *dbias, const float *dout, const float *sum,
                                    const float *mean, const float *rstd, const float *weight,
                                    size_t N, size_t C) {
    lmi_layernorm_backward(ctx, dsum, dweight, dbias, dout, sum, mean, rstd, weight, N, C);
}

void lmi_embedding_forward(const lmi_ops_ctx *ctx, float *out, const int32_t *ids,
                          const float *table, size_t N, size_t C, int accumulate) {
    /* out[N, C] (+)= table[ids[n], C] */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        float *o = out + (size_t)n * C;
        const float *row = table + (size_t)ids[n] * C;
        size_t c;
        if (accumulate) {
            for (c = 0; c < C; c++) {
                o[c] += row[c];
            }
        } else {
            for (c = 0; c < C; c++) {
                o[c] = row[c];
            }
        }
    }
}

void lmi_embedding_backward(const lmi_ops_ctx *ctx, float *dtable, const int32_t *ids,
                           const float *dout, size_t N, size_t C) {
    /* dtable[V, C] row ids[n] += dout[n, C]: threads own column blocks and walk the rows in
     * order, so there are no races and each element's sum has one order. */
    const long nb = (long)column_blocks(ctx, N, C);
    long t;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (nb > 1)
    for (t = 0; t < nb; t++) {
        size_t lo, hi, n, c;
        split_range(C, (size_t)t, (size_t)nb, 16, &lo, &hi);
        for (n = 0; n < N; n++) {
            float *row = dtable + (size_t)ids[n] * C;
            const float *d = dout + n * C;
            for (c = lo; c < hi; c++) {
                row[c] += d[c];
            }
        }
    }
}

void lmi_layernorm_forward(const lmi_ops_ctx *ctx, float *out, float *mean, float *rstd,
                          const float *inp, const float *weight, const float *bias, size_t N,
                          size_t C, float eps) {
    /* out[N, C], mean[N], rstd[N], inp[N, C], weight[C], bias[C] */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        layernorm_row(out + (size_t)n * C, NULL, inp + (size_t)n * C, NULL, weight, bias, C, eps,
                      mean != NULL ? mean + n : NULL, rstd != NULL ? rstd + n : NULL);
    }
}

/* dinp[0..C) += rstd (g - mean(g) - xhat mean(g xhat)), g = dout weight, xhat = (x - mean) rstd */
LM_CLONES static void layernorm_backward_row(float *dinp, const float *dout, const float *x,
                                             float mean, float rstd, const float *weight,
                                             size_t C) {
    float sg = 0.0f, sgx = 0.0f;
    size_t c;
#pragma omp simd reduction(+ : sg, sgx)
    for (c = 0; c < C; c++) {
        float g = dout[c] * weight[c];
        sg += g;
        sgx += g * ((x[c] - mean) * rstd);
    }
    sg /= (float)C;
    sgx /= (float)C;
#pragma omp simd
    for (c = 0; c < C; c++) {
        float g = dout[c] * weight[c];
        dinp[c] += (g - sg - (x[c] - mean) * rstd * sgx) * rstd;
    }
}

void lmi_layernorm_backward(const lmi_ops_ctx *ctx, float *dinp, float *dweight, float *dbias,
                           const float *dout, const float *inp, const float *mean,
                           const float *rstd, const float *weight, size_t N, size_t C) {
    /* dinp[N, C], dweight[C], dbias[C]; dout[N, C], inp[N, C], mean[N], rstd[N], weight[C]
     * Rows in parallel for dinp; then columns in parallel for dweight and dbias, each column
     * summed over all rows in order (in double), so no sum crosses threads. */
    long n, t;
    const long nb = (long)column_blocks(ctx, N, C);
    if (dinp != NULL) {
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
        for (n = 0; n < (long)N; n++) {
            layernorm_backward_row(dinp + (size_t)n * C, dout + (size_t)n * C, inp + (size_t)n * C,
                                   mean[n], rstd[n], weight, C);
        }
    }
    if (dweight == NULL && dbias == NULL) {
        return;
    }
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (nb > 1)
    for (t = 0; t < nb; t++) {
        size_t lo, hi, c0, c, r;
        split_range(C, (size_t)t, (size_t)nb, 16, &lo, &hi);
        for (c0 = lo; c0 < hi; c0 += 64) {
            const size_t w = hi - c0 < 64 ? hi - c0 : 64;
            double aw[64] = {0}, ab[64] = {0};
            for (r = 0; r < N; r++) {
                const float *d = dout + r * C + c0, *x = inp + r * C + c0;
                const float m = mean[r], s = rstd[r];
                for (c = 0; c < w; c++) {
                    aw[c] += (double)(d[c] * ((x[c] - m) * s));
                    ab[c] += (double)d[c];
                }
            }
            for (c = 0; c < w; c++) {
                if (dweight != NULL) {
                    dweight[c0 + c] = (float)((double)dweight[c0 + c] + aw[c]);
                }
                if (dbias != NULL) {
                    dbias[c0 + c] = (float)((double)dbias[c0 + c] + ab[c]);
                }
            }
        }
    }
}

void lmi_residual_forward(const lmi_ops_ctx *ctx, float *out, const float *a, const float *b,
                         size_t n) {
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = a[i] + b[i];
    }
}

void lmi_residual_backward(const lmi_ops_ctx *ctx, float *da, float *db, const float *dout,
                          size_t n) {
    long i;
    if (da != NULL) {
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
        for (i = 0; i < (long)n; i++) {
            da[i] += dout[i];
        }
    }
    if (db != NULL) {
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
        for (i = 0; i < (long)n; i++) {
            db[i] += dout[i];
        }
    }
}

LM_CLONES static void gelu_range(float *out, const float *inp, size_t n) {
    size_t i;
#pragma omp simd
    for (i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + lmi_erff(x * 0.70710678118654752f));
    }
}

void lmi_gelu_row(float *x, size_t n) {
    gelu_range(x, x, n);
}

LM_CLONES void lmi_gelu_tanh_row(float *x, size_t n) {
    size_t i;
#pragma omp simd
    for (i = 0; i < n; i++) {
        const float v = x[i], u = 0.79788456080286536f * (v + 0.044715f * v * v * v);
        x[i] = 0.5f * v * (2.0f - 2.0f / (1.0f + lmi_expf(2.0f * u))); /* 1 + tanh(u) */
    }
}

LM_CLONES void lmi_relu_row(float *x, size_t n) {
    size_t i;
#pragma omp simd
    for (i = 0; i < n; i++) {
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
}

void lmi_gelu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    /* 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.functional.gelu; in chunks of 4096 values */
    long i, chunks = (long)((n + 4095) / 4096);
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < chunks; i++) {
        size_t lo = (size_t)i * 4096, len = n - lo < 4096 ? n - lo : 4096;
        gelu_range(out + lo, inp + lo, len);
    }
}

/* torch's GeluBackward (approximate='none'): dy (cdf + x pdf) */
static inline float gelu_grad(float dy, float x) {
    float cdf = 0.5f * (1.0f + lmi_erff(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * lmi_expf(-0.5f * x * x); /* e^(-x^2/2) / sqrt(2 pi) */
    return dy * (cdf + x * pdf);
}

LM_CLONES static void gelu_backward_range(float *dinp, const float *dout, const float *inp,
                                          size_t n, int acc) {
    size_t i;
    if (acc) {
#pragma omp simd
        for (i = 0; i < n; i++) {
            dinp[i] += gelu_grad(dout[i], inp[i]);
        }
    } else {
#pragma omp simd
        for (i = 0; i < n; i++) {
            dinp[i] = gelu_grad(dout[i], inp[i]);
        }
    }
}

static void gelu_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                          const float *inp, size_t n, int acc) {
    long i, chunks = (long)((n + 4095) / 4096);
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < chunks; i++) {
        size_t lo = (size_t)i * 4096, len = n - lo < 4096 ? n - lo : 4096;
        gelu_backward_range(dinp + lo, dout + lo, inp + lo, len, acc);
    }
}

void lmi_gelu_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *inp,
                      size_t n) {
    gelu_backward(ctx, dinp, dout, inp, n, 1);
}

void lmi_gelu_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as gelu_new / gelu_pytorch_tanh */
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        float x = inp[i];
        float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        out[i] = 0.5f * x * (2.0f - 2.0f / (1.0f + lmi_expf(2.0f * u))); /* 1 + tanh(u) */
    }
}

static void gelu_tanh_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                               const float *inp, size_t n, int acc) {
    /* torch's GeluBackward (approximate='tanh'): with k = sqrt(2/pi), u = k (x + 0.044715 x^3),
     * t = tanh(u): dy (0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 0.044715 x^2)) */
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        const float k = 0.79788456080286536f, kappa = 0.044715f;
        float x = inp[i], x2 = x * x;
        float u = k * (x + kappa * x2 * x);
        float t = 1.0f - 2.0f / (1.0f + lmi_expf(2.0f * u)); /* tanh(u), as the forward */
        float left = 0.5f * x, right = 1.0f + t;
        float dleft = 0.5f * right;
        float dright = left * (1.0f - t * t) * (k * (1.0f + 3.0f * kappa * x2));
        const float d = dout[i] * (dleft + dright);
        dinp[i] = acc ? dinp[i] + d : d;
    }
}

void lmi_gelu_tanh_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                           const float *inp, size_t n) {
    gelu_tanh_backward(ctx, dinp, dout, inp, n, 1);
}

void lmi_relu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
    }
}

static void relu_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                          const float *inp, size_t n, int acc) {
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        const float d = inp[i] > 0.0f ? dout[i] : 0.0f;
        dinp[i] = acc ? dinp[i] + d : d;
    }
}

void lmi_relu_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *inp,
                      size_t n) {
    relu_backward(ctx, dinp, dout, inp, n, 1);
}

void lmi_act_forward(const lmi_ops_ctx *ctx, lmi_ops_act act, float *out, const float *inp,
                     size_t n) {
    switch (act) {
    case LMI_OPS_GELU_TANH:
        lmi_gelu_tanh_forward(ctx, out, inp, n);
        break;
    case LMI_OPS_RELU:
        lmi_relu_forward(ctx, out, inp, n);
        break;
    default:
        lmi_gelu_forward(ctx, out, inp, n);
        break;
    }
}

void lmi_act_backward(const lmi_ops_ctx *ctx, lmi_ops_act act, float *dinp, const float *dout,
                      const float *inp, size_t n, int accumulate) {
    switch (act) {
    case LMI_OPS_GELU_TANH:
        gelu_tanh_backward(ctx, dinp, dout, inp, n, accumulate);
        break;
    case LMI_OPS_RELU:
        relu_backward(ctx, dinp, dout, inp, n, accumulate);
        break;
    default:
        gelu_backward(ctx, dinp, dout, inp, n, accumulate);
        break;
    }
}

void lmi_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    long i;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = tanhf(inp[i]);
    }
}

void lmi_tanh_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *out,
                      size_t n) {
    /* torch's tanh_backward: dy (1 - y^2) from the output y */
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
    }
}

void lmi_softmax_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t N, size_t C) {
    /* out[N, C] = softmax(inp[N, C]) per row */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float mx = -INFINITY, sum = 0.0f;
        size_t c;
#pragma omp simd reduction(max : mx)
        for (c = 0; c < C; c++) {
            mx = x[c] > mx ? x[c] : mx;
        }
#pragma omp simd reduction(+ : sum)
        for (c = 0; c < C; c++) {
            o[c] = lmi_expf(x[c] - mx);
            sum += o[c];
        }
        for (c = 0; c < C; c++) {
            o[c] /= sum;
        }
    }
}

/* dx[0..n) += p (dy - sum(dy p)) */
LM_CLONES static void softmax_backward_row(float *dx, const float *dy, const float *p, size_t n) {
    float s = 0.0f;
    size_t j;
#pragma omp simd reduction(+ : s)
    for (j = 0; j < n; j++) {
        s += dy[j] * p[j];
    }
#pragma omp simd
    for (j = 0; j < n; j++) {
        dx[j] += p[j] * (dy[j] - s);
    }
}

void lmi_softmax_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout, const float *out,
                         size_t N, size_t C) {
    /* dinp[N, C], dout[N, C], out[N, C] */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        softmax_backward_row(dinp + (size_t)n * C, dout + (size_t)n * C, out + (size_t)n * C, C);
    }
}

/* ---- dropout ----
 * Row `row` of a dropout call hashes its key = seed ^ mix64(row + golden): element c draws
 * u = fmix32(fmix32(lo(key) ^ c) ^ hi(key)) (murmur3's 32-bit finaliser, a bijection) and is kept
 * when u >= thr = floor(p 2^32) (so with probability 1 - p, to 2^-32). A draw depends on (seed,
 * row, c) alone: no generator state, every element computed on its own (vectorised), the same
 * bits in every clone and on every thread count. */

static uint64_t mix64(uint64_t z) { /* splitmix64's finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t lmi_dropout_seed(uint64_t seed, uint64_t step, uint64_t site) {
    return mix64(mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ step) + site);
}

typedef struct dropout_plan {
    uint64_t thr;  /* keep when the 32-bit draw is >= thr; 2^32 drops everything */
    float scale;   /* what a kept value is multiplied by */
} dropout_plan;

static dropout_plan dropout_plan_for(float p) {
    dropout_plan d;
    if (!(p > 0.0f)) {
        d.thr = 0;
        d.scale = 1.0f;
    } else if (p >= 1.0f) {
        d.thr = (uint64_t)1 << 32;
        d.scale = 0.0f;
    } else {
        d.thr = (uint64_t)((double)p * 4294967296.0);
        d.scale = 1.0f / (1.0f - p);
    }
    return d;
}

static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/* x[0..n) *= keep / (1 - p) for row `row`; bits (when not NULL) gets the keep bits, eight
 * elements per byte, element c at bit c % 8 of byte c / 8. */
static LM_CLONES void dropout_row(float *x, uint8_t *bits, size_t n, const dropout_plan *d,
                                  uint64_t seed, uint64_t row) {
    const uint64_t key = seed ^ mix64(row + 0x9E3779B97F4A7C15ull);
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    const float scale = d->scale;
    size_t c0, k;
    if (d->thr > 0xFFFFFFFFull) { /* p >= 1: nothing kept */
        if (x != NULL) {
            memset(x, 0, n * sizeof *x);
        }
        if (bits != NULL) {
            memset(bits, 0, (n + 7) / 8);
        }
        return;
    }
    for (c0 = 0; c0 < n; c0 += 64) {
        const uint32_t thr = (uint32_t)d->thr;
        const size_t w = n - c0 < 64 ? n - c0 : 64;
        uint8_t keep[64];
#pragma omp simd
        for (k = 0; k < 64; k++) { /* a whole block, so that the loop has a constant count */
            keep[k] = fmix32(fmix32(lo ^ (uint32_t)(c0 + k)) ^ hi) >= thr;
        }
        if (x != NULL) {
#pragma omp simd
            for (k = 0; k < w; k++) {
                x[c0 + k] *= keep[k] ? scale : 0.0f; /* x * 0: NaN stays NaN, as torch */
            }
        }
        if (bits != NULL) {
            for (k = 0; k < w; k += 8) {
                unsigned byte = 0, j;
                for (j = 0; j < 8 && k + j < w; j++) {
                    byte |= (unsigned)keep[k + j] << j;
                }
                bits[(c0 + k) / 8] = (uint8_t)byte;
            }
        }
    }
}

size_t lmi_dropout_mask_bytes(size_t N, size_t C) {
    return N * ((C + 7) / 8);
}

void lmi_dropout_forward(const lmi_ops_ctx *ctx, float *out, uint8_t *mask, const float *inp,
                        float p, uint64_t seed, size_t N, size_t C) {
    lmi_dropout_forward_keyed(ctx, out, mask, inp, p, seed, N, C, NULL);
}

void lmi_dropout_forward_keyed(const lmi_ops_ctx *ctx, float *out, uint8_t *mask,
                               const float *inp, float p, uint64_t seed, size_t N, size_t C,
                               const size_t *row_keys) {
    /* out[N, C], mask[N, ceil(C / 8)], inp[N, C], row_keys[N] or NULL */
    const dropout_plan d = dropout_plan_for(p);
    const size_t stride = (C + 7) / 8;
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        const uint8_t *bits = mask + (size_t)n * stride;
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        size_t c;
        if (d.thr == 0) { /* p <= 0: everything kept, nothing drawn */
            memset(mask + (size_t)n * stride, 0xFF, stride);
            if (o != x) {
                copy_row(o, x, C);
            }
            continue;
        }
        dropout_row(NULL, mask + (size_t)n * stride, C, &d, seed,
                    row_keys != NULL ? (uint64_t)row_keys[n] : (uint64_t)n);
#pragma omp simd
        for (c = 0; c < C; c++) { /* inp * (keep / (1 - p)), as torch multiplies by its noise */
            o[c] = x[c] * ((bits[c / 8] >> (c % 8) & 1) ? d.scale : 0.0f);
        }
    }
}

static void dropout_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                             const uint8_t *mask, float p, size_t N, size_t C, int acc) {
    /* dinp[N, C], dout[N, C], mask[N, ceil(C / 8)] */
    const dropout_plan d = dropout_plan_for(p);
    const size_t stride = (C + 7) / 8;
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        const uint8_t *bits = mask + (size_t)n * stride;
        const float *g = dout + (size_t)n * C;
        float *o = dinp + (size_t)n * C;
        size_t c;
#pragma omp simd
        for (c = 0; c < C; c++) {
            const float v = g[c] * ((bits[c / 8] >> (c % 8) & 1) ? d.scale : 0.0f);
            o[c] = acc ? o[c] + v : v;
        }
    }
}

void lmi_dropout_backward(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                         const uint8_t *mask, float p, size_t N, size_t C) {
    dropout_backward(ctx, dinp, dout, mask, p, N, C, 1);
}

void lmi_dropout_backward_set(const lmi_ops_ctx *ctx, float *dinp, const float *dout,
                             const uint8_t *mask, float p, size_t N, size_t C) {
    dropout_backward(ctx, dinp, dout, mask, p, N, C, 0);
}

static size_t lines16(size_t floats) {
    return (floats + 15) & ~(size_t)15;
}

/* One packed K or V of T keys by hd: the larger of the two pack shapes. */
static size_t att_pack_floats(size_t T, size_t hd) {
    const size_t a = lmi_gemm_pack_floats(T, hd), b = lmi_gemm_pack_floats(hd, T);
    return lines16(a > b ? a : b);
}

size_t lmi_attention_scratch_floats(size_t T, size_t hd, int threads) {
    return (lines16(T * T + T) + 2 * att_pack_floats(T, hd)) * (size_t)(threads > 0 ? threads : 1);
}

/* The padding bias of one sequence's keys (0 for a key, -inf for padding) and the end of its
 * real keys: keys at or after the returned index are all padding (0: every key is). */
static size_t attention_key_bias(float *bias, const int32_t *mrow, size_t T) {
    size_t j, kend = 0;
    for (j = 0; j < T; j++) {
        int keep = mrow == NULL || mrow[j] != 0;
        if (bias != NULL) {
            bias[j] = keep ? 0.0f : -INFINITY;
        }
        kend = keep ? j + 1 : kend;
    }
    return kend;
}

/* Rows [r0, r0 + rows) of one head's probabilities S[rows, width]: copied to att (row stride T,
 * zeros after `width`) when att is not NULL, then dropped out in place when d drops anything.
 * `row0` is the dropout row of the head's first query. */
static void attention_keep_and_drop(float *S, size_t rows, size_t width, float *att, size_t r0,
                                    size_t T, const dropout_plan *d, uint64_t seed,
                                    uint64_t row0) {
    size_t i, j;
    for (i = 0; i < rows; i++) {
        float *p = S + i * width;
        if (att != NULL) {
            float *a = att + (r0 + i) * T;
            copy_row(a, p, width);
            for (j = width; j < T; j++) {
                a[j] = 0.0f;
            }
        }
        if (d->thr != 0) {
            dropout_row(p, NULL, width, d, seed, row0 + r0 + i);
        }
    }
}

void lmi_att_seqs_padded(lmi_att_seq *seqs, const int32_t *mask, size_t B, size_t T) {
    size_t b;
    for (b = 0; b < B; b++) {
        const int32_t *mrow = mask != NULL ? mask + b * T : NULL;
        const size_t kend = attention_key_bias(NULL, mrow, T);
        seqs[b].start = b * T;
        seqs[b].rows = T;
        seqs[b].keys = kend > 0 ? kend : T;
        seqs[b].mask = mrow;
    }
}

/* One (sequence, head) of the training forward: A (the unit's [T, T] probabilities, row stride
 * T) or NULL, dropout rows from row0. */
static void attention_unit_forward(const lmi_att_seq *sq, size_t h, float *out, float *A,
                                   const float *qkv, size_t ldqkv, float *scratch, size_t T,
                                   size_t C, size_t hd, float scale, const dropout_plan *drop,
                                   uint64_t seed, uint64_t row0) {
    float *S = scratch;  /* [rows, keys] */
    float *bias = S + T * T; /* [keys]: 0 for a key, -inf for padding */
    float *kmem = S + lines16(T * T + T), *vmem = kmem + att_pack_floats(T, hd);
    const float *q = qkv + sq->start * ldqkv + h * hd;
    const float *k = q + C, *v = q + 2 * C;
    float *o = out + sq->start * C + h * hd;
    const size_t rows = sq->rows, keys = sq->keys;
    const size_t kend = attention_key_bias(bias, sq->mask, keys);
    lmi_gemm_packed pk, pv;
    size_t i;
    if (rows == 0) {
        return;
    }
    if (kend == 0) { /* every key is padding: uniform weights, as an additive mask gives */
        for (i = 0; i < rows * keys; i++) {
            S[i] = 1.0f / (float)keys;
        }
        attention_keep_and_drop(S, rows, keys, A, 0, T, drop, seed, row0);
        lmi_gemm_pack_rows_to(&pv, vmem, v, ldqkv, keys, hd, 1);
        lmi_gemm_forward(o, C, S, keys, &pv, NULL, rows, 0, 1);
        return;
    }
    /* only the keys before kend take part */
    lmi_gemm_pack_weight_to(&pk, kmem, k, ldqkv, kend, hd, 1);
    lmi_gemm_pack_rows_to(&pv, vmem, v, ldqkv, kend, hd, 1);
    lmi_gemm_forward(S, kend, q, ldqkv, &pk, NULL, rows, 0, 1);
    for (i = 0; i < rows; i++) {
        lmi_softmax_scaled_row(S + i * kend, bias, scale, kend);
    }
    attention_keep_and_drop(S, rows, kend, A, 0, T, drop, seed, row0);
    lmi_gemm_forward(o, C, S, kend, &pv, NULL, rows, 0, 1);
}

void lmi_attention_forward(const lmi_ops_ctx *ctx, float *out, float *att, const float *qkv,
                           size_t ldqkv, const lmi_att_seq *seqs, size_t B, float *scratch,
                           size_t T, size_t C, size_t NH, float p_drop, uint64_t seed) {
    /* Per (sequence, head), on liblm's GEMM: S = Q_h K_h^T, the masked row softmax of
     * S / sqrt(hd), O_h = P V_h. Padding keys get probability exactly 0, and each element is
     * computed the same way whatever the batch, so a sequence's result does not depend on its
     * batch. */
    const size_t hd = C / NH, stride = lmi_attention_scratch_floats(T, hd, 1);
    const float scale = 1.0f / sqrtf((float)hd);
    const dropout_plan drop = dropout_plan_for(p_drop);
    const long units = (long)(B * NH);
    long u;
#pragma omp parallel for num_threads(ctx->threads) schedule(dynamic, 1) if (ctx->threads > 1 && units > 1)
    for (u = 0; u < units; u++) {
        const size_t b = (size_t)u / NH, h = (size_t)u % NH;
        attention_unit_forward(&seqs[b], h, out, att != NULL ? att + (size_t)u * T * T : NULL, qkv,
                               ldqkv, scratch + (size_t)omp_get_thread_num() * stride, T, C, hd,
                               scale, &drop, seed, (uint64_t)u * T);
    }
}

size_t lmi_attention_backward_scratch_floats(size_t T, size_t hd, int threads) {
    return (2 * lines16(T * T) + att_pack_floats(T, hd)) * (size_t)(threads > 0 ? threads : 1);
}

/* One (sequence, head) of the backward; P: the unit's kept probabilities (row stride T). */
static void attention_unit_backward(const lmi_att_seq *sq, size_t h, float *dqkv,
                                    const float *dout, const float *qkv, size_t ldqkv,
                                    const float *P, float *scratch, size_t T, size_t C, size_t hd,
                                    float scale, const dropout_plan *drop, uint64_t seed,
                                    uint64_t row0) {
    float *Pd = scratch;            /* [rows, K'] */
    float *D = Pd + lines16(T * T); /* [rows, K'] */
    float *pmem = D + lines16(T * T); /* one pack at a time */
    const float *dO = dout + sq->start * C + h * hd;
    const float *q = qkv + sq->start * ldqkv + h * hd, *k = q + C, *v = q + 2 * C;
    float *dq = dqkv + sq->start * ldqkv + h * hd, *dk = dq + C, *dv = dq + 2 * C;
    const size_t rows = sq->rows;
    const size_t kend = attention_key_bias(NULL, sq->mask, sq->keys);
    const size_t width = kend == 0 ? sq->keys : kend; /* keys with a nonzero weight */
    const float *Pv = P;                               /* the weights that multiplied V */
    size_t ldp = T, i;
    lmi_gemm_packed pk;
    if (rows == 0) {
        return;
    }
    if (drop->thr != 0) {
        for (i = 0; i < rows; i++) {
            copy_row(Pd + i * width, P + i * T, width);
            dropout_row(Pd + i * width, NULL, width, drop, seed, row0 + i);
        }
        Pv = Pd;
        ldp = width;
    }
    lmi_gemm_backward_weight_to(dv, ldqkv, Pv, ldp, dO, C, rows, width, hd, 1, pmem,
                                att_pack_floats(T, hd), 1);
    if (kend == 0) { /* uniform weights: no gradient reaches the scores */
        return;
    }
    lmi_gemm_pack_weight_to(&pk, pmem, v, ldqkv, kend, hd, 1);
    lmi_gemm_forward(D, kend, dO, C, &pk, NULL, rows, 0, 1);
    for (i = 0; i < rows; i++) {
        float *d = D + i * kend;
        const float *p = P + i * T;
        float sum = 0.0f;
        size_t j;
        if (drop->thr != 0) {
            dropout_row(d, NULL, kend, drop, seed, row0 + i);
        }
        for (j = 0; j < kend; j++) {
            sum += p[j] * d[j];
        }
        for (j = 0; j < kend; j++) {
            d[j] = p[j] * (d[j] - sum) * scale;
        }
    }
    lmi_gemm_pack_rows_to(&pk, pmem, k, ldqkv, kend, hd, 1);
    lmi_gemm_forward(dq, ldqkv, D, kend, &pk, NULL, rows, 1, 1);
    lmi_gemm_backward_weight_to(dk, ldqkv, D, kend, q, ldqkv, rows, kend, hd, 1, pmem,
                                att_pack_floats(T, hd), 1);
}

void lmi_attention_backward(const lmi_ops_ctx *ctx, float *dqkv, const float *dout,
                            const float *qkv, size_t ldqkv, const float *att,
                            const lmi_att_seq *seqs, size_t B, float *scratch, size_t T, size_t C,
                            size_t NH, float p_drop, uint64_t seed) {
    /* att[B, NH, T, T]; the rows of dqkv, dout and qkv as seqs say;
     * scratch[threads, lmi_attention_backward_scratch_floats(T, hd, 1)]
     * Per (sequence, head), over the K' = kend keys that take part (the others have P = 0), on
     * liblm's GEMM:
     *   Pd = dropout(P)[rows, K']          dV[K'] += Pd^T dO
     *   dPd = dO V[K']^T [rows, K']        dP = dropout(dPd) (same mask and scale)
     *   dS = P (dP - rowsum(P dP)) / sqrt(hd)
     *   dQ += dS K[K'];  dK[K'] += dS^T Q */
    const size_t hd = C / NH, stride = lmi_attention_backward_scratch_floats(T, hd, 1);
    const float scale = 1.0f / sqrtf((float)hd);
    const dropout_plan drop = dropout_plan_for(p_drop);
    const long units = (long)(B * NH);
    long u;
#pragma omp parallel for num_threads(ctx->threads) schedule(dynamic, 1) if (ctx->threads > 1 && units > 1)
    for (u = 0; u < units; u++) {
        const size_t b = (size_t)u / NH, h = (size_t)u % NH;
        attention_unit_backward(&seqs[b], h, dqkv, dout, qkv, ldqkv, att + (size_t)u * T * T,
                                scratch + (size_t)omp_get_thread_num() * stride, T, C, hd, scale,
                                &drop, seed, (uint64_t)u * T);
    }
}
