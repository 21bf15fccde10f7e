/* Tests of JSON reading: validation before the parse and the typed getters. */
#include "test_util.h"

#include "base/alloc.h"
#include "base/json.h"

static void test_parse_and_get(void **state) {
    const char text[] = "{\"hidden_size\": 384, \"eps\": 1e-12, \"name\": \"bert\", \"lower\": true, "
                        "\"none\": null, \"frac\": 1.5}";
    cJSON *root;
    int64_t i = 0;
    double d = 0;
    const char *s = NULL;
    int b = 0;
    (void)state;
    assert_int_equal(lmi_json_parse(text, sizeof text - 1, "cfg", &root), LM_OK);
    assert_int_equal(lmi_json_get_int(root, "hidden_size", "cfg", 1, 100000, &i), LM_OK);
    assert_int_equal(i, 384);
    assert_int_equal(lmi_json_get_double(root, "eps", "cfg", &d), LM_OK);
    assert_true(d == 1e-12);
    assert_int_equal(lmi_json_get_string(root, "name", "cfg", &s), LM_OK);
    assert_string_equal(s, "bert");
    assert_int_equal(lmi_json_get_bool(root, "lower", "cfg", &b), LM_OK);
    assert_int_equal(b, 1);
    /* absent and null keys: NOT_FOUND so callers apply defaults */
    assert_int_equal(lmi_json_get_int(root, "missing", "cfg", 0, 1, &i), LM_ERR_NOT_FOUND);
    assert_int_equal(lmi_json_get_string(root, "none", "cfg", &s), LM_ERR_NOT_FOUND);
    /* wrong types and ranges name the key */
    assert_int_equal(lmi_json_get_int(root, "name", "cfg", 0, 1, &i), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "\"name\""));
    assert_int_equal(lmi_json_get_int(root, "frac", "cfg", 0, 10, &i), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_get_int(root, "hidden_size", "cfg", 0, 100, &i), LM_ERR_RANGE);
    assert_non_null(strstr(lm_last_error(), "hidden_size"));
    assert_int_equal(lmi_json_get_bool(root, "eps", "cfg", &b), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_get_string(root, "lower", "cfg", &s), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_get_double(root, "name", "cfg", &d), LM_ERR_FORMAT);
    cJSON_Delete(root);
}

static void test_bad_json(void **state) {
    cJSON *root = (cJSON *)1;
    (void)state;
    assert_int_equal(lmi_json_parse("{\"a\": 1", 7, "x.json", &root), LM_ERR_FORMAT);
    assert_null(root);
    assert_non_null(strstr(lm_last_error(), "x.json"));
    assert_int_equal(lmi_json_parse("{\"a\": \"\xC3\x28\"}", 11, "x.json", &root), LM_ERR_UTF8);
    assert_non_null(strstr(lm_last_error(), "byte 7"));
    assert_int_equal(lmi_json_parse("{} {}", 5, "x.json", &root), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_parse("{}\0{}", 5, "x.json", &root), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_parse("", 0, "x.json", &root), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_parse("{}  \n", 5, "x.json", &root), LM_OK);
    cJSON_Delete(root);
}

static void test_deep_nesting(void **state) {
    size_t n = 100000;
    char *deep = malloc(n);
    cJSON *root;
    (void)state;
    memset(deep, '[', n);
    assert_int_equal(lmi_json_parse(deep, n, "deep", &root), LM_ERR_FORMAT);
    free(deep);
}

/* Issue 7, item 16: a repeated key keeps its last value at the place of the first, as Python's
 * json.loads({"a": 1, "b": 2, "a": 3}) gives {"a": 3, "b": 2}. */
