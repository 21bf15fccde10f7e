/* Batching: epoch orders reproducible from (seed, epoch) and resumable mid-epoch, dynamic padding,
 * length orders and LengthGroupedSampler grouping, per-task label arrays, masked-LM masking
 * statistics and determinism, allocation failures of features and batcher. */
#include "test_util.h"

#include <math.h>

#include "test_data_util.h"

#include "base/rng.h"
#include "data/batch.h"
#include "data/features.h"

static lm_tokenizer_t *tok;

static int setup(void **state) {
    (void)state;
    tok = test_uncased_tokenizer();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    lm_tokenizer_free(tok);
    return 0;
}

static void load_features(const char *file, const lmi_feature_options *fo, lmi_dataset **ds,
                          lmi_features **f) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", DATA_DIR, file);
    assert_int_equal(lmi_dataset_load(path, NULL, ds), LM_OK);
    assert_int_equal(lmi_features_build(*ds, tok, fo, f), LM_OK);
}

static lmi_batcher *batcher(const lmi_features *f, lmi_order order, uint64_t seed, size_t bs,
                            size_t group) {
    lmi_batcher_options o;
    lmi_batcher *b = NULL;
    lmi_batcher_options_init(&o);
    o.order = order;
    o.seed = seed;
    o.batch_size = bs;
    o.group_by_length = group;
    assert_int_equal(lmi_batcher_create(f, tok, &o, &b), LM_OK);
    return b;
}

/* The rows of a whole epoch, in order; returns a checksum of all batch contents. */
static uint64_t run_epoch(lmi_batcher *b, size_t epoch, size_t *rows, size_t *n_rows) {
    lmi_batch x;
    uint64_t h = 1469598103934665603ull;
    size_t k = 0, i;
    assert_int_equal(lmi_batcher_seek(b, epoch, 0), LM_OK);
    while (lmi_batcher_next(b, &x)) {
        for (i = 0; i < x.B; i++) {
            rows[k++] = x.rows[i];
        }
        for (i = 0; i < x.B * x.T; i++) {
            h = (h ^ (uint64_t)(uint32_t)x.ids[i]) * 1099511628211ull;
            h = (h ^ (uint64_t)(uint32_t)x.mask[i]) * 1099511628211ull;
            if (x.token_labels != NULL) {
                h = (h ^ (uint64_t)(uint32_t)x.token_labels[i]) * 1099511628211ull;
            }
        }
    }
    *n_rows = k;
    return h;
}

static void assert_permutation(const size_t *rows, size_t n) {
    char *seen = calloc(n, 1);
    size_t i;
    for (i = 0; i < n; i++) {
        assert_true(rows[i] < n);
        assert_false(seen[rows[i]]);
        seen[rows[i]] = 1;
    }
    free(seen);
}

