/* Tests of the public trainer API (lm/trainer.h) on small random models: options and batch
 * structs, refusals before any work, the non-finite guards, determinism with dropout on, padding
 * that changes nothing, no
 * allocation after the first step (counting allocator), evaluation, saving the trained model,
 * allocation failures, and that training learns. */
#include <math.h>

#include "test_util.h"

#include "model/bert.h"
#include "train/trainer.h"

static char *config_for(const char *arch, const char *act, int labels, const char *extra) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"architectures\":[\"%s\"],\"model_type\":\"bert\",\"vocab_size\":50,"
             "\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
             "\"intermediate_size\":48,\"max_position_embeddings\":16,\"type_vocab_size\":2,"
             "\"hidden_act\":\"%s\",\"num_labels\":%d%s}",
             arch, act, labels, extra != NULL ? extra : "");
    return buf;
}

static lm_model_t *create(const char *arch, int labels, const char *extra, uint64_t seed) {
    lm_model_t *m = NULL;
    lm_model_options mo;
    const char *cfg = config_for(arch, "gelu", labels, extra);
    lm_status s;
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = 2;
    s = lm_model_create(cfg, strlen(cfg), seed, &mo, &m);
    if (s != LM_OK) {
        print_error("create: %s\n", lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    return m;
}

static lm_trainer_options default_opts(void) {
    lm_trainer_options o;
    assert_int_equal(lm_trainer_options_init(&o, sizeof o), LM_OK);
    o.total_steps = 100;
    o.learning_rate = 1e-3;
    o.threads = 2;
    return o;
}

enum { B = 4, T = 10 };
static int32_t ids[B * T], types[B * T], mask[B * T], tok_labels[B * T], seq_labels[B];
static int32_t starts[B], ends[B];
static float reg_labels[B];

/* Batch `k`: lengths vary, ids and labels from k. */
static lm_batch make_batch(int k) {
    lm_batch b;
    size_t i, t;
    assert_int_equal(lm_batch_init(&b, sizeof b), LM_OK);
    for (i = 0; i < B; i++) {
        const size_t len = T - (i + (size_t)k) % 4;
        for (t = 0; t < T; t++) {
            const size_t n = i * T + t;
            ids[n] = t < len ? (int32_t)(2 + (i * 7 + t * 3 + (size_t)k * 5) % 45) : 0;
            types[n] = t >= len / 2 && t < len;
            mask[n] = t < len;
            tok_labels[n] = t < len ? ids[n] % 3 : -100;
        }
        seq_labels[i] = (int32_t)((i + (size_t)k) % 3);
        reg_labels[i] = (float)i * 0.5f - 1.0f;
        starts[i] = 1;
        ends[i] = 3;
    }
    b.batch = B;
    b.seq_len = T;
    b.ids = ids;
    b.type_ids = types;
    b.attention_mask = mask;
    return b;
}

/* ---- options and structs ---- */

static void test_options_and_batch_init(void **state) {
    lm_trainer_options o;
    lm_batch b;
    unsigned char small[sizeof(size_t) + 4];
    (void)state;
    assert_int_equal(lm_trainer_options_init(&o, sizeof o), LM_OK);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.optimizer, LM_OPTIMIZER_ADAMW);
    assert_int_equal(o.schedule, LM_SCHEDULE_LINEAR);
    assert_true(o.learning_rate == 5e-5 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8);
    assert_true(o.max_grad_norm == 1.0 && o.accumulation_steps == 1 && o.dropout == 1);
    assert_true(o.seed == 42);
    assert_int_equal(lm_trainer_options_init(NULL, sizeof o), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_trainer_options_init(&o, 2), LM_ERR_INVALID_ARGUMENT);
    memset(small, 0xAB, sizeof small);
    assert_int_equal(lm_trainer_options_init((lm_trainer_options *)(void *)small,
                                             sizeof(size_t)),
                     LM_OK);
    assert_true(small[sizeof(size_t)] == 0xAB); /* nothing written past the caller's size */
    assert_int_equal(lm_batch_init(&b, sizeof b), LM_OK);
    assert_int_equal(b.struct_size, sizeof b);
    assert_null(b.ids);
    assert_null(b.labels);
    assert_int_equal(b.batch, 0);
    assert_int_equal(lm_batch_init(NULL, sizeof b), LM_ERR_INVALID_ARGUMENT);
}

static void test_create_refusals(void **state) {
    lm_model_t *base = create("BertModel", 2, NULL, 1), *m = create("BertForSequenceClassification", 3, NULL, 1);
    lm_trainer_t *t = NULL, *t2 = NULL;
    lm_trainer_options o = default_opts();
    (void)state;
    assert_int_equal(lm_trainer_create(NULL, &o, &t), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_trainer_create(m, &o, NULL), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_trainer_create(base, &o, &t), LM_ERR_STATE);
    assert_null(t);
    /* the defaults make a trainer that evaluates; its linear schedule refuses to train without
     * total_steps, before any work */
    assert_int_equal(lm_trainer_create(m, NULL, &t), LM_OK);
    {
        lm_batch b;
        int32_t tok_ids[4] = {2, 5, 6, 3}, label = 1;
        float loss = -1.0f;
        assert_int_equal(lm_batch_init(&b, sizeof b), LM_OK);
        b.batch = 1;
        b.seq_len = 4;
        b.ids = tok_ids;
        b.labels = &label;
        assert_int_equal(lm_trainer_evaluate(t, &b, &loss, NULL, 0), LM_OK);
        assert_true(loss > 0.0f);
        assert_int_equal(lm_trainer_step(t, &b, NULL), LM_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(lm_last_error(), "total_steps"));
        assert_int_equal(lm_trainer_steps(t), 0);
    }
    lm_trainer_free(t);
    t = NULL;
    o.accumulation_steps = 0;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "accumulation_steps"));
    o = default_opts();
    o.beta2 = 1.0;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_ERR_INVALID_ARGUMENT);
    o = default_opts();
    o.optimizer = 7;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_ERR_INVALID_ARGUMENT);
    o = default_opts();
    o.optimizer = LM_OPTIMIZER_SGD;
    o.nesterov = 1; /* without momentum */
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_ERR_INVALID_ARGUMENT);
    o = default_opts();
    o.schedule = LM_SCHEDULE_CONSTANT;
    o.total_steps = 0;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
    /* one trainer per model */
    assert_int_equal(lm_trainer_create(m, &o, &t2), LM_ERR_STATE);
    assert_null(t2);
    lm_trainer_free(t);
    assert_int_equal(lm_trainer_create(m, &o, &t2), LM_OK);
    assert_int_equal(lm_trainer_steps(t2), 0);
    assert_true(lm_trainer_grad_norm(t2) == 0.0);
    assert_true(lm_trainer_learning_rate(t2) == o.learning_rate);
    lm_trainer_free(t2);
    lm_trainer_free(NULL);
    lm_model_free(base);
    lm_model_free(m);
}