static void test_repeated_keys(void **state) {
    const char text[] = "{\"a\": 1, \"b\": {\"x\": 1, \"x\": [2], \"y\": 0, \"x\": {\"z\": 5, \"z\": 6}}, "
                        "\"a\": 2, \"c\": [{\"k\": 1, \"k\": 2}], \"a\": 3}";
    cJSON *root;
    const cJSON *b;
    const cJSON *x;
    int64_t v = 0;
    char big[4096];
    size_t n = 0;
    int i;
    (void)state;
    assert_int_equal(lmi_json_parse(text, sizeof text - 1, "cfg", &root), LM_OK);
    assert_int_equal(cJSON_GetArraySize(root), 3); /* a, b, c */
    assert_string_equal(root->child->string, "a"); /* the place of the first "a" */
    assert_int_equal(lmi_json_get_int(root, "a", "cfg", 0, 10, &v), LM_OK);
    assert_int_equal(v, 3);
    b = cJSON_GetObjectItemCaseSensitive(root, "b");
    assert_int_equal(cJSON_GetArraySize(b), 2); /* x, y */
    x = b->child;
    assert_string_equal(x->string, "x");
    assert_true(cJSON_IsObject(x));
    assert_int_equal(cJSON_GetArraySize(x), 1);
    assert_int_equal(lmi_json_get_int(x, "z", "cfg", 0, 10, &v), LM_OK);
    assert_int_equal(v, 6);
    assert_string_equal(x->next->string, "y");
    x = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "c"), 0);
    assert_int_equal(cJSON_GetArraySize(x), 1);
    assert_int_equal(lmi_json_get_int(x, "k", "cfg", 0, 10, &v), LM_OK);
    assert_int_equal(v, 2);
    cJSON_Delete(root);
    /* more keys than the small on-stack table: k0..k99, then k7 and k42 again */
    n += (size_t)snprintf(big + n, sizeof big - n, "{");
    for (i = 0; i < 100; i++) {
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\": %d, ", i, i);
    }
    n += (size_t)snprintf(big + n, sizeof big - n, "\"k7\": 1007, \"k42\": 1042}");
    assert_int_equal(lmi_json_parse(big, n, "big", &root), LM_OK);
    assert_int_equal(cJSON_GetArraySize(root), 100);
    assert_int_equal(lmi_json_get_int(root, "k7", "big", 0, 2000, &v), LM_OK);
    assert_int_equal(v, 1007);
    assert_int_equal(lmi_json_get_int(root, "k42", "big", 0, 2000, &v), LM_OK);
    assert_int_equal(v, 1042);
    assert_string_equal(cJSON_GetArrayItem(root, 7)->string, "k7");
    assert_string_equal(cJSON_GetArrayItem(root, 99)->string, "k99");
    cJSON_Delete(root);
    /* keys and values holding U+0000: cJSON would cut them (two keys could collide) */
    assert_int_equal(lmi_json_parse("{\"a\\u0000b\": 1, \"a\": 2}", 23, "nul.json", &root),
                     LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "\\u0000"));
    assert_non_null(strstr(lm_last_error(), "nul.json"));
    assert_int_equal(lmi_json_parse("[\"x\\u0000\"]", 11, "nul.json", &root), LM_ERR_FORMAT);
    assert_int_equal(lmi_json_parse("[\"x\\\\u0000\"]", 12, "nul.json", &root), LM_OK);
    assert_string_equal(root->child->valuestring, "x\\u0000"); /* an escaped backslash */
    cJSON_Delete(root);
}

/* The table of a large object is the only allocation of the rule; its failure is LM_ERR_NOMEM. */
static lm_status repeated_keys_body(void *unused) {
    char big[2048];
    size_t n = 0;
    int i;
    cJSON *root = NULL;
    lm_status s;
    n += (size_t)snprintf(big + n, sizeof big - n, "{");
    for (i = 0; i < 40; i++) {
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\": %d, ", i % 30, i);
    }
    n += (size_t)snprintf(big + n, sizeof big - n, "\"end\": 0}");
    (void)unused;
    s = lmi_json_parse(big, n, "big", &root);
    if (s == LM_OK) {
        assert_int_equal(cJSON_GetArraySize(root), 31);
        cJSON_Delete(root);
    } else {
        assert_null(root);
    }
    return s;
}

static void test_repeated_keys_alloc(void **state) {
    (void)state;
    TEST_EVERY_ALLOCATION_FAILURE(repeated_keys_body, NULL);
}

static void test_parse_file(void **state) {
    char *dir = test_make_temp_dir();
    char path[512];
    cJSON *root;
    (void)state;
    snprintf(path, sizeof path, "%s/config.json", dir);
    test_write_file(path, "{\"k\": [1, 2]}", 13);
    assert_int_equal(lmi_json_parse_file(path, 1 << 20, &root), LM_OK);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "k")), 2);
    {
        char *printed = lmi_json_print(root);
        assert_non_null(printed);
        assert_non_null(strstr(printed, "\"k\""));
        cJSON_free(printed);
    }
    cJSON_Delete(root);
    assert_int_equal(lmi_json_parse_file(path, 4, &root), LM_ERR_RANGE);
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(lmi_json_parse_file(path, 1 << 20, &root), LM_ERR_NOT_FOUND);
    test_remove_tree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_get),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_repeated_keys),
        cmocka_unit_test(test_repeated_keys_alloc),
        cmocka_unit_test(test_parse_file),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
