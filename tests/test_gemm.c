/* Tests of liblm's GEMM (src/tensor/gemm.h), for every kernel this CPU runs (generic, AVX2,
 * AVX-512): results against a double-precision reference and against cblas_sgemm on awkward
 * shapes, the fixed summation order (a row's bits do not depend on the rows around it, on the
 * thread count or on the kernel's SIMD width), edge cases, the backward products, and allocation
 * failures. No timings here: bench/gemm.c measures speed. */
#include <cblas.h>
#include <math.h>

#include "test_util.h"

#include "base/alloc.h"
#include "base/rng.h"
#include "tensor/gemm.h"

static const lmi_gemm_isa ALL_ISAS[] = {LMI_GEMM_GENERIC, LMI_GEMM_AVX2, LMI_GEMM_AVX512};
#define NISA (sizeof ALL_ISAS / sizeof ALL_ISAS[0])

static float *rand_floats(lmi_rng *r, size_t n, double scale) {
    float *x = malloc((n > 0 ? n : 1) * sizeof(float));
    size_t i;
    assert_non_null(x);
    for (i = 0; i < n; i++) {
        x[i] = (float)(lmi_rng_normal(r) * scale);
    }
    return x;
}

/* Selects a kernel; 0 when the CPU cannot run it (the caller skips it). */
static int use_isa(lmi_gemm_isa isa) {
    if (!lmi_gemm_isa_supported(isa)) {
        return 0;
    }
    assert_int_equal(lmi_gemm_set_isa(isa), LM_OK);
    assert_int_equal(lmi_gemm_current_isa(), isa);
    return 1;
}

/* Largest |out - ref| / (sum_k |a b| + |init|): the error relative to the size of the terms,
 * which is what fp32 rounding bounds (about sqrt(K) 2^-24 for a sum in order, K 2^-24 at worst). */
static double rel_error(const float *out, size_t ldo, const float *a, size_t lda, int a_trans,
                        const float *b, size_t ldb, int b_trans, const float *bias,
                        const float *init, size_t M, size_t N, size_t K) {
    double worst = 0;
    size_t i, j, k;
    for (i = 0; i < M; i++) {
        for (j = 0; j < N; j++) {
            double s = 0, mag = 0, d;
            if (init != NULL) {
                s += init[i * ldo + j];
                mag += fabs(init[i * ldo + j]);
            }
            if (bias != NULL) {
                s += bias[j];
                mag += fabs(bias[j]);
            }
            for (k = 0; k < K; k++) {
                double x = a_trans ? a[k * lda + i] : a[i * lda + k];
                double y = b_trans ? b[j * ldb + k] : b[k * ldb + j];
                s += x * y;
                mag += fabs(x * y);
            }
            d = fabs((double)out[i * ldo + j] - s) / (mag > 0 ? mag : 1);
            worst = d > worst ? d : worst;
        }
    }
    return worst;
}

static double tolerance(size_t K) {
    return (4.0 * sqrt((double)K) + 4.0) * ldexp(1.0, -24);
}

/* out = a . w^T + bias against the reference and against cblas_sgemm, for every kernel, on shapes
 * that exercise every edge of the tiling; with a row stride larger than N (a slice of a wider
 * output): the columns outside stay untouched. */
