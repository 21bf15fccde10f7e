/* Tests of the public model API on small random models: create/save/load round trips for every
 * head, batch independence, bad inputs, missing / mis-shaped / NaN tensors, allocation failures. */
#include <math.h>

#include "test_util.h"

#include "safetensors/safetensors.h"

static const char *const heads_arch[] = {"BertModel", "BertForSequenceClassification",
                                         "BertForTokenClassification", "BertForQuestionAnswering",
                                         "BertForMaskedLM"};

static char *config_for(const char *arch, const char *act, int labels) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"architectures\":[\"%s\"],\"model_type\":\"bert\",\"vocab_size\":97,"
             "\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
             "\"intermediate_size\":37,\"max_position_embeddings\":40,\"type_vocab_size\":2,"
             "\"hidden_act\":\"%s\",\"num_labels\":%d}",
             arch, act, labels);
    return buf;
}

static lm_model_t *create(const char *arch, const char *act, int labels, uint64_t seed) {
    lm_model_t *m = NULL;
    const char *cfg = config_for(arch, act, labels);
    lm_status s = lm_model_create(cfg, strlen(cfg), seed, NULL, &m);
    if (s != LM_OK) {
        print_error("create: %s\n", lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    return m;
}

/* A batch of 3 sequences of up to T tokens: lengths 7, T, 1; ids with [CLS] 2 .. [SEP] 3. */
enum { B = 3, T = 11 };
static int32_t ids[B * T], types[B * T], mask[B * T];
static const size_t lens[B] = {7, T, 1};

static void make_batch(void) {
    size_t b, t;
    for (b = 0; b < B; b++) {
        for (t = 0; t < T; t++) {
            int real = t < lens[b];
            ids[b * T + t] = real ? (int32_t)((b * 31 + t * 7) % 90 + 5) : 0;
            types[b * T + t] = real && t > 3 ? 1 : 0;
            mask[b * T + t] = real;
        }
    }
}

/* Runs the model's own head into out; returns the number of floats per token (per row for
 * classification/embedding rows are returned in rows_per_seq = 1). */
static size_t run_head(lm_model_t *m, const int32_t *i, const int32_t *ty, const int32_t *mk,
                       size_t b, size_t t, float *out) {
    size_t C = lm_model_hidden_size(m), V = lm_model_vocab_size(m), L = lm_model_num_labels(m);
    lm_status s = LM_OK;
    size_t n = 0;
    switch (lm_model_head(m)) {
    case LM_HEAD_BASE:
        s = lm_model_hidden_states(m, i, ty, mk, b, t, out, out + b * t * C);
        n = b * t * C + b * C;
        break;
    case LM_HEAD_SEQUENCE_CLASSIFICATION:
        s = lm_model_classify(m, i, ty, mk, b, t, out);
        n = b * L;
        break;
    case LM_HEAD_TOKEN_CLASSIFICATION:
        s = lm_model_token_logits(m, i, ty, mk, b, t, out);
        n = b * t * L;
        break;
    case LM_HEAD_QUESTION_ANSWERING:
        s = lm_model_qa_logits(m, i, ty, mk, b, t, out, out + b * t);
        n = 2 * b * t;
        break;
    case LM_HEAD_MASKED_LM:
        s = lm_model_mlm_logits(m, i, ty, mk, b, t, NULL, 0, out);
        n = b * t * V;
        break;
    default:
        fail();
    }
    if (s != LM_OK) {
        print_error("forward: %s\n", lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    return n;
}

static void test_save_load_round_trip_every_head(void **state) {
    static float a[B * T * 97 + 64], b2[B * T * 97 + 64];
    size_t h, i, n;
    char *dir = test_make_temp_dir();
    (void)state;
    make_batch();
    for (h = 0; h < sizeof heads_arch / sizeof heads_arch[0]; h++) {
        lm_model_t *m = create(heads_arch[h], h % 2 ? "gelu_new" : "relu", h == 3 ? 2 : 3, 7),
                   *m2 = NULL;
        assert_int_equal(lm_model_head(m), (lm_head)(h + 1));
        assert_int_equal(lm_model_save(m, dir), LM_OK);
        assert_int_equal(lm_model_load(dir, NULL, &m2), LM_OK);
        assert_int_equal(lm_model_head(m2), lm_model_head(m));
        assert_true(lm_model_parameter_count(m2) == lm_model_parameter_count(m));
        assert_true(lm_model_nan_count(m2) == 0);
        n = run_head(m, ids, types, mask, B, T, a);
        assert_int_equal(run_head(m2, ids, types, mask, B, T, b2), n);
        for (i = 0; i < n; i++) {
            assert_true(a[i] == b2[i]);
        }
        lm_model_free(m);
        lm_model_free(m2);
    }
    test_remove_tree(dir);
    free(dir);
}

static void test_create_is_seeded(void **state) {
    lm_model_t *m1 = create("BertModel", "gelu", 2, 5), *m2 = create("BertModel", "gelu", 2, 5),
               *m3 = create("BertModel", "gelu", 2, 6);
    static float a[B * T * 32 + B * 32], b2[B * T * 32 + B * 32], c[B * T * 32 + B * 32];
    size_t i, n, differ = 0;
    (void)state;
    make_batch();
    n = run_head(m1, ids, types, mask, B, T, a);
    run_head(m2, ids, types, mask, B, T, b2);
    run_head(m3, ids, types, mask, B, T, c);
    for (i = 0; i < n; i++) {
        assert_true(a[i] == b2[i]);
        differ += a[i] != c[i];
    }
    assert_true(differ > n / 2);
    /* BertModel with 32 hidden, vocab 97, 40 positions, 2 types, 2 layers of (4*32*32 + 4*32 +
     * 2*32*37 + 37 + 32 + 4*32) + pooler 32*32 + 32 + embedding LN 64 */
    assert_true(lm_model_parameter_count(m1) ==
                (uint64_t)(97 + 40 + 2) * 32 + 64 +
                    2 * (4 * 32 * 32 + 4 * 32 + 2 * 32 * 37 + 37 + 32 + 4 * 32) + 32 * 32 + 32);
    lm_model_free(m1);
    lm_model_free(m2);
    lm_model_free(m3);
}

static void test_batch_independence(void **state) {
    const char *archs[] = {"BertModel", "BertForTokenClassification", "BertForQuestionAnswering",
                           "BertForSequenceClassification"};
    size_t h, b, t, k;
    (void)state;
    make_batch();
    for (h = 0; h < 4; h++) {
        lm_model_t *m = create(archs[h], "gelu", h == 2 ? 2 : 3, 11);
        static float full[B * T * 32 + B * 32], one[T * 32 + 32];
        size_t per_tok, per_seq;
        per_tok = h == 0 ? 32 : h == 1 ? 3 : h == 2 ? 1 : 0;
        per_seq = h == 0 ? 32 : h == 3 ? 3 : 0;
        run_head(m, ids, types, mask, B, T, full);
        for (b = 0; b < B; b++) {
            /* the sequence alone, without padding */
            run_head(m, ids + b * T, types + b * T, mask + b * T, 1, lens[b], one);
            for (t = 0; t < lens[b]; t++) {
                for (k = 0; k < per_tok; k++) {
                    float x = full[(b * T + t) * per_tok + k], y = one[t * per_tok + k];
                    if (h == 2) { /* QA: start logits then end logits */
                        assert_true(full[B * T + b * T + t] == one[lens[b] + t]);
                    }
                    assert_true(x == y); /* exact: difference 0 */
                }
            }
            for (k = 0; k < per_seq; k++) {
                size_t off = h == 0 ? B * T * 32 : 0, off1 = h == 0 ? lens[b] * 32 : 0;
                assert_true(full[off + b * per_seq + k] == one[off1 + k]);
            }
        }
        lm_model_free(m);
    }
}

static void test_embeddings(void **state) {
    lm_model_t *m = create("BertModel", "gelu", 2, 3);
    static float hidden[B * T * 32], e[B * 32];
    size_t b, t, c;
    int pooling, normalize;
    (void)state;
    make_batch();
    lm_model_embedding_defaults(m, &pooling, &normalize);
    assert_int_equal(pooling, LM_POOLING_MEAN);
    assert_int_equal(normalize, 0);
    assert_int_equal(lm_model_hidden_states(m, ids, types, mask, B, T, hidden, NULL), LM_OK);
    assert_int_equal(lm_model_embed(m, ids, types, mask, B, T, LM_POOLING_MEAN, 1, e), LM_OK);
    for (b = 0; b < B; b++) {
        double norm = 0, ref[32], rn = 0;
        for (c = 0; c < 32; c++) {
            ref[c] = 0;
            for (t = 0; t < lens[b]; t++) {
                ref[c] += hidden[(b * T + t) * 32 + c] / (double)lens[b];
            }
            rn += ref[c] * ref[c];
        }
        for (c = 0; c < 32; c++) {
            assert_true(fabs(e[b * 32 + c] - ref[c] / sqrt(rn)) < 1e-6);
            norm += (double)e[b * 32 + c] * e[b * 32 + c];
        }
        assert_true(fabs(norm - 1) < 1e-5);
    }
    assert_int_equal(lm_model_embed(m, ids, types, mask, B, T, LM_POOLING_CLS, 0, e), LM_OK);
    for (b = 0; b < B; b++) {
        assert_memory_equal(e + b * 32, hidden + b * T * 32, 32 * sizeof(float));
    }
    assert_int_equal(lm_model_embed(m, ids, types, mask, B, T, 7, 0, e), LM_ERR_INVALID_ARGUMENT);
    lm_model_free(m);
}

static void test_bad_inputs(void **state) {
    lm_model_t *m = create("BertForSequenceClassification", "gelu", 2, 3);
    float out[B * T * 97];
    int32_t bad[B * T];
    (void)state;
    make_batch();
    memcpy(bad, ids, sizeof bad);
    bad[T + 4] = 97;
    assert_int_equal(lm_model_classify(m, bad, NULL, NULL, B, T, out), LM_ERR_RANGE);
    assert_non_null(strstr(lm_last_error(), "row 1, position 4"));
    bad[T + 4] = -1;
    assert_int_equal(lm_model_classify(m, bad, NULL, NULL, B, T, out), LM_ERR_RANGE);
    memcpy(bad, types, sizeof bad);
    bad[2] = 2;
    assert_int_equal(lm_model_classify(m, ids, bad, NULL, B, T, out), LM_ERR_RANGE);
    memcpy(bad, mask, sizeof bad);
    bad[0] = 5;
    assert_int_equal(lm_model_classify(m, ids, NULL, bad, B, T, out), LM_ERR_RANGE);
    assert_int_equal(lm_model_classify(m, ids, NULL, NULL, 0, T, out), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_model_classify(m, NULL, NULL, NULL, B, T, out), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_model_classify(m, ids, NULL, NULL, B, T, NULL), LM_ERR_INVALID_ARGUMENT);
    {
        static int32_t longer[41];
        assert_int_equal(lm_model_classify(m, longer, NULL, NULL, 1, 41, out), LM_ERR_RANGE);
        assert_non_null(strstr(lm_last_error(), "max_position_embeddings"));
    }
    /* another head's function */
    assert_int_equal(lm_model_token_logits(m, ids, NULL, NULL, B, T, out), LM_ERR_STATE);
    assert_int_equal(lm_model_mlm_logits(m, ids, NULL, NULL, B, T, NULL, 0, out), LM_ERR_STATE);
    assert_int_equal(lm_model_load(NULL, NULL, NULL), LM_ERR_INVALID_ARGUMENT);
    {
        lm_model_options o;
        lm_model_t *m2 = (lm_model_t *)&o;
        lm_model_options_init(&o, sizeof o);
        o.head = 99;
        assert_int_equal(lm_model_create("{}", 2, 1, &o, &m2), LM_ERR_INVALID_ARGUMENT);
        assert_null(m2);
        m2 = (lm_model_t *)&o;
        const char *odd = "{\"hidden_size\": 30, \"num_attention_heads\": 4}";
        assert_int_equal(lm_model_create(odd, strlen(odd), 1, NULL, &m2),
                         LM_ERR_UNSUPPORTED);
        assert_non_null(strstr(lm_last_error(), "num_attention_heads"));
        assert_null(m2);
    }
    lm_model_free(m);
}

/* Saves a small model, then rewrites model.safetensors with one tensor dropped, reshaped or
 * holding a NaN. */
static int old_ln_names; /* rewrite(): rename LayerNorm weight/bias to gamma/beta */

static lm_status rewrite(const char *dir, const char *drop, const char *reshape, const char *nan) {
    char path[4200];
    lmi_safetensors *st = NULL;
    lmi_st_write w[64];
    float *copies[64];
    static char renamed[64][128];
    size_t i, n, k = 0;
    lm_status s;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(lmi_safetensors_open(path, &st), LM_OK);
    n = lmi_safetensors_count(st);
    assert_true(n <= 64);
    for (i = 0; i < n; i++) {
        const lmi_st_tensor *t = lmi_safetensors_at(st, i);
        copies[k] = malloc(t->nbytes + 4);
        memcpy(copies[k], t->data, t->nbytes);
        if (drop != NULL && strcmp(t->name, drop) == 0) {
            free(copies[k]);
            continue;
        }
        memset(&w[k], 0, sizeof w[k]);
        w[k].name = t->name;
        if (old_ln_names && strstr(t->name, "LayerNorm.") != NULL) {
            const char *dot = strrchr(t->name, '.');
            snprintf(renamed[k], sizeof renamed[k], "%.*s.%s", (int)(dot - t->name), t->name,
                     strcmp(dot, ".weight") == 0 ? "gamma" : "beta");
            w[k].name = renamed[k];
        }
        w[k].dtype = t->dtype;
        w[k].ndim = t->ndim;
        memcpy(w[k].shape, t->shape, t->ndim * sizeof *t->shape);
        w[k].data = copies[k];
        if (reshape != NULL && strcmp(t->name, reshape) == 0) {
            w[k].shape[0] = 1; /* same bytes, another shape */
            w[k].shape[1] = (int64_t)t->numel;
        }
        if (nan != NULL && strcmp(t->name, nan) == 0) {
            copies[k][3] = NAN;
        }
        k++;
    }
    s = lmi_safetensors_write(path, w, k, NULL);
    for (i = 0; i < k; i++) {
        free(copies[i]);
    }
    lmi_safetensors_close(st);
    return s;
}

static void test_bad_weights(void **state) {
    char *dir = test_make_temp_dir();
    lm_model_t *m = create("BertForSequenceClassification", "gelu", 2, 3), *m2 = NULL;
    lm_model_options o;
    char path[4200];
    (void)state;
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    /* missing tensor */
    assert_int_equal(rewrite(dir, "bert.encoder.layer.1.output.dense.bias", NULL, NULL), LM_OK);
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_ERR_NOT_FOUND);
    assert_null(m2);
    assert_non_null(strstr(lm_last_error(), "encoder.layer.1.output.dense.bias"));
    /* pooler missing: fine for token classification, not for sequence classification */
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    assert_int_equal(rewrite(dir, "bert.pooler.dense.weight", NULL, NULL), LM_OK);
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_ERR_NOT_FOUND);
    assert_non_null(strstr(lm_last_error(), "pooler.dense.weight"));
    lm_model_options_init(&o, sizeof o);
    o.head = LM_HEAD_BASE;
    assert_int_equal(lm_model_load(dir, &o, &m2), LM_OK);
    assert_int_equal(lm_model_has_pooler(m2), 0);
    {
        float h[T * 32], p[32];
        make_batch();
        assert_int_equal(lm_model_hidden_states(m2, ids, NULL, NULL, 1, T, h, p), LM_ERR_STATE);
        assert_int_equal(lm_model_hidden_states(m2, ids, NULL, NULL, 1, T, h, NULL), LM_OK);
    }
    lm_model_free(m2);
    m2 = NULL;
    /* mis-shaped tensor */
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    assert_int_equal(rewrite(dir, NULL, "bert.encoder.layer.0.attention.self.key.weight", NULL),
                     LM_OK);
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_ERR_SHAPE);
    assert_non_null(strstr(lm_last_error(), "attention.self.key.weight"));
    /* config.json disagreeing with the weights */
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    snprintf(path, sizeof path, "%s/config.json", dir);
    {
        const char *cfg = config_for("BertForSequenceClassification", "gelu", 2);
        char other[1024];
        char *p;
        snprintf(other, sizeof other, "%s", cfg);
        p = strstr(other, "\"intermediate_size\":37");
        memcpy(p, "\"intermediate_size\":38", 22);
        test_write_file(path, other, strlen(other));
    }
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_ERR_SHAPE);
    assert_non_null(strstr(lm_last_error(), "intermediate.dense.weight"));
    /* NaN weights load fine and are counted */
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    assert_int_equal(rewrite(dir, NULL, NULL, "bert.embeddings.LayerNorm.weight"), LM_OK);
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_OK);
    assert_true(lm_model_nan_count(m2) == 1);
    lm_model_free(m2);
    /* a head that is not in the weights is initialised fresh; the file's classifier is unused */
    o.head = LM_HEAD_MASKED_LM;
    assert_int_equal(lm_model_load(dir, &o, &m2), LM_OK);
    assert_int_equal(lm_model_has_fresh_head(m2), 1);
    assert_int_equal(lm_model_unused_tensor_count(m2), 2);
    assert_non_null(strstr(lm_model_unused_tensor_name(m2, 0), "classifier."));
    assert_null(lm_model_unused_tensor_name(m2, 2));
    /* original BERT names (LayerNorm gamma/beta) load as their weight/bias */
    lm_model_free(m2);
    m2 = NULL;
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    old_ln_names = 1;
    assert_int_equal(rewrite(dir, NULL, NULL, NULL), LM_OK);
    old_ln_names = 0;
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_OK);
    {
        float a[B * 2], b2[B * 2];
        make_batch();
        assert_int_equal(lm_model_classify(m, ids, types, mask, B, T, a), LM_OK);
        assert_int_equal(lm_model_classify(m2, ids, types, mask, B, T, b2), LM_OK);
        assert_memory_equal(a, b2, sizeof a);
    }
    lm_model_free(m2);
    m2 = NULL;
    /* a save that cannot write: the folder's parent does not exist */
    snprintf(path, sizeof path, "%s/no/such/folder", dir);
    assert_int_equal(lm_model_save(m, path), LM_ERR_NOT_FOUND);
    assert_non_null(strstr(lm_last_error(), "no/such/folder"));
    /* no weights file at all */
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_ERR_NOT_FOUND);
    lm_model_free(m);
    test_remove_tree(dir);
    free(dir);
}

