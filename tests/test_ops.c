/* Tests of the forward tensor ops (src/tensor/ops.h) against naive double-precision references. */
#include <math.h>

#include "test_util.h"

#include "base/rng.h"
#include "tensor/ops.h"

static void fill(lmi_rng *r, float *x, size_t n, double scale) {
    size_t i;
    for (i = 0; i < n; i++) {
        x[i] = (float)(lmi_rng_normal(r) * scale);
    }
}

static double max_diff(const float *a, const double *b, size_t n) {
    double m = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        m = d > m ? d : m;
    }
    return m;
}

/* The products run on the BLAS (blas = 1) or on liblm's plain kernel (tensor/guard.h), which
 * test_plain_kernel selects for a second run of the product tests. */
static lmi_ops_ctx ctx1 = {1, 1, 0, NULL, 0};
static lmi_ops_ctx ctx2 = {2, 1, 0, NULL, 0};

static void set_blas(int blas) {
    ctx1.plain = !blas;
    ctx2.plain = !blas;
}

static void test_matmul(void **state) {
    enum { N = 37, C = 45, OC = 29, LD = 33 };
    static float inp[N * C], w[OC * C], b[OC], out[N * LD];
    static double ref[N * OC];
    lmi_rng r;
    size_t n, o, c;
    int with_bias;
    (void)state;
    lmi_rng_seed(&r, 1);
    fill(&r, inp, N * C, 1);
    fill(&r, w, OC * C, 0.2);
    fill(&r, b, OC, 1);
    for (with_bias = 0; with_bias < 2; with_bias++) {
        double m = 0;
        for (n = 0; n < N; n++) {
            for (o = 0; o < OC; o++) {
                double s = with_bias ? b[o] : 0;
                for (c = 0; c < C; c++) {
                    s += (double)inp[n * C + c] * w[o * C + c];
                }
                ref[n * OC + o] = s;
            }
        }
        for (n = 0; n < N * LD; n++) {
            out[n] = 12345.0f;
        }
        lmi_matmul_forward(with_bias ? &ctx2 : &ctx1, out, LD, inp, w, with_bias ? b : NULL, N, C, OC);
        for (n = 0; n < N; n++) {
            for (o = 0; o < OC; o++) {
                double d = fabs(out[n * LD + o] - ref[n * OC + o]);
                m = d > m ? d : m;
            }
            for (o = OC; o < LD; o++) {
                assert_true(out[n * LD + o] == 12345.0f); /* outside the slice: untouched */
            }
        }
        assert_true(m < 1e-4);
    }
}

static void test_embedding(void **state) {
    enum { V = 11, N = 9, C = 7 };
    float table[V * C], out[N * C];
    double ref[N * C];
    int32_t ids[N] = {0, 10, 3, 3, 5, 1, 0, 9, 2};
    lmi_rng r;
    size_t n, c;
    (void)state;
    lmi_rng_seed(&r, 2);
    fill(&r, table, V * C, 1);
    lmi_embedding_forward(&ctx1, out, ids, table, N, C, 0);
    for (n = 0; n < N; n++) {
        for (c = 0; c < C; c++) {
            ref[n * C + c] = table[ids[n] * C + c];
        }
    }
    assert_true(max_diff(out, ref, N * C) == 0);
    lmi_embedding_forward(&ctx2, out, ids, table, N, C, 1);
    for (n = 0; n < N * C; n++) {
        ref[n] *= 2;
    }
    assert_true(max_diff(out, ref, N * C) == 0);
}

static void test_layernorm(void **state) {
    enum { N = 300, C = 77 };
    static float inp[N * C], out[N * C], w[C], b[C], mean[N], rstd[N];
    static double ref[N * C];
    lmi_rng r;
    size_t n, c;
    (void)state;
    lmi_rng_seed(&r, 3);
    fill(&r, inp, N * C, 3);
    fill(&r, w, C, 1);
    fill(&r, b, C, 1);
    for (n = 0; n < N; n++) {
        double m = 0, v = 0;
        for (c = 0; c < C; c++) {
            m += inp[n * C + c];
        }
        m /= C;
        for (c = 0; c < C; c++) {
            v += (inp[n * C + c] - m) * (inp[n * C + c] - m);
        }
        v /= C;
        for (c = 0; c < C; c++) {
            ref[n * C + c] = (inp[n * C + c] - m) / sqrt(v + 1e-12) * w[c] + b[c];
        }
    }
    lmi_layernorm_forward(&ctx2, out, mean, rstd, inp, w, b, N, C, 1e-12f);
    assert_true(max_diff(out, ref, N * C) < 1e-5);
    lmi_layernorm_forward(&ctx1, inp, NULL, NULL, inp, w, b, N, C, 1e-12f); /* in place */
    assert_true(max_diff(inp, ref, N * C) < 1e-5);
}

