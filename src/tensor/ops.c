/* Forward tensor ops (see ops.h): embedding lookup, layer norm, residual add, activations and
 * softmax as plain OpenMP loops; matmul on CBLAS (or the plain kernel of guard.c when the plan
 * forbids the BLAS); masked multi-head self-attention. */
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

#include <math.h>
#include <omp.h>

#include "tensor/guard.h"

/* exp(x) for float, vectorisable (no libm call): x = n ln2 + r, |r| <= ln2/2, e^r by its
 * degree-6 Taylor polynomial (error < 2e-7 relative), 2^n by building the exponent bits.
 * Inputs below -87.3 give 0, above 88.7 give the largest finite value's neighbourhood (clamped). */
static inline float lmi_expf(float x) {
    union {
        int32_t i;
        float f;
    } scale;
    float n, r, p;
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.7f ? 88.7f : x;
    n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666671633720398f +
        r * (0.0416666679084300995f + r * (0.00833333376795053482f +
        r * 0.00138888892251998186f)))));
    scale.i = ((int32_t)n + 127) << 23;
    return x <= -87.3f ? 0.0f : p * scale.f;
}

/* erf(x) as PyTorch's vectorised CPU kernel computes it (Abramowitz and Stegun 7.1.26, absolute
 * error < 1.5e-7), so GELU matches torch closely and vectorises. */
static inline float lmi_erff(float x) {
    float a = x < 0.0f ? -x : x;
    float t = 1.0f / (0.3275911f * a + 1.0f);
    float r = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
               0.254829592f) * t;
    float y = 1.0f - r * lmi_expf(-a * a);
    return x < 0.0f ? -y : y;
}

/* Compiled twice, for AVX2+FMA and for the baseline, picked at load time (GCC target_clones on
 * x86-64 with an ifunc-capable C library): 8-wide instead of 4-wide vectors. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LM_CLONES
#endif

/* Loops shorter than this run on one thread: thread start-up costs more than the work. */
#define LM_PAR_MIN 16384

LM_CLONES static void copy_row(float *out, const float *in, size_t n) {
    size_t i;
#pragma omp simd
    for (i = 0; i < n; i++) {
        out[i] = in[i];
    }
}

/* Softmax of p[0..n) in place with an additive bias row (0 or -inf per key). */
LM_CLONES static void softmax_row_biased(float *p, const float *bias, size_t n) {
    float mx = -INFINITY, sum = 0.0f, inv;
    size_t j;
#pragma omp simd reduction(max : mx)
    for (j = 0; j < n; j++) {
        float x = p[j] + bias[j];
        mx = x > mx ? x : mx;
    }
#pragma omp simd reduction(+ : sum)
    for (j = 0; j < n; j++) {
        float e = lmi_expf(p[j] + bias[j] - mx); /* exactly 0 for padding */
        p[j] = e;
        sum += e;
    }
    inv = 1.0f / sum;
#pragma omp simd
    for (j = 0; j < n; j++) {
        p[j] *= inv;
    }
}

/* o[0..C) = layernorm(x (+ y when y is not NULL)) * weight + bias; o may equal x or y. The row's
 * mean and 1/std go to *mean_out and *rstd_out when they are not NULL. */
LM_CLONES static void layernorm_row(float *o, const float *x, const float *y, const float *weight,
                                    const float *bias, size_t C, float eps, float *mean_out,
                                    float *rstd_out) {
    float m = 0.0f, v = 0.0f, s;
    size_t c;
    if (y != NULL) {
#pragma omp simd reduction(+ : m)
        for (c = 0; c < C; c++) {
            o[c] = x[c] + y[c];
            m += o[c];
        }
        x = o;
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

void lmi_matmul_forward(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                       const float *weight, const float *bias, size_t N, size_t C, size_t OC) {
    /* out[N, OC] = inp[N, C] . weight[OC, C]^T + bias[OC]
     * The BLAS runs single-threaded inside one OpenMP team, so that one thread pool does every
     * op (an OpenMP team and OpenBLAS's own threads spinning side by side on the same cores
     * cost up to 8x). Each thread takes a block of rows, or of output columns when there are
     * fewer rows than columns (each thread packs the whole of the operand it does not split). */
    int threads = ctx->threads;
    if (threads <= 1 || (double)N * C * OC < 2e5) {
        gemm_block(ctx->blas, out, ldo, inp, weight, bias, N, C, OC);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        if (N > OC) {
            size_t lo = N * t / nt, hi = N * (t + 1) / nt;
            gemm_block(ctx->blas, out + lo * ldo, ldo, inp + lo * C, weight, bias, hi - lo, C, OC);
        } else {
            size_t blocks = (OC + 15) / 16;
            size_t lo = blocks * t / nt * 16, hi = blocks * (t + 1) / nt * 16;
            hi = hi < OC ? hi : OC;
            lo = lo < hi ? lo : hi;
            gemm_block(ctx->blas, out + lo, ldo, inp, weight + lo * C,
                       bias != NULL ? bias + lo : NULL, N, C, hi - lo);
        }
    }
}

void lmi_matmul_spans_forward(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *inp,
                             const float *const *weights, const float *const *biases, size_t nw,
                             const lmi_row_span *spans, size_t nspans, size_t C, size_t OC) {
    /* out[rows of each span, k OC + cols] = inp[rows, C] . weights[k][cols, C]^T + biases[k][cols]
     * Column blocks are multiples of 16 wide; their number is fixed by ctx->threads alone. */
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
            gemm_block(ctx->blas, out + sp->start * ldo + k * OC + lo, ldo, inp + sp->start * C,
                       weights[k] + lo * C, biases[k] != NULL ? biases[k] + lo : NULL, sp->count,
                       C, hi - lo);
        }
    }
}