static void capture_log(lm_log_level level, const char *message, void *user) {
    char *buf = user;
    if (level == LM_LOG_INFO && strstr(message, "initialised fresh") != NULL) {
        snprintf(buf, 512, "%s", message);
    }
}

/* A base checkpoint loaded for classification: the head is made at load (seeded, labels from the
 * options), the encoder is the checkpoint's, the log says so; the same seed gives the same head. */
static void test_fresh_head(void **state) {
    char *dir = test_make_temp_dir();
    lm_model_t *base = create("BertModel", "gelu", 2, 5), *a = NULL, *b = NULL, *c = NULL;
    lm_model_options o;
    static const char *const names[] = {"neg", "neutral", "pos"};
    char logbuf[512] = "";
    float la[B * 3], lb[B * 3], lc[B * 3], h1[B * T * 32], h2[B * T * 32];
    (void)state;
    make_batch();
    assert_int_equal(lm_model_save(base, dir), LM_OK);
    lm_set_log_callback(capture_log, LM_LOG_INFO, logbuf);
    assert_int_equal(lm_model_options_init(&o, sizeof o), LM_OK);
    o.head = LM_HEAD_SEQUENCE_CLASSIFICATION;
    o.num_labels = 3;
    o.label_names = names;
    o.seed = 7;
    assert_int_equal(lm_model_load(dir, &o, &a), LM_OK);
    lm_set_log_callback(NULL, LM_LOG_ERROR, NULL);
    assert_non_null(strstr(logbuf, "sequence-classification"));
    assert_int_equal(lm_model_has_fresh_head(a), 1);
    assert_int_equal(lm_model_num_labels(a), 3);
    assert_string_equal(lm_model_label_name(a, 2), "pos");
    assert_int_equal(lm_model_problem_type(a), LM_PROBLEM_SINGLE_LABEL);
    assert_int_equal(lm_model_load(dir, &o, &b), LM_OK);
    o.seed = 8;
    assert_int_equal(lm_model_load(dir, &o, &c), LM_OK);
    assert_int_equal(lm_model_classify(a, ids, types, mask, B, T, la), LM_OK);
    assert_int_equal(lm_model_classify(b, ids, types, mask, B, T, lb), LM_OK);
    assert_int_equal(lm_model_classify(c, ids, types, mask, B, T, lc), LM_OK);
    assert_memory_equal(la, lb, sizeof la);
    assert_memory_not_equal(la, lc, sizeof la);
    /* the encoder is the checkpoint's */
    assert_int_equal(lm_model_hidden_states(base, ids, types, mask, B, T, h1, NULL), LM_OK);
    assert_int_equal(lm_model_hidden_states(a, ids, types, mask, B, T, h2, NULL), LM_OK);
    assert_memory_equal(h1, h2, sizeof h1);
    /* saved, it is an ordinary classifier with its labels */
    assert_int_equal(lm_model_save(a, dir), LM_OK);
    lm_model_free(b);
    b = NULL;
    assert_int_equal(lm_model_load(dir, NULL, &b), LM_OK);
    assert_int_equal(lm_model_has_fresh_head(b), 0);
    assert_string_equal(lm_model_label_name(b, 0), "neg");
    assert_int_equal(lm_model_classify(b, ids, types, mask, B, T, lb), LM_OK);
    assert_memory_equal(la, lb, sizeof la);
    /* one label: regression; bad options are refused */
    lm_model_free(c);
    c = NULL;
    o.num_labels = 1;
    o.label_names = NULL;
    assert_int_equal(lm_model_load(dir, &o, &c), LM_ERR_SHAPE); /* the file's head has 3 */
    o.num_labels = -1;
    assert_int_equal(lm_model_load(dir, &o, &c), LM_ERR_INVALID_ARGUMENT);
    lm_model_free(a);
    lm_model_free(b);
    lm_model_free(c);
    lm_model_free(base);
    test_remove_tree(dir);
    free(dir);
}

