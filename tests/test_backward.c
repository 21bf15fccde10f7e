/* Every backward of src/tensor/ops.h and src/loss/loss.h against central finite differences,
 * from one table of cases, then the determinism of dropout and of the backwards that promise
 * it, and the overwrite (`_set`) forms against zeroing and adding.
 *
 * Method. Each case packs the op's differentiable inputs into one vector x (parts: e.g. inp |
 * weight | bias) and defines a scalar L(x) = sum(w * forward(x)) with fixed random weights w
 * (for a loss, L is the loss itself). The reference L is written in this file in double
 * precision from the op's definition (libm erf/tanh/exp, exact sums). The library runs its float
 * forward, then its backward with dout = w, into zeroed d-buffers laid out like x. The finite
 * difference g_i = (L(x + h e_i) - L(x - h e_i)) / 2h uses h = 1e-3 on the double reference.
 *
 * Tolerance. The error of a part is max_i |analytic_i - fd_i| / max_i |fd_i| over the part.
 * - FD error: truncation h^2 / 6 |L'''| <= ~2e-7 for the O(1) inputs and derivatives here
 *   (3e-8 typical: the worst is GELU's and attention's curvature); rounding eps_double / h
 *   ~ 1e-13: negligible.
 * - Analytic error: float sums of K <= 128 terms, relative error <= K u ~ 8e-6 in the worst
 *   case, ~sqrt(K) u ~ 7e-7 typically (u = 6e-8), plus what the saved float forward values
 *   carry (probabilities, mean/rstd ~ 1e-7 relative; the vectorised erf/exp behind GELU
 *   ~ 2e-7 absolute).
 * So a correct backward sits near 1e-6 and tol = 2e-5 leaves a 10x margin over the worst case
 * of the analytic part, while a wrong term or a missing contribution is an O(1e-2 .. 1) error.
 * Every case also runs its backward twice into the same buffers and checks the second result is
 * twice the first (gradients are added, not stored). */
#include <math.h>

#include "test_util.h"

#include "base/rng.h"
#include "loss/loss.h"
#include "tensor/ops.h"

#define FD_H 1e-3
#define FD_TOL 2e-5
/* Parts up to CHECK_ALL inputs are checked whole, larger ones at ~150 evenly spread inputs (~40
 * and 100 in quick mode, for valgrind). */
#define CHECK_ALL 600

static const lmi_ops_ctx ctx1 = {1, 0, 0, NULL, 0};
static const lmi_ops_ctx ctx2 = {2, 0, 0, NULL, 0};

/* ---- the state of one case ---- */

typedef struct part {
    const char *name;
    size_t off, n;
} part;

typedef struct fd_state {
    const lmi_ops_ctx *ctx;
    size_t nx;     /* differentiable inputs */
    float *x;      /* [nx] */
    float *w;      /* upstream weights, [nw] */
    size_t nw;
    part parts[4];
    size_t nparts;
    /* shapes and fixed (non-differentiable) data */
    size_t N, C, OC, V, B, T, NH, ld;
    int32_t *ids;  /* embedding ids, attention mask, labels, QA positions (start then end) */
    uint8_t *mask; /* dropout bits */
    float *aux;    /* dropout reference mask values, targets */
    float p;
    uint64_t seed;
    double gscale;
    int kind;      /* a case's variant (activation kind, loss kind) */
} fd_state;

typedef struct fd_case {
    const char *name;
    void (*setup)(fd_state *s);
    double (*loss)(const fd_state *s, const double *x); /* reference, double */
    void (*grad)(fd_state *s, float *g);                 /* library: adds dL/dx into g */
} fd_case;

static lmi_rng rng;

static void fill(float *x, size_t n, double scale) {
    size_t i;
    for (i = 0; i < n; i++) {
        x[i] = (float)(lmi_rng_normal(&rng) * scale);
    }
}

