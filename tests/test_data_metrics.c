/* Metrics against their references (tests/data/datasets/metrics.json.gz from
 * scripts/gen_data_fixtures.py): scikit-learn accuracy / F1 / confusion matrix, scipy Pearson /
 * Spearman, seqeval entity scores, SQuAD v1.1 exact match / F1 and normalize_answer. */
#include "test_util.h"

#include <math.h>

#include "test_data_util.h"

#include "data/metrics.h"

static cJSON *fix;

static void close_to(double got, double want, double eps, const char *expr, int line) {
    if (!(fabs(got - want) <= eps) && !(got == want)) {
        print_error("line %d: %s = %.17g, want %.17g\n", line, expr, got, want);
        fail();
    }
}
#define assert_double_equal(a, b, eps) close_to((a), (b), (eps), #a, __LINE__)

static int setup(void **state) {
    (void)state;
    fix = test_read_json_gz(DATA_DIR "/metrics.json.gz");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    cJSON_Delete(fix);
    return 0;
}

static int32_t *ints(const cJSON *a, size_t *n) {
    const cJSON *x;
    size_t i = 0;
    int32_t *v = malloc(((size_t)cJSON_GetArraySize(a) + 1) * sizeof *v);
    cJSON_ArrayForEach(x, a) {
        v[i++] = (int32_t)x->valueint;
    }
    *n = i;
    return v;
}

static double *doubles(const cJSON *a, size_t *n) {
    const cJSON *x;
    size_t i = 0;
    double *v = malloc(((size_t)cJSON_GetArraySize(a) + 1) * sizeof *v);
    cJSON_ArrayForEach(x, a) {
        v[i++] = x->valuedouble;
    }
    *n = i;
    return v;
}

static double num(const cJSON *c, const char *key) {
    return cJSON_GetObjectItem(c, key)->valuedouble;
}

static void test_classification(void **state) {
    const cJSON *c;
    int cases = 0;
    (void)state;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fix, "classification")) {
        size_t n, n2, k = (size_t)num(c, "k"), i, nc;
        int32_t *gold = ints(cJSON_GetObjectItem(c, "gold"), &n);
        int32_t *pred = ints(cJSON_GetObjectItem(c, "pred"), &n2);
        int32_t *conf = ints(cJSON_GetObjectItem(c, "confusion"), &nc);
        size_t *m = malloc(k * k * sizeof *m);
        double macro;
        assert_int_equal(n, n2);
        assert_double_equal(lmi_metric_accuracy(pred, gold, n), num(c, "accuracy"), 1e-12);
        assert_double_equal(lmi_metric_f1_binary(pred, gold, n, 1), num(c, "f1_binary"), 1e-12);
        assert_int_equal(lmi_metric_f1_macro(pred, gold, n, k, &macro), LM_OK);
        assert_double_equal(macro, num(c, "f1_macro"), 1e-12);
        lmi_metric_confusion(pred, gold, n, k, m);
        assert_int_equal(nc, k * k);
        for (i = 0; i < k * k; i++) {
            assert_int_equal(m[i], (size_t)conf[i]);
        }
        free(gold);
        free(pred);
        free(conf);
        free(m);
        cases++;
    }
    assert_int_equal(cases, 4);
    /* edge cases: nothing, nothing positive */
    {
        int32_t z[3] = {0, 0, 0};
        assert_double_equal(lmi_metric_accuracy(z, z, 0), 0.0, 0);
        assert_double_equal(lmi_metric_f1_binary(z, z, 3, 1), 0.0, 0);
    }
}

static void test_regression(void **state) {
    const cJSON *c;
    int cases = 0;
    (void)state;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fix, "regression")) {
        size_t n, n2;
        double *x = doubles(cJSON_GetObjectItem(c, "x"), &n);
        double *y = doubles(cJSON_GetObjectItem(c, "y"), &n2);
        double s;
        assert_int_equal(n, n2);
        assert_double_equal(lmi_metric_pearson(x, y, n), num(c, "pearson"), 1e-12);
        assert_int_equal(lmi_metric_spearman(x, y, n, &s), LM_OK);
        assert_double_equal(s, num(c, "spearman"), 1e-12);
        free(x);
        free(y);
        cases++;
    }
    assert_int_equal(cases, 4);
    {
        double a[3] = {1, 1, 1}, b[3] = {1, 2, 3}, s;
        assert_true(isnan(lmi_metric_pearson(a, b, 3))); /* constant input: scipy says nan */
        assert_true(isnan(lmi_metric_pearson(a, b, 1)));
        assert_int_equal(lmi_metric_spearman(a, b, 3, &s), LM_OK);
        assert_true(isnan(s));
        assert_double_equal(lmi_metric_perplexity(log(20.0)), 20.0, 1e-9);
        assert_true(isinf(lmi_metric_perplexity(1e6)));
    }
}

