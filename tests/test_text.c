/* The text-level API (lm/text.h) against the reference tools (tests/data/pipeline, written by
 * scripts/gen_pipeline_fixtures.py with sentence-transformers and the transformers pipelines):
 * embeddings of the real all-MiniLM-L6-v2 (cosine >= 0.99999, texts past max_seq_length
 * included) and of a tiny folder, text classification (single-label, multi-label, regression,
 * one output, pairs, every function_to_apply), fill-mask, token classification with every
 * aggregation and question answering over many windows (labels and spans exact, scores to 1e-4);
 * then bad input: NULL arguments, no tokenizer, wrong head, invalid UTF-8, empty texts, no mask,
 * undersized buffers, bad options, every allocation failing, and calls from several threads. */
#include <math.h>
#include <pthread.h>

#include <cJSON.h>

#include "test_util.h"

#define DATA LM_SOURCE_DIR "/tests/data/pipeline"
#define TOL 1e-4

static cJSON *tiny; /* tiny.json.gz */

static cJSON *read_gz_json(const char *path) {
    char cmd[4200];
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    FILE *f;
    cJSON *root;
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    f = popen(cmd, "r");
    assert_non_null(f);
    do {
        if (len + 65536 > cap) {
            cap = 2 * cap + 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    assert_int_equal(pclose(f), 0);
    root = cJSON_ParseWithLength(buf, len);
    free(buf);
    assert_non_null(root);
    return root;
}

static const cJSON *get(const cJSON *obj, const char *key) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (x == NULL) {
        print_error("fixture: no key '%s'\n", key);
    }
    assert_non_null(x);
    return x;
}

/* A JSON array of strings as a malloc'd array of pointers into the document. */
static const char **strings(const cJSON *arr, size_t *n) {
    const char **s;
    size_t i = 0;
    const cJSON *x;
    *n = (size_t)cJSON_GetArraySize(arr);
    s = calloc(*n + 1, sizeof *s);
    assert_non_null(s);
    cJSON_ArrayForEach(x, arr) {
        assert_true(cJSON_IsString(x));
        s[i++] = x->valuestring;
    }
    return s;
}

static lm_model_t *load_dir(const char *dir, int threads) {
    lm_model_options o;
    lm_model_t *m = NULL;
    lm_status s;
    assert_int_equal(lm_model_options_init(&o, sizeof o), LM_OK);
    o.threads = threads;
    s = lm_model_load(dir, &o, &m);
    if (s != LM_OK) {
        print_error("load %s: %s\n", dir, lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    return m;
}

static lm_model_t *load(const char *name, int threads) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/models/%s", DATA, name);
    return load_dir(dir, threads);
}

static lm_text_options defaults(void) {
    lm_text_options o;
    assert_int_equal(lm_text_options_init(&o, sizeof o), LM_OK);
    return o;
}

static size_t chars(const char *s, size_t bytes) {
    size_t i, n = 0;
    for (i = 0; i < bytes; i++) {
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return n;
}

/* Compares our ranked (id, score) list with the reference's [[id, score], ...]: the same ids in
 * the same order except where two scores are within TOL (an order the rounding may swap), and
 * every score of an id the reference lists within TOL. Returns the largest score difference. */
static double check_ranked(const int32_t *ids, size_t id_stride, const float *scores,
                           size_t score_stride, size_t k, const cJSON *ref, const char *what) {
    double worst = 0;
    size_t r;
    assert_int_equal((size_t)cJSON_GetArraySize(ref), k);
    for (r = 0; r < k; r++) {
        const cJSON *e = cJSON_GetArrayItem(ref, (int)r);
        int32_t id = *(const int32_t *)((const char *)ids + r * id_stride);
        float sc = *(const float *)((const char *)scores + r * score_stride);
        int32_t ref_id = cJSON_GetArrayItem(e, 0)->valueint;
        double ref_sc = cJSON_GetArrayItem(e, 1)->valuedouble, d;
        const cJSON *x;
        if (id != ref_id) {
            if (fabs(sc - ref_sc) > TOL) {
                print_error("%s rank %zu: id %d (%g), reference %d (%g)\n", what, r, id, sc, ref_id,
                            ref_sc);
            }
            assert_true(fabs(sc - ref_sc) <= TOL);
            cJSON_ArrayForEach(x, ref) {
                if (cJSON_GetArrayItem(x, 0)->valueint == id) {
                    ref_sc = cJSON_GetArrayItem(x, 1)->valuedouble;
                }
            }
        }
        d = fabs(sc - ref_sc);
        if (d > TOL) {
            print_error("%s rank %zu: id %d score %.8g, reference %.8g\n", what, r, id, sc, ref_sc);
        }
        assert_true(d <= TOL);
        worst = d > worst ? d : worst;
    }
    return worst;
}

/* ---- embeddings ---- */

static double cosine(const float *a, const double *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / (sqrt(aa) * sqrt(bb) + 1e-30);
}

/* Embeds the fixture's texts with `m` and returns the worst cosine with its embeddings (and the
 * largest element difference in *max_diff). With rerun_all, also checks that other batch
 * compositions give the same bits. */
static double check_embeddings(lm_model_t *m, const cJSON *doc, int rerun_all, double *max_diff) {
    size_t n, i, j, C = lm_model_hidden_size(m);
    const char **texts = strings(get(doc, "texts"), &n);
    const cJSON *emb = get(doc, "embeddings");
    float *out = malloc(n * C * sizeof *out), *out1 = malloc(n * C * sizeof *out);
    double *ref = malloc(C * sizeof *ref), worst = 1;
    lm_text_options o = defaults();
    assert_int_equal(lm_embed_texts(m, n, texts, NULL, NULL, out, n * C), LM_OK);
    *max_diff = 0;
    for (i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(emb, (int)i);
        double c;
        assert_int_equal((size_t)cJSON_GetArraySize(row), C);
        for (j = 0; j < C; j++) {
            ref[j] = cJSON_GetArrayItem(row, (int)j)->valuedouble;
            *max_diff = fmax(*max_diff, fabs(out[i * C + j] - ref[j]));
        }
        c = cosine(out + i * C, ref, C);
        if (c < 0.99999) {
            print_error("text %zu: cosine %.8f\n", i, c);
        }
        assert_true(c >= 0.99999);
        worst = c < worst ? c : worst;
    }
    if (rerun_all) {
        o.batch_size = 3;
        assert_int_equal(lm_embed_texts(m, n, texts, NULL, &o, out1, n * C), LM_OK);
        assert_memory_equal(out, out1, n * C * sizeof *out);
        o.batch_size = 1;
        assert_int_equal(lm_embed_texts(m, 2, texts + n - 2, NULL, &o, out1, 2 * C), LM_OK);
        assert_memory_equal(out + (n - 2) * C, out1, 2 * C * sizeof *out);
    }
    free(ref);
    free(out1);
    free(out);
    free(texts);
    return worst;
}

/* The real model's folder: LM_MINILM_DIR, else what scripts/find_minilm.sh prints. */
static char *minilm_dir(void) {
    const char *env = getenv("LM_MINILM_DIR");
    char line[4096];
    FILE *f;
    char *dir = NULL;
    if (env != NULL && env[0] != '\0') {
        return strdup(env);
    }
    f = popen("bash '" LM_SOURCE_DIR "/scripts/find_minilm.sh' 2>/dev/null", "r");
    if (f == NULL) {
        return NULL;
    }
    if (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        dir = strdup(line);
    }
    if (pclose(f) != 0 || dir == NULL || dir[0] == '\0') {
        free(dir);
        return NULL;
    }
    return dir;
}

static void test_minilm_embeddings(void **state) {
    char *dir = minilm_dir();
    cJSON *doc;
    lm_model_t *m;
    double worst, diff;
    (void)state;
    if (dir == NULL) {
        print_message(
            "SKIP: all-MiniLM-L6-v2 not found (set LM_MINILM_DIR or install the reference "
            "environment: scripts/find_minilm.sh)\n");
        skip();
    }
    if (test_quick()) {
        print_message("SKIP: all-MiniLM-L6-v2 in quick mode (LM_TEST_QUICK): the tiny models run "
                      "the same code\n");
        free(dir);
        skip();
    }
    doc = read_gz_json(DATA "/minilm.json.gz");
    m = load_dir(dir, 0);
    worst = check_embeddings(m, doc, 0, &diff);
    print_message(
        "minilm: %d texts (up to %d tokens, max_seq_length %d): worst cosine 1 - %.2g, "
        "max |diff| %.3g\n",
        cJSON_GetArraySize(get(doc, "texts")),
        (int)cJSON_GetArrayItem(get(doc, "tokens"), cJSON_GetArraySize(get(doc, "tokens")) - 1)
            ->valueint,
        get(doc, "max_seq_length")->valueint, 1 - worst, diff);
    lm_model_free(m);
    cJSON_Delete(doc);
    free(dir);
}

static void test_tiny_embeddings(void **state) {
    const cJSON *doc = get(tiny, "embed");
    lm_model_t *m = load(get(doc, "model")->valuestring, 1);
    double diff, worst = check_embeddings(m, doc, 0, &diff);
    (void)state;
    print_message("tiny embed (no sentence-transformers files, max_seq_length %d): worst cosine "
                  "1 - %.2g, max |diff| %.3g\n",
                  get(doc, "max_seq_length")->valueint, 1 - worst, diff);
    lm_model_free(m);
}

/* The default max_length of a folder: sentence_bert_config.json, else tokenizer_config.json
 * (1e30 = none), else the 64 positions; unreadable files are ignored. */
static void test_default_max_length(void **state) {
    static const struct {
        const char *file, *json;
        int32_t want;
    } cases[] = {
        {"tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}", 64},
        {"tokenizer_config.json", "{\"model_max_length\": 24}", 24},
        {"sentence_bert_config.json", "{\"max_seq_length\": 20}", 20},
        {"sentence_bert_config.json", "{\"max_seq_length\": 128}", 64},
        {"sentence_bert_config.json", "not json", 24},
        {"sentence_bert_config.json", "{\"max_seq_length\": 2}", 24},
    };
    const char *text[] = {"the quick brown fox jumps over the lazy dog again and again and again "
                          "until the sun goes down over the hills far away from here, and then "
                          "the quick brown fox jumps over the lazy dog again and again and again "
                          "until the sun goes down over the hills far away from here"}; /* > 64 */
    char *dir = test_make_temp_dir();
    char cmd[4400], path[4400];
    float a[32], b[32];
    size_t i;
    (void)state;
    snprintf(cmd, sizeof cmd, "cp %s/models/mlm/* '%s'/", DATA, dir);
    assert_int_equal(system(cmd), 0);
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        lm_text_options o = defaults();
        lm_model_t *m;
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
        test_write_file(path, cases[i].json, strlen(cases[i].json));
        m = load_dir(dir, 1);
        assert_int_equal(lm_model_text_max_length(m), (size_t)cases[i].want);
        assert_int_equal(lm_embed_texts(m, 1, text, NULL, NULL, a, 32), LM_OK);
        o.max_length = cases[i].want;
        assert_int_equal(lm_embed_texts(m, 1, text, NULL, &o, b, 32), LM_OK);
        assert_memory_equal(a, b, sizeof a);
        o.max_length = cases[i].want - 1;
        assert_int_equal(lm_embed_texts(m, 1, text, NULL, &o, b, 32), LM_OK);
        assert_memory_not_equal(a, b, sizeof a);
        lm_model_free(m);
    }
    test_remove_tree(dir);
    free(dir);
}

/* ---- classification ---- */

static int score_function(const char *name) {
    return strcmp(name, "sigmoid") == 0   ? LM_SCORE_SIGMOID
           : strcmp(name, "softmax") == 0 ? LM_SCORE_SOFTMAX
           : strcmp(name, "none") == 0    ? LM_SCORE_NONE
                                          : LM_SCORE_DEFAULT;
}

static double check_classified(lm_model_t *m, const char *const *a, const char *const *b, size_t n,
                               const lm_text_options *o, const cJSON *ref, const char *what) {
    size_t NL = lm_model_num_labels(m), k = 0, i;
    lm_label_score *res = malloc(n * NL * sizeof *res);
    double worst = 0;
    char name[200];
    lm_status s = lm_classify_texts(m, n, a, NULL, b, NULL, o, res, n * NL, &k);
    if (s != LM_OK) {
        print_error("%s: %s\n", what, lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    assert_int_equal(k, NL);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s input %zu", what, i);
        worst = fmax(worst, check_ranked(&res[i * k].label, sizeof *res, &res[i * k].score,
                                         sizeof *res, k, cJSON_GetArrayItem(ref, (int)i), name));
    }
    free(res);
    return worst;
}

static void test_classification(void **state) {
    const cJSON *c;
    (void)state;
    cJSON_ArrayForEach(c, get(tiny, "classification")) {
        const char *model = get(c, "model")->valuestring;
        const char *fn = get(c, "function_to_apply")->valuestring;
        lm_model_t *m = load(model, 1);
        lm_text_options o = defaults();
        size_t n, np, i;
        const char **texts = strings(get(c, "texts"), &n);
        const cJSON *pairs = get(c, "pairs");
        const char **a = calloc((size_t)cJSON_GetArraySize(pairs), sizeof *a);
        const char **b = calloc((size_t)cJSON_GetArraySize(pairs), sizeof *b);
        lm_label_score top[64];
        size_t k = 0;
        double w1, w2;
        char what[200];
        np = (size_t)cJSON_GetArraySize(pairs);
        for (i = 0; i < np; i++) {
            a[i] = cJSON_GetArrayItem(cJSON_GetArrayItem(pairs, (int)i), 0)->valuestring;
            b[i] = cJSON_GetArrayItem(cJSON_GetArrayItem(pairs, (int)i), 1)->valuestring;
        }
        o.function_to_apply = score_function(fn);
        o.top_k = -1;
        snprintf(what, sizeof what, "%s/%s", model, fn);
        w1 = check_classified(m, texts, NULL, n, &o, get(c, "results"), what);
        w2 = check_classified(m, a, b, np, &o, get(c, "pair_results"), what);
        print_message("classification %-10s %-8s: %zu texts, %zu pairs: worst score diff %.3g\n",
                      model, fn, n, np, fmax(w1, w2));
        /* the default top_k: the best label only */
        o.top_k = 0;
        o.batch_size = 5;
        assert_true(n <= 64);
        assert_int_equal(lm_classify_texts(m, n, texts, NULL, NULL, NULL, &o, top, n, &k), LM_OK);
        assert_int_equal(k, 1);
        for (i = 0; i < n; i++) {
            const cJSON *best =
                cJSON_GetArrayItem(cJSON_GetArrayItem(get(c, "results"), (int)i), 0);
            assert_true(fabs(top[i].score - cJSON_GetArrayItem(best, 1)->valuedouble) <= TOL);
        }
        free(a);
        free(b);
        free(texts);
        lm_model_free(m);
    }
}

/* ---- fill-mask ---- */

static void test_fill_mask(void **state) {
    const cJSON *c;
    lm_model_t *m = load("mlm", 1);
    (void)state;
    cJSON_ArrayForEach(c, get(tiny, "fill_mask")) {
        size_t n, i, j, need = 0, got = 0, at = 0;
        const char **texts = strings(get(c, "texts"), &n);
        const cJSON *res = get(c, "results");
        lm_text_options o = defaults();
        int32_t *masks = calloc(n, sizeof *masks);
        lm_token_score *out;
        double worst = 0;
        char what[100];
        o.top_k = get(c, "top_k")->valueint;
        /* the size first: no buffer */
        assert_int_equal(lm_fill_mask(m, n, texts, NULL, &o, NULL, 0, &need, masks),
                         LM_ERR_BUFFER_TOO_SMALL);
        assert_non_null(strstr(lm_last_error(), "need"));
        out = malloc(need * sizeof *out);
        assert_int_equal(lm_fill_mask(m, n, texts, NULL, &o, out, need, &got, masks), LM_OK);
        assert_int_equal(got, need);
        for (i = 0; i < n; i++) {
            const cJSON *per_text = cJSON_GetArrayItem(res, (int)i);
            assert_int_equal(masks[i], cJSON_GetArraySize(per_text));
            for (j = 0; j < (size_t)masks[i]; j++) {
                snprintf(what, sizeof what, "fill-mask text %zu mask %zu", i, j);
                worst = fmax(worst, check_ranked(&out[at].token_id, sizeof *out, &out[at].score,
                                                 sizeof *out, (size_t)o.top_k,
                                                 cJSON_GetArrayItem(per_text, (int)j), what));
                at += (size_t)o.top_k;
            }
        }
        assert_int_equal(at, got);
        print_message("fill-mask top_k %d: %zu texts, %zu masks: worst score diff %.3g\n", o.top_k,
                      n, got / (size_t)o.top_k, worst);
        free(out);
        free(masks);
        free(texts);
    }
    lm_model_free(m);
}

/* ---- token classification ---- */

static int aggregation(const char *name) {
    return strcmp(name, "simple") == 0    ? LM_AGGREGATE_SIMPLE
           : strcmp(name, "first") == 0   ? LM_AGGREGATE_FIRST
           : strcmp(name, "average") == 0 ? LM_AGGREGATE_AVERAGE
           : strcmp(name, "max") == 0     ? LM_AGGREGATE_MAX
                                          : LM_AGGREGATE_NONE;
}

static void test_tagging(void **state) {
    const cJSON *c;
    (void)state;
    cJSON_ArrayForEach(c, get(tiny, "tagging")) {
        const char *model = get(c, "model")->valuestring;
        const char *agg = get(c, "aggregation")->valuestring;
        lm_model_t *m = load(model, 1);
        lm_text_options o = defaults();
        size_t n, i, need = 0, got = 0, at = 0, expected = 0;
        const char **texts = strings(get(c, "texts"), &n);
        const cJSON *res = get(c, "results");
        lm_entity *out;
        double worst = 0;
        o.aggregation = aggregation(agg);
        for (i = 0; i < n; i++) {
            expected += (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(res, (int)i));
        }
        assert_int_equal(lm_tag_texts(m, n, texts, NULL, &o, NULL, 0, &need),
                         expected > 0 ? LM_ERR_BUFFER_TOO_SMALL : LM_OK);
        assert_int_equal(need, expected);
        out = malloc((need + 1) * sizeof *out);
        assert_int_equal(lm_tag_texts(m, n, texts, NULL, &o, out, need, &got), LM_OK);
        assert_int_equal(got, need);
        for (i = 0; i < n; i++) {
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetArrayItem(res, (int)i)) {
                const lm_entity *x = &out[at++];
                const char *name = lm_model_label_name(m, (size_t)x->label);
                const char *want = get(e, "entity")->valuestring;
                double d = fabs(x->score - get(e, "score")->valuedouble);
                size_t start = (size_t)get(e, "start")->valueint,
                       end = (size_t)get(e, "end")->valueint;
                assert_int_equal(x->text, i);
                if (o.aggregation != LM_AGGREGATE_NONE && strchr(name, '-') != NULL) {
                    name = strchr(name, '-') + 1; /* the pipeline's entity_group */
                }
                if (strcmp(name, want) != 0 || x->start != (int64_t)start ||
                    x->end != (int64_t)end || d > TOL) {
                    print_error(
                        "%s/%s text %zu: %s [%lld, %lld) %.8g, reference %s [%zu, %zu) %.8g\n",
                        model, agg, i, name, (long long)x->start, (long long)x->end, x->score, want,
                        start, end, get(e, "score")->valuedouble);
                }
                assert_string_equal(name, want);
                assert_int_equal(x->start, start);
                assert_int_equal(x->end, end);
                assert_true(d <= TOL);
                assert_int_equal(x->token, get(e, "index")->valueint);
                assert_int_equal(chars(texts[i], (size_t)x->byte_start), start);
                assert_int_equal(chars(texts[i], (size_t)x->byte_end), end);
                worst = fmax(worst, d);
            }
        }
        print_message("tagging %-7s %-7s: %zu texts, %zu entities: worst score diff %.3g\n", model,
                      agg, n, got, worst);
        free(out);
        free(texts);
        lm_model_free(m);
    }
}

/* ---- question answering ---- */

static void test_question_answering(void **state) {
    const cJSON *c;
    lm_model_t *m = load("qa", 1);
    (void)state;
    cJSON_ArrayForEach(c, get(tiny, "qa")) {
        const cJSON *opt = get(c, "options"), *x;
        lm_text_options o = defaults();
        size_t n, nc, i, r, windows = 0, answers = 0;
        const char **qs = strings(get(c, "questions"), &n);
        const char **cs = strings(get(c, "contexts"), &nc);
        const cJSON *res = get(c, "results");
        lm_answer *out;
        double worst = 0;
        if ((x = cJSON_GetObjectItem(opt, "top_k")) != NULL)
            o.top_k = x->valueint;
        if ((x = cJSON_GetObjectItem(opt, "max_seq_len")) != NULL)
            o.max_length = x->valueint;
        if ((x = cJSON_GetObjectItem(opt, "doc_stride")) != NULL)
            o.doc_stride = x->valueint;
        if ((x = cJSON_GetObjectItem(opt, "max_answer_len")) != NULL)
            o.max_answer_length = x->valueint;
        if ((x = cJSON_GetObjectItem(opt, "handle_impossible_answer")) != NULL) {
            o.handle_impossible_answer = cJSON_IsTrue(x);
        }
        o.batch_size = 7;
        assert_int_equal(n, nc);
        cJSON_ArrayForEach(x, get(c, "windows")) {
            windows += (size_t)x->valueint;
        }
        {
            const size_t k = o.top_k > 0 ? (size_t)o.top_k : 1;
            out = malloc(n * k * sizeof *out);
            assert_int_equal(lm_answer_questions(m, n, qs, NULL, cs, NULL, &o, out, n * k - 1),
                             LM_ERR_BUFFER_TOO_SMALL);
            assert_int_equal(lm_answer_questions(m, n, qs, NULL, cs, NULL, &o, out, n * k), LM_OK);
            for (i = 0; i < n; i++) {
                const cJSON *ref = cJSON_GetArrayItem(res, (int)i);
                for (r = 0; r < k; r++) {
                    const lm_answer *a = &out[i * k + r];
                    const cJSON *e = cJSON_GetArrayItem(ref, (int)r);
                    if (e == NULL) { /* the pipeline had fewer answers */
                        assert_int_equal(a->start, -1);
                        assert_true(a->score == 0.0f);
                        continue;
                    }
                    {
                        double want = cJSON_GetArrayItem(e, 0)->valuedouble,
                               d = fabs(a->score - want);
                        int64_t s0 = cJSON_GetArrayItem(e, 1)->valueint,
                                s1 = cJSON_GetArrayItem(e, 2)->valueint;
                        if (a->start != s0 || a->end != s1 || d > TOL) {
                            print_error("qa question %zu answer %zu: [%lld, %lld) %.8g, reference "
                                        "[%lld, %lld) %.8g\n",
                                        i, r, (long long)a->start, (long long)a->end, a->score,
                                        (long long)s0, (long long)s1, want);
                        }
                        assert_int_equal(a->start, s0);
                        assert_int_equal(a->end, s1);
                        assert_true(d <= TOL);
                        assert_int_equal(chars(cs[i], (size_t)a->byte_start), s0);
                        assert_int_equal(chars(cs[i], (size_t)a->byte_end), s1);
                        worst = fmax(worst, d);
                        answers++;
                    }
                }
            }
        }
        print_message("qa top_k %d max_length %d doc_stride %d max_answer %d impossible %d: %zu "
                      "questions, %zu windows, %zu answers: worst score diff %.3g\n",
                      o.top_k, o.max_length, o.doc_stride, o.max_answer_length,
                      o.handle_impossible_answer, n, windows, answers, worst);
        free(out);
        free(qs);
        free(cs);
    }
    lm_model_free(m);
}

/* ---- bad input ---- */

static void expect(lm_status got, lm_status want, const char *needle) {
    if (got != want || (needle != NULL && strstr(lm_last_error(), needle) == NULL)) {
        print_error("got %s (%s), want %s with '%s'\n", lm_status_string(got), lm_last_error(),
                    lm_status_string(want), needle ? needle : "");
    }
    assert_int_equal(got, want);
    if (needle != NULL) {
        assert_non_null(strstr(lm_last_error(), needle));
    }
}

static void test_bad_input(void **state) {
    lm_model_t *cls = load("seqcls", 1), *tag = load("tagger", 1), *mlm = load("mlm", 1);
    lm_model_t *qa = load("qa", 1), *bare = NULL;
    const char *texts[] = {"good",
                           "abc\xff"
                           "def",
                           ""};
    const char *ctx[] = {"Some context here.", "More context.", "x"};
    const size_t C = lm_model_hidden_size(cls);
    float emb[3 * 64];
    lm_label_score ls[16];
    lm_token_score ts[16];
    lm_answer an[8];
    lm_entity en[64];
    size_t k = 99, cnt = 99;
    int32_t masks[3];
    lm_text_options o = defaults();
    char *cfg = NULL;
    size_t cfg_len = 0;
    FILE *f;
    (void)state;
    assert_true(3 * C <= 3 * 64);
    /* NULL arguments */
    expect(lm_embed_texts(NULL, 1, texts, NULL, NULL, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
           "model");
    expect(lm_embed_texts(cls, 1, NULL, NULL, NULL, emb, 3 * C), LM_ERR_INVALID_ARGUMENT, "texts");
    expect(lm_embed_texts(cls, 1, texts, NULL, NULL, NULL, 3 * C), LM_ERR_INVALID_ARGUMENT,
           "output");
    expect(lm_classify_texts(cls, 1, texts, NULL, NULL, NULL, NULL, NULL, 4, &k),
           LM_ERR_INVALID_ARGUMENT, NULL);
    expect(lm_answer_questions(qa, 1, texts, NULL, NULL, NULL, NULL, an, 8),
           LM_ERR_INVALID_ARGUMENT, "second texts");
    {
        const char *holes[] = {"fine", NULL};
        expect(lm_embed_texts(cls, 2, holes, NULL, NULL, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "text 1 is NULL");
        expect(lm_classify_texts(cls, 2, texts, NULL, holes, NULL, NULL, ls, 16, &k),
               LM_ERR_INVALID_ARGUMENT, "pair 1 is NULL");
    }
    assert_int_equal(lm_embed_texts(cls, 0, NULL, NULL, NULL, NULL, 0), LM_OK);
    /* no tokenizer */
    f = fopen(DATA "/models/seqcls/config.json", "rb");
    assert_non_null(f);
    cfg = malloc(1 << 16);
    cfg_len = fread(cfg, 1, 1 << 16, f);
    fclose(f);
    assert_int_equal(lm_model_create(cfg, cfg_len, 1, NULL, &bare), LM_OK);
    free(cfg);
    expect(lm_embed_texts(bare, 1, texts, NULL, NULL, emb, 3 * C), LM_ERR_STATE, "tokenizer");
    expect(lm_classify_texts(bare, 1, texts, NULL, NULL, NULL, NULL, ls, 16, &k), LM_ERR_STATE,
           "tokenizer");
    lm_model_free(bare);
    /* wrong head */
    expect(lm_classify_texts(tag, 1, texts, NULL, NULL, NULL, NULL, ls, 16, &k), LM_ERR_STATE,
           "lm_classify_texts");
    expect(lm_fill_mask(cls, 1, texts, NULL, NULL, ts, 16, &cnt, NULL), LM_ERR_STATE, "masked-lm");
    expect(lm_answer_questions(mlm, 1, texts, NULL, ctx, NULL, NULL, an, 8), LM_ERR_STATE, NULL);
    expect(lm_tag_texts(qa, 1, texts, NULL, NULL, en, 64, &cnt), LM_ERR_STATE, NULL);
    assert_int_equal(lm_embed_texts(qa, 1, texts, NULL, NULL, emb, 3 * C), LM_OK); /* any head */
    /* invalid UTF-8, and replaced */
    expect(lm_embed_texts(cls, 3, texts, NULL, NULL, emb, 3 * C), LM_ERR_UTF8, "text 1");
    assert_non_null(strstr(lm_last_error(), "byte offset 3"));
    expect(lm_tag_texts(tag, 2, texts, NULL, NULL, en, 64, &cnt), LM_ERR_UTF8, "text 1");
    expect(lm_answer_questions(qa, 2, ctx, NULL, texts, NULL, NULL, an, 8), LM_ERR_UTF8,
           "context 1");
    o.replace_invalid_utf8 = 1;
    assert_int_equal(lm_embed_texts(cls, 3, texts, NULL, &o, emb, 3 * C), LM_OK);
    assert_int_equal(lm_tag_texts(tag, 3, texts, NULL, &o, en, 64, &cnt), LM_OK);
    assert_int_equal(lm_answer_questions(qa, 2, ctx, NULL, texts, NULL, &o, an, 8), LM_OK);
    o.replace_invalid_utf8 = 0;
    /* explicit lengths: the bad byte left out */
    {
        const size_t lens[] = {4, 3, 0};
        assert_int_equal(lm_embed_texts(cls, 3, texts, lens, NULL, emb, 3 * C), LM_OK);
    }
    /* empty texts: fine except where the pipelines refuse them */
    assert_int_equal(lm_classify_texts(cls, 1, texts + 2, NULL, NULL, NULL, NULL, ls, 16, &k),
                     LM_OK);
    assert_int_equal(lm_tag_texts(tag, 1, texts + 2, NULL, NULL, en, 64, &cnt), LM_OK);
    assert_int_equal(cnt, 0);
    expect(lm_answer_questions(qa, 1, texts + 2, NULL, ctx, NULL, NULL, an, 8),
           LM_ERR_INVALID_ARGUMENT, "question 0 is empty");
    expect(lm_answer_questions(qa, 1, ctx, NULL, texts + 2, NULL, NULL, an, 8),
           LM_ERR_INVALID_ARGUMENT, "context 0 is empty");
    /* fewer candidate answers than top_k: the rest are marked missing */
    {
        const char *q1[] = {"Who?"}, *c1[] = {"x"};
        o.top_k = 3;
        assert_int_equal(lm_answer_questions(qa, 1, q1, NULL, c1, NULL, &o, an, 3), LM_OK);
        assert_int_equal(an[0].start, 0);
        assert_int_equal(an[0].end, 1);
        assert_true(an[0].score > 0.0f);
        assert_int_equal(an[1].start, -1);
        assert_int_equal(an[2].end, -1);
        assert_true(an[2].score == 0.0f);
        o.top_k = 0;
    }
    /* fill-mask without a mask */
    {
        const char *mt[] = {"a [MASK] b", "no mask here"};
        expect(lm_fill_mask(mlm, 2, mt, NULL, NULL, ts, 16, &cnt, masks), LM_ERR_INVALID_ARGUMENT,
               "text 1 has no [MASK]");
        expect(lm_fill_mask(mlm, 1, texts + 2, NULL, NULL, ts, 16, &cnt, masks),
               LM_ERR_INVALID_ARGUMENT, "no [MASK]");
        /* undersized: the count needed comes back */
        expect(lm_fill_mask(mlm, 1, mt, NULL, NULL, ts, 4, &cnt, masks), LM_ERR_BUFFER_TOO_SMALL,
               "5");
        assert_int_equal(cnt, 5);
        assert_int_equal(masks[0], 1);
    }
    /* undersized buffers */
    expect(lm_embed_texts(cls, 2, texts, NULL, NULL, emb, 2 * C - 1), LM_ERR_BUFFER_TOO_SMALL,
           "64");
    o.top_k = -1;
    expect(lm_classify_texts(cls, 2, texts, NULL, NULL, NULL, &o, ls, 5, &k),
           LM_ERR_BUFFER_TOO_SMALL, "need 6");
    assert_int_equal(k, 3);
    o.top_k = 2;
    expect(lm_answer_questions(qa, 2, ctx, NULL, ctx, NULL, &o, an, 3), LM_ERR_BUFFER_TOO_SMALL,
           "need 4");
    o.top_k = 0;
    {
        const char *long_text[] = {"Jim Smith and Mary Jones went from Paris to London and back."};
        size_t need = 0;
        assert_int_equal(lm_tag_texts(tag, 1, long_text, NULL, NULL, en, 0, &need),
                         LM_ERR_BUFFER_TOO_SMALL);
        assert_true(need > 1);
        expect(lm_tag_texts(tag, 1, long_text, NULL, NULL, en, need - 1, &cnt),
               LM_ERR_BUFFER_TOO_SMALL, "need");
        assert_int_equal(cnt, need);
    }
    /* bad options */
    {
        lm_text_options b = defaults();
        b.struct_size = 3;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT, NULL);
        b = defaults();
        b.max_length = 2;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "max_length");
        b.max_length = 65;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "max_length");
        b = defaults();
        b.batch_size = -1;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "batch");
        b = defaults();
        b.pooling = 7;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "pooling");
        b = defaults();
        b.normalize = 2;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "normalize");
        b = defaults();
        b.replace_invalid_utf8 = 2;
        expect(lm_embed_texts(cls, 1, texts, NULL, &b, emb, 3 * C), LM_ERR_INVALID_ARGUMENT,
               "replace");
        b = defaults();
        b.function_to_apply = 9;
        expect(lm_classify_texts(cls, 1, texts, NULL, NULL, NULL, &b, ls, 16, &k),
               LM_ERR_INVALID_ARGUMENT, "function_to_apply");
        b = defaults();
        b.top_k = -2;
        expect(lm_classify_texts(cls, 1, texts, NULL, NULL, NULL, &b, ls, 16, &k),
               LM_ERR_INVALID_ARGUMENT, "top_k");
        expect(lm_fill_mask(mlm, 1, texts, NULL, &b, ts, 16, &cnt, NULL), LM_ERR_INVALID_ARGUMENT,
               "top_k");
        b.top_k = -1;
        expect(lm_answer_questions(qa, 1, ctx, NULL, ctx, NULL, &b, an, 8), LM_ERR_INVALID_ARGUMENT,
               "top_k");
        b = defaults();
        b.aggregation = 9;
        expect(lm_tag_texts(tag, 1, texts, NULL, &b, en, 64, &cnt), LM_ERR_INVALID_ARGUMENT,
               "aggregation");
        b = defaults();
        b.doc_stride = -1;
        expect(lm_answer_questions(qa, 1, ctx, NULL, ctx, NULL, &b, an, 8), LM_ERR_INVALID_ARGUMENT,
               "doc_stride");
        /* an explicit stride that leaves no room for the context */
        b = defaults();
        b.max_length = 16;
        b.doc_stride = 12;
        expect(lm_answer_questions(qa, 1, ctx, NULL, ctx, NULL, &b, an, 8), LM_ERR_INVALID_ARGUMENT,
               "stride");
    }
    /* the options struct may be NULL; k_out / counts may be NULL */
    assert_int_equal(lm_classify_texts(cls, 1, texts, NULL, NULL, NULL, NULL, ls, 1, NULL), LM_OK);
    assert_int_equal(lm_tag_texts(tag, 1, texts, NULL, NULL, en, 64, NULL), LM_OK);
    lm_model_free(cls);
    lm_model_free(tag);
    lm_model_free(mlm);
    lm_model_free(qa);
}