/* A copy of the model's parameters and the trainer's optimizer state. */
typedef struct snapshot {
    float *w, *s1, *s2;
    size_t n;
} snapshot;

static snapshot take(const lm_model_t *model, const lm_trainer_t *t) {
    const lmi_bert *m = lmi_model_bert(model);
    snapshot s;
    s.n = m->slab_floats;
    s.w = malloc(s.n * sizeof(float));
    s.s1 = malloc(s.n * sizeof(float));
    s.s2 = malloc(s.n * sizeof(float));
    assert_true(s.w != NULL && s.s1 != NULL && s.s2 != NULL);
    memcpy(s.w, m->slab, s.n * sizeof(float));
    memcpy(s.s1, t->state1, s.n * sizeof(float));
    memcpy(s.s2, t->state2, s.n * sizeof(float));
    return s;
}

static void same_as(const snapshot *s, const lm_model_t *model, const lm_trainer_t *t) {
    assert_memory_equal(s->w, lmi_model_bert(model)->slab, s->n * sizeof(float));
    assert_memory_equal(s->s1, t->state1, s->n * sizeof(float));
    assert_memory_equal(s->s2, t->state2, s->n * sizeof(float));
    free(s->w);
    free(s->s1);
    free(s->s2);
}

static void test_batch_refusals(void **state) {
    lm_model_t *m = create("BertForSequenceClassification", 3, NULL, 2);
    lm_trainer_t *t = NULL;
    lm_trainer_options o = default_opts();
    lm_batch b;
    snapshot s;
    float loss = -1;
    (void)state;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
    b = make_batch(0);
    b.labels = seq_labels;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK); /* Adam state not all zero */
    s = take(m, t);
    assert_int_equal(lm_trainer_step(t, NULL, &loss), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_trainer_step(NULL, &b, &loss), LM_ERR_INVALID_ARGUMENT);
    b.batch = 0;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "empty batch"));
    b = make_batch(0);
    b.labels = seq_labels;
    b.seq_len = 17; /* longer than the 16 positions */
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_RANGE);
    assert_non_null(strstr(lm_last_error(), "position table"));
    b.seq_len = T;
    seq_labels[2] = 3; /* 3 labels: 0..2 */
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_RANGE);
    assert_non_null(strstr(lm_last_error(), "row 2"));
    seq_labels[2] = -100; /* ignored: fine */
    ids[5] = 50;          /* vocabulary 0..49 */
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_RANGE);
    assert_non_null(strstr(lm_last_error(), "position 5"));
    ids[5] = 3;
    b.labels = NULL; /* no labels */
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "no labels"));
    b.float_labels = reg_labels; /* floats for a single-label head with integer labels too */
    b.labels = seq_labels;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_INVALID_ARGUMENT);
    b.float_labels = NULL;
    b.start_positions = starts; /* another head's labels */
    b.end_positions = ends;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "start_positions"));
    b.start_positions = b.end_positions = NULL;
    b.struct_size = 3; /* a struct that was never initialised */
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_trainer_steps(t), 1);
    same_as(&s, m, t); /* nothing moved */
    lm_trainer_free(t);
    lm_model_free(m);
}