static void test_shuffle_determinism(void **state) {
    lmi_dataset *ds;
    lmi_features *f;
    lmi_batcher *a, *b, *c;
    size_t r0[64], r1[64], r2[64], n0, n1, n2;
    uint64_t h0, h1;
    lmi_batch x, y;
    size_t i, k;
    (void)state;
    load_features("sst2.tsv", NULL, &ds, &f);
    assert_int_equal(f->n, 40);
    a = batcher(f, LMI_ORDER_SHUFFLE, 42, 8, 0);
    b = batcher(f, LMI_ORDER_SHUFFLE, 42, 8, 0);
    c = batcher(f, LMI_ORDER_SHUFFLE, 43, 8, 0);
    assert_int_equal(lmi_batcher_count(a), 5);
    h0 = run_epoch(a, 0, r0, &n0);
    h1 = run_epoch(a, 1, r1, &n1);
    assert_int_equal(n0, 40);
    assert_int_equal(n1, 40);
    assert_permutation(r0, 40);
    assert_permutation(r1, 40);
    assert_true(memcmp(r0, r1, sizeof r0[0] * 40) != 0); /* a new order each epoch */
    /* the same (seed, epoch) gives the same batches, in any order of calls */
    assert_int_equal(run_epoch(b, 1, r2, &n2), h1);
    assert_int_equal(run_epoch(b, 0, r2, &n2), h0);
    assert_memory_equal(r0, r2, sizeof r0[0] * 40);
    assert_true(run_epoch(c, 0, r2, &n2) != h0);
    /* resume in the middle of epoch 1 */
    assert_int_equal(lmi_batcher_seek(b, 1, 3), LM_OK);
    assert_int_equal(lmi_batcher_seek(a, 1, 0), LM_OK);
    for (k = 0; k < 3; k++) {
        assert_int_equal(lmi_batcher_next(a, &x), 1);
    }
    for (k = 3; k < 5; k++) {
        assert_int_equal(lmi_batcher_next(a, &x), 1);
        assert_int_equal(lmi_batcher_next(b, &y), 1);
        assert_int_equal(x.index, k);
        assert_int_equal(y.index, k);
        assert_int_equal(x.B, y.B);
        assert_int_equal(x.T, y.T);
        assert_memory_equal(x.rows, y.rows, x.B * sizeof *x.rows);
        assert_memory_equal(x.ids, y.ids, x.B * x.T * sizeof *x.ids);
        assert_memory_equal(x.labels, y.labels, x.B * sizeof *x.labels);
    }
    assert_int_equal(lmi_batcher_next(a, &x), 0);
    assert_int_equal(lmi_batcher_next(b, &y), 0);
    assert_int_equal(lmi_batcher_seek(b, 1, 6), LM_ERR_RANGE);
    /* padding and labels of a batch */
    assert_int_equal(lmi_batcher_seek(a, 0, 0), LM_OK);
    assert_int_equal(lmi_batcher_next(a, &x), 1);
    {
        size_t longest = 0;
        for (i = 0; i < x.B; i++) {
            size_t r = x.rows[i], len = lmi_features_len(f, r), t;
            longest = len > longest ? len : longest;
            assert_int_equal(x.labels[i], f->labels[r]);
            for (t = 0; t < x.T; t++) {
                if (t < len) {
                    assert_int_equal(x.ids[i * x.T + t], f->ids[f->start[r] + t]);
                    assert_int_equal(x.mask[i * x.T + t], 1);
                } else {
                    assert_int_equal(x.ids[i * x.T + t], lm_tokenizer_special_id(tok, LM_SPECIAL_PAD));
                    assert_int_equal(x.mask[i * x.T + t], 0);
                    assert_int_equal(x.type_ids[i * x.T + t], 0);
                }
            }
        }
        assert_int_equal(x.T, longest);
        assert_null(x.values);
        assert_null(x.token_labels);
        assert_null(x.start_positions);
    }
    lmi_batcher_free(a);
    lmi_batcher_free(b);
    lmi_batcher_free(c);
    lmi_features_free(f);
    lmi_dataset_free(ds);
}