static float *alloc_floats(size_t n) {
    float *p = calloc(n > 0 ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static void add_part(fd_state *s, const char *name, size_t n) {
    part *p = &s->parts[s->nparts++];
    p->name = name;
    p->off = s->nparts > 1 ? s->parts[s->nparts - 2].off + s->parts[s->nparts - 2].n : 0;
    p->n = n;
    s->nx = p->off + n;
}

/* Allocates x (filled with normals) and w (normals) once the parts are declared. */
static void alloc_xw(fd_state *s, size_t nw) {
    s->x = alloc_floats(s->nx);
    fill(s->x, s->nx, 1.0);
    s->nw = nw;
    s->w = alloc_floats(nw);
    fill(s->w, nw, 1.0);
}

static double *alloc_doubles(size_t n) {
    double *p = calloc(n > 0 ? n : 1, sizeof(double));
    assert_non_null(p);
    return p;
}

/* ==== matmul ==== x = inp[N, C] | weight[OC, C] | bias[OC]; out[N, ld] (first OC columns) */

static void matmul_setup_common(fd_state *s, size_t N, size_t C, size_t OC, size_t ld, int bias) {
    s->N = N;
    s->C = C;
    s->OC = OC;
    s->ld = ld;
    add_part(s, "inp", N * C);
    add_part(s, "weight", OC * C);
    if (bias) {
        add_part(s, "bias", OC);
    }
    alloc_xw(s, N * ld);
}
static void matmul_small(fd_state *s) { matmul_setup_common(s, 5, 7, 6, 9, 1); }
static void matmul_nobias(fd_state *s) { matmul_setup_common(s, 4, 6, 3, 3, 0); }
/* large enough for the threaded path: rows > cols and out cols > in cols */
static void matmul_par_rows(fd_state *s) { matmul_setup_common(s, 96, 40, 64, 64, 1); }
/* threaded path, few rows: dinp and dweight split by columns */
static void matmul_par_cols(fd_state *s) { matmul_setup_common(s, 20, 128, 96, 100, 1); }

static double matmul_loss(const fd_state *s, const double *x) {
    const double *inp = x, *wt = x + s->N * s->C, *b = s->nparts > 2 ? wt + s->OC * s->C : NULL;
    double l = 0;
    size_t n, o, c;
    for (n = 0; n < s->N; n++) {
        for (o = 0; o < s->OC; o++) {
            double acc = b != NULL ? b[o] : 0;
            for (c = 0; c < s->C; c++) {
                acc += inp[n * s->C + c] * wt[o * s->C + c];
            }
            l += s->w[n * s->ld + o] * acc;
        }
    }
    return l;
}

static void matmul_grad(fd_state *s, float *g) {
    float *inp = s->x, *wt = s->x + s->N * s->C, *b = s->nparts > 2 ? wt + s->OC * s->C : NULL;
    /* the forward is not needed by the backward; dout = w with row stride ld */
    float *dw = g + s->N * s->C, *db = b != NULL ? dw + s->OC * s->C : NULL;
    lmi_matmul_backward(s->ctx, g, dw, db, s->w, s->ld, inp, wt, s->N, s->C, s->OC);
}

/* ==== embedding ==== x = table[V, C]; out[N, C] = table[ids] */

static void embedding_common(fd_state *s, size_t V, size_t N, size_t C) {
    size_t n;
    s->V = V;
    s->N = N;
    s->C = C;
    add_part(s, "table", V * C);
    alloc_xw(s, N * C);
    s->ids = malloc(N * sizeof(int32_t));
    assert_non_null(s->ids);
    for (n = 0; n < N; n++) { /* repeats: id 0 often, the last id never */
        s->ids[n] = n % 3 == 0 ? 0 : (int32_t)lmi_rng_below(&rng, V - 1);
    }
}
static void embedding_small(fd_state *s) { embedding_common(s, 7, 12, 5); }
static void embedding_par(fd_state *s) { embedding_common(s, 9, 400, 96); }

static double embedding_loss(const fd_state *s, const double *x) {
    double l = 0;
    size_t n, c;
    for (n = 0; n < s->N; n++) {
        for (c = 0; c < s->C; c++) {
            l += s->w[n * s->C + c] * x[(size_t)s->ids[n] * s->C + c];
        }
    }
    return l;
}

static void embedding_grad(fd_state *s, float *g) {
    lmi_embedding_backward(s->ctx, g, s->ids, s->w, s->N, s->C);
}

/* ==== layer norm ==== x = inp[N, C] | weight[C] | bias[C] (kind 1: a | b | weight | bias, the
 * fused residual) */

#define LN_EPS 1e-5f

static void layernorm_common(fd_state *s, size_t N, size_t C, int residual) {
    size_t c;
    s->N = N;
    s->C = C;
    s->kind = residual;
    add_part(s, residual ? "a" : "inp", N * C);
    if (residual) {
        add_part(s, "b", N * C);
    }
    add_part(s, "weight", C);
    add_part(s, "bias", C);
    alloc_xw(s, N * C);
    for (c = 0; c < C; c++) { /* weights near 1, as trained models have them */
        s->x[s->parts[s->nparts - 2].off + c] += 1.0f;
    }
}
static void layernorm_small(fd_state *s) { layernorm_common(s, 4, 9, 0); }
static void layernorm_par(fd_state *s) { layernorm_common(s, 300, 64, 0); }
static void residual_layernorm_small(fd_state *s) { layernorm_common(s, 3, 10, 1); }

static double layernorm_loss(const fd_state *s, const double *x) {
    const size_t N = s->N, C = s->C;
    const double *a = x, *b = s->kind ? x + N * C : NULL;
    const double *wt = x + (s->kind ? 2 : 1) * N * C, *bias = wt + C;
    double l = 0;
    size_t n, c;
    for (n = 0; n < N; n++) {
        double m = 0, v = 0, r;
        for (c = 0; c < C; c++) {
            m += a[n * C + c] + (b != NULL ? b[n * C + c] : 0);
        }
        m /= (double)C;
        for (c = 0; c < C; c++) {
            double d = a[n * C + c] + (b != NULL ? b[n * C + c] : 0) - m;
            v += d * d;
        }
        v /= (double)C;
        r = 1.0 / sqrt(v + (double)LN_EPS);
        for (c = 0; c < C; c++) {
            double xh = (a[n * C + c] + (b != NULL ? b[n * C + c] : 0) - m) * r;
            l += s->w[n * C + c] * (xh * wt[c] + bias[c]);
        }
    }
    return l;
}

static void layernorm_grad(fd_state *s, float *g) {
    const size_t N = s->N, C = s->C;
    float *out = alloc_floats(N * C), *mean = alloc_floats(N), *rstd = alloc_floats(N);
    if (!s->kind) {
        const float *wt = s->x + N * C;
        lmi_layernorm_forward(s->ctx, out, mean, rstd, s->x, wt, wt + C, N, C, LN_EPS);
        lmi_layernorm_backward(s->ctx, g, g + N * C, g + N * C + C, s->w, s->x, mean, rstd, wt,
                               N, C);
    } else {
        const float *wt = s->x + 2 * N * C;
        float *sum = alloc_floats(N * C), *dsum = alloc_floats(N * C), *ref = alloc_floats(N * C);
        lmi_residual_layernorm_keep_forward(s->ctx, out, sum, mean, rstd, s->x, s->x + N * C, wt,
                                            wt + C, N, C, LN_EPS);
        /* the kept forward gives the inference forward's values, bit for bit */
        lmi_residual_layernorm_forward(s->ctx, ref, s->x, s->x + N * C, wt, wt + C, N, C, LN_EPS);
        assert_memory_equal(out, ref, N * C * sizeof(float));
        lmi_residual_layernorm_backward(s->ctx, dsum, g + 2 * N * C, g + 2 * N * C + C, s->w, sum,
                                        mean, rstd, wt, N, C);
        lmi_residual_backward(s->ctx, g, g + N * C, dsum, N * C);
        free(sum);
        free(dsum);
        free(ref);
    }
    free(out);
    free(mean);
    free(rstd);
}

/* ==== activations ==== x = inp[N]; kind 0 GELU erf, 1 GELU tanh, 2 ReLU, 3 tanh */

static void act_common(fd_state *s, int kind, size_t n) {
    size_t i;
    s->kind = kind;
    s->N = n;
    add_part(s, "inp", n);
    alloc_xw(s, n);
    for (i = 0; i < n; i++) {
        s->x[i] *= 2.5f; /* into the tails of GELU and tanh */
        if (kind == 2 && fabsf(s->x[i]) < 0.01f) {
            s->x[i] = 0.5f; /* ReLU: no input within h of the kink */
        }
    }
}
static void gelu_small(fd_state *s) { act_common(s, 0, 64); }
static void gelu_par(fd_state *s) { act_common(s, 0, 40000); }
static void gelu_tanh_small(fd_state *s) { act_common(s, 1, 64); }
static void relu_small(fd_state *s) { act_common(s, 2, 64); }
static void tanh_small(fd_state *s) { act_common(s, 3, 64); }

static double act_ref(int kind, double x) {
    switch (kind) {
    case 0:
        return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case 1:
        return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.141592653589793) * (x + 0.044715 * x * x * x)));
    case 2:
        return x > 0 ? x : 0;
    default:
        return tanh(x);
    }
}

