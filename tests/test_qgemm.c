/* Tests of the int8 products (src/tensor/qgemm.h), for every kernel this CPU runs (C, AVX2, AVX-512
 * VNNI): the result against a reference that quantises the same way and sums in 64-bit integers,
 * the C and VNNI kernels bit-identical (both keep 8-bit weights), a row's result the same alone
 * or in any batch and on any thread count, the error against the float product, the fused
 * epilogue and the accumulate mode, and a model loaded with lm_model_options.int8 against the
 * same model in float32 (close, and batch-independent to the bit). No timings here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "base/rng.h"
#include "lm.h"
#include "tensor/qgemm.h"

static const lmi_gemm_isa ISAS[] = {LMI_GEMM_GENERIC, LMI_GEMM_AVX2, LMI_GEMM_AVX512};

static void fill(lmi_rng *r, float *x, size_t n, double scale) {
    size_t i;
    for (i = 0; i < n; i++) {
        x[i] = (float)((lmi_rng_uniform_double(r) * 2.0 - 1.0) * scale);
    }
}

static void *aligned(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    assert_non_null(p);
    return p;
}

/* The reference: the quantisation of qgemm.c written out, integer sums in 64 bits, the same float
 * epilogue. qmax: the weights' range of the kernel. */
static void reference(float *out, const float *a, const float *w, const float *bias, size_t M,
                      size_t N, size_t K, int qmax) {
    size_t i, n, k;
    for (i = 0; i < M; i++) {
        const float *x = a + i * K;
        float mn = 0.0f, mx = 0.0f, s, inv, zf;
        for (k = 0; k < K; k++) {
            mn = x[k] < mn ? x[k] : mn;
            mx = x[k] > mx ? x[k] : mx;
        }
        s = mx > mn ? (mx - mn) / 255.0f : 1.0f;
        inv = 1.0f / s;
        zf = (-mn * inv + 12582912.0f) - 12582912.0f;
        zf = zf < 0.0f ? 0.0f : zf > 255.0f ? 255.0f : zf;
        for (n = 0; n < N; n++) {
            const float *wr = w + n * K;
            float wm = 0.0f, ws;
            int64_t acc = 0, sum = 0;
            for (k = 0; k < K; k++) {
                wm = fabsf(wr[k]) > wm ? fabsf(wr[k]) : wm;
            }
            ws = wm > 0.0f ? wm / (float)qmax : 1.0f;
            for (k = 0; k < K; k++) {
                float v = (x[k] * inv + 12582912.0f) - 12582912.0f + zf;
                long q = lrintf(wr[k] / ws);
                q = q > qmax ? qmax : q < -qmax ? -qmax : q;
                v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
                acc += (int64_t)(int32_t)v * q;
                sum += q;
            }
            out[i * N + n] = (float)(int32_t)(acc - (int64_t)zf * sum) * (s * ws) +
                             (bias != NULL ? bias[n] : 0.0f);
        }
    }
}

static lmi_q8_weight *quantise(const float *w, size_t N, size_t K) {
    lmi_q8_weight *q = NULL;
    lmi_gemm_part part;
    part.w = w;
    part.rows = N;
    assert_int_equal(lmi_q8_weight_make(&q, &part, 1, K, K, 2), LM_OK);
    assert_int_equal(lmi_q8_weight_n(q), N);
    assert_int_equal(lmi_q8_weight_k(q), K);
    return q;
}

