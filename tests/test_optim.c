/* Tests of the optimizer steps, learning-rate schedules, gradient clipping (src/optim/) and the
 * losses (src/loss/) against PyTorch / transformers: tests/data/optim/fixtures.txt, written by
 * scripts/gen_optim_fixtures.py. Each optimizer scenario runs 20 steps from the same parameters
 * and gradients as torch and compares the parameters after every step. */
#include <math.h>

#include "test_util.h"

#include "base/rng.h"
#include "loss/loss.h"
#include "optim/clip.h"
#include "optim/optim.h"
#include "optim/schedule.h"

/* ---- fixture file: one record per line, `name count v0 v1 ...` ---- */

typedef struct fx_rec {
    char *name;
    size_t n;
    double *v;
} fx_rec;

static fx_rec fx[128];
static size_t nfx;

static int fx_setup(void **state) {
    FILE *f = fopen(LM_SOURCE_DIR "/tests/data/optim/fixtures.txt", "r");
    char *line = NULL;
    size_t cap = 0;
    (void)state;
    assert_non_null(f);
    nfx = 0;
    while (getline(&line, &cap, f) > 0) {
        char *p = line, *end;
        size_t i, len = strcspn(p, " ");
        fx_rec *r = &fx[nfx++];
        assert_true(nfx <= sizeof fx / sizeof fx[0]);
        r->name = strndup(p, len);
        p += len;
        r->n = (size_t)strtoul(p, &end, 10);
        p = end;
        r->v = malloc((r->n + 1) * sizeof(double));
        assert_non_null(r->v);
        for (i = 0; i < r->n; i++) {
            r->v[i] = strtod(p, &end);
            assert_true(end != p);
            p = end;
        }
    }
    free(line);
    fclose(f);
    return 0;
}

static int fx_teardown(void **state) {
    size_t i;
    (void)state;
    for (i = 0; i < nfx; i++) {
        free(fx[i].name);
        free(fx[i].v);
    }
    nfx = 0;
    return 0;
}

/* The record `name`; its length must be n (0: any). */
static const fx_rec *fx_get(const char *name, size_t n) {
    size_t i;
    for (i = 0; i < nfx; i++) {
        if (strcmp(fx[i].name, name) == 0) {
            if (n != 0 && fx[i].n != n) {
                print_error("fixture %s has %zu values, expected %zu\n", name, fx[i].n, n);
                fail();
            }
            return &fx[i];
        }
    }
    print_error("fixture %s missing\n", name);
    fail();
    return NULL;
}

static float *fx_floats(const char *name, size_t n) {
    const fx_rec *r = fx_get(name, n);
    float *out = malloc(r->n * sizeof(float));
    size_t i;
    assert_non_null(out);
    for (i = 0; i < r->n; i++) {
        out[i] = (float)r->v[i];
    }
    return out;
}

static int32_t *fx_ints(const char *name, size_t n) {
    const fx_rec *r = fx_get(name, n);
    int32_t *out = malloc(r->n * sizeof(int32_t));
    size_t i;
    assert_non_null(out);
    for (i = 0; i < r->n; i++) {
        out[i] = (int32_t)r->v[i];
    }
    return out;
}

/* |a - b| relative to max(|b|, floor) */
static double rel_err(double a, double b, double floor) {
    double m = fabs(b) > floor ? fabs(b) : floor;
    return fabs(a - b) / m;
}

/* ---- schedules ---- */

static lmi_lr_schedule kind_of(const char *s) {
    if (strcmp(s, "constant") == 0) {
        return LMI_LR_CONSTANT;
    }
    if (strcmp(s, "constant_warmup") == 0) {
        return LMI_LR_CONSTANT_WARMUP;
    }
    if (strcmp(s, "linear") == 0) {
        return LMI_LR_LINEAR;
    }
    assert_string_equal(s, "cosine");
    return LMI_LR_COSINE;
}