static double act_loss(const fd_state *s, const double *x) {
    double l = 0;
    size_t i;
    for (i = 0; i < s->N; i++) {
        l += s->w[i] * act_ref(s->kind, x[i]);
    }
    return l;
}

static void act_grad(fd_state *s, float *g) {
    float *out = alloc_floats(s->N);
    switch (s->kind) {
    case 0:
        lmi_gelu_forward(s->ctx, out, s->x, s->N); /* out of place: x kept */
        lmi_gelu_backward(s->ctx, g, s->w, s->x, s->N);
        break;
    case 1:
        lmi_gelu_tanh_forward(s->ctx, out, s->x, s->N);
        lmi_gelu_tanh_backward(s->ctx, g, s->w, s->x, s->N);
        break;
    case 2:
        lmi_relu_forward(s->ctx, out, s->x, s->N);
        lmi_relu_backward(s->ctx, g, s->w, s->x, s->N);
        break;
    default:
        lmi_tanh_forward(s->ctx, out, s->x, s->N);
        lmi_tanh_backward(s->ctx, g, s->w, out, s->N);
        break;
    }
    free(out);
}

/* ==== softmax ==== x = inp[N, C] */

static void softmax_small(fd_state *s) {
    s->N = 3;
    s->C = 8;
    add_part(s, "inp", 24);
    alloc_xw(s, 24);
}

static double softmax_loss(const fd_state *s, const double *x) {
    double l = 0;
    size_t n, c;
    for (n = 0; n < s->N; n++) {
        double mx = -INFINITY, sum = 0;
        for (c = 0; c < s->C; c++) {
            mx = x[n * s->C + c] > mx ? x[n * s->C + c] : mx;
        }
        for (c = 0; c < s->C; c++) {
            sum += exp(x[n * s->C + c] - mx);
        }
        for (c = 0; c < s->C; c++) {
            l += s->w[n * s->C + c] * exp(x[n * s->C + c] - mx) / sum;
        }
    }
    return l;
}

static void softmax_grad(fd_state *s, float *g) {
    float *out = alloc_floats(s->N * s->C);
    lmi_softmax_forward(s->ctx, out, s->x, s->N, s->C);
    lmi_softmax_backward(s->ctx, g, s->w, out, s->N, s->C);
    free(out);
}

/* ==== dropout ==== x = inp[N, C]; the mask is drawn once in setup and held fixed */

static void dropout_small(fd_state *s) {
    float *tmp;
    size_t i;
    s->N = 5;
    s->C = 13; /* not a multiple of 8: the last byte of each row is partial */
    s->p = 0.3f;
    s->seed = lmi_dropout_seed(42, 3, 7);
    add_part(s, "inp", 65);
    alloc_xw(s, 65);
    s->mask = calloc(lmi_dropout_mask_bytes(s->N, s->C), 1);
    s->aux = alloc_floats(65);
    tmp = alloc_floats(65);
    assert_non_null(s->mask);
    for (i = 0; i < 65; i++) {
        tmp[i] = 1.0f;
    }
    /* aux = keep / (1 - p) from a forward on ones */
    lmi_dropout_forward(s->ctx, s->aux, s->mask, tmp, s->p, s->seed, s->N, s->C);
    free(tmp);
}