static void test_seqeval(void **state) {
    const cJSON *c;
    int cases = 0;
    (void)state;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fix, "seqeval")) {
        const cJSON *labels = cJSON_GetObjectItem(c, "labels"), *g, *p;
        size_t n_names = (size_t)cJSON_GetArraySize(labels), n_seq = 0, total = 0, i;
        const char **names = malloc(n_names * sizeof *names);
        int32_t *gold = malloc(4096 * sizeof *gold), *pred = malloc(4096 * sizeof *pred);
        size_t *start = malloc(512 * sizeof *start);
        lmi_seqeval r;
        const cJSON *x;
        for (i = 0; i < n_names; i++) {
            names[i] = cJSON_GetArrayItem(labels, (int)i)->valuestring;
        }
        start[0] = 0;
        p = cJSON_GetObjectItem(c, "pred")->child;
        cJSON_ArrayForEach(g, cJSON_GetObjectItem(c, "gold")) {
            const cJSON *y = p->child;
            cJSON_ArrayForEach(x, g) {
                gold[total] = (int32_t)x->valueint;
                pred[total] = (int32_t)y->valueint;
                total++;
                y = y->next;
                /* an ignored token (-100) in the middle changes nothing */
                if (total % 7 == 3) {
                    gold[total] = -100;
                    pred[total] = 0;
                    total++;
                }
            }
            start[++n_seq] = total;
            p = p->next;
        }
        assert_int_equal(lmi_metric_seqeval(gold, pred, start, n_seq, names, n_names, &r), LM_OK);
        assert_double_equal(r.precision, num(c, "precision"), 1e-12);
        assert_double_equal(r.recall, num(c, "recall"), 1e-12);
        assert_double_equal(r.f1, num(c, "f1"), 1e-12);
        assert_double_equal(r.accuracy, num(c, "accuracy"), 1e-12);
        pred[0] = (int32_t)n_names; /* out of range */
        if (gold[0] != -100) {
            assert_int_equal(lmi_metric_seqeval(gold, pred, start, n_seq, names, n_names, &r),
                             LM_ERR_RANGE);
        }
        free(names);
        free(gold);
        free(pred);
        free(start);
        cases++;
    }
    assert_int_equal(cases, 3);
}

static void test_squad(void **state) {
    const cJSON *c;
    int cases = 0;
    (void)state;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fix, "squad")) {
        const char *pred = cJSON_GetObjectItem(c, "pred")->valuestring;
        const cJSON *golds = cJSON_GetObjectItem(c, "golds");
        size_t ng = (size_t)cJSON_GetArraySize(golds), i;
        const char **g = malloc((ng + 1) * sizeof *g);
        size_t *gl = malloc((ng + 1) * sizeof *gl);
        double em, f1;
        char *norm;
        size_t nlen;
        for (i = 0; i < ng; i++) {
            g[i] = cJSON_GetArrayItem(golds, (int)i)->valuestring;
            gl[i] = strlen(g[i]);
        }
        assert_int_equal(lmi_squad_normalize(pred, strlen(pred), &norm, &nlen), LM_OK);
        if (strcmp(norm, cJSON_GetObjectItem(c, "norm")->valuestring) != 0) {
            print_error("normalize(\"%s\"): \"%s\", the script says \"%s\"\n", pred, norm,
                        cJSON_GetObjectItem(c, "norm")->valuestring);
            fail();
        }
        lm_free(norm);
        assert_int_equal(lmi_metric_squad(pred, strlen(pred), g, gl, ng, &em, &f1), LM_OK);
        if (fabs(em - num(c, "em")) > 1e-12 || fabs(f1 - num(c, "f1")) > 1e-12) {
            print_error("\"%s\": em %g f1 %g, the script says %g %g\n", pred, em, f1, num(c, "em"),
                        num(c, "f1"));
            fail();
        }
        free(g);
        free(gl);
        cases++;
    }
    assert_true(cases > 150);
}

static lm_status squad_body(void *unused) {
    const char *golds[2] = {"The Eiffel Tower", "Eiffel tower!"};
    size_t lens[2] = {16, 13};
    double em, f1;
    (void)unused;
    return lmi_metric_squad("eiffel  TOWER", 13, golds, lens, 2, &em, &f1);
}

static lm_status spearman_body(void *unused) {
    double x[4] = {1, 2, 2, 3}, y[4] = {4, 3, 2, 1}, s;
    (void)unused;
    return lmi_metric_spearman(x, y, 4, &s);
}

static void test_allocation_failures(void **state) {
    (void)state;
    TEST_EVERY_ALLOCATION_FAILURE(squad_body, NULL);
    TEST_EVERY_ALLOCATION_FAILURE(spearman_body, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classification),
        cmocka_unit_test(test_regression),
        cmocka_unit_test(test_seqeval),
        cmocka_unit_test(test_squad),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