/* ---- allocation failures ---- */

static lm_model_t *am_cls, *am_tag, *am_mlm, *am_qa;

static lm_status every_call(void *arg) {
    const char *texts[] = {"John Smith visited Paris.", "the movie was [MASK] , [MASK] !"};
    const char *pairs[] = {"a pair", "another"};
    const char *ctx[] = {"John Smith visited Paris in the spring of that year.",
                         "It was a long trip, with many [MASK] stops on the way home."};
    float emb[2 * 64];
    lm_label_score ls[8];
    lm_token_score ts[64];
    lm_answer an[8];
    lm_entity en[64];
    size_t k, cnt;
    lm_text_options o = defaults();
    lm_status s;
    (void)arg;
    o.max_length = 16; /* two windows per context */
    o.doc_stride = 4;
    o.top_k = 2;
    o.batch_size = 1;
    s = lm_embed_texts(am_cls, 2, texts, NULL, &o, emb, sizeof emb / sizeof *emb);
    if (s == LM_OK)
        s = lm_classify_texts(am_cls, 2, texts, NULL, pairs, NULL, &o, ls, 8, &k);
    if (s == LM_OK)
        s = lm_fill_mask(am_mlm, 1, texts + 1, NULL, &o, ts, 64, &cnt, NULL);
    if (s == LM_OK)
        s = lm_answer_questions(am_qa, 2, pairs, NULL, ctx, NULL, &o, an, 8);
    o.aggregation = LM_AGGREGATE_AVERAGE;
    if (s == LM_OK)
        s = lm_tag_texts(am_tag, 2, texts, NULL, &o, en, 64, &cnt);
    o.aggregation = LM_AGGREGATE_SIMPLE;
    if (s == LM_OK)
        s = lm_tag_texts(am_tag, 2, texts, NULL, &o, en, 64, &cnt);
    return s;
}