static void test_forward_shapes(void **state) {
    static const size_t dims[][3] = {{1, 1, 1},     {3, 17, 5},    {17, 3, 383}, {7, 33, 17},
                                     {29, 65, 64},  {383, 17, 3},  {15, 97, 257}, {2, 1536, 9},
                                     {33, 40, 1536}, {130, 129, 130}};
    lmi_rng r;
    size_t d, s;
    (void)state;
    lmi_rng_seed(&r, 7);
    for (d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        const size_t M = dims[d][0], N = dims[d][1], K = dims[d][2], ldo = N + 5;
        float *a = rand_floats(&r, M * K, 1), *w = rand_floats(&r, N * K, 0.5);
        float *bias = rand_floats(&r, N, 1), *out = malloc(M * ldo * sizeof(float));
        float *blas = malloc(M * N * sizeof(float));
        double blas_err;
        assert_non_null(out);
        assert_non_null(blas);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, a,
                    (int)K, w, (int)K, 0.0f, blas, (int)N);
        blas_err = rel_error(blas, N, a, K, 0, w, K, 1, NULL, NULL, M, N, K);
        for (s = 0; s < NISA; s++) {
            lmi_gemm_packed *p;
            size_t i, j;
            double err;
            if (!use_isa(ALL_ISAS[s])) {
                continue;
            }
            for (i = 0; i < M * ldo; i++) {
                out[i] = -777.0f;
            }
            assert_int_equal(lmi_gemm_pack_weight(&p, w, K, N, K, 2), LM_OK);
            assert_int_equal(lmi_gemm_packed_n(p), N);
            assert_int_equal(lmi_gemm_packed_k(p), K);
            lmi_gemm_forward(out, ldo, a, K, p, bias, M, 0, 2);
            err = rel_error(out, ldo, a, K, 0, w, K, 1, bias, NULL, M, N, K);
            if (getenv("GEMM_VERBOSE") || err > tolerance(K)) {
                print_error("%s M=%zu N=%zu K=%zu: error %.3g (cblas %.3g)\n",
                            lmi_gemm_kernel_name(), M, N, K, err, blas_err);
            }
            assert_true(err <= tolerance(K));
            for (i = 0; i < M; i++) {
                for (j = N; j < ldo; j++) {
                    assert_true(out[i * ldo + j] == -777.0f);
                }
            }
            /* without bias, against cblas directly: the same rounding level */
            lmi_gemm_forward(out, ldo, a, K, p, NULL, M, 0, 1);
            for (i = 0; i < M; i++) {
                for (j = 0; j < N; j++) {
                    double mag = 0;
                    size_t k;
                    for (k = 0; k < K; k++) {
                        mag += fabs((double)a[i * K + k] * w[j * K + k]);
                    }
                    assert_true(fabs((double)out[i * ldo + j] - blas[i * N + j]) <=
                                2 * tolerance(K) * (mag > 0 ? mag : 1));
                }
            }
            lmi_gemm_packed_free(p);
        }
        free(a);
        free(w);
        free(bias);
        free(out);
        free(blas);
    }
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* accumulate = 1: out = out + bias + a . w^T, with the same tolerance. */
static void test_forward_accumulate(void **state) {
    enum { M = 19, N = 45, K = 70 };
    lmi_rng r;
    size_t s;
    (void)state;
    lmi_rng_seed(&r, 8);
    for (s = 0; s < NISA; s++) {
        float *a = rand_floats(&r, M * K, 1), *w = rand_floats(&r, N * K, 1);
        float *bias = rand_floats(&r, N, 1), *out = rand_floats(&r, M * N, 3);
        float *init = malloc(M * N * sizeof(float));
        lmi_gemm_packed *p;
        if (!use_isa(ALL_ISAS[s])) {
            free(a), free(w), free(bias), free(out), free(init);
            continue;
        }
        assert_non_null(init);
        memcpy(init, out, M * N * sizeof(float));
        assert_int_equal(lmi_gemm_pack_weight(&p, w, K, N, K, 1), LM_OK);
        lmi_gemm_forward(out, N, a, K, p, bias, M, 1, 2);
        assert_true(rel_error(out, N, a, K, 0, w, K, 1, bias, init, M, N, K) <= tolerance(K));
        memcpy(out, init, M * N * sizeof(float));
        lmi_gemm_forward(out, N, a, K, p, NULL, M, 1, 1);
        assert_true(rel_error(out, N, a, K, 0, w, K, 1, NULL, init, M, N, K) <= tolerance(K));
        lmi_gemm_packed_free(p);
        free(a), free(w), free(bias), free(out), free(init);
    }
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* The heart of the contract: one big product, then each of many rows again alone (M = 1), inside
 * 7 rows starting at that row, and the whole product on 1 and 3 threads: every row bit-identical.
 * Also K large enough to be cut into several K blocks. */
static void test_row_independence(void **state) {
    enum { M = 397, N = 83, SUB = 7 };
    static const size_t rows[] = {0, 1, 5, 13, 14, 15, 27, 100, 383, 389, 390, 396};
    const size_t K = test_quick() ? 390 : 777; /* 2 or 3 K blocks */
    lmi_rng r;
    size_t s;
    (void)state;
    lmi_rng_seed(&r, 9);
    for (s = 0; s < NISA; s++) {
        float *a = rand_floats(&r, M * K, 1), *w = rand_floats(&r, N * K, 1);
        float *bias = rand_floats(&r, N, 1);
        float *big = malloc(M * N * sizeof(float)), *one = malloc(M * N * sizeof(float));
        float *part = malloc(SUB * N * sizeof(float));
        lmi_gemm_packed *p;
        size_t q;
        assert_non_null(big);
        assert_non_null(one);
        assert_non_null(part);
        if (use_isa(ALL_ISAS[s])) {
            assert_int_equal(lmi_gemm_pack_weight(&p, w, K, N, K, 2), LM_OK);
            lmi_gemm_forward(big, N, a, K, p, bias, M, 0, 2);
            lmi_gemm_forward(one, N, a, K, p, bias, M, 0, 1);
            assert_memory_equal(big, one, M * N * sizeof(float));
            lmi_gemm_forward(one, N, a, K, p, bias, M, 0, 3); /* more threads than cores */
            assert_memory_equal(big, one, M * N * sizeof(float));
            for (q = 0; q < sizeof rows / sizeof rows[0]; q++) {
                size_t i = rows[q], n = i + SUB <= M ? SUB : M - i;
                lmi_gemm_forward(part, N, a + i * K, K, p, bias, 1, 0, 1);
                assert_memory_equal(part, big + i * N, N * sizeof(float));
                lmi_gemm_forward(part, N, a + i * K, K, p, bias, n, 0, 2);
                assert_memory_equal(part, big + i * N, n * N * sizeof(float));
            }
            lmi_gemm_packed_free(p);
        }
        free(a), free(w), free(bias), free(big), free(one), free(part);
    }
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* A 4096-row product (a whole padded batch of 32 x 128 tokens) on 2 threads against each
 * sequence's 128 rows on their own and against single rows. */
static void test_batch_of_sequences(void **state) {
    enum { M = 4096, T = 128 };
    const size_t N = test_quick() ? 17 : 48, K = test_quick() ? 9 : 40;
    lmi_rng r;
    float *a, *w, *big, *seq;
    lmi_gemm_packed *p;
    size_t b;
    (void)state;
    lmi_rng_seed(&r, 10);
    a = rand_floats(&r, (size_t)M * K, 1);
    w = rand_floats(&r, N * K, 1);
    big = malloc((size_t)M * N * sizeof(float));
    seq = malloc(T * N * sizeof(float));
    assert_non_null(big);
    assert_non_null(seq);
    assert_int_equal(lmi_gemm_pack_weight(&p, w, K, N, K, 2), LM_OK);
    lmi_gemm_forward(big, N, a, K, p, NULL, M, 0, 2);
    for (b = 0; b < M / T; b += 5) {
        lmi_gemm_forward(seq, N, a + b * T * K, K, p, NULL, T, 0, 1);
        assert_memory_equal(seq, big + b * T * N, T * N * sizeof(float));
        lmi_gemm_forward(seq, N, a + (b * T + 77) * K, K, p, NULL, 1, 0, 2);
        assert_memory_equal(seq, big + (b * T + 77) * N, N * sizeof(float));
    }
    lmi_gemm_packed_free(p);
    free(a), free(w), free(big), free(seq);
}

/* The AVX2 and AVX-512 kernels compute the same FMA chain: the same bits (when both run here). */
static void test_simd_kernels_agree(void **state) {
    enum { M = 61, N = 77, K = 531 };
    lmi_rng r;
    float *a, *w, *bias, *x, *y;
    lmi_gemm_packed *p;
    (void)state;
    if (!lmi_gemm_isa_supported(LMI_GEMM_AVX2) || !lmi_gemm_isa_supported(LMI_GEMM_AVX512)) {
        skip();
    }
    lmi_rng_seed(&r, 11);
    a = rand_floats(&r, M * K, 1);
    w = rand_floats(&r, N * K, 1);
    bias = rand_floats(&r, N, 1);
    x = malloc(M * N * sizeof(float));
    y = malloc(M * N * sizeof(float));
    assert_non_null(x);
    assert_non_null(y);
    use_isa(LMI_GEMM_AVX2);
    assert_int_equal(lmi_gemm_nt(x, N, a, K, w, K, bias, M, N, K, 0, 2), LM_OK);
    use_isa(LMI_GEMM_AVX512);
    assert_int_equal(lmi_gemm_pack_weight(&p, w, K, N, K, 1), LM_OK);
    lmi_gemm_forward(y, N, a, K, p, bias, M, 0, 1);
    assert_memory_equal(x, y, M * N * sizeof(float));
    /* a pack keeps the kernel it was made for */
    use_isa(LMI_GEMM_AVX2);
    lmi_gemm_forward(y, N, a, K, p, bias, M, 0, 2);
    assert_memory_equal(x, y, M * N * sizeof(float));
    lmi_gemm_packed_free(p);
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
    free(a), free(w), free(bias), free(x), free(y);
}

/* M = 0 writes nothing; N = 0 writes nothing; K = 0 gives the initial value (0, bias, or out plus
 * bias when accumulating). */
static void test_empty_dimensions(void **state) {
    float a[4] = {1, 2, 3, 4}, w[6] = {1, 1, 1, 1, 1, 1}, bias[3] = {0.5f, -1, 2};
    float out[6];
    lmi_gemm_packed *p;
    size_t s, i;
    (void)state;
    for (s = 0; s < NISA; s++) {
        if (!use_isa(ALL_ISAS[s])) {
            continue;
        }
        assert_int_equal(lmi_gemm_pack_weight(&p, w, 2, 3, 2, 1), LM_OK);
        for (i = 0; i < 6; i++) {
            out[i] = 9;
        }
        lmi_gemm_forward(out, 3, a, 2, p, bias, 0, 0, 2);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 9);
        }
        lmi_gemm_packed_free(p);

        assert_int_equal(lmi_gemm_pack_weight(&p, w, 2, 0, 2, 1), LM_OK);
        lmi_gemm_forward(out, 3, a, 2, p, bias, 2, 0, 2);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 9);
        }
        lmi_gemm_packed_free(p);

        assert_int_equal(lmi_gemm_pack_weight(&p, w, 1, 3, 0, 1), LM_OK);
        lmi_gemm_forward(out, 3, a, 0, p, bias, 2, 0, 1);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == bias[i % 3]);
        }
        lmi_gemm_forward(out, 3, a, 0, p, bias, 2, 1, 1);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 2 * bias[i % 3]);
        }
        lmi_gemm_forward(out, 3, a, 0, p, NULL, 2, 0, 1);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 0);
        }
        lmi_gemm_packed_free(p);

        /* backward with an empty reduction: 0, or untouched when accumulating */
        for (i = 0; i < 6; i++) {
            out[i] = 9;
        }
        assert_int_equal(lmi_gemm_backward_weight(out, 3, a, 3, w, 3, 0, 2, 3, 1, 2), LM_OK);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 9);
        }
        assert_int_equal(lmi_gemm_backward_weight(out, 3, a, 3, w, 3, 0, 2, 3, 0, 2), LM_OK);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 0);
        }
        assert_int_equal(lmi_gemm_backward_input(out, 3, a, 1, w, 3, 2, 0, 3, 0, 1), LM_OK);
        for (i = 0; i < 6; i++) {
            assert_true(out[i] == 0);
        }
    }
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* dinp (+)= dout . w and dw (+)= dout^T . inp against the reference, for every kernel, with row
 * strides; 1 and 2 threads give the same bits. */
