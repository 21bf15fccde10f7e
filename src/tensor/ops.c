/* Forward tensor ops (see ops.h): embedding lookup, layer norm, residual add, activations and
 * softmax as plain OpenMP loops; matmul on CBLAS; masked multi-head self-attention. */
#include "tensor/ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>

/* Loops shorter than this run on one thread: thread start-up costs more than the work. */
#define LM_PAR_MIN 16384

/* One single-threaded sgemm: out[N, OC] = inp[N, C] . weight[OC, C]^T (+ bias). */
static void gemm_block(float *out, size_t ldo, const float *inp, const float *weight,
                       const float *bias, size_t N, size_t C, size_t OC) {
    size_t n, j;
    float beta = 0.0f;
    if (N == 0 || OC == 0) {
        return;
    }
    if (bias != NULL) {
        for (n = 0; n < N; n++) {
            float *o = out + n * ldo;
            for (j = 0; j < OC; j++) {
                o[j] = bias[j];
            }
        }
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)C, 1.0f, inp,
                (int)C, weight, (int)C, beta, out, (int)ldo);
}

void lm_matmul_forward(const lm_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                       const float *weight, const float *bias, size_t N, size_t C, size_t OC) {
    /* out[N, OC] = inp[N, C] . weight[OC, C]^T + bias[OC]
     * The BLAS runs single-threaded inside one OpenMP team (one thread pool for every op: an
     * OpenMP team and BLAS threads spinning side by side on the same cores cost up to 8x).
     * Each thread takes a block of rows, or of output columns when there are few rows. */
    int threads = ctx->threads;
    double work = (double)N * (double)C * (double)OC;
    if (threads <= 1 || work < 2e5) {
        gemm_block(out, ldo, inp, weight, bias, N, C, OC);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        if (N >= 8 * nt) {
            size_t lo = N * t / nt, hi = N * (t + 1) / nt;
            gemm_block(out + lo * ldo, ldo, inp + lo * C, weight, bias, hi - lo, C, OC);
        } else {
            size_t lo = OC * t / nt, hi = OC * (t + 1) / nt;
            gemm_block(out + lo, ldo, inp, weight + lo * C, bias != NULL ? bias + lo : NULL, N, C,
                       hi - lo);
        }
    }
}

void lm_embedding_forward(const lm_ops_ctx *ctx, float *out, const int32_t *ids,
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

void lm_layernorm_forward(const lm_ops_ctx *ctx, float *out, float *mean, float *rstd,
                          const float *inp, const float *weight, const float *bias, size_t N,
                          size_t C, float eps) {
    /* out[N, C], mean[N], rstd[N], inp[N, C], weight[C], bias[C] */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float m = 0.0f, v = 0.0f, s;
        size_t c;
#pragma omp simd reduction(+ : m)
        for (c = 0; c < C; c++) {
            m += x[c];
        }
        m /= (float)C;
#pragma omp simd reduction(+ : v)
        for (c = 0; c < C; c++) {
            float d = x[c] - m;
            v += d * d;
        }
        v /= (float)C;
        s = 1.0f / sqrtf(v + eps);
        for (c = 0; c < C; c++) {
            o[c] = (x[c] - m) * s * weight[c] + bias[c];
        }
        if (mean != NULL) {
            mean[n] = m;
        }
        if (rstd != NULL) {
            rstd[n] = s;
        }
    }
}

void lm_residual_forward(const lm_ops_ctx *ctx, float *out, const float *a, const float *b,
                         size_t n) {
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = a[i] + b[i];
    }
}

void lm_gelu_forward(const lm_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    /* 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.functional.gelu */
    long i;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    }
}

void lm_gelu_tanh_forward(const lm_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as gelu_new / gelu_pytorch_tanh */
    long i;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        float x = inp[i];
        float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        out[i] = 0.5f * x * (1.0f + tanhf(u));
    }
}

void lm_relu_forward(const lm_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
    }
}

void lm_tanh_forward(const lm_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    long i;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = tanhf(inp[i]);
    }
}

void lm_softmax_forward(const lm_ops_ctx *ctx, float *out, const float *inp, size_t N, size_t C) {
    /* out[N, C] = softmax(inp[N, C]) per row */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float mx = -INFINITY, sum = 0.0f;
        size_t c;
        for (c = 0; c < C; c++) {
            mx = x[c] > mx ? x[c] : mx;
        }
        for (c = 0; c < C; c++) {
            o[c] = expf(x[c] - mx);
            sum += o[c];
        }
        for (c = 0; c < C; c++) {
            o[c] /= sum;
        }
    }
}

size_t lm_attention_scratch_floats(size_t T, int threads) {
    return T * (size_t)(threads > 0 ? threads : 1);
}

void lm_attention_forward(const lm_ops_ctx *ctx, float *out, const float *qkv, size_t ldqkv,
                          const int32_t *mask, float *scratch, size_t B, size_t T, size_t C,
                          size_t NH) {
    /* out[B, T, C]; qkv[B, T, ldqkv] = Q | K | V; mask[B, T]; scratch[threads, T] */
    const size_t hd = C / NH;
    const float scale = 1.0f / sqrtf((float)hd);
    const long units = (long)(B * NH * T);
    long u;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (units * (long)T * (long)hd >= LM_PAR_MIN)
    for (u = 0; u < units; u++) {
        const size_t b = (size_t)u / (NH * T);
        const size_t h = ((size_t)u / T) % NH;
        const size_t i = (size_t)u % T;
        float *p = scratch + (size_t)omp_get_thread_num() * T;
        const float *q = qkv + (b * T + i) * ldqkv + h * hd;
        const int32_t *mrow = mask != NULL ? mask + b * T : NULL;
        float *o = out + (b * T + i) * C + h * hd;
        float mx = -INFINITY, sum = 0.0f;
        int any = mrow == NULL;
        size_t j, d;
        if (mrow != NULL) {
            for (j = 0; j < T && !any; j++) {
                any = mrow[j] != 0;
            }
        }
        for (j = 0; j < T && !any; j++) {
            p[j] = 0.0f; /* every key is padding: uniform weights, as an additive mask gives */
        }
        mx = any ? mx : 0.0f;
        for (j = 0; j < T && any; j++) {
            const float *k = qkv + (b * T + j) * ldqkv + C + h * hd;
            float s = 0.0f;
            if (mrow != NULL && mrow[j] == 0) {
                p[j] = -INFINITY;
                continue;
            }
#pragma omp simd reduction(+ : s)
            for (d = 0; d < hd; d++) {
                s += q[d] * k[d];
            }
            s *= scale;
            p[j] = s;
            mx = s > mx ? s : mx;
        }
        for (j = 0; j < T; j++) {
            float e = p[j] == -INFINITY ? 0.0f : expf(p[j] - mx);
            p[j] = e;
            sum += e;
        }
        for (d = 0; d < hd; d++) {
            o[d] = 0.0f;
        }
        for (j = 0; j < T; j++) {
            const float *v = qkv + (b * T + j) * ldqkv + 2 * C + h * hd;
            const float w = p[j] / sum;
            if (p[j] == 0.0f) {
                continue;
            }
#pragma omp simd
            for (d = 0; d < hd; d++) {
                o[d] += w * v[d];
            }
        }
    }
}
