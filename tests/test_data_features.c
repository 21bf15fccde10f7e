/* The data layer's features against transformers' example scripts (fixtures from
 * scripts/gen_data_fixtures.py): run_glue rows of SST-2 / RTE / STS-B samples, run_ner's
 * tokenize_and_align_labels on 50 WNUT-17 sentences, run_qa's windows, answer positions, offsets
 * and post-processed answers for 30 SQuAD questions, run_mlm's group_texts blocks. */
#include "test_util.h"

#include "test_data_util.h"

#include "base/utf8.h"
#include "data/batch.h"
#include "data/features.h"

static cJSON *fix;
static lm_tokenizer_t *tok;

static int setup(void **state) {
    (void)state;
    fix = test_read_json_gz(DATA_DIR "/features.json.gz");
    tok = test_uncased_tokenizer();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    cJSON_Delete(fix);
    lm_tokenizer_free(tok);
    return 0;
}

static lmi_dataset *load(const char *name) {
    char path[1024];
    lmi_dataset *ds = NULL;
    snprintf(path, sizeof path, "%s/%s", DATA_DIR, name);
    if (lmi_dataset_load(path, NULL, &ds) != LM_OK) {
        print_error("%s: %s\n", path, lm_last_error());
        fail();
    }
    return ds;
}

static lmi_features *build(const lmi_dataset *ds, size_t max_length, const lmi_feature_options *base) {
    lmi_feature_options o;
    lmi_features *f = NULL;
    if (base != NULL) {
        o = *base;
    } else {
        lmi_feature_options_init(&o);
    }
    o.max_length = max_length;
    if (lmi_features_build(ds, tok, &o, &f) != LM_OK) {
        print_error("features: %s\n", lm_last_error());
        fail();
    }
    return f;
}

static void check_label_list(const lmi_dataset *ds, const cJSON *list) {
    const cJSON *x;
    size_t i = 0;
    assert_int_equal((size_t)cJSON_GetArraySize(list), ds->labels.n);
    cJSON_ArrayForEach(x, list) {
        assert_string_equal(x->valuestring, ds->labels.names[i]);
        i++;
    }
}

/* Compares run_glue rows (ids, type ids, labels or values). */
static void check_glue(const char *file, const cJSON *c, int regression) {
    lmi_dataset *ds = load(file);
    size_t L = (size_t)cJSON_GetObjectItem(c, "max_length")->valueint;
    lmi_features *f = build(ds, L, NULL);
    const cJSON *ids = cJSON_GetObjectItem(c, "ids"), *types = cJSON_GetObjectItem(c, "type");
    const cJSON *labels = cJSON_GetObjectItem(c, "labels");
    size_t r;
    assert_int_equal(f->n, (size_t)cJSON_GetArraySize(ids));
    if (!regression) {
        check_label_list(ds, cJSON_GetObjectItem(c, "label_list"));
        assert_int_equal(ds->task, LMI_TASK_CLASSIFICATION);
    } else {
        assert_int_equal(ds->task, LMI_TASK_REGRESSION);
        assert_null(f->labels);
    }
    for (r = 0; r < f->n; r++) {
        const cJSON *lab = cJSON_GetArrayItem(labels, (int)r);
        test_assert_ints(cJSON_GetArrayItem(ids, (int)r), f->ids + f->start[r],
                         lmi_features_len(f, r), file, r);
        test_assert_ints(cJSON_GetArrayItem(types, (int)r), f->type_ids + f->start[r],
                         lmi_features_len(f, r), file, r);
        if (regression) {
            assert_true(f->values[r] == (float)lab->valuedouble);
        } else {
            assert_int_equal(f->labels[r], lab->valueint);
        }
    }
    lmi_features_free(f);
    lmi_dataset_free(ds);
}

static void test_glue(void **state) {
    const cJSON *sst2 = cJSON_GetObjectItem(fix, "sst2"), *rte = cJSON_GetObjectItem(fix, "rte");
    (void)state;
    check_glue("sst2.tsv", cJSON_GetArrayItem(sst2, 0), 0);
    check_glue("sst2.tsv", cJSON_GetArrayItem(sst2, 1), 0); /* max_length 12: truncation */
    check_glue("sst2.csv", cJSON_GetObjectItem(fix, "sst2_csv"), 0);
    check_glue("rte.tsv", cJSON_GetArrayItem(rte, 0), 0);
    check_glue("rte.tsv", cJSON_GetArrayItem(rte, 1), 0); /* longest_first over a pair */
    check_glue("stsb.tsv", cJSON_GetObjectItem(fix, "stsb"), 1);
    check_glue("stsb.jsonl", cJSON_GetObjectItem(fix, "stsb"), 1);
}