static void test_backward(void **state) {
    /* the last: dw's K blocks of M in several runs of the work space */
    static const size_t dims[][3] = {{37, 29, 45}, {1, 3, 17},    {130, 65, 33},
                                     {256, 40, 300}, {700, 19, 40}, {1100, 5, 3072}};
    const size_t ndims = sizeof dims / sizeof dims[0] - (test_quick() ? 1 : 0);
    lmi_rng r;
    size_t d, s;
    (void)state;
    lmi_rng_seed(&r, 12);
    for (d = 0; d < ndims; d++) {
        const size_t M = dims[d][0], N = dims[d][1], K = dims[d][2];
        const size_t ldd = N + 3, ldi = K + 2, ldw = K + 1;
        float *dout = rand_floats(&r, M * ldd, 1), *inp = rand_floats(&r, M * ldi, 1);
        float *w = rand_floats(&r, N * ldw, 1);
        float *dinp = rand_floats(&r, M * ldi, 1), *dw = rand_floats(&r, N * ldw, 1);
        float *init_i = malloc(M * ldi * sizeof(float)), *init_w = malloc(N * ldw * sizeof(float));
        float *again = malloc((M * ldi > N * ldw ? M * ldi : N * ldw) * sizeof(float));
        assert_non_null(init_i);
        assert_non_null(init_w);
        assert_non_null(again);
        memcpy(init_i, dinp, M * ldi * sizeof(float));
        memcpy(init_w, dw, N * ldw * sizeof(float));
        for (s = 0; s < NISA; s++) {
            if (!use_isa(ALL_ISAS[s])) {
                continue;
            }
            /* dinp[M, K] = init + dout[M, N] . w[N, K] */
            memcpy(dinp, init_i, M * ldi * sizeof(float));
            assert_int_equal(lmi_gemm_backward_input(dinp, ldi, dout, ldd, w, ldw, M, N, K, 1, 2),
                             LM_OK);
            assert_true(rel_error(dinp, ldi, dout, ldd, 0, w, ldw, 0, NULL, init_i, M, K, N) <=
                        tolerance(N));
            memcpy(again, init_i, M * ldi * sizeof(float));
            assert_int_equal(lmi_gemm_backward_input(again, ldi, dout, ldd, w, ldw, M, N, K, 1, 1),
                             LM_OK);
            assert_memory_equal(again, dinp, M * ldi * sizeof(float));
            assert_int_equal(lmi_gemm_backward_input(dinp, ldi, dout, ldd, w, ldw, M, N, K, 0, 2),
                             LM_OK);
            assert_true(rel_error(dinp, ldi, dout, ldd, 0, w, ldw, 0, NULL, NULL, M, K, N) <=
                        tolerance(N));

            /* dw[N, K] = init + dout^T[N, M] . inp[M, K] */
            memcpy(dw, init_w, N * ldw * sizeof(float));
            assert_int_equal(lmi_gemm_backward_weight(dw, ldw, dout, ldd, inp, ldi, M, N, K, 1, 2),
                             LM_OK);
            assert_true(rel_error(dw, ldw, dout, ldd, 1, inp, ldi, 0, NULL, init_w, N, K, M) <=
                        tolerance(M));
            memcpy(again, init_w, N * ldw * sizeof(float));
            assert_int_equal(
                lmi_gemm_backward_weight(again, ldw, dout, ldd, inp, ldi, M, N, K, 1, 1), LM_OK);
            assert_memory_equal(again, dw, N * ldw * sizeof(float));
            assert_int_equal(lmi_gemm_backward_weight(dw, ldw, dout, ldd, inp, ldi, M, N, K, 0, 2),
                             LM_OK);
            assert_true(rel_error(dw, ldw, dout, ldd, 1, inp, ldi, 0, NULL, NULL, N, K, M) <=
                        tolerance(M));
        }
        free(dout), free(inp), free(w), free(dinp), free(dw), free(init_i), free(init_w);
        free(again);
    }
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
}

