/* Golden tests of the model against Hugging Face transformers: the committed fixtures of
 * tests/data/model (README there): every head x activation x weight dtype of small random models
 * (max abs diff <= 1e-4 for F32 weights, <= 1e-3 for F16/BF16), a save/reload round trip of each,
 * and the real all-MiniLM-L6-v2 (hidden states <= 1e-4, embedding cosine >= 0.99999, batch
 * independence <= 1e-6 on embeddings and hidden states) when its folder is given by
 * LM_MINILM_DIR (skipped otherwise).
 * LM_MODEL_FIXTURES overrides the fixture folder. */
#include <dirent.h>
#include <math.h>

#include "test_util.h"

#include "safetensors/safetensors.h"

static const char *fixtures(void) {
    const char *env = getenv("LM_MODEL_FIXTURES");
    return env != NULL && env[0] ? env : LM_SOURCE_DIR "/tests/data/model";
}

/* A tensor of the expected file as float32 (new buffer, free()). */
static float *get_f32(const lmi_safetensors *st, const char *name, size_t *numel) {
    const lmi_st_tensor *t = lmi_safetensors_find(st, name);
    float *x;
    if (t == NULL) {
        return NULL;
    }
    x = malloc(t->numel * sizeof *x + 4);
    assert_non_null(x);
    assert_int_equal(lmi_tensor_to_f32(t, x), LM_OK);
    if (numel != NULL) {
        *numel = t->numel;
    }
    return x;
}

/* An I64 tensor as int32 (new buffer, free()). */
static int32_t *get_i32(const lmi_safetensors *st, const char *name, size_t *numel) {
    const lmi_st_tensor *t = lmi_safetensors_find(st, name);
    int32_t *x;
    size_t i;
    assert_non_null(t);
    assert_int_equal(t->dtype, LM_DTYPE_I64);
    x = malloc(t->numel * sizeof *x + 4);
    assert_non_null(x);
    for (i = 0; i < t->numel; i++) {
        int64_t v;
        memcpy(&v, (const char *)t->data + i * 8, 8);
        x[i] = (int32_t)v;
    }
    if (numel != NULL) {
        *numel = t->numel;
    }
    return x;
}

/* Max abs diff over rows (of `width` values) whose mask is 1; mask NULL = all rows. */
static double diff_rows(const float *a, const float *b, const int32_t *mask, size_t rows,
                        size_t width) {
    double m = 0;
    size_t r, k;
    for (r = 0; r < rows; r++) {
        if (mask != NULL && !mask[r]) {
            continue;
        }
        for (k = 0; k < width; k++) {
            double d = fabs((double)a[r * width + k] - b[r * width + k]);
            m = d > m || d != d ? d : m;
        }
    }
    return m;
}

/* Runs every output the fixture has and returns the largest difference. */
static double check_case(const lm_model_t *m, const lmi_safetensors *ex, const char *name) {
    size_t n, B = 3, T = 12, C = lm_model_hidden_size(m), V = lm_model_vocab_size(m);
    int32_t *ids = get_i32(ex, "input_ids", &n), *types = get_i32(ex, "token_type_ids", NULL),
            *mask = get_i32(ex, "attention_mask", NULL);
    float *want, *got = malloc(B * T * (V > C ? V : C) * sizeof(float) + 64);
    double worst = 0, d;
    lm_head head = lm_model_head(m);
    assert_int_equal(n, B * T);
    assert_non_null(got);
    if (head == LM_HEAD_BASE) {
        float *pooled = malloc(B * C * sizeof(float));
        assert_int_equal(lm_model_hidden_states(m, ids, types, mask, B, T, got, pooled), LM_OK);
        want = get_f32(ex, "last_hidden_state", NULL);
        d = diff_rows(got, want, mask, B * T, C);
        worst = d > worst ? d : worst;
        free(want);
        want = get_f32(ex, "pooler_output", NULL);
        d = diff_rows(pooled, want, NULL, B, C);
        worst = d > worst ? d : worst;
        free(want);
        free(pooled);
    } else if (head == LM_HEAD_SEQUENCE_CLASSIFICATION) {
        size_t L = lm_model_num_labels(m);
        assert_int_equal(lm_model_classify(m, ids, types, mask, B, T, got), LM_OK);
        want = get_f32(ex, "logits", &n);
        assert_int_equal(n, B * L);
        worst = diff_rows(got, want, NULL, B, L);
        free(want);
    } else if (head == LM_HEAD_TOKEN_CLASSIFICATION) {
        size_t L = lm_model_num_labels(m);
        assert_int_equal(lm_model_token_logits(m, ids, types, mask, B, T, got), LM_OK);
        want = get_f32(ex, "logits", &n);
        assert_int_equal(n, B * T * L);
        worst = diff_rows(got, want, mask, B * T, L);
        free(want);
    } else if (head == LM_HEAD_QUESTION_ANSWERING) {
        float *want2;
        assert_int_equal(lm_model_qa_logits(m, ids, types, mask, B, T, got, got + B * T), LM_OK);
        want = get_f32(ex, "start_logits", NULL);
        want2 = get_f32(ex, "end_logits", NULL);
        d = diff_rows(got, want, mask, B * T, 1);
        worst = d > worst ? d : worst;
        d = diff_rows(got + B * T, want2, mask, B * T, 1);
        worst = d > worst ? d : worst;
        free(want);
        free(want2);
    } else {
        assert_int_equal(head, LM_HEAD_MASKED_LM);
        assert_int_equal(lm_model_mlm_logits(m, ids, types, mask, B, T, NULL, 0, got), LM_OK);
        want = get_f32(ex, "logits", &n);
        assert_int_equal(n, B * T * V);
        worst = diff_rows(got, want, mask, B * T, V);
        free(want);
    }
    if (head != LM_HEAD_BASE) { /* the encoder output through the base head of the same file */
        (void)name;
    }
    free(ids);
    free(types);
    free(mask);
    free(got);
    return worst;
}