static void test_ner(void **state) {
    const cJSON *c;
    lmi_dataset *ds = load("wnut17.conll");
    (void)state;
    assert_int_equal(ds->n, 50);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fix, "wnut")) {
        lmi_feature_options o;
        lmi_features *f;
        const cJSON *ids = cJSON_GetObjectItem(c, "ids"), *labels = cJSON_GetObjectItem(c, "labels");
        size_t r;
        lmi_feature_options_init(&o);
        o.label_all_tokens = cJSON_IsTrue(cJSON_GetObjectItem(c, "label_all_tokens"));
        f = build(ds, (size_t)cJSON_GetObjectItem(c, "max_length")->valueint, &o);
        check_label_list(ds, cJSON_GetObjectItem(c, "label_list"));
        assert_int_equal(f->n, 50);
        for (r = 0; r < f->n; r++) {
            test_assert_ints(cJSON_GetArrayItem(ids, (int)r), f->ids + f->start[r],
                             lmi_features_len(f, r), "wnut ids", r);
            test_assert_ints(cJSON_GetArrayItem(labels, (int)r), f->token_labels + f->start[r],
                             lmi_features_len(f, r), "wnut labels", r);
        }
        lmi_features_free(f);
    }
    lmi_dataset_free(ds);
}

/* The fixture's logits: ((hash % 20001) - 10000) / 1000 in float. */
static float qa_logit(size_t row, size_t t, uint64_t salt) {
    uint64_t h = (((uint64_t)row * 1000003u + (uint64_t)t * 7919u + salt) * 2654435761u) &
                 0xFFFFFFFFu;
    return (float)((int64_t)(h % 20001) - 10000) / 1000.0f;
}