static void test_activations_residual_softmax(void **state) {
    enum { N = 41, C = 503 };
    static float x[N * C], y[N * C], out[N * C];
    static double ref[N * C];
    lmi_rng r;
    size_t i, n, c;
    (void)state;
    lmi_rng_seed(&r, 4);
    fill(&r, x, N * C, 3);
    fill(&r, y, N * C, 3);
    lmi_gelu_forward(&ctx2, out, x, N * C);
    for (i = 0; i < N * C; i++) {
        ref[i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
    }
    assert_true(max_diff(out, ref, N * C) < 2e-6); /* erf to 1.5e-7 (as PyTorch's CPU kernel) */
    lmi_gelu_tanh_forward(&ctx2, out, x, N * C);
    for (i = 0; i < N * C; i++) {
        double v = x[i];
        ref[i] = 0.5 * v * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
    }
    assert_true(max_diff(out, ref, N * C) < 2e-6);
    lmi_relu_forward(&ctx1, out, x, N * C);
    for (i = 0; i < N * C; i++) {
        ref[i] = x[i] > 0 ? x[i] : 0;
    }
    assert_true(max_diff(out, ref, N * C) == 0);
    lmi_tanh_forward(&ctx2, out, x, N * C);
    for (i = 0; i < N * C; i++) {
        ref[i] = tanh(x[i]);
    }
    assert_true(max_diff(out, ref, N * C) < 1e-6);
    lmi_residual_forward(&ctx2, out, x, y, N * C);
    for (i = 0; i < N * C; i++) {
        ref[i] = (double)x[i] + y[i];
    }
    assert_true(max_diff(out, ref, N * C) < 1e-6);
    for (n = 0; n < N; n++) {
        double mx = -1e300, s = 0;
        for (c = 0; c < C; c++) {
            mx = x[n * C + c] > mx ? x[n * C + c] : mx;
        }
        for (c = 0; c < C; c++) {
            s += exp(x[n * C + c] - mx);
        }
        for (c = 0; c < C; c++) {
            ref[n * C + c] = exp(x[n * C + c] - mx) / s;
        }
    }
    lmi_softmax_forward(&ctx2, x, x, N, C); /* in place */
    assert_true(max_diff(x, ref, N * C) < 1e-6);
}

/* Naive reference of masked multi-head attention in double. */
static void attention_ref(double *out, const float *qkv, size_t ld, const int32_t *mask, size_t B,
                          size_t T, size_t C, size_t NH) {
    size_t hd = C / NH, b, h, i, j, d;
    double *p = malloc(T * sizeof *p);
    assert_non_null(p);
    for (b = 0; b < B; b++) {
        for (h = 0; h < NH; h++) {
            for (i = 0; i < T; i++) {
                double mx = -1e300, s = 0;
                for (j = 0; j < T; j++) {
                    double dot = 0;
                    for (d = 0; d < hd; d++) {
                        dot += (double)qkv[(b * T + i) * ld + h * hd + d] *
                               qkv[(b * T + j) * ld + C + h * hd + d];
                    }
                    /* additive mask with a very negative number, as transformers does */
                    p[j] = dot / sqrt((double)hd) + (mask[b * T + j] ? 0 : -3.4e38);
                    mx = p[j] > mx ? p[j] : mx;
                }
                for (j = 0; j < T; j++) {
                    p[j] = exp(p[j] - mx);
                    s += p[j];
                }
                for (d = 0; d < hd; d++) {
                    double o = 0;
                    for (j = 0; j < T; j++) {
                        o += p[j] / s * qkv[(b * T + j) * ld + 2 * C + h * hd + d];
                    }
                    out[(b * T + i) * C + h * hd + d] = o;
                }
            }
        }
    }
    free(p);
}

static void test_attention(void **state) {
    enum { B = 3, T = 13, C = 24, NH = 4, LD = 3 * C + 5 };
    static float qkv[B * T * LD], out[B * T * C], out1[T * C];
    static double ref[B * T * C];
    int32_t mask[B * T];
    const size_t sf = lmi_attention_scratch_floats(T, C / NH, 2);
    const size_t si = lmi_attention_infer_scratch_floats(T, C / NH, 2);
    float *scratch = aligned_alloc(64, ((sf > si ? sf : si) + 16) / 16 * 64);
    lmi_att_seq seqs[B];
    static float outi[B * T * C];
    lmi_rng r;
    size_t i, t;
    (void)state;
    assert_non_null(scratch);
    lmi_rng_seed(&r, 5);
    fill(&r, qkv, B * T * LD, 1);
    for (i = 0; i < B; i++) {
        for (t = 0; t < T; t++) {
            mask[i * T + t] = (i == 0) ? 1 : (i == 1 ? t < 5 : 0); /* full, padded, all padding */
        }
    }
    lmi_att_seqs_padded(seqs, mask, B, T);
    lmi_attention_forward(&ctx2, out, NULL, qkv, LD, seqs, B, scratch, T, C, NH, 0.0f, 0);
    attention_ref(ref, qkv, LD, mask, B, T, C, NH);
    assert_true(max_diff(out, ref, B * T * C) < 1e-5);
    /* batch independence: sequence 1 alone, truncated to its 5 real tokens, gives its rows. */
    lmi_att_seqs_padded(seqs, mask + T, 1, 5);
    lmi_attention_forward(&ctx1, out1, NULL, qkv + 1 * T * LD, LD, seqs, 1, scratch, 5, C, NH,
                          0.0f, 0);
    for (i = 0; i < 5 * C; i++) {
        assert_true(out1[i] == out[T * C + i]);
    }
    /* the inference kernel over the same sequences (every row, 5 keys for the padded one, T
     * uniform keys for the all-padding one): the training kernel's values, bit for bit */
    for (i = 0; i < B; i++) {
        seqs[i].start = i * T;
        seqs[i].rows = T;
        seqs[i].keys = i == 1 ? 5 : T;
        seqs[i].mask = mask + i * T;
    }
    lmi_attention_infer(&ctx2, outi, C, qkv, LD, seqs, B, C, NH, scratch, T);
    assert_memory_equal(outi, out, sizeof outi);
    /* the padded sequence alone with only its real rows, on one thread */
    seqs[0].start = 0;
    seqs[0].rows = seqs[0].keys = 5;
    seqs[0].mask = NULL;
    lmi_attention_infer(&ctx1, out1, C, qkv + T * LD, LD, seqs, 1, C, NH, scratch, 5);
    assert_memory_equal(out1, out + T * C, 5 * C * sizeof(float));
    free(scratch);
}

/* The fused ops equal their unfused sequences; a span's product is bit for bit the same alone
 * or among other spans (batch independence), on 1 and 2 threads. */
static void test_fused(void **state) {
    enum { N = 70, C = 48, OC = 40 };
    static float inp[N * C], w[3][OC * C], b[3][OC], out3[N * 3 * OC], one[N * OC], alone[N * 3 * OC];
    static float a[N * C], y[N * C], g[C], be[C], fused[N * C], ref[N * C];
    const float *ws[3] = {w[0], w[1], w[2]}, *bs[3] = {b[0], NULL, b[2]};
    const lmi_row_span spans[3] = {{0, 9}, {9, 40}, {49, 21}};
    lmi_rng r;
    size_t k, n;
    int threads;
    (void)state;
    lmi_rng_seed(&r, 6);
    fill(&r, inp, N * C, 1);
    for (k = 0; k < 3; k++) {
        fill(&r, w[k], OC * C, 0.3);
        fill(&r, b[k], OC, 1);
    }
    for (threads = 1; threads <= 2; threads++) {
        const lmi_ops_ctx ctx = {threads, ctx1.plain, 0, NULL, 0};
        lmi_matmul_spans_forward(&ctx, out3, 3 * OC, inp, ws, bs, 3, spans, 3, C, OC);
        for (k = 0; k < 3; k++) {
            lmi_matmul_forward(&ctx, one, OC, inp, ws[k], bs[k], N, C, OC);
            for (n = 0; n < N * OC; n++) {
                assert_true(fabsf(out3[n / OC * 3 * OC + k * OC + n % OC] - one[n]) <= 1e-5f);
            }
        }
        /* the middle span on its own, at the start of another buffer */
        lmi_matmul_spans_forward(&ctx, alone, 3 * OC, inp + 9 * C, ws, bs, 3,
                                &(const lmi_row_span){0, 40}, 1, C, OC);
        assert_memory_equal(alone, out3 + 9 * 3 * OC, 40 * 3 * OC * sizeof(float));
    }
    fill(&r, a, N * C, 2);
    fill(&r, y, N * C, 2);
    fill(&r, g, C, 1);
    fill(&r, be, C, 1);
    lmi_residual_forward(&ctx2, ref, a, y, N * C);
    lmi_layernorm_forward(&ctx2, ref, NULL, NULL, ref, g, be, N, C, 1e-12f);
    lmi_residual_layernorm_forward(&ctx2, fused, a, y, g, be, N, C, 1e-12f);
    for (n = 0; n < N * C; n++) {
        assert_true(fabsf(fused[n] - ref[n]) <= 1e-6f);
    }
    lmi_residual_layernorm_forward(&ctx1, y, a, y, g, be, N, C, 1e-12f); /* in place */
    for (n = 0; n < N * C; n++) {
        assert_true(fabsf(y[n] - ref[n]) <= 1e-6f);
    }
}

/* The same product tests on the plain kernel that runs when the BLAS may not (guard.h). */
static void test_plain_kernel(void **state) {
    set_blas(0);
    test_matmul(state);
    test_attention(state);
    test_fused(state);
    set_blas(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_embedding),
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_activations_residual_softmax),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_fused),
        cmocka_unit_test(test_plain_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