static double dropout_loss(const fd_state *s, const double *x) {
    double l = 0;
    size_t i;
    for (i = 0; i < s->N * s->C; i++) {
        l += s->w[i] * x[i] * s->aux[i];
    }
    return l;
}

static void dropout_grad(fd_state *s, float *g) {
    float *out = alloc_floats(s->N * s->C);
    uint8_t *m = calloc(lmi_dropout_mask_bytes(s->N, s->C), 1);
    size_t i;
    assert_non_null(m);
    lmi_dropout_forward(s->ctx, out, m, s->x, s->p, s->seed, s->N, s->C);
    assert_memory_equal(m, s->mask, lmi_dropout_mask_bytes(s->N, s->C));
    for (i = 0; i < s->N * s->C; i++) {
        assert_true(out[i] == s->x[i] * s->aux[i]);
    }
    lmi_dropout_backward(s->ctx, g, s->w, m, s->p, s->N, s->C);
    free(out);
    free(m);
}

/* ==== attention ==== x = qkv[B, T, ld]; mask per sequence: all real, trailing padding,
 * interior + trailing padding, all padding */

static void attention_common(fd_state *s, float p) {
    static const int32_t masks[4][5] = {
        {1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 0, 1, 1, 0}, {0, 0, 0, 0, 0}};
    s->B = 4;
    s->T = 5;
    s->C = 8;
    s->NH = 2;
    s->ld = 3 * s->C + 2; /* two unused columns per token: their gradient stays 0 */
    s->p = p;
    s->seed = 99;
    add_part(s, "qkv", s->B * s->T * s->ld);
    alloc_xw(s, s->B * s->T * s->C);
    s->ids = malloc(sizeof masks);
    assert_non_null(s->ids);
    memcpy(s->ids, masks, sizeof masks);
    if (p > 0) { /* aux[B * NH * T, T] = keep / (1 - p): the documented attention mask */
        const size_t rows = s->B * s->NH * s->T;
        float *ones = alloc_floats(rows * s->T);
        uint8_t *bits = calloc(lmi_dropout_mask_bytes(rows, s->T), 1);
        size_t i;
        assert_non_null(bits);
        for (i = 0; i < rows * s->T; i++) {
            ones[i] = 1.0f;
        }
        s->aux = alloc_floats(rows * s->T);
        lmi_dropout_forward(s->ctx, s->aux, bits, ones, p, s->seed, rows, s->T);
        free(ones);
        free(bits);
    }
}
static void attention_plain(fd_state *s) { attention_common(s, 0.0f); }
static void attention_dropout(fd_state *s) { attention_common(s, 0.25f); }