static void test_qa(void **state) {
    const cJSON *c;
    lmi_dataset *ds = load("squad.json");
    (void)state;
    assert_int_equal(ds->n, 30);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fix, "squad")) {
        lmi_feature_options o;
        lmi_features *f;
        const cJSON *ids = cJSON_GetObjectItem(c, "ids"), *types = cJSON_GetObjectItem(c, "type");
        const cJSON *ex = cJSON_GetObjectItem(c, "example"), *st = cJSON_GetObjectItem(c, "start");
        const cJSON *en = cJSON_GetObjectItem(c, "end"), *offs = cJSON_GetObjectItem(c, "offsets");
        const cJSON *answers = cJSON_GetObjectItem(c, "answers");
        float *sl, *el;
        lmi_span *spans;
        size_t r, x, moved = 0;
        lmi_feature_options_init(&o);
        o.doc_stride = (size_t)cJSON_GetObjectItem(c, "doc_stride")->valueint;
        f = build(ds, (size_t)cJSON_GetObjectItem(c, "max_length")->valueint, &o);
        assert_int_equal(f->n, (size_t)cJSON_GetArraySize(ids));
        for (r = 0; r < f->n; r++) {
            size_t n = lmi_features_len(f, r), t;
            const lmi_example *e = &ds->examples[f->example[r]];
            int32_t *chars = malloc(2 * n * sizeof *chars);
            test_assert_ints(cJSON_GetArrayItem(ids, (int)r), f->ids + f->start[r], n, "qa ids", r);
            test_assert_ints(cJSON_GetArrayItem(types, (int)r), f->type_ids + f->start[r], n,
                             "qa types", r);
            assert_int_equal(f->example[r], cJSON_GetArrayItem(ex, (int)r)->valueint);
            assert_int_equal(f->start_positions[r], cJSON_GetArrayItem(st, (int)r)->valueint);
            assert_int_equal(f->end_positions[r], cJSON_GetArrayItem(en, (int)r)->valueint);
            moved += f->start_positions[r] != 0;
            /* offsets: bytes here, characters in the fixture */
            for (t = 0; t < 2 * n; t++) {
                int32_t b = f->offsets[2 * f->start[r] + t];
                chars[t] = b < 0 ? -1 : (int32_t)lmi_utf8_length(e->pair, (size_t)b);
            }
            test_assert_ints(cJSON_GetArrayItem(offs, (int)r), chars, 2 * n, "qa offsets", r);
            free(chars);
        }
        assert_true(moved > 0);
        /* post-processing with the fixture's logits */
        sl = malloc(f->total * sizeof *sl);
        el = malloc(f->total * sizeof *el);
        spans = malloc(ds->n * sizeof *spans);
        for (r = 0; r < f->n; r++) {
            size_t t;
            for (t = 0; t < lmi_features_len(f, r); t++) {
                sl[f->start[r] + t] = qa_logit(r, t, 1);
                el[f->start[r] + t] = qa_logit(r, t, 2);
            }
        }
        assert_int_equal(lmi_qa_postprocess(ds, f, sl, el, 20, 30, spans), LM_OK);
        for (x = 0; x < ds->n; x++) {
            const char *want = cJSON_GetArrayItem(answers, (int)x)->valuestring;
            const lmi_example *e = &ds->examples[x];
            if (spans[x].start < 0) {
                assert_string_equal(want, "empty");
            } else {
                size_t len = (size_t)(spans[x].end - spans[x].start);
                if (strlen(want) != len || memcmp(want, e->pair + spans[x].start, len) != 0) {
                    print_error("answer %zu: fixture \"%s\", here \"%.*s\"\n", x, want, (int)len,
                                e->pair + spans[x].start);
                    fail();
                }
            }
        }
        {
            /* perfect answers score 100; these random ones less */
            double em, f1, em2, f12;
            lmi_span *gold = malloc(ds->n * sizeof *gold);
            for (x = 0; x < ds->n; x++) {
                gold[x].start = (int64_t)ds->answers[ds->examples[x].first].start;
                gold[x].end = (int64_t)ds->answers[ds->examples[x].first].end;
            }
            assert_int_equal(lmi_qa_evaluate(ds, gold, &em, &f1), LM_OK);
            assert_true(em == 100.0 && f1 == 100.0);
            assert_int_equal(lmi_qa_evaluate(ds, spans, &em2, &f12), LM_OK);
            assert_true(em2 < 50.0 && f12 < 60.0 && f12 >= em2);
            free(gold);
        }
        free(sl);
        free(el);
        free(spans);
        lmi_features_free(f);
    }
    lmi_dataset_free(ds);
}

static void test_mlm_rows(void **state) {
    const cJSON *c = cJSON_GetObjectItem(fix, "mlm");
    const cJSON *blocks = cJSON_GetObjectItem(c, "blocks"), *lines = cJSON_GetObjectItem(c, "lines");
    lmi_dataset *ds = load("text.txt");
    lmi_feature_options o;
    lmi_features *f;
    size_t r;
    (void)state;
    assert_int_equal(ds->task, LMI_TASK_TEXT);
    lmi_feature_options_init(&o);
    o.mlm = 1;
    o.mlm_group = 1;
    o.mlm_group_lines = (size_t)cJSON_GetObjectItem(c, "group_lines")->valueint;
    f = build(ds, (size_t)cJSON_GetObjectItem(c, "max_length")->valueint, &o);
    assert_int_equal(f->n, (size_t)cJSON_GetArraySize(blocks));
    for (r = 0; r < f->n; r++) {
        test_assert_ints(cJSON_GetArrayItem(blocks, (int)r), f->ids + f->start[r],
                         lmi_features_len(f, r), "mlm blocks", r);
    }
    lmi_features_free(f);
    o.mlm_group = 0;
    f = build(ds, 32, &o);
    assert_int_equal(f->n, (size_t)cJSON_GetArraySize(lines));
    for (r = 0; r < f->n; r++) {
        test_assert_ints(cJSON_GetArrayItem(lines, (int)r), f->ids + f->start[r],
                         lmi_features_len(f, r), "mlm lines", r);
        assert_int_equal(f->special[f->start[r]], 1);
        assert_int_equal(f->special[f->start[r + 1] - 1], 1);
    }
    lmi_features_free(f);
    lmi_dataset_free(ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glue),
        cmocka_unit_test(test_ner),
        cmocka_unit_test(test_qa),
        cmocka_unit_test(test_mlm_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