static void test_non_finite_guards(void **state) {
    lm_model_t *m = create("BertForSequenceClassification", 1, NULL, 3); /* regression */
    lm_trainer_t *t = NULL;
    lm_trainer_options o = default_opts();
    lm_batch b;
    snapshot s;
    float loss = 0;
    (void)state;
    o.accumulation_steps = 2;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
    b = make_batch(0);
    b.float_labels = reg_labels;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    assert_int_equal(lm_trainer_steps(t), 1);
    /* a loss that overflows float (the squared error of 1e20): nothing changes */
    s = take(m, t);
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK); /* half an accumulation */
    reg_labels[1] = 1e20f;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_NUMERIC);
    assert_true(isinf(loss));
    assert_non_null(strstr(lm_last_error(), "skipped"));
    assert_int_equal(lm_trainer_steps(t), 1);
    same_as(&s, m, t);
    /* the gathered gradients were dropped: the next two steps make a fresh update */
    reg_labels[1] = 0.0f;
    s = take(m, t);
    assert_int_equal(t->accumulated, 0);
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    /* a gradient that is not finite at the update: skipped too */
    t->grad[7] = INFINITY;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_ERR_NUMERIC);
    assert_non_null(strstr(lm_last_error(), "gradient norm"));
    assert_int_equal(lm_trainer_steps(t), 1);
    same_as(&s, m, t);
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    assert_int_equal(lm_trainer_steps(t), 2);
    assert_true(isfinite(lm_trainer_grad_norm(t)) && lm_trainer_grad_norm(t) > 0);
    assert_int_equal(lmi_model_bert(m)->slab != NULL, 1);
    assert_true(lm_model_nan_count(m) == 0);
    lm_trainer_free(t);
    lm_model_free(m);
}

/* ---- determinism ---- */