void lmi_residual_layernorm_forward(const lmi_ops_ctx *ctx, float *out, const float *a,
                                   const float *b, const float *weight, const float *bias,
                                   size_t N, size_t C, float eps) {
    /* out[N, C] = layernorm(a[N, C] + b[N, C]) with weight[C], bias[C]; out may equal b. The sum
     * is kept in out before the normalisation, in one pass over the rows. */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        layernorm_row(out + (size_t)n * C, a + (size_t)n * C, b + (size_t)n * C, weight, bias, C,
                      eps, NULL, NULL);
    }
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

void lmi_layernorm_forward(const lmi_ops_ctx *ctx, float *out, float *mean, float *rstd,
                          const float *inp, const float *weight, const float *bias, size_t N,
                          size_t C, float eps) {
    /* out[N, C], mean[N], rstd[N], inp[N, C], weight[C], bias[C] */
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= LM_PAR_MIN)
    for (n = 0; n < (long)N; n++) {
        layernorm_row(out + (size_t)n * C, inp + (size_t)n * C, NULL, weight, bias, C, eps,
                      mean != NULL ? mean + n : NULL, rstd != NULL ? rstd + n : NULL);
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

LM_CLONES static void gelu_range(float *out, const float *inp, size_t n) {
    size_t i;
#pragma omp simd
    for (i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + lmi_erff(x * 0.70710678118654752f));
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

void lmi_relu_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    long i;
#pragma omp parallel for simd num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
    }
}

void lmi_tanh_forward(const lmi_ops_ctx *ctx, float *out, const float *inp, size_t n) {
    long i;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (n >= LM_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        out[i] = tanhf(inp[i]);
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

size_t lmi_attention_scratch_floats(size_t T, int threads) {
    return (T * T + T) * (size_t)(threads > 0 ? threads : 1);
}

void lmi_attention_forward(const lmi_ops_ctx *ctx, float *out, const float *qkv, size_t ldqkv,
                          const int32_t *mask, float *scratch, size_t B, size_t T, size_t C,
                          size_t NH) {
    /* out[B, T, C]; qkv[B, T, ldqkv] = Q | K | V; mask[B, T]; scratch[threads, T * T + T]
     * Per (sequence, head): S = Q_h K_h^T / sqrt(hd) (BLAS), masked row softmax, O_h = P V_h
     * (BLAS). Padding keys get probability exactly 0, so a sequence's result does not depend on
     * how much padding its batch adds. */
    const size_t hd = C / NH;
    const float scale = 1.0f / sqrtf((float)hd);
    const long units = (long)(B * NH);
    long u;
#pragma omp parallel for num_threads(ctx->threads) schedule(dynamic, 1) if (ctx->threads > 1 && units > 1)
    for (u = 0; u < units; u++) {
        const size_t b = (size_t)u / NH, h = (size_t)u % NH;
        float *S = scratch + (size_t)omp_get_thread_num() * (T * T + T); /* [T, T] */
        float *bias = S + T * T; /* [T]: 0 for a key, -inf for padding */
        const float *q = qkv + b * T * ldqkv + h * hd;
        const float *k = q + C, *v = q + 2 * C;
        const int32_t *mrow = mask != NULL ? mask + b * T : NULL;
        size_t i, j, g, kend = 0; /* keys at or after kend are all padding */
        for (j = 0; j < T; j++) {
            int keep = mrow == NULL || mrow[j] != 0;
            bias[j] = keep ? 0.0f : -INFINITY;
            kend = keep ? j + 1 : kend;
        }
        if (kend == 0) { /* every key is padding: uniform weights, as an additive mask gives */
            for (i = 0; i < T * T; i++) {
                S[i] = 1.0f / (float)T;
            }
            lmi_sgemm(ctx->blas, 0, T, hd, T, 1.0f, S, T, v, ldqkv, 0.0f, out + b * T * C + h * hd,
                      C);
            continue;
        }
        /* Only keys before kend take part, and the queries before kend are one product, those
         * after it (padding) another: a sequence computes exactly the same sums (same shapes,
         * same order) whatever padding its batch adds after it. */
        for (g = 0; g < 2; g++) {
            const size_t r0 = g == 0 ? 0 : kend, rows = g == 0 ? kend : T - kend;
            if (rows == 0) {
                continue;
            }
            lmi_sgemm(ctx->blas, 1, rows, kend, hd, scale, q + r0 * ldqkv, ldqkv, k, ldqkv, 0.0f, S,
                      kend);
            for (i = 0; i < rows; i++) {
                softmax_row_biased(S + i * kend, bias, kend);
            }
            lmi_sgemm(ctx->blas, 0, rows, hd, kend, 1.0f, S, kend, v, ldqkv, 0.0f,
                      out + (b * T + r0) * C + h * hd, C);
        }
    }
}