static void test_orders(void **state) {
    lmi_dataset *ds;
    lmi_features *f;
    lmi_batcher *b;
    lmi_batcher_options o;
    size_t rows[64], n, i;
    lmi_batch x;
    (void)state;
    load_features("sst2.tsv", NULL, &ds, &f);
    /* sequential, with and without the last small batch */
    b = batcher(f, LMI_ORDER_SEQUENTIAL, 0, 16, 0);
    assert_int_equal(lmi_batcher_count(b), 3);
    run_epoch(b, 0, rows, &n);
    for (i = 0; i < 40; i++) {
        assert_int_equal(rows[i], i);
    }
    lmi_batcher_free(b);
    lmi_batcher_options_init(&o);
    o.order = LMI_ORDER_SEQUENTIAL;
    o.batch_size = 16;
    o.drop_last = 1;
    assert_int_equal(lmi_batcher_create(f, tok, &o, &b), LM_OK);
    assert_int_equal(lmi_batcher_count(b), 2);
    lmi_batcher_free(b);
    /* by length, longest first, stable */
    b = batcher(f, LMI_ORDER_LENGTH, 0, 8, 0);
    run_epoch(b, 0, rows, &n);
    assert_permutation(rows, 40);
    for (i = 1; i < 40; i++) {
        size_t a = lmi_features_len(f, rows[i - 1]), c = lmi_features_len(f, rows[i]);
        assert_true(a > c || (a == c && rows[i - 1] < rows[i]));
    }
    lmi_batcher_free(b);
    /* LengthGroupedSampler: megabatches of min(40 / (4 * 2), 50) = 5 batches of 2, each sorted,
     * the longest row first */
    b = batcher(f, LMI_ORDER_SHUFFLE, 7, 2, 50);
    run_epoch(b, 3, rows, &n);
    assert_permutation(rows, 40);
    for (i = 0; i < 40; i++) {
        assert_true(lmi_features_len(f, rows[0]) >= lmi_features_len(f, rows[i]));
        if (i % 10 != 0 && i != 1) {
            assert_true(lmi_features_len(f, rows[i - 1]) >= lmi_features_len(f, rows[i]));
        }
    }
    lmi_batcher_free(b);
    /* a scatter of per-token outputs back to the flat layout */
    b = batcher(f, LMI_ORDER_SHUFFLE, 1, 8, 0);
    {
        float *flat = calloc(f->total, sizeof *flat);
        while (lmi_batcher_next(b, &x)) {
            float *out = malloc(x.B * x.T * sizeof *out);
            for (i = 0; i < x.B * x.T; i++) {
                out[i] = (float)x.ids[i];
            }
            lmi_batch_scatter(&x, f, out, flat);
            free(out);
        }
        for (i = 0; i < f->total; i++) {
            assert_true(flat[i] == (float)f->ids[i]);
        }
        free(flat);
    }
    lmi_batcher_free(b);
    lmi_features_free(f);
    lmi_dataset_free(ds);
}

static void test_task_arrays(void **state) {
    lmi_dataset *ds;
    lmi_features *f;
    lmi_batcher *b;
    lmi_batch x;
    size_t i, t;
    lmi_feature_options fo;
    (void)state;
    /* token classification: per-token labels, -100 on padding */
    load_features("wnut17.conll", NULL, &ds, &f);
    b = batcher(f, LMI_ORDER_SHUFFLE, 5, 4, 0);
    assert_int_equal(lmi_batcher_next(b, &x), 1);
    assert_non_null(x.token_labels);
    for (i = 0; i < x.B; i++) {
        size_t len = lmi_features_len(f, x.rows[i]);
        for (t = 0; t < x.T; t++) {
            int32_t want = t < len ? f->token_labels[f->start[x.rows[i]] + t] : LMI_IGNORE_INDEX;
            assert_int_equal(x.token_labels[i * x.T + t], want);
        }
        assert_int_equal(x.token_labels[i * x.T], LMI_IGNORE_INDEX); /* [CLS] */
    }
    lmi_batcher_free(b);
    lmi_features_free(f);
    lmi_dataset_free(ds);
    /* regression values */
    load_features("stsb.tsv", NULL, &ds, &f);
    b = batcher(f, LMI_ORDER_SEQUENTIAL, 0, 4, 0);
    assert_int_equal(lmi_batcher_next(b, &x), 1);
    assert_null(x.labels);
    for (i = 0; i < x.B; i++) {
        assert_true(x.values[i] == ds->examples[i].value);
    }
    lmi_batcher_free(b);
    lmi_features_free(f);
    lmi_dataset_free(ds);
    /* QA start and end */
    lmi_feature_options_init(&fo);
    fo.max_length = 128;
    fo.doc_stride = 32;
    load_features("squad.json", &fo, &ds, &f);
    b = batcher(f, LMI_ORDER_SHUFFLE, 9, 16, 0);
    while (lmi_batcher_next(b, &x)) {
        for (i = 0; i < x.B; i++) {
            assert_int_equal(x.start_positions[i], f->start_positions[x.rows[i]]);
            assert_int_equal(x.end_positions[i], f->end_positions[x.rows[i]]);
            assert_true(x.T <= 128);
        }
    }
    lmi_batcher_free(b);
    lmi_features_free(f);
    lmi_dataset_free(ds);
}