/* A pack made from rows (out = a . b) and a weight repacked after an "optimizer step" give the
 * same results as fresh packs. */
static void test_pack_rows_and_repack(void **state) {
    enum { M = 23, N = 50, K = 31 };
    lmi_rng r;
    float *a, *w, *w2, *wt, *x, *y;
    lmi_gemm_packed *p, *q;
    size_t i, j;
    (void)state;
    lmi_rng_seed(&r, 13);
    a = rand_floats(&r, M * K, 1);
    w = rand_floats(&r, N * K, 1);
    w2 = rand_floats(&r, N * K, 1);
    wt = malloc(K * N * sizeof(float));
    x = malloc(M * N * sizeof(float));
    y = malloc(M * N * sizeof(float));
    assert_non_null(wt);
    assert_non_null(x);
    assert_non_null(y);
    for (i = 0; i < N; i++) {
        for (j = 0; j < K; j++) {
            wt[j * N + i] = w2[i * K + j];
        }
    }
    assert_int_equal(lmi_gemm_pack_weight(&p, w, K, N, K, 2), LM_OK);
    lmi_gemm_repack_weight(p, w2, K, 2);
    assert_int_equal(lmi_gemm_pack_rows(&q, wt, N, K, N, 2), LM_OK);
    lmi_gemm_forward(x, N, a, K, p, NULL, M, 0, 2);
    lmi_gemm_forward(y, N, a, K, q, NULL, M, 0, 2);
    assert_memory_equal(x, y, M * N * sizeof(float));
    assert_true(rel_error(x, N, a, K, 0, w2, K, 1, NULL, NULL, M, N, K) <= tolerance(K));
    lmi_gemm_packed_free(p);
    lmi_gemm_packed_free(q);
    lmi_gemm_packed_free(NULL);
    free(a), free(w), free(w2), free(wt), free(x), free(y);
}