static double attention_loss(const fd_state *s, const double *x) {
    const size_t B = s->B, T = s->T, C = s->C, NH = s->NH, hd = C / NH, ld = s->ld;
    const double scale = 1.0 / sqrt((double)hd);
    double l = 0;
    size_t b, h, i, j, d;
    for (b = 0; b < B; b++) {
        const int32_t *m = s->ids + b * T;
        int any = 0;
        for (j = 0; j < T; j++) {
            any |= m[j] != 0;
        }
        for (h = 0; h < NH; h++) {
            for (i = 0; i < T; i++) {
                double sc[16], mx = -INFINITY, sum = 0;
                const double *q = x + (b * T + i) * ld + h * hd;
                for (j = 0; j < T; j++) {
                    const double *k = x + (b * T + j) * ld + C + h * hd;
                    double dot = 0;
                    for (d = 0; d < hd; d++) {
                        dot += q[d] * k[d];
                    }
                    sc[j] = dot * scale;
                    if (any && m[j] == 0) {
                        sc[j] = -INFINITY;
                    }
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                for (j = 0; j < T; j++) {
                    /* all padding: uniform weights (finfo.min swamps the scores) */
                    sc[j] = !any ? 1.0 : exp(sc[j] - mx);
                    sum += sc[j];
                }
                for (j = 0; j < T; j++) {
                    sc[j] /= sum;
                    if (s->p > 0) {
                        sc[j] *= s->aux[((b * NH + h) * T + i) * T + j];
                    }
                }
                for (d = 0; d < hd; d++) {
                    double o = 0;
                    for (j = 0; j < T; j++) {
                        o += sc[j] * x[(b * T + j) * ld + 2 * C + h * hd + d];
                    }
                    l += s->w[(b * T + i) * C + h * hd + d] * o;
                }
            }
        }
    }
    return l;
}

static void attention_grad(fd_state *s, float *g) {
    const size_t B = s->B, T = s->T, C = s->C, NH = s->NH;
    const int th = s->ctx->threads;
    float *out = alloc_floats(B * T * C), *att = alloc_floats(B * NH * T * T);
    float *out2 = alloc_floats(B * T * C);
    lmi_att_seq *seqs = malloc(B * sizeof *seqs);
    /* 64-byte aligned: the GEMM's packs live in the scratch */
    float *scr = aligned_alloc(64, (lmi_attention_scratch_floats(T, C / NH, th) + 16) / 16 * 64);
    float *bscr =
        aligned_alloc(64, (lmi_attention_backward_scratch_floats(T, C / NH, th) + 16) / 16 * 64);
    assert_non_null(scr);
    assert_non_null(bscr);
    assert_non_null(seqs);
    lmi_att_seqs_padded(seqs, s->ids, B, T);
    lmi_attention_forward(s->ctx, out, att, s->x, s->ld, seqs, B, scr, T, C, NH, s->p, s->seed);
    /* keeping the probabilities changes nothing in the output */
    lmi_attention_forward(s->ctx, out2, NULL, s->x, s->ld, seqs, B, scr, T, C, NH, s->p, s->seed);
    assert_memory_equal(out, out2, B * T * C * sizeof(float));
    lmi_attention_backward(s->ctx, g, s->w, s->x, s->ld, att, seqs, B, bscr, T, C, NH, s->p,
                           s->seed);
    free(seqs);
    free(out);
    free(out2);
    free(att);
    free(scr);
    free(bscr);
}

/* ==== losses ==== the loss is L itself; kind 0 CE, 1 MSE, 2 BCE, 3 QA */

static void ce_setup(fd_state *s) {
    static const int32_t labels[7] = {2, -100, 0, 4, -100, 1, 4};
    s->kind = 0;
    s->N = 7;
    s->C = 5;
    s->gscale = 0.5; /* e.g. two accumulation steps */
    add_part(s, "logits", 35);
    alloc_xw(s, 1);
    s->ids = malloc(sizeof labels);
    assert_non_null(s->ids);
    memcpy(s->ids, labels, sizeof labels);
}

static void ce_all_ignored(fd_state *s) {
    size_t i;
    ce_setup(s);
    for (i = 0; i < s->N; i++) {
        s->ids[i] = LMI_IGNORE_INDEX;
    }
}

static void mse_setup(fd_state *s) {
    s->kind = 1;
    s->N = 9;
    s->gscale = 1.0;
    add_part(s, "pred", 9);
    alloc_xw(s, 1);
    s->aux = alloc_floats(9);
    fill(s->aux, 9, 1.0);
}

static void bce_setup(fd_state *s) {
    size_t i;
    mse_setup(s);
    s->kind = 2;
    for (i = 0; i < 9; i++) {
        s->x[i] *= 3.0f;
        s->aux[i] = (float)(i % 3) / 2.0f; /* 0, 0.5, 1 */
    }
}

static void qa_setup(fd_state *s) {
    /* start: in range, negative (clamped to 0), == T and beyond T (ignored); end: all kinds */
    static const int32_t pos[8] = {2, -3, 6, 40, 5, 0, 1, 6};
    s->kind = 3;
    s->B = 4;
    s->T = 6;
    s->gscale = 1.0;
    add_part(s, "logits", 4 * 6 * 2);
    alloc_xw(s, 1);
    s->ids = malloc(sizeof pos);
    assert_non_null(s->ids);
    memcpy(s->ids, pos, sizeof pos);
}

/* mean over rows with label != ignore of logsumexp - x[label], with strides */
static double ce_ref(const double *x, const int32_t *labels, size_t N, size_t C, size_t rs,
                     size_t cs, int32_t ignore, int clamp) {
    double total = 0;
    size_t n, c, count = 0;
    for (n = 0; n < N; n++) {
        int32_t y = labels[n];
        double mx = -INFINITY, sum = 0;
        if (clamp) {
            y = y < 0 ? 0 : (y > (int32_t)C ? (int32_t)C : y);
        }
        if (y == ignore) {
            continue;
        }
        for (c = 0; c < C; c++) {
            mx = x[n * rs + c * cs] > mx ? x[n * rs + c * cs] : mx;
        }
        for (c = 0; c < C; c++) {
            sum += exp(x[n * rs + c * cs] - mx);
        }
        total += mx + log(sum) - x[n * rs + (size_t)y * cs];
        count++;
    }
    return count > 0 ? total / (double)count : 0.0;
}

static double loss_loss(const fd_state *s, const double *x) {
    double l = 0;
    size_t i;
    switch (s->kind) {
    case 0:
        return s->gscale * ce_ref(x, s->ids, s->N, s->C, s->C, 1, LMI_IGNORE_INDEX, 0);
    case 1:
        for (i = 0; i < s->N; i++) {
            l += (x[i] - s->aux[i]) * (x[i] - s->aux[i]);
        }
        return s->gscale * l / (double)s->N;
    case 2:
        for (i = 0; i < s->N; i++) {
            double sig = 1.0 / (1.0 + exp(-x[i]));
            l -= s->aux[i] * log(sig) + (1.0 - s->aux[i]) * log(1.0 - sig);
        }
        return s->gscale * l / (double)s->N;
    default:
        return s->gscale * 0.5 *
               (ce_ref(x, s->ids, s->B, s->T, 2 * s->T, 2, (int32_t)s->T, 1) +
                ce_ref(x + 1, s->ids + s->B, s->B, s->T, 2 * s->T, 2, (int32_t)s->T, 1));
    }
}

static void loss_grad(fd_state *s, float *g) {
    double loss, ref;
    double *xd = alloc_doubles(s->nx);
    size_t i, count;
    for (i = 0; i < s->nx; i++) {
        xd[i] = s->x[i];
    }
    switch (s->kind) {
    case 0:
        assert_int_equal(lmi_cross_entropy_loss(s->ctx->threads, &loss, &count, g, s->x, s->ids,
                                                s->N, s->C, LMI_IGNORE_INDEX, s->gscale),
                         LM_OK);
        loss *= s->gscale; /* the returned loss is not scaled */
        break;
    case 1:
        loss = s->gscale * lmi_mse_loss(s->ctx->threads, g, s->x, s->aux, s->N, s->gscale);
        break;
    case 2:
        loss = s->gscale * lmi_bce_with_logits_loss(s->ctx->threads, g, s->x, s->aux, s->N,
                                                    s->gscale);
        break;
    default:
        loss = s->gscale * lmi_qa_loss(s->ctx->threads, g, s->x, s->ids, s->ids + s->B, s->B,
                                       s->T, s->gscale);
        break;
    }
    ref = loss_loss(s, xd);
    assert_true(fabs(loss - ref) <= 1e-12 * (fabs(ref) + 1e-300)); /* the loss itself, in double */
    free(xd);
}

/* ==== the table ==== */

static const fd_case cases[] = {
    {"matmul", matmul_small, matmul_loss, matmul_grad},
    {"matmul (no bias)", matmul_nobias, matmul_loss, matmul_grad},
    {"matmul (threads, row blocks)", matmul_par_rows, matmul_loss, matmul_grad},
    {"matmul (threads, column blocks)", matmul_par_cols, matmul_loss, matmul_grad},
    {"embedding (repeated ids)", embedding_small, embedding_loss, embedding_grad},
    {"embedding (threads)", embedding_par, embedding_loss, embedding_grad},
    {"layernorm", layernorm_small, layernorm_loss, layernorm_grad},
    {"layernorm (threads)", layernorm_par, layernorm_loss, layernorm_grad},
    {"residual + layernorm", residual_layernorm_small, layernorm_loss, layernorm_grad},
    {"gelu (erf)", gelu_small, act_loss, act_grad},
    {"gelu (erf, threads)", gelu_par, act_loss, act_grad},
    {"gelu (tanh)", gelu_tanh_small, act_loss, act_grad},
    {"relu", relu_small, act_loss, act_grad},
    {"tanh", tanh_small, act_loss, act_grad},
    {"softmax", softmax_small, softmax_loss, softmax_grad},
    {"dropout", dropout_small, dropout_loss, dropout_grad},
    {"attention (padding, all-padding row)", attention_plain, attention_loss, attention_grad},
    {"attention (+ dropout)", attention_dropout, attention_loss, attention_grad},
    {"cross-entropy (ignore_index)", ce_setup, loss_loss, loss_grad},
    {"cross-entropy (all ignored)", ce_all_ignored, loss_loss, loss_grad},
    {"mse", mse_setup, loss_loss, loss_grad},
    {"bce with logits", bce_setup, loss_loss, loss_grad},
    {"qa span loss", qa_setup, loss_loss, loss_grad},
};

static void free_state(fd_state *s) {
    free(s->x);
    free(s->w);
    free(s->ids);
    free(s->mask);
    free(s->aux);
}

static void run_case(const fd_case *fc, const lmi_ops_ctx *ctx, double *worst_out) {
    fd_state s;
    float *g, *g2;
    double *xd;
    float gmax = 0;
    size_t p, i;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    fc->setup(&s);
    g = alloc_floats(s.nx);
    g2 = alloc_floats(s.nx);
    xd = alloc_doubles(s.nx);
    fc->grad(&s, g);
    fc->grad(&s, g2);
    fc->grad(&s, g2); /* g2 = 2 g when the backward adds */
    for (i = 0; i < s.nx; i++) {
        gmax = fabsf(g[i]) > gmax ? fabsf(g[i]) : gmax;
        xd[i] = s.x[i];
    }
    for (i = 0; i < s.nx; i++) { /* a stored (not added) gradient would be off by |g| */
        assert_true(fabsf(g2[i] - 2.0f * g[i]) <= 1e-5f * gmax);
    }
    for (p = 0; p < s.nparts; p++) {
        const part *pt = &s.parts[p];
        const size_t all = test_quick() ? 100 : CHECK_ALL, sample = test_quick() ? 40 : 150;
        const size_t step = pt->n > all ? (pt->n + sample - 1) / sample : 1;
        double maxfd = 0, maxerr = 0, err;
        size_t k;
        for (k = 0; k < pt->n; k += step) {
            double lp, lm, fd;
            i = pt->off + (k + (size_t)(p * 7) % step) % pt->n; /* spread the sampled indices */
            xd[i] = (double)s.x[i] + FD_H;
            lp = fc->loss(&s, xd);
            xd[i] = (double)s.x[i] - FD_H;
            lm = fc->loss(&s, xd);
            xd[i] = s.x[i];
            fd = (lp - lm) / (2 * FD_H);
            maxfd = fabs(fd) > maxfd ? fabs(fd) : maxfd;
            maxerr = fabs(g[i] - fd) > maxerr ? fabs(g[i] - fd) : maxerr;
        }
        err = maxfd > 0 ? maxerr / maxfd : maxerr;
        print_message("  %-38s %-7s %5zu checked, max |grad| %8.3g, error %.2g\n", fc->name,
                      pt->name, (pt->n + step - 1) / step, maxfd, err);
        if (!(err <= FD_TOL)) {
            print_error("%s: gradient of %s off by %.3g (tolerance %.3g)\n", fc->name, pt->name,
                        err, FD_TOL);
        }
        assert_true(err <= FD_TOL);
        *worst_out = err > *worst_out ? err : *worst_out;
    }
    free(g);
    free(g2);
    free(xd);
    free_state(&s);
}

static void test_finite_differences(void **state) {
    size_t c;
    double worst = 0;
    (void)state;
    lmi_rng_seed(&rng, 2024);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* the threaded cases run on two threads, the others on one */
        run_case(&cases[c], strstr(cases[c].name, "threads") != NULL ? &ctx2 : &ctx1, &worst);
    }
    print_message("finite differences: %zu cases, worst error %.3g (tolerance %.3g)\n",
                  sizeof cases / sizeof cases[0], worst, FD_TOL);
}