static void test_qa_best_span(void **state) {
    const float s[6] = {5, 1, 2, 0, 3, 1}, e[6] = {5, 0, 1, 4, 0, 2};
    const int32_t allowed[6] = {0, 1, 1, 1, 1, 1};
    size_t a, b;
    float score;
    (void)state;
    assert_int_equal(lm_qa_best_span(s, e, allowed, 6, 0, &a, &b, &score), LM_OK);
    assert_int_equal(a, 2); /* 2 + 4 at (2, 3); (0, 0) is not allowed */
    assert_int_equal(b, 3);
    assert_int_equal(lm_qa_best_span(s, e, allowed, 6, 1, &a, &b, &score), LM_OK);
    assert_int_equal(a, b);
    assert_true(score > 0 && score <= 1);
    assert_int_equal(lm_qa_best_span(s, e, NULL, 6, 0, &a, &b, NULL), LM_OK);
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
    {
        const int32_t none[6] = {0};
        assert_int_equal(lm_qa_best_span(s, e, none, 6, 0, &a, &b, NULL), LM_ERR_NOT_FOUND);
    }
}

/* An MLM whose decoder is not tied to the word embeddings keeps (and saves) its own. */
static void test_untied_decoder(void **state) {
    static const char cfg[] =
        "{\"architectures\":[\"BertForMaskedLM\"],\"vocab_size\":97,\"hidden_size\":32,"
        "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"intermediate_size\":37,"
        "\"max_position_embeddings\":40,\"tie_word_embeddings\":false}";
    lm_model_t *m = NULL, *m2 = NULL, *tied = create("BertForMaskedLM", "gelu", 2, 1);
    static float a[B * T * 97], b2[B * T * 97];
    char *dir = test_make_temp_dir();
    (void)state;
    make_batch();
    assert_int_equal(lm_model_create(cfg, strlen(cfg), 4, NULL, &m), LM_OK);
    assert_true(lm_model_parameter_count(m) ==
                lm_model_parameter_count(tied) - (uint64_t)(32 * 32 * 4 + 32 * 4 + 2 * 32 * 37 +
                                                            37 + 32 + 4 * 32) + 97 * 32);
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    assert_int_equal(lm_model_load(dir, NULL, &m2), LM_OK);
    assert_int_equal(lm_model_mlm_logits(m, ids, types, mask, B, T, NULL, 0, a), LM_OK);
    assert_int_equal(lm_model_mlm_logits(m2, ids, types, mask, B, T, NULL, 0, b2), LM_OK);
    assert_memory_equal(a, b2, sizeof a);
    lm_model_free(m);
    lm_model_free(m2);
    lm_model_free(tied);
    test_remove_tree(dir);
    free(dir);
}