static void test_schedules(void **state) {
    size_t i, k, checked = 0;
    double worst = 0;
    (void)state;
    for (i = 0; i < nfx; i++) {
        char kind[32];
        long warmup, total;
        if (strncmp(fx[i].name, "sched.", 6) != 0) {
            continue;
        }
        assert_int_equal(sscanf(fx[i].name + 6, "%31[a-z_].%ld.%ld", kind, &warmup, &total), 3);
        for (k = 0; k < fx[i].n; k++) {
            double lr = lmi_lr_at(kind_of(kind), 5e-5, (long)k, warmup, total);
            double e = rel_err(lr, fx[i].v[k], 1e-300);
            worst = e > worst ? e : worst;
            if (fx[i].v[k] == 0.0) {
                assert_true(lr == 0.0);
            }
        }
        checked++;
    }
    print_message("schedules: %zu x 30 steps, worst relative error %.3g\n", checked, worst);
    assert_int_equal(checked, 9);
    assert_true(worst <= 1e-15);
}

/* ---- optimizer scenarios ---- */

enum { NP = 59, STEPS = 20 };

/* the fixture's tensors: dense.weight [6, 5] and out.weight [3, 6] decay, the bias and the
 * LayerNorm weight do not */
static const lmi_optim_range ranges[] = {{0, 30, 1}, {30, 6, 0}, {36, 5, 0}, {41, 18, 1}};

typedef struct scenario {
    const char *name;
    int sgd;             /* 0: Adam / AdamW */
    lmi_adam_params adam; /* lr is the base lr */
    lmi_sgd_params sgdp;
    lmi_lr_schedule kind;
    long warmup, total;
    const char *grads;
    double max_norm; /* 0: no clipping */
} scenario;

#define ADAMW(lr, b1, b2, eps, wd) {lr, b1, b2, eps, wd, 1}
#define NO_ADAM {0, 0, 0, 0, 0, 0}
#define NO_SGD {0, 0, 0, 0, 0}

static const scenario scenarios[] = {
    {"adamw_constant", 0, ADAMW(1e-3, 0.9, 0.999, 1e-8, 0.01), NO_SGD, LMI_LR_CONSTANT, 0, 20,
     "grads", 0},
    {"adamw_constant_warmup", 0, ADAMW(1e-3, 0.9, 0.999, 1e-8, 0.01), NO_SGD,
     LMI_LR_CONSTANT_WARMUP, 5, 20, "grads", 0},
    {"adamw_linear", 0, ADAMW(2e-3, 0.9, 0.999, 1e-8, 0.01), NO_SGD, LMI_LR_LINEAR, 5, 16,
     "grads", 0},
    {"adamw_cosine", 0, ADAMW(1e-3, 0.8, 0.99, 1e-6, 0.01), NO_SGD, LMI_LR_COSINE, 3, 20, "grads",
     0},
    {"adamw_big_decay", 0, ADAMW(1e-2, 0.9, 0.999, 1e-8, 0.5), NO_SGD, LMI_LR_LINEAR, 2, 20,
     "grads", 0},
    {"adam_l2_linear", 0, {1e-3, 0.9, 0.999, 1e-8, 0.01, 0}, NO_SGD, LMI_LR_LINEAR, 4, 20,
     "grads", 0},
    {"sgd_momentum", 1, NO_ADAM, {0.05, 0.9, 0, 1e-3, 0}, LMI_LR_CONSTANT_WARMUP, 3, 20, "grads",
     0},
    {"sgd_nesterov", 1, NO_ADAM, {0.05, 0.9, 0, 0, 1}, LMI_LR_LINEAR, 2, 20, "grads", 0},
    {"sgd_dampening", 1, NO_ADAM, {0.05, 0.9, 0.1, 1e-2, 0}, LMI_LR_COSINE, 0, 20, "grads", 0},
    {"sgd_plain", 1, NO_ADAM, {0.1, 0, 0, 1e-2, 0}, LMI_LR_COSINE, 4, 20, "grads", 0},
    {"adamw_clip", 0, ADAMW(1e-3, 0.9, 0.999, 1e-8, 0.01), NO_SGD, LMI_LR_LINEAR, 3, 20,
     "grads_clip", 1.0},
    {"sgd_clip", 1, NO_ADAM, {0.05, 0.9, 0, 0, 0}, LMI_LR_CONSTANT, 0, 20, "grads_clip", 0.5},
};