/* ---- determinism ---- */

static void test_dropout_determinism(void **state) {
    enum { N = 300, C = 100 }; /* 30000 values: the threaded path */
    static float inp[N * C], o1[N * C], o2[N * C], o3[N * C];
    static uint8_t m1[N * 13], m2[N * 13], m3[N * 13];
    const uint64_t seed = lmi_dropout_seed(7, 100, 3);
    size_t i, kept = 0;
    (void)state;
    assert_int_equal(lmi_dropout_mask_bytes(N, C), sizeof m1);
    lmi_rng_seed(&rng, 5);
    fill(inp, N * C, 1.0);
    lmi_dropout_forward(&ctx1, o1, m1, inp, 0.1f, seed, N, C);
    lmi_dropout_forward(&ctx2, o2, m2, inp, 0.1f, seed, N, C);
    lmi_dropout_forward(&ctx2, o3, m3, inp, 0.1f, seed, N, C);
    assert_memory_equal(m1, m2, sizeof m1);
    assert_memory_equal(m1, m3, sizeof m1);
    assert_memory_equal(o1, o2, sizeof o1);
    for (i = 0; i < N * C; i++) {
        int keep = m1[(i / C) * 13 + (i % C) / 8] >> ((i % C) % 8) & 1;
        kept += (size_t)keep;
        assert_true(o1[i] == (keep ? inp[i] * (1.0f / 0.9f) : 0.0f));
    }
    /* 27000 expected, standard deviation 52 */
    assert_true(kept > 26700 && kept < 27300);
    /* another seed, another mask; the same seed in place gives the same output */
    lmi_dropout_forward(&ctx2, o3, m3, inp, 0.1f, lmi_dropout_seed(7, 101, 3), N, C);
    assert_true(memcmp(m1, m3, sizeof m1) != 0);
    memcpy(o3, inp, sizeof o3);
    lmi_dropout_forward(&ctx2, o3, m3, o3, 0.1f, seed, N, C);
    assert_memory_equal(o1, o3, sizeof o1);
    /* p = 0 keeps all, p = 1 drops all */
    lmi_dropout_forward(&ctx1, o3, m3, inp, 0.0f, seed, N, C);
    assert_memory_equal(o3, inp, sizeof o3);
    lmi_dropout_forward(&ctx1, o3, m3, inp, 1.0f, seed, N, C);
    for (i = 0; i < N * C; i++) {
        assert_true(o3[i] == 0.0f);
    }
}