static void run_steps(const char *arch, int labels, uint64_t seed, int threads, int steps,
                      float *losses, float **weights, size_t *n) {
    lm_model_t *m = create(arch, strcmp(arch, "BertForQuestionAnswering") == 0 ? 2 : labels,
                           ",\"hidden_dropout_prob\":0.2", 9);
    lm_trainer_t *t = NULL;
    lm_trainer_options o = default_opts();
    int k;
    o.seed = seed;
    o.threads = threads;
    o.accumulation_steps = 2;
    o.warmup_steps = 2;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
    for (k = 0; k < steps; k++) {
        lm_batch b = make_batch(k);
        if (strcmp(arch, "BertForTokenClassification") == 0 ||
            strcmp(arch, "BertForMaskedLM") == 0) {
            b.labels = tok_labels;
        } else if (strcmp(arch, "BertForQuestionAnswering") == 0) {
            b.start_positions = starts;
            b.end_positions = ends;
        } else {
            b.labels = seq_labels;
        }
        assert_int_equal(lm_trainer_step(t, &b, &losses[k]), LM_OK);
    }
    *n = lmi_model_bert(m)->slab_floats;
    *weights = malloc(*n * sizeof(float));
    assert_non_null(*weights);
    memcpy(*weights, lmi_model_bert(m)->slab, *n * sizeof(float));
    lm_trainer_free(t);
    lm_model_free(m);
}

static void test_determinism(void **state) {
    static const char *const archs[] = {"BertForSequenceClassification",
                                        "BertForTokenClassification", "BertForQuestionAnswering",
                                        "BertForMaskedLM"};
    enum { STEPS = 6 };
    size_t h;
    (void)state;
    for (h = 0; h < 4; h++) {
        float l1[STEPS], l2[STEPS], l3[STEPS], *w1, *w2, *w3;
        size_t n1, n2, n3;
        int k, differ = 0;
        run_steps(archs[h], 3, 5, 2, STEPS, l1, &w1, &n1);
        run_steps(archs[h], 3, 5, 2, STEPS, l2, &w2, &n2);
        run_steps(archs[h], 3, 6, 2, STEPS, l3, &w3, &n3);
        assert_memory_equal(l1, l2, sizeof l1); /* same seed, same threads: bit for bit */
        assert_int_equal(n1, n2);
        assert_memory_equal(w1, w2, n1 * sizeof(float));
        for (k = 0; k < STEPS; k++) {
            differ += l1[k] != l3[k];
        }
        assert_true(differ >= STEPS - 1); /* another seed, other dropout masks */
        print_message("  %-30s %d steps, dropout (hidden 0.2, attention 0.1): same seed "
                      "bit-identical; other seed: "
                      "%d of %d losses differ\n",
                      archs[h], STEPS, differ, STEPS);
        free(w1);
        free(w2);
        free(w3);
    }
}

/* ---- padding ---- */

/* The trainer runs each sequence up to its last real token: the same batch with 6 more padding
 * columns (mask 0, labels -100) gives the same loss and gradients. Dropout off (its draws are
 * keyed by the [B, T] row, so they move with the width). Question answering is left out: its
 * span softmax runs over every position, padding included. */