static void test_optimizers(void **state) {
    size_t s;
    double worst_all = 0;
    (void)state;
    for (s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        const scenario *sc = &scenarios[s];
        char key[96];
        float *p = fx_floats("init", NP), *grads = fx_floats(sc->grads, NP * STEPS);
        const fx_rec *want, *lrs, *norms = NULL;
        float m[NP] = {0}, v[NP] = {0}, g[NP];
        double worst = 0, worst_abs = 0, worst_norm = 0, scale;
        long k;
        size_t i;
        snprintf(key, sizeof key, "%s.param", sc->name);
        want = fx_get(key, NP * STEPS);
        snprintf(key, sizeof key, "%s.lr", sc->name);
        lrs = fx_get(key, STEPS);
        if (sc->max_norm > 0) {
            snprintf(key, sizeof key, "%s.norm", sc->name);
            norms = fx_get(key, STEPS);
        }
        for (k = 0; k < STEPS; k++) {
            double lr = lmi_lr_at(sc->kind, sc->sgd ? sc->sgdp.lr : sc->adam.lr, k, sc->warmup,
                                  sc->total);
            assert_true(rel_err(lr, lrs->v[k], 1e-300) <= 1e-15);
            memcpy(g, grads + (size_t)k * NP, sizeof g);
            if (norms != NULL) {
                double nrm = lmi_clip_grad_norm(1, g, NP, sc->max_norm);
                double e = rel_err(nrm, norms->v[k], 0);
                worst_norm = e > worst_norm ? e : worst_norm;
            }
            if (sc->sgd) {
                lmi_sgd_params hp = sc->sgdp;
                hp.lr = lr;
                lmi_sgd_step(2, p, g, m, NP, ranges, 4, &hp, k + 1);
            } else {
                lmi_adam_params hp = sc->adam;
                hp.lr = lr;
                lmi_adam_step(2, p, g, m, v, NP, ranges, 4, &hp, k + 1);
            }
            /* error relative to the largest parameter (normwise): torch's vectorised kernels
             * fuse some multiply-adds (add with alpha, lerp) and its scalar tails do not, so
             * the last bit of an element cannot be mirrored, and a parameter crossing zero
             * would make an elementwise relative error meaningless */
            scale = 0;
            for (i = 0; i < NP; i++) {
                double ref = fabs(want->v[(size_t)k * NP + i]);
                scale = ref > scale ? ref : scale;
            }
            for (i = 0; i < NP; i++) {
                double ref = want->v[(size_t)k * NP + i];
                double e = rel_err(p[i], ref, scale), a = fabs(p[i] - ref);
                worst = e > worst ? e : worst;
                worst_abs = a > worst_abs ? a : worst_abs;
            }
        }
        print_message("%-22s worst relative %.3g (absolute %.3g)%s", sc->name, worst, worst_abs,
                      norms != NULL ? "," : "\n");
        if (norms != NULL) {
            print_message(" clip norm relative %.3g\n", worst_norm);
            assert_true(worst_norm <= 1e-6);
        }
        worst_all = worst > worst_all ? worst : worst_all;
        assert_true(worst <= 1e-6);
        free(p);
        free(grads);
    }
    print_message("optimizers: worst relative error %.3g over %zu scenarios x %d steps\n",
                  worst_all, sizeof scenarios / sizeof scenarios[0], STEPS);
}

static void test_frozen_and_threads(void **state) {
    /* elements outside every range stay; 1 and 2 threads give the same bits on a large slab */
    enum { N = 100000 };
    static float p1[N], p2[N], g[N], m1[N], m2[N], v1[N], v2[N];
    const lmi_optim_range r[] = {{10, 40000, 1}, {50000, 49990, 0}};
    lmi_adam_params hp = {1e-3, 0.9, 0.999, 1e-8, 0.01, 1};
    lmi_sgd_params sp = {0.1, 0.9, 0, 0.01, 1};
    lmi_rng rng;
    size_t i;
    long k;
    (void)state;
    lmi_rng_seed(&rng, 7);
    for (i = 0; i < N; i++) {
        p1[i] = p2[i] = (float)lmi_rng_normal(&rng);
        m1[i] = m2[i] = v1[i] = v2[i] = 0.0f;
    }
    for (k = 1; k <= 3; k++) {
        for (i = 0; i < N; i++) {
            g[i] = (float)lmi_rng_normal(&rng);
        }
        lmi_adam_step(1, p1, g, m1, v1, N, r, 2, &hp, k);
        lmi_adam_step(2, p2, g, m2, v2, N, r, 2, &hp, k);
        lmi_sgd_step(1, p1, g, m1, N, r, 2, &sp, k);
        lmi_sgd_step(2, p2, g, m2, N, r, 2, &sp, k);
    }
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(v1, v2, sizeof v1);
    lmi_rng_seed(&rng, 7);
    for (i = 0; i < N; i++) {
        float p0 = (float)lmi_rng_normal(&rng);
        int inside = (i >= 10 && i < 40010) || (i >= 50000 && i < 99990);
        if (!inside) {
            assert_true(p1[i] == p0 && m1[i] == 0.0f && v1[i] == 0.0f);
        } else {
            assert_true(p1[i] != p0);
        }
    }
}