static void test_backward_determinism(void **state) {
    /* embedding, layernorm (dweight, dbias) and matmul (dbias) backwards: bit-identical across
     * runs and between 1 and 2 threads; matmul and attention: across runs at 2 threads */
    enum { V = 10, N = 512, C = 64, OC = 48, B = 4, T = 16, NH = 4 };
    static float dout[N * C], x[N * C], wt[OC * C], tab1[V * C], tab2[V * C];
    static float lw[C], mean[N], rstd[N], tmp[N * C], dw1[C], db1[C], dw2[C], db2[C];
    static float qkv[B * T * 3 * C], att[B * NH * T * T], ao[B * T * C];
    const size_t sf = lmi_attention_scratch_floats(T, C / NH, 2);
    const size_t sb = lmi_attention_backward_scratch_floats(T, C / NH, 2);
    float *scr = aligned_alloc(64, ((sf > sb ? sf : sb) + 16) / 16 * 64);
    float *wbuf = aligned_alloc(64, 64 * 1024 * sizeof(float));
    lmi_ops_ctx g1 = ctx1, g2 = ctx2;
    static float dq1[B * T * 3 * C], dq2[B * T * 3 * C];
    static float mi1[N * C], mw1[OC * C], mb1[OC], mi2[N * C], mw2[OC * C], mb2[OC], mb3[OC];
    static int32_t ids[N], mask[B * T];
    lmi_att_seq seqs[B];
    size_t i;
    (void)state;
    lmi_rng_seed(&rng, 11);
    fill(dout, N * C, 1.0);
    fill(x, N * C, 1.0);
    fill(wt, OC * C, 0.3);
    fill(lw, C, 1.0);
    fill(qkv, B * T * 3 * C, 1.0);
    for (i = 0; i < N; i++) {
        ids[i] = (int32_t)lmi_rng_below(&rng, 3) * 3; /* 0, 3, 6: many repeats */
    }
    for (i = 0; i < B * T; i++) {
        mask[i] = (i % T) < T - (i / T) * 3;
    }
    lmi_embedding_backward(&ctx1, tab1, ids, dout, N, C);
    lmi_embedding_backward(&ctx2, tab2, ids, dout, N, C);
    assert_memory_equal(tab1, tab2, sizeof tab1);
    lmi_layernorm_forward(&ctx1, tmp, mean, rstd, x, lw, lw, N, C, 1e-12f);
    lmi_layernorm_backward(&ctx1, NULL, dw1, db1, dout, x, mean, rstd, lw, N, C);
    lmi_layernorm_backward(&ctx2, NULL, dw2, db2, dout, x, mean, rstd, lw, N, C);
    assert_memory_equal(dw1, dw2, sizeof dw1);
    assert_memory_equal(db1, db2, sizeof db1);
    /* matmul: dout [N, OC] is the first N * OC values of dout */
    lmi_matmul_backward(&ctx2, mi1, mw1, mb1, dout, OC, x, wt, N, C, OC);
    lmi_matmul_backward(&ctx2, mi2, mw2, mb2, dout, OC, x, wt, N, C, OC);
    lmi_matmul_backward(&ctx1, NULL, NULL, mb3, dout, OC, x, wt, N, C, OC);
    assert_memory_equal(mi1, mi2, sizeof mi1);
    assert_memory_equal(mw1, mw2, sizeof mw1);
    assert_memory_equal(mb1, mb2, sizeof mb1);
    assert_memory_equal(mb1, mb3, sizeof mb1);
    /* on liblm's GEMM (a buffer to pack into): bit-identical for 1 and 2 threads, and for a
     * buffer of another size (the weight packed in other chunks) */
    assert_non_null(scr);
    assert_non_null(wbuf);
    g1.wbuf = g2.wbuf = wbuf;
    g1.wbuf_floats = 64 * 1024;
    g2.wbuf_floats = 32 * 64; /* one panel of C */
    memset(mi1, 0, sizeof mi1), memset(mw1, 0, sizeof mw1), memset(mb1, 0, sizeof mb1);
    memset(mi2, 0, sizeof mi2), memset(mw2, 0, sizeof mw2), memset(mb2, 0, sizeof mb2);
    lmi_matmul_backward(&g1, mi1, mw1, mb1, dout, OC, x, wt, N, C, OC);
    lmi_matmul_backward(&g2, mi2, mw2, mb2, dout, OC, x, wt, N, C, OC);
    assert_memory_equal(mi1, mi2, sizeof mi1);
    assert_memory_equal(mw1, mw2, sizeof mw1);
    assert_memory_equal(mb1, mb2, sizeof mb1);
    lmi_matmul_forward(&g1, mi1, OC, x, wt, mb1, N, C, OC);
    lmi_matmul_forward(&g2, mi2, OC, x, wt, mb1, N, C, OC);
    assert_memory_equal(mi1, mi2, N * OC * sizeof(float));
    lmi_att_seqs_padded(seqs, mask, B, T);
    lmi_attention_forward(&ctx2, ao, att, qkv, 3 * C, seqs, B, scr, T, C, NH, 0.1f, 5);
    lmi_attention_backward(&ctx2, dq1, dout, qkv, 3 * C, att, seqs, B, scr, T, C, NH, 0.1f, 5);
    lmi_attention_backward(&ctx2, dq2, dout, qkv, 3 * C, att, seqs, B, scr, T, C, NH, 0.1f, 5);
    assert_memory_equal(dq1, dq2, sizeof dq1);
    free(scr);
    free(wbuf);
}