static void test_mlm_mask_statistics(void **state) {
    size_t n = 200000, i, eligible = 0, chosen = 0, masked = 0, random = 0, kept = 0;
    int32_t *ids = malloc(n * sizeof *ids), *orig = malloc(n * sizeof *orig);
    int32_t *labels = malloc(n * sizeof *labels);
    uint8_t *special = malloc(n);
    lmi_rng rng;
    (void)state;
    for (i = 0; i < n; i++) {
        orig[i] = ids[i] = 1000 + (int32_t)(i % 5000);
        special[i] = i % 10 == 0;
    }
    lmi_rng_seed(&rng, 123);
    lmi_mlm_mask(ids, labels, special, n, 0.15f, 103, 30522, &rng);
    for (i = 0; i < n; i++) {
        if (special[i]) {
            assert_int_equal(labels[i], LMI_IGNORE_INDEX);
            assert_int_equal(ids[i], orig[i]);
            continue;
        }
        eligible++;
        if (labels[i] == LMI_IGNORE_INDEX) {
            assert_int_equal(ids[i], orig[i]);
            continue;
        }
        assert_int_equal(labels[i], orig[i]);
        chosen++;
        if (ids[i] == 103) {
            masked++;
        } else if (ids[i] != orig[i]) {
            random++;
            assert_true(ids[i] >= 0 && ids[i] < 30522);
        } else {
            kept++;
        }
    }
    /* 180,000 eligible: 15% chosen (sd 0.08%), then 80 / 10 / 10 (sd ~0.3%) */
    assert_true(fabs((double)chosen / (double)eligible - 0.15) < 0.004);
    assert_true(fabs((double)masked / (double)chosen - 0.80) < 0.015);
    assert_true(fabs((double)random / (double)chosen - 0.10) < 0.01);
    assert_true(fabs((double)kept / (double)chosen - 0.10) < 0.01);
    free(ids);
    free(orig);
    free(labels);
    free(special);
}