/* ---- clipping ---- */

static void test_clip(void **state) {
    enum { N = 300001 };
    float *g = malloc(N * sizeof(float)), *h = malloc(N * sizeof(float));
    lmi_rng rng;
    long double ref = 0;
    double n1, n2;
    size_t i;
    (void)state;
    assert_non_null(g);
    assert_non_null(h);
    lmi_rng_seed(&rng, 3);
    for (i = 0; i < N; i++) {
        g[i] = (float)(lmi_rng_normal(&rng) * 1e-3);
        ref += (long double)g[i] * g[i];
    }
    n1 = lmi_grad_norm(1, g, N);
    n2 = lmi_grad_norm(2, g, N);
    assert_true(n1 == n2); /* fixed blocks added in order */
    assert_true(fabs(n1 - (double)sqrtl(ref)) <= 1e-13 * n1);
    /* below max_norm: untouched, bit for bit */
    memcpy(h, g, N * sizeof(float));
    assert_true(lmi_clip_grad_norm(2, h, N, 10.0) == n1);
    assert_memory_equal(g, h, N * sizeof(float));
    /* above: scaled to max_norm (less torch's 1e-6) */
    assert_true(lmi_clip_grad_norm(2, h, N, 0.1) == n1);
    assert_true(fabs(lmi_grad_norm(1, h, N) - 0.1) < 1e-6);
    /* non-finite: reported, gradients left alone */
    memcpy(h, g, N * sizeof(float));
    h[12345] = INFINITY;
    assert_true(isinf(lmi_clip_grad_norm(2, h, N, 0.1)));
    h[12345] = NAN;
    assert_true(isnan(lmi_clip_grad_norm(2, h, N, 0.1)));
    h[12345] = g[12345];
    assert_memory_equal(g, h, N * sizeof(float));
    free(g);
    free(h);
}

/* ---- losses ---- */

static double grad_err(const float *got, const float *want, size_t n) {
    double m = 0, worst = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        m = fabs(want[i]) > m ? fabs(want[i]) : m;
    }
    for (i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (m > 0 ? m : 1);
        worst = e > worst ? e : worst;
    }
    return worst;
}

static void check_ce(const char *prefix, size_t N, size_t C) {
    char key[64];
    float *logits, *grad, *d;
    int32_t *labels;
    double loss, want, le, ge;
    size_t count;
    snprintf(key, sizeof key, "%s.logits", prefix);
    logits = fx_floats(key, N * C);
    snprintf(key, sizeof key, "%s.labels", prefix);
    labels = fx_ints(key, N);
    snprintf(key, sizeof key, "%s.grad", prefix);
    grad = fx_floats(key, N * C);
    snprintf(key, sizeof key, "%s.loss", prefix);
    want = fx_get(key, 1)->v[0];
    d = calloc(N * C, sizeof(float));
    assert_non_null(d);
    assert_int_equal(lmi_cross_entropy_loss(2, &loss, &count, d, logits, labels, N, C,
                                            LMI_IGNORE_INDEX, 1.0),
                     LM_OK);
    le = rel_err(loss, want, 0);
    ge = grad_err(d, grad, N * C);
    print_message("%-7s loss relative %.3g, gradient %.3g (of the largest)\n", prefix, le, ge);
    assert_true(le <= 1e-6 && ge <= 1e-6);
    free(logits);
    free(labels);
    free(grad);
    free(d);
}