static void test_padding_changes_nothing(void **state) {
    static const char *const archs[] = {"BertForSequenceClassification",
                                        "BertForTokenClassification", "BertForMaskedLM"};
    enum { T2 = T + 6 };
    size_t h, i, t;
    (void)state;
    for (h = 0; h < 3; h++) {
        lm_model_t *m = create(archs[h], 3, NULL, 11);
        lm_trainer_t *tr = NULL;
        lm_trainer_options o = default_opts();
        lm_batch b = make_batch(1), w;
        int32_t wids[B * T2], wtypes[B * T2], wmask[B * T2], wlab[B * T2];
        const size_t n = lmi_model_bert(m)->slab_floats;
        float *g1 = malloc(n * sizeof(float));
        double l1 = 0, l2 = 0, worst = 0, norm = 0;
        assert_non_null(g1);
        o.dropout = 0;
        assert_int_equal(lm_trainer_create(m, &o, &tr), LM_OK);
        b.labels = h == 0 ? seq_labels : tok_labels;
        w = b;
        for (i = 0; i < B; i++) {
            for (t = 0; t < T2; t++) {
                const int in = t < T;
                wids[i * T2 + t] = in ? ids[i * T + t] : 0;
                wtypes[i * T2 + t] = in ? types[i * T + t] : 0;
                wmask[i * T2 + t] = in ? mask[i * T + t] : 0;
                wlab[i * T2 + t] = in ? tok_labels[i * T + t] : -100;
            }
        }
        w.seq_len = T2;
        w.ids = wids;
        w.type_ids = wtypes;
        w.attention_mask = wmask;
        w.labels = h == 0 ? seq_labels : wlab;
        assert_int_equal(lmi_trainer_gradients(tr, &b, &l1), LM_OK);
        memcpy(g1, tr->grad, n * sizeof(float));
        assert_int_equal(lmi_trainer_gradients(tr, &w, &l2), LM_OK);
        for (i = 0; i < n; i++) {
            const double d = fabs((double)g1[i] - (double)tr->grad[i]);
            worst = d > worst ? d : worst;
            norm = fabs((double)g1[i]) > norm ? fabs((double)g1[i]) : norm;
        }
        assert_true(fabs(l1 - l2) <= 1e-6 * fabs(l1));
        assert_true(norm > 0 && worst <= 1e-6 * norm);
        print_message("  %-30s loss %.7f / %.7f, gradients max diff %.2g (max %.2g)\n", archs[h],
                      l1, l2, worst, norm);
        free(g1);
        lm_trainer_free(tr);
        lm_model_free(m);
    }
}

/* ---- allocations ---- */

static void test_no_allocation_after_first_step(void **state) {
    static const char *const archs[] = {"BertForSequenceClassification",
                                        "BertForTokenClassification", "BertForQuestionAnswering",
                                        "BertForMaskedLM"};
    size_t h;
    (void)state;
    for (h = 0; h < 4; h++) {
        lm_model_t *m;
        lm_trainer_t *t = NULL;
        lm_trainer_options o = default_opts();
        long after_first, after_all;
        int k;
        float loss;
        test_alloc_begin(0);
        m = create(archs[h], h == 2 ? 2 : 3, NULL, 4);
        o.accumulation_steps = 2;
        assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
        for (k = 0; k < 6; k++) {
            lm_batch b = make_batch(k); /* lengths and labels vary, the shape does not */
            if (h == 1 || h == 3) {
                b.labels = tok_labels;
            } else if (h == 2) {
                b.start_positions = starts;
                b.end_positions = ends;
            } else {
                b.labels = seq_labels;
            }
            assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
            if (k == 0) {
                after_first = test_alloc.count;
            }
        }
        after_all = test_alloc.count;
        lm_trainer_free(t);
        lm_model_free(m);
        assert_int_equal(test_alloc_end(), 0); /* no leak */
        print_message("  %-30s allocations in steps 2..6: %ld\n", archs[h],
                      after_all - after_first);
        assert_int_equal(after_all, after_first);
    }
}

static lm_status create_step_free(void *arg) {
    lm_model_t *m = NULL;
    lm_trainer_t *t = NULL;
    lm_trainer_options o = default_opts();
    lm_batch b = make_batch(1);
    const char *cfg = config_for((const char *)arg, "gelu", 3, NULL);
    lm_status s;
    float loss;
    s = lm_model_create(cfg, strlen(cfg), 1, NULL, &m);
    if (s == LM_OK) {
        s = lm_trainer_create(m, &o, &t);
    }
    if (s == LM_OK) {
        b.labels = tok_labels;
        s = lm_trainer_step(t, &b, &loss);
    }
    lm_trainer_free(t);
    lm_model_free(m);
    return s;
}