/* ---- overwrite forms ---- */

/* The overwrite forms (the `_set` functions, lmi_act_backward with accumulate 0) give the bits
 * of zeroing dinp and adding into it, on whatever dinp held before; for the matmul, on the BLAS
 * and on liblm's GEMM. */
static void test_set_forms(void **state) {
    enum { N = 70, C = 48, OC = 40, CB = 6 };
    static float x[N * C], dout[N * C], a1[N * C], a2[N * C], wt[OC * C], dw[OC * C], db[OC];
    static uint8_t mask[N * CB];
    static const lmi_ops_act acts[3] = {LMI_OPS_GELU, LMI_OPS_GELU_TANH, LMI_OPS_RELU};
    float *wbuf = aligned_alloc(64, 64 * 1024 * sizeof(float));
    lmi_ops_ctx g = ctx2;
    size_t k;
    (void)state;
    assert_non_null(wbuf);
    lmi_rng_seed(&rng, 17);
    fill(x, N * C, 1.0);
    fill(dout, N * C, 1.0);
    fill(wt, OC * C, 0.5);
    for (k = 0; k < 3; k++) {
        fill(a1, N * C, 3.0); /* garbage to be overwritten */
        lmi_act_backward(&ctx2, acts[k], a1, dout, x, N * C, 0);
        memset(a2, 0, sizeof a2);
        if (k == 0) {
            lmi_gelu_backward(&ctx2, a2, dout, x, N * C);
        } else if (k == 1) {
            lmi_gelu_tanh_backward(&ctx2, a2, dout, x, N * C);
        } else {
            lmi_relu_backward(&ctx2, a2, dout, x, N * C);
        }
        assert_memory_equal(a1, a2, sizeof a1);
    }
    lmi_dropout_forward(&ctx2, a1, mask, x, 0.2f, lmi_dropout_seed(3, 4, 5), N, C);
    fill(a1, N * C, 3.0);
    lmi_dropout_backward_set(&ctx2, a1, dout, mask, 0.2f, N, C);
    memset(a2, 0, sizeof a2);
    lmi_dropout_backward(&ctx2, a2, dout, mask, 0.2f, N, C);
    for (k = 0; k < N * C; k++) { /* equal values: a dropped negative gradient is -0 there */
        assert_true(a1[k] == a2[k]);
    }
    for (k = 0; k < 2; k++) { /* the BLAS, then liblm's GEMM */
        const lmi_ops_ctx *c = k == 0 ? &ctx2 : &g;
        g.wbuf = wbuf;
        g.wbuf_floats = 64 * 1024;
        fill(a1, N * C, 3.0);
        memset(dw, 0, sizeof dw), memset(db, 0, sizeof db);
        lmi_matmul_backward_set(c, a1, dw, db, dout, OC, x, wt, N, C, OC);
        memset(a2, 0, sizeof a2);
        lmi_matmul_backward(c, a2, NULL, NULL, dout, OC, x, wt, N, C, OC);
        assert_memory_equal(a1, a2, sizeof a1);
    }
    free(wbuf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_dropout_determinism),
        cmocka_unit_test(test_backward_determinism),
        cmocka_unit_test(test_set_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