/* Kernel selection: names, and the generic kernel is always there. */
static void test_isa_selection(void **state) {
    (void)state;
    assert_true(lmi_gemm_isa_supported(LMI_GEMM_GENERIC));
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_GENERIC), LM_OK);
    assert_string_equal(lmi_gemm_kernel_name(), "generic-4x8");
    if (lmi_gemm_isa_supported(LMI_GEMM_AVX512)) {
        assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AVX512), LM_OK);
        assert_true(strncmp(lmi_gemm_kernel_name(), "avx512-", 7) == 0);
    } else {
        assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AVX512), LM_ERR_UNSUPPORTED);
    }
    assert_int_equal(lmi_gemm_set_isa(LMI_GEMM_AUTO), LM_OK);
    if (getenv("LM_GEMM") == NULL) { /* the default is the widest kernel the CPU runs */
        lmi_gemm_isa best = lmi_gemm_isa_supported(LMI_GEMM_AVX512) ? LMI_GEMM_AVX512
                            : lmi_gemm_isa_supported(LMI_GEMM_AVX2) ? LMI_GEMM_AVX2
                                                                    : LMI_GEMM_GENERIC;
        assert_int_equal(lmi_gemm_current_isa(), best);
    }
}

static lm_status alloc_body(void *state) {
    float a[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, 1, 0, 1, 0}, out[9];
    lmi_gemm_packed *p;
    lm_status st;
    (void)state;
    st = lmi_gemm_pack_weight(&p, w, 2, 3, 2, 1);
    if (st != LM_OK) {
        return st;
    }
    lmi_gemm_packed_free(p);
    if ((st = lmi_gemm_nt(out, 3, a, 2, w, 2, NULL, 3, 3, 2, 0, 1)) != LM_OK ||
        (st = lmi_gemm_backward_input(out, 3, a, 2, w, 3, 3, 2, 3, 0, 1)) != LM_OK) {
        return st;
    }
    return lmi_gemm_backward_weight(out, 3, a, 3, w, 3, 2, 3, 3, 0, 1);
}

static void test_allocation_failures(void **state) {
    TEST_EVERY_ALLOCATION_FAILURE(alloc_body, state);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_selection),
        cmocka_unit_test(test_forward_shapes),
        cmocka_unit_test(test_forward_accumulate),
        cmocka_unit_test(test_row_independence),
        cmocka_unit_test(test_batch_of_sequences),
        cmocka_unit_test(test_simd_kernels_agree),
        cmocka_unit_test(test_empty_dimensions),
        cmocka_unit_test(test_backward),
        cmocka_unit_test(test_pack_rows_and_repack),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