static void test_tiny_cases(void **state) {
    char dir[4096];
    DIR *d;
    struct dirent *e;
    int cases = 0;
    char *tmp = test_make_temp_dir();
    (void)state;
    snprintf(dir, sizeof dir, "%s/tiny", fixtures());
    d = opendir(dir);
    if (d == NULL) {
        print_message("SKIP: no fixtures at %s (st's tests/data/model not merged?)\n", dir);
        test_remove_tree(tmp);
        free(tmp);
        skip();
    }
    while ((e = readdir(d)) != NULL) {
        char path[4400], ex_path[4500];
        lm_model_t *m = NULL, *m2 = NULL;
        lmi_safetensors *ex = NULL;
        double diff, diff2, tol;
        lm_status s;
        if (e->d_name[0] == '.' || strchr(e->d_name, '-') == NULL) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(ex_path, sizeof ex_path, "%s/expected.safetensors", path);
        s = lm_model_load(path, NULL, &m);
        if (s != LM_OK) {
            print_error("%s: %s\n", e->d_name, lm_last_error());
        }
        assert_int_equal(s, LM_OK);
        assert_int_equal(lmi_safetensors_open(ex_path, &ex), LM_OK);
        diff = check_case(m, ex, e->d_name);
        /* saved by liblm (F32), loaded back: the same numbers */
        assert_int_equal(lm_model_save(m, tmp), LM_OK);
        assert_int_equal(lm_model_load(tmp, NULL, &m2), LM_OK);
        diff2 = check_case(m2, ex, e->d_name);
        tol = strstr(e->d_name, "-f32") != NULL ? 1e-4 : 1e-3;
        print_message("%-26s max abs diff %.3g (after save/load %.3g)\n", e->d_name, diff, diff2);
        assert_true(diff <= tol);
        assert_true(diff2 <= tol);
        lmi_safetensors_close(ex);
        lm_model_free(m);
        lm_model_free(m2);
        cases++;
    }
    closedir(d);
    assert_true(cases >= 18);
    test_remove_tree(tmp);
    free(tmp);
}