static void test_mlm_batches(void **state) {
    lmi_dataset *ds;
    lmi_features *f;
    lmi_feature_options fo;
    lmi_batcher *a, *b;
    size_t rows[256], n;
    lmi_batch x, y;
    uint64_t h0, h1;
    size_t i, chosen = 0, eligible = 0;
    (void)state;
    lmi_feature_options_init(&fo);
    fo.mlm = 1;
    fo.max_length = 64;
    load_features("text.txt", &fo, &ds, &f);
    a = batcher(f, LMI_ORDER_SHUFFLE, 11, 16, 0);
    b = batcher(f, LMI_ORDER_SHUFFLE, 11, 16, 0);
    h0 = run_epoch(a, 0, rows, &n);
    assert_int_equal(n, f->n);
    h1 = run_epoch(a, 1, rows, &n);
    assert_true(h0 != h1);
    assert_int_equal(run_epoch(b, 1, rows, &n), h1);
    assert_int_equal(run_epoch(b, 0, rows, &n), h0);
    /* resumed mid-epoch: the same masks */
    assert_int_equal(lmi_batcher_seek(a, 2, 0), LM_OK);
    assert_int_equal(lmi_batcher_next(a, &x), 1);
    assert_int_equal(lmi_batcher_next(a, &x), 1);
    assert_int_equal(lmi_batcher_seek(b, 2, 1), LM_OK);
    assert_int_equal(lmi_batcher_next(b, &y), 1);
    assert_memory_equal(x.ids, y.ids, x.B * x.T * sizeof *x.ids);
    assert_memory_equal(x.token_labels, y.token_labels, x.B * x.T * sizeof *x.ids);
    /* labels only on real, non-special tokens; [CLS] and [SEP] never masked */
    assert_int_equal(lmi_batcher_seek(a, 0, 0), LM_OK);
    while (lmi_batcher_next(a, &x)) {
        for (i = 0; i < x.B; i++) {
            size_t r = x.rows[i], len = lmi_features_len(f, r), t;
            for (t = 0; t < x.T; t++) {
                int32_t lab = x.token_labels[i * x.T + t];
                if (t >= len || f->special[f->start[r] + t]) {
                    assert_int_equal(lab, LMI_IGNORE_INDEX);
                    if (t < len) {
                        assert_int_equal(x.ids[i * x.T + t], f->ids[f->start[r] + t]);
                    }
                    continue;
                }
                eligible++;
                if (lab != LMI_IGNORE_INDEX) {
                    chosen++;
                    assert_int_equal(lab, f->ids[f->start[r] + t]);
                } else {
                    assert_int_equal(x.ids[i * x.T + t], f->ids[f->start[r] + t]);
                }
            }
        }
    }
    assert_true(eligible > 1000);
    assert_true(fabs((double)chosen / (double)eligible - 0.15) < 0.03);
    lmi_batcher_free(a);
    lmi_batcher_free(b);
    lmi_features_free(f);
    lmi_dataset_free(ds);
}

static lmi_dataset *fail_ds;

static lm_status features_body(void *opts) {
    lmi_features *f = NULL;
    lmi_batcher *b = NULL;
    lmi_batch x;
    lm_status st = lmi_features_build(fail_ds, tok, opts, &f);
    if (st == LM_OK) {
        st = lmi_batcher_create(f, tok, NULL, &b);
    }
    if (st == LM_OK) {
        while (lmi_batcher_next(b, &x)) {
        }
    }
    lmi_batcher_free(b);
    lmi_features_free(f);
    return st;
}

static void test_allocation_failures(void **state) {
    lmi_feature_options fo;
    (void)state;
    lmi_feature_options_init(&fo);
    fo.threads = 1;
    fo.max_length = 64;
    fo.doc_stride = 16;
    {
        const char *squad = "{\"data\": [{\"paragraphs\": [{\"context\": \"a long context that is "
                            "cut into windows\", \"qas\": [{\"id\": \"a\", \"question\": \"what?\", "
                            "\"answers\": [{\"text\": \"cut\", \"answer_start\": 23}]}]}]}]}";
        assert_int_equal(lmi_dataset_load_memory(squad, strlen(squad), "x.json", NULL, &fail_ds),
                         LM_OK);
    }
    TEST_EVERY_ALLOCATION_FAILURE(features_body, &fo);
    lmi_dataset_free(fail_ds);
    assert_int_equal(lmi_dataset_load_memory("John\tB-PER\nsays\tO\n\nhi\tO\n", 24, "x.conll",
                                             NULL, &fail_ds), LM_OK);
    fo.label_all_tokens = 1;
    TEST_EVERY_ALLOCATION_FAILURE(features_body, &fo);
    lmi_dataset_free(fail_ds);
    assert_int_equal(lmi_dataset_load_memory("a b c\nd e f g\n", 14, "x.txt", NULL, &fail_ds),
                     LM_OK);
    fo.mlm = 1;
    fo.mlm_group = 1;
    fo.max_length = 4;
    TEST_EVERY_ALLOCATION_FAILURE(features_body, &fo);
    lmi_dataset_free(fail_ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shuffle_determinism),
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_task_arrays),
        cmocka_unit_test(test_mlm_mask_statistics),
        cmocka_unit_test(test_mlm_batches),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