static void test_allocation_failures(void **state) {
    (void)state;
    am_cls = load("seqcls", 1);
    am_tag = load("tagger", 1);
    am_mlm = load("mlm", 1);
    am_qa = load("qa", 1);
    TEST_EVERY_ALLOCATION_FAILURE(every_call, NULL);
    lm_model_free(am_cls);
    lm_model_free(am_tag);
    lm_model_free(am_mlm);
    lm_model_free(am_qa);
}

/* ---- threads ---- */

typedef struct thread_arg {
    lm_model_t *m;
    const char **texts;
    size_t n;
    lm_label_score out[64 * 3];
    lm_status s;
} thread_arg;

static void *classify_thread(void *p) {
    thread_arg *a = p;
    lm_text_options o = defaults();
    o.top_k = -1;
    a->s = lm_classify_texts(a->m, a->n, a->texts, NULL, NULL, NULL, &o, a->out, 64 * 3, NULL);
    return NULL;
}

static void test_threads(void **state) {
    const cJSON *c = cJSON_GetArrayItem(get(tiny, "classification"), 0);
    size_t n, i;
    const char **texts = strings(get(c, "texts"), &n);
    thread_arg *args = calloc(5, sizeof *args);
    pthread_t th[4];
    (void)state;
    assert_true(n <= 64);
    for (i = 0; i < 5; i++) {
        args[i].m = i == 0 ? load("seqcls", 1) : args[0].m;
        args[i].texts = texts;
        args[i].n = n;
    }
    classify_thread(&args[0]);
    assert_int_equal(args[0].s, LM_OK);
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, classify_thread, &args[i + 1]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i + 1].s, LM_OK);
        assert_memory_equal(args[i + 1].out, args[0].out, n * 3 * sizeof *args[0].out);
    }
    lm_model_free(args[0].m);
    free(args);
    free(texts);
}

static int setup(void **state) {
    (void)state;
    tiny = read_gz_json(DATA "/tiny.json.gz");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    cJSON_Delete(tiny);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_embeddings),
        cmocka_unit_test(test_default_max_length),
        cmocka_unit_test(test_classification),
        cmocka_unit_test(test_fill_mask),
        cmocka_unit_test(test_tagging),
        cmocka_unit_test(test_question_answering),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_minilm_embeddings),
    };
    return cmocka_run_group_tests_name("text", tests, setup, teardown);
}