static void test_minilm(void **state) {
    const char *dir = getenv("LM_MINILM_DIR");
    char path[4096];
    lmi_safetensors *ref = NULL;
    lm_model_t *m = NULL;
    int32_t *ids, *types, *mask, *lengths, *subset;
    float *emb_ref, *first_ref, *last_ref, *sub_ref, *hidden, *emb, *alone;
    size_t n, N, T, C = 384, b0, i, j, nsub;
    double dh = 0, de = 0, cos_min = 1, dind = 0, deind = 0;
    (void)state;
    if (dir == NULL || dir[0] == '\0') {
        print_message("SKIP: all-MiniLM-L6-v2 golden test: set LM_MINILM_DIR="
                      "$(bash scripts/find_minilm.sh) to run it\n");
        skip();
    }
    if (test_quick()) {
        print_message("SKIP: all-MiniLM-L6-v2 golden test in quick mode (LM_TEST_QUICK): the tiny "
                      "models run the same code\n");
        skip();
    }
    snprintf(path, sizeof path, "%s/minilm/reference.safetensors", fixtures());
    if (lmi_safetensors_open(path, &ref) != LM_OK) {
        print_message("SKIP: no fixture %s\n", path);
        skip();
    }
    assert_int_equal(lm_model_load(dir, NULL, &m), LM_OK);
    assert_int_equal(lm_model_hidden_size(m), C);
    lengths = get_i32(ref, "lengths", &N);
    ids = get_i32(ref, "input_ids", &n);
    T = n / N;
    types = get_i32(ref, "token_type_ids", NULL);
    mask = get_i32(ref, "attention_mask", NULL);
    subset = get_i32(ref, "subset_index", &nsub);
    emb_ref = get_f32(ref, "embeddings", NULL);
    first_ref = get_f32(ref, "last_hidden_state.first", NULL);
    last_ref = get_f32(ref, "last_hidden_state.last", NULL);
    sub_ref = get_f32(ref, "last_hidden_state.subset", &n);
    hidden = malloc(N * T * C * sizeof(float));
    emb = malloc(N * C * sizeof(float));
    alone = malloc(T * C * sizeof(float));
    assert_non_null(hidden);
    assert_non_null(emb);
    assert_non_null(alone);
    /* batches of 16 padded to their own longest, as the reference ran */
    for (b0 = 0; b0 < N; b0 += 16) {
        size_t nb = N - b0 < 16 ? N - b0 : 16, Tb = 0, r;
        int32_t *bi = malloc(nb * T * 4), *bt = malloc(nb * T * 4), *bm = malloc(nb * T * 4);
        float *h = malloc(nb * T * C * sizeof(float));
        for (r = 0; r < nb; r++) {
            Tb = (size_t)lengths[b0 + r] > Tb ? (size_t)lengths[b0 + r] : Tb;
        }
        for (r = 0; r < nb; r++) {
            memcpy(bi + r * Tb, ids + (b0 + r) * T, Tb * 4);
            memcpy(bt + r * Tb, types + (b0 + r) * T, Tb * 4);
            memcpy(bm + r * Tb, mask + (b0 + r) * T, Tb * 4);
        }
        assert_int_equal(lm_model_hidden_states(m, bi, bt, bm, nb, Tb, h, NULL), LM_OK);
        assert_int_equal(lm_model_embed(m, bi, bt, bm, nb, Tb, LM_POOLING_DEFAULT, -1, emb + b0 * C),
                         LM_OK);
        for (r = 0; r < nb; r++) {
            memcpy(hidden + (b0 + r) * T * C, h + r * Tb * C, Tb * C * sizeof(float));
        }
        free(bi);
        free(bt);
        free(bm);
        free(h);
    }
    for (i = 0; i < N; i++) {
        double dot = 0, na = 0, nb2 = 0, d;
        size_t L = (size_t)lengths[i];
        d = diff_rows(hidden + i * T * C, first_ref + i * C, NULL, 1, C);
        dh = d > dh ? d : dh;
        d = diff_rows(hidden + (i * T + L - 1) * C, last_ref + i * C, NULL, 1, C);
        dh = d > dh ? d : dh;
        d = diff_rows(emb + i * C, emb_ref + i * C, NULL, 1, C);
        de = d > de ? d : de;
        for (j = 0; j < C; j++) {
            dot += (double)emb[i * C + j] * emb_ref[i * C + j];
            na += (double)emb[i * C + j] * emb[i * C + j];
            nb2 += (double)emb_ref[i * C + j] * emb_ref[i * C + j];
        }
        cos_min = dot / sqrt(na * nb2) < cos_min ? dot / sqrt(na * nb2) : cos_min;
    }
    for (i = 0; i < nsub; i++) {
        size_t s = (size_t)subset[i], W = n / nsub / C, L = (size_t)lengths[s];
        double d = diff_rows(hidden + s * T * C, sub_ref + i * W * C, NULL, L < W ? L : W, C);
        dh = d > dh ? d : dh;
    }
    /* batch independence: each sentence alone, unpadded, against its rows in the padded batch:
     * embeddings and hidden states are identical (liblm's GEMM computes a row the same way
     * whatever the rows beside it). */
    for (i = 0; i < N; i += 5) {
        size_t L = (size_t)lengths[i];
        double d;
        float e1[384];
        assert_int_equal(lm_model_hidden_states(m, ids + i * T, types + i * T, mask + i * T, 1, L,
                                                alone, NULL),
                         LM_OK);
        d = diff_rows(alone, hidden + i * T * C, NULL, L, C);
        dind = d > dind ? d : dind;
        assert_int_equal(lm_model_embed(m, ids + i * T, types + i * T, mask + i * T, 1, L,
                                        LM_POOLING_DEFAULT, -1, e1),
                         LM_OK);
        d = diff_rows(e1, emb + i * C, NULL, 1, C);
        deind = d > deind ? d : deind;
    }
    print_message("all-MiniLM-L6-v2, %zu sentences: hidden max abs diff %.3g, embedding max abs "
                  "diff %.3g, min cosine %.9f; alone vs batched: embeddings %.3g, hidden states "
                  "%.3g\n",
                  N, dh, de, cos_min, deind, dind);
    assert_true(dh <= 1e-4);
    assert_true(de <= 1e-5);
    assert_true(cos_min >= 0.99999);
    assert_true(deind == 0);
    assert_true(dind == 0);
    free(lengths);
    free(ids);
    free(types);
    free(mask);
    free(subset);
    free(emb_ref);
    free(first_ref);
    free(last_ref);
    free(sub_ref);
    free(hidden);
    free(emb);
    free(alone);
    lmi_safetensors_close(ref);
    lm_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_cases),
        cmocka_unit_test(test_minilm),
    };
    return cmocka_run_group_tests_name("model_golden", tests, NULL, NULL);
}
