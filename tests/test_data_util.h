/* Helpers of the data-layer tests: the committed samples and fixtures (tests/data/datasets,
 * written by scripts/gen_data_fixtures.py), a gzip'd JSON reader and the uncased BERT tokenizer
 * from tests/data/tokenizer/uncased_tokenizer.json.gz. Include after test_util.h. */
#ifndef LM_TEST_DATA_UTIL_H
#define LM_TEST_DATA_UTIL_H

#include "base/json.h"

#define DATA_DIR LM_SOURCE_DIR "/tests/data/datasets"

/* Reads a gzip'd JSON file (through gzip -dc) and parses it. */
static inline cJSON *test_read_json_gz(const char *path) {
    char cmd[4200];
    FILE *p;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    cJSON *root = NULL;
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(buf);
    for (;;) {
        size_t r;
        if (n + 65536 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        r = fread(buf + n, 1, 65536, p);
        n += r;
        if (r == 0) {
            break;
        }
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(lmi_json_parse(buf, n, path, &root), LM_OK);
    free(buf);
    return root;
}

/* The uncased BERT tokenizer (bert-base-uncased's vocabulary). */
static inline lm_tokenizer_t *test_uncased_tokenizer(void) {
    char *dir = test_make_temp_dir();
    char cmd[8600], path[4200];
    lm_tokenizer_t *tok = NULL;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/tests/data/tokenizer/uncased_tokenizer.json.gz' > '%s'",
             LM_SOURCE_DIR, path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_OK);
    test_remove_tree(dir);
    free(dir);
    return tok;
}

/* Asserts that JSON array `a` of integers equals v[0..n). */
static inline void test_assert_ints(const cJSON *a, const int32_t *v, size_t n, const char *what,
                                    size_t row) {
    size_t i = 0;
    const cJSON *x;
    if ((size_t)cJSON_GetArraySize(a) != n) {
        print_error("%s row %zu: %d values in the fixture, %zu here\n", what, row,
                    cJSON_GetArraySize(a), n);
        fail();
    }
    cJSON_ArrayForEach(x, a) {
        if ((int32_t)x->valuedouble != v[i]) {
            print_error("%s row %zu token %zu: fixture %d, here %d\n", what, row, i,
                        (int)x->valuedouble, (int)v[i]);
            fail();
        }
        i++;
    }
}

#endif