static void test_losses(void **state) {
    float d[64];
    double loss, le, ge;
    (void)state;
    check_ce("ce", 8, 5);
    check_ce("ce_tok", 21, 4);
    {
        float *x = fx_floats("mse.pred", 6), *y = fx_floats("mse.target", 6);
        float *g = fx_floats("mse.grad", 6);
        memset(d, 0, sizeof d);
        loss = lmi_mse_loss(1, d, x, y, 6, 1.0);
        le = rel_err(loss, fx_get("mse.loss", 1)->v[0], 0);
        ge = grad_err(d, g, 6);
        print_message("mse     loss relative %.3g, gradient %.3g\n", le, ge);
        assert_true(le <= 1e-6 && ge <= 1e-6);
        free(x);
        free(y);
        free(g);
    }
    {
        float *x = fx_floats("bce.x", 12), *y = fx_floats("bce.target", 12);
        float *g = fx_floats("bce.grad", 12);
        memset(d, 0, sizeof d);
        loss = lmi_bce_with_logits_loss(1, d, x, y, 12, 1.0);
        le = rel_err(loss, fx_get("bce.loss", 1)->v[0], 0);
        ge = grad_err(d, g, 12);
        print_message("bce     loss relative %.3g, gradient %.3g\n", le, ge);
        assert_true(le <= 1e-6 && ge <= 1e-6);
        free(x);
        free(y);
        free(g);
    }
    {
        float *x = fx_floats("qa.logits", 4 * 7 * 2), *g = fx_floats("qa.grad", 4 * 7 * 2);
        int32_t *st = fx_ints("qa.start", 4), *en = fx_ints("qa.end", 4);
        memset(d, 0, sizeof d);
        loss = lmi_qa_loss(1, d, x, st, en, 4, 7, 1.0);
        le = rel_err(loss, fx_get("qa.loss", 1)->v[0], 0);
        ge = grad_err(d, g, 4 * 7 * 2);
        print_message("qa      loss relative %.3g, gradient %.3g\n", le, ge);
        assert_true(le <= 1e-6 && ge <= 1e-6);
        free(x);
        free(g);
        free(st);
        free(en);
    }
}

static void test_loss_edges(void **state) {
    /* every label ignored: loss 0, no gradient; a label out of range: LM_ERR_RANGE, nothing
     * written; grad_scale scales the gradient only */
    float logits[6] = {1, 2, 3, 4, 5, 6}, d[6] = {0}, d2[6] = {0};
    int32_t ignored[2] = {LMI_IGNORE_INDEX, LMI_IGNORE_INDEX}, bad[2] = {1, 3}, neg[2] = {0, -1};
    int32_t good[2] = {2, 0};
    int32_t qs[2] = {3, 9}, qe[2] = {3, 3};
    double loss = -1, l2;
    size_t count = 99, i;
    (void)state;
    assert_int_equal(lmi_cross_entropy_loss(1, &loss, &count, d, logits, ignored, 2, 3, -100, 1.0),
                     LM_OK);
    assert_true(loss == 0.0 && count == 0);
    for (i = 0; i < 6; i++) {
        assert_true(d[i] == 0.0f);
    }
    assert_int_equal(lmi_cross_entropy_loss(1, &loss, &count, d, logits, bad, 2, 3, -100, 1.0),
                     LM_ERR_RANGE);
    assert_int_equal(lmi_cross_entropy_loss(1, &loss, &count, d, logits, neg, 2, 3, -100, 1.0),
                     LM_ERR_RANGE);
    for (i = 0; i < 6; i++) {
        assert_true(d[i] == 0.0f);
    }
    assert_int_equal(lmi_cross_entropy_loss(1, &loss, &count, d, logits, good, 2, 3, -100, 1.0),
                     LM_OK);
    assert_int_equal(lmi_cross_entropy_loss(1, &l2, NULL, d2, logits, good, 2, 3, -100, 0.25),
                     LM_OK);
    assert_true(loss == l2 && count == 2);
    for (i = 0; i < 6; i++) {
        assert_true(fabsf(d2[i] - 0.25f * d[i]) <= 1e-7f);
    }
    /* QA: both positions of the second row beyond T = 3 are ignored, the first row's are
     * ignored too (== T): every position ignored gives 0 */
    assert_true(lmi_qa_loss(1, NULL, logits, qs, qe, 1, 3, 1.0) == 0.0);
    assert_true(lmi_mse_loss(1, NULL, logits, logits, 0, 1.0) == 0.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_optimizers),
        cmocka_unit_test(test_frozen_and_threads),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_loss_edges),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