static void test_allocation_failures(void **state) {
    (void)state;
    TEST_EVERY_ALLOCATION_FAILURE(create_step_free, (void *)"BertForTokenClassification");
    TEST_EVERY_ALLOCATION_FAILURE(create_step_free, (void *)"BertForMaskedLM");
}

/* ---- evaluation, saving, learning ---- */

static void test_evaluate_and_save(void **state) {
    lm_model_t *m = create("BertForSequenceClassification", 3, NULL, 8), *m2 = NULL;
    lm_trainer_t *t = NULL;
    lm_trainer_options o = default_opts();
    lm_batch b;
    float loss = 0, eloss = 0, logits[B * 3], logits2[B * 3], logits3[B * 3];
    char *dir = test_make_temp_dir();
    lm_model_options mo;
    size_t i;
    int k;
    (void)state;
    o.dropout = 0;
    o.learning_rate = 1e-2;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
    for (k = 0; k < 4; k++) {
        b = make_batch(k);
        b.labels = seq_labels;
        assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    }
    b = make_batch(0);
    b.labels = seq_labels;
    assert_int_equal(lm_trainer_evaluate(t, &b, &eloss, logits, B * 3 - 1),
                     LM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(lm_trainer_evaluate(t, &b, &eloss, logits, B * 3), LM_OK);
    assert_true(eloss > 0 && isfinite(eloss));
    /* the trained weights are the model's: its own forward agrees */
    assert_int_equal(lm_model_classify(m, ids, types, mask, B, T, logits2), LM_OK);
    for (i = 0; i < B * 3; i++) {
        assert_true(fabsf(logits[i] - logits2[i]) <= 1e-5f);
    }
    b.labels = NULL; /* no labels: loss 0 */
    assert_int_equal(lm_trainer_evaluate(t, &b, &eloss, NULL, 0), LM_OK);
    assert_true(eloss == 0.0f);
    assert_int_equal(lm_trainer_steps(t), 4);
    lm_trainer_free(t);
    /* saved and loaded back: the same outputs */
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = 2;
    assert_int_equal(lm_model_load(dir, &mo, &m2), LM_OK);
    assert_int_equal(lm_model_classify(m2, ids, types, mask, B, T, logits3), LM_OK);
    assert_memory_equal(logits2, logits3, sizeof logits2);
    /* a loaded (mapped) model trains too: its weights move into one writable block */
    assert_int_equal(lm_trainer_create(m2, &o, &t), LM_OK);
    b.labels = seq_labels;
    assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
    lm_trainer_free(t);
    lm_model_free(m2);
    lm_model_free(m);
    test_remove_tree(dir);
    free(dir);
}

static void test_training_learns(void **state) {
    /* token classification of id % 3: the loss falls from ~1.1 */
    lm_model_t *m = create("BertForTokenClassification", 3, NULL, 12);
    lm_trainer_t *t = NULL;
    lm_trainer_options o = default_opts();
    float first = 0, last = 0;
    int k;
    const int steps = 60;
    (void)state;
    o.learning_rate = 3e-3;
    o.warmup_steps = 3;
    o.total_steps = steps;
    o.weight_decay = 0.01;
    assert_int_equal(lm_trainer_create(m, &o, &t), LM_OK);
    for (k = 0; k < steps; k++) {
        lm_batch b = make_batch(k);
        float loss;
        b.labels = tok_labels;
        assert_int_equal(lm_trainer_step(t, &b, &loss), LM_OK);
        first = k == 0 ? loss : first;
        last = loss;
    }
    print_message("  token classification of id %% 3: loss %.3f -> %.3f in %d steps\n",
                  (double)first, (double)last, steps);
    assert_true(last < 0.6f * first);
    lm_trainer_free(t);
    lm_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_and_batch_init),
        cmocka_unit_test(test_create_refusals),
        cmocka_unit_test(test_batch_refusals),
        cmocka_unit_test(test_non_finite_guards),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_padding_changes_nothing),
        cmocka_unit_test(test_no_allocation_after_first_step),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_evaluate_and_save),
        cmocka_unit_test(test_training_learns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