static void test_against_reference(void **state) {
    static const size_t shapes[][3] = {{1, 1, 1}, {37, 70, 100}, {13, 33, 7}, {64, 96, 384},
                                       {5, 17, 131}};
    lmi_rng r;
    size_t s, t, i;
    float *generic_out = NULL;
    (void)state;
    lmi_rng_seed(&r, 3);
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *a = malloc(M * K * sizeof(float)), *w = malloc(N * K * sizeof(float));
        float *bias = malloc(N * sizeof(float)), *out = malloc(M * N * sizeof(float));
        float *ref = malloc(M * N * sizeof(float)), *f32 = malloc(M * N * sizeof(float));
        void *scratch = aligned(lmi_q8_scratch_bytes(M, K));
        double err = 0, norm = 0;
        assert_non_null(a), assert_non_null(w), assert_non_null(bias), assert_non_null(out);
        assert_non_null(ref), assert_non_null(f32);
        fill(&r, a, M * K, 2.0);
        for (i = 0; i < M * K; i += 3) {
            a[i] = fabsf(a[i]); /* skewed rows, as after GELU */
        }
        fill(&r, w, N * K, 0.1);
        fill(&r, bias, N, 1.0);
        for (i = 0; i < M * N; i++) { /* the float product: the error stays small */
            size_t k;
            double d = bias[i % N];
            for (k = 0; k < K; k++) {
                d += (double)a[i / N * K + k] * w[i % N * K + k];
            }
            f32[i] = (float)d;
        }
        free(generic_out);
        generic_out = NULL;
        for (t = 0; t < sizeof ISAS / sizeof ISAS[0]; t++) {
            lmi_q8_weight *q;
            if (lmi_q8_set_isa(ISAS[t]) != LM_OK) {
                continue;
            }
            q = quantise(w, N, K);
            reference(ref, a, w, bias, M, N, K, ISAS[t] == LMI_GEMM_AVX2 ? 63 : 127);
            lmi_q8_forward(out, N, a, K, q, bias, M, 0, NULL, scratch, 2);
            for (i = 0; i < M * N; i++) {
                if (fabsf(out[i] - ref[i]) > 1e-5f * (1.0f + fabsf(ref[i]))) {
                    print_error("%s %zu x %zu x %zu: [%zu] %g, reference %g\n",
                                lmi_q8_kernel_name(), M, N, K, i, out[i], ref[i]);
                    fail();
                }
            }
            if (ISAS[t] == LMI_GEMM_GENERIC) {
                generic_out = malloc(M * N * sizeof(float));
                assert_non_null(generic_out);
                memcpy(generic_out, out, M * N * sizeof(float));
            } else if (ISAS[t] == LMI_GEMM_AVX512 && generic_out != NULL) {
                assert_memory_equal(out, generic_out, M * N * sizeof(float));
            }
            for (i = 0, err = 0, norm = 0; i < M * N; i++) {
                err += (double)(out[i] - f32[i]) * (out[i] - f32[i]);
                norm += (double)f32[i] * f32[i];
            }
            assert_true(sqrt(err / (norm + 1e-30)) < (ISAS[t] == LMI_GEMM_AVX2 ? 0.03 : 0.015));
            lmi_q8_weight_free(q);
        }
        free(a), free(w), free(bias), free(out), free(ref), free(f32), free(scratch);
    }
    free(generic_out);
    assert_int_equal(lmi_q8_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* gelu-like epilogue for the test: x = max(x, 0) */
static void relu_row(float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
}

static void test_rows_threads_epilogue(void **state) {
    enum { M = 41, N = 80, K = 96 };
    static float a[M * K], w[N * K], bias[N], big[M * N], one[N], acc[M * N], base[M * N];
    void *scratch = aligned(lmi_q8_scratch_bytes(M, K));
    lmi_rng r;
    size_t t, i, j;
    (void)state;
    lmi_rng_seed(&r, 4);
    fill(&r, a, M * K, 1.0);
    fill(&r, w, N * K, 0.2);
    fill(&r, bias, N, 0.5);
    for (t = 0; t < sizeof ISAS / sizeof ISAS[0]; t++) {
        lmi_q8_weight *q;
        if (lmi_q8_set_isa(ISAS[t]) != LM_OK) {
            continue;
        }
        q = quantise(w, N, K);
        lmi_q8_forward(big, N, a, K, q, bias, M, 0, relu_row, scratch, 2);
        for (i = 0; i < M; i++) { /* each row alone, on 1 and 3 threads */
            lmi_q8_forward(one, N, a + i * K, K, q, bias, 1, 0, relu_row, scratch, 1 + 2 * (i % 2));
            assert_memory_equal(one, big + i * N, sizeof one);
        }
        /* accumulate: out = base + (product + bias) */
        lmi_q8_forward(base, N, a, K, q, bias, M, 0, NULL, scratch, 1);
        for (i = 0; i < M * N; i++) {
            acc[i] = 0.25f * (float)(i % 7);
        }
        lmi_q8_forward(acc, N, a, K, q, bias, M, 1, NULL, scratch, 2);
        for (i = 0; i < M; i++) {
            for (j = 0; j < N; j++) {
                assert_true(acc[i * N + j] == 0.25f * (float)((i * N + j) % 7) + base[i * N + j]);
                assert_true(big[i * N + j] == (base[i * N + j] > 0.0f ? base[i * N + j] : 0.0f));
            }
        }
        lmi_q8_weight_free(q);
    }
    free(scratch);
    assert_int_equal(lmi_q8_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* A tiny model in int8 against float32: hidden states close; a sequence alone or batched: the
 * same bits. */
static void test_model_int8(void **state) {
    enum { B = 3, T = 9, C = 32 };
    static const size_t lens[B] = {9, 4, 6};
    const char *dir = LM_SOURCE_DIR "/tests/data/model/tiny/model-gelu-f32";
    lm_model_options o;
    lm_model_t *f = NULL, *q = NULL;
    int32_t ids[B * T], mask[B * T];
    static float hf[B * T * C], hq[B * T * C], alone[T * C];
    double worst = 1.0;
    size_t b, t, c;
    (void)state;
    lm_model_options_init(&o, sizeof o);
    o.threads = 2;
    assert_int_equal(lm_model_load(dir, &o, &f), LM_OK);
    o.int8 = 2;
    assert_int_equal(lm_model_load(dir, &o, &q), LM_ERR_INVALID_ARGUMENT);
    assert_null(q);
    o.int8 = 1;
    assert_int_equal(lm_model_load(dir, &o, &q), LM_OK);
    for (b = 0; b < B; b++) {
        for (t = 0; t < T; t++) {
            ids[b * T + t] = t < lens[b] ? (int32_t)(5 + (b * 13 + t * 7) % 90) : 0;
            mask[b * T + t] = t < lens[b];
        }
    }
    assert_int_equal(lm_model_hidden_states(f, ids, NULL, mask, B, T, hf, NULL), LM_OK);
    assert_int_equal(lm_model_hidden_states(q, ids, NULL, mask, B, T, hq, NULL), LM_OK);
    for (b = 0; b < B; b++) {
        for (t = 0; t < lens[b]; t++) {
            const float *x = hf + (b * T + t) * C, *y = hq + (b * T + t) * C;
            double d = 0, nx = 0, ny = 0;
            for (c = 0; c < C; c++) {
                d += (double)x[c] * y[c];
                nx += (double)x[c] * x[c];
                ny += (double)y[c] * y[c];
            }
            worst = d / sqrt(nx * ny) < worst ? d / sqrt(nx * ny) : worst;
        }
        assert_int_equal(
            lm_model_hidden_states(q, ids + b * T, NULL, mask + b * T, 1, lens[b], alone, NULL),
            LM_OK);
        assert_memory_equal(alone, hq + b * T * C, lens[b] * C * sizeof(float));
    }
    print_message("tiny model int8 vs float32: worst token cosine %.6f\n", worst);
    assert_true(worst > 0.99);
    lm_model_free(f);
    lm_model_free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_rows_threads_epilogue),
        cmocka_unit_test(test_model_int8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