/* A model is read-only: forward calls from many threads at once give the single-thread result. */
static void test_concurrent_forward(void **state) {
    lm_model_t *m = create("BertForTokenClassification", "gelu", 3, 9);
    static float want[B * T * 3], got[8][B * T * 3];
    int errors = 0, k;
    (void)state;
    make_batch();
    run_head(m, ids, types, mask, B, T, want);
#pragma omp parallel for num_threads(8) reduction(+ : errors)
    for (k = 0; k < 8; k++) {
        int r;
        for (r = 0; r < 20; r++) {
            if (lm_model_token_logits(m, ids, types, mask, B, T, got[k]) != LM_OK ||
                memcmp(got[k], want, sizeof want) != 0) {
                errors++;
            }
        }
    }
    assert_int_equal(errors, 0);
    lm_model_free(m);
}

static lm_status create_forward_body(void *arg) {
    const char *cfg = config_for("BertForMaskedLM", "gelu", 2);
    lm_model_t *m = NULL;
    float out[2 * 97];
    const size_t pos[2] = {1, 4};
    lm_status s;
    (void)arg;
    s = lm_model_create(cfg, strlen(cfg), 1, NULL, &m);
    if (s == LM_OK) {
        make_batch();
        s = lm_model_mlm_logits(m, ids, NULL, mask, B, T, pos, 2, out);
    }
    lm_model_free(m);
    return s;
}

static lm_status load_body(void *arg) {
    lm_model_t *m = NULL;
    lm_status s = lm_model_load((const char *)arg, NULL, &m);
    lm_model_free(m);
    return s;
}

static void test_allocation_failures(void **state) {
    char *dir = test_make_temp_dir();
    lm_model_t *m = create("BertForSequenceClassification", "gelu", 2, 3);
    (void)state;
    assert_int_equal(lm_model_save(m, dir), LM_OK);
    lm_model_free(m);
    TEST_EVERY_ALLOCATION_FAILURE(create_forward_body, NULL);
    TEST_EVERY_ALLOCATION_FAILURE(load_body, dir);
    test_remove_tree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_round_trip_every_head),
        cmocka_unit_test(test_create_is_seeded),
        cmocka_unit_test(test_batch_independence),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_bad_weights),
        cmocka_unit_test(test_fresh_head),
        cmocka_unit_test(test_qa_best_span),
        cmocka_unit_test(test_concurrent_forward),
        cmocka_unit_test(test_untied_decoder),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
