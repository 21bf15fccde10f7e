/* Reads the committed reference fixtures (tests/data/model, written by transformers) with the
 * library's safetensors and config.json readers: every file must load, tensors must have the
 * documented shapes, and F32 tensors from the reference writer must be aligned (zero copy). */
#include <dirent.h>
#include <math.h>

#include "test_util.h"

#include "model/config.h"
#include "safetensors/safetensors.h"

#define FIXTURES LM_SOURCE_DIR "/tests/data/model"

static void test_minilm_reference(void **state) {
    lmi_safetensors *st;
    const lmi_st_tensor *t;
    float *emb;
    size_t i;
    (void)state;
    assert_int_equal(lmi_safetensors_open(FIXTURES "/minilm/reference.safetensors", &st), LM_OK);
    t = lmi_safetensors_find(st, "embeddings");
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[1], 384);
    assert_true(t->shape[0] >= 64);
    assert_true(lmi_st_tensor_is_aligned(t));
    emb = malloc(t->numel * sizeof *emb);
    assert_int_equal(lmi_tensor_to_f32(t, emb), LM_OK);
    for (i = 0; i < (size_t)t->shape[0]; i++) { /* unit length */
        double s = 0;
        size_t j;
        for (j = 0; j < 384; j++) {
            s += (double)emb[i * 384 + j] * emb[i * 384 + j];
        }
        assert_true(fabs(s - 1.0) < 1e-5);
    }
    free(emb);
    t = lmi_safetensors_find(st, "input_ids");
    assert_int_equal(t->dtype, LM_DTYPE_I64);
    assert_int_equal(t->shape[1], 256);
    assert_non_null(lmi_safetensors_find(st, "last_hidden_state.subset"));
    assert_string_equal(lmi_safetensors_metadata(st, "model"), "sentence-transformers/all-MiniLM-L6-v2");
    lmi_safetensors_close(st);
}

static void check_case(const char *dir, const char *name) {
    char path[4400];
    lmi_bert_config c;
    lmi_safetensors *w;
    lmi_safetensors *e;
    const lmi_st_tensor *t;
    size_t i;
    snprintf(path, sizeof path, "%s/%s/config.json", dir, name);
    assert_int_equal(lmi_bert_config_load(path, &c), LM_OK);
    assert_int_equal(c.hidden_size, 32);
    assert_int_equal(c.intermediate_size, 37);
    assert_non_null(c.architecture);
    snprintf(path, sizeof path, "%s/%s/model.safetensors", dir, name);
    assert_int_equal(lmi_safetensors_open(path, &w), LM_OK);
    for (i = 0; i < lmi_safetensors_count(w); i++) {
        t = lmi_safetensors_at(w, i);
        assert_true(t->dtype == LM_DTYPE_F32 || t->dtype == LM_DTYPE_F16 ||
                    t->dtype == LM_DTYPE_BF16);
        assert_true(lmi_st_tensor_is_aligned(t));
    }
    t = lmi_safetensors_find(w, strcmp(c.architecture, "BertModel") == 0
                                   ? "embeddings.word_embeddings.weight"
                                   : "bert.embeddings.word_embeddings.weight");
    assert_non_null(t);
    assert_int_equal(t->shape[0], c.vocab_size);
    assert_int_equal(t->shape[1], c.hidden_size);
    snprintf(path, sizeof path, "%s/%s/expected.safetensors", dir, name);
    assert_int_equal(lmi_safetensors_open(path, &e), LM_OK);
    assert_non_null(lmi_safetensors_find(e, "last_hidden_state"));
    assert_string_equal(lmi_safetensors_metadata(e, "case"), name);
    assert_string_equal(lmi_safetensors_metadata(e, "architecture"), c.architecture);
    if (strcmp(c.architecture, "BertForSequenceClassification") == 0) {
        t = lmi_safetensors_find(e, "logits");
        assert_non_null(t);
        assert_int_equal(t->shape[1], c.num_labels);
        assert_int_not_equal(c.problem_type, LM_PROBLEM_AUTO);
    }
    lmi_safetensors_close(e);
    lmi_safetensors_close(w);
    lmi_bert_config_free(&c);
}

static void test_tiny_cases(void **state) {
    DIR *d = opendir(FIXTURES "/tiny");
    struct dirent *ent;
    int n = 0;
    (void)state;
    assert_non_null(d);
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || strcmp(ent->d_name, "cases.json") == 0) {
            continue;
        }
        check_case(FIXTURES "/tiny", ent->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 18);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minilm_reference),
        cmocka_unit_test(test_tiny_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
