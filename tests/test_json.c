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
        cmocka_unit_test(test_parse_file),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
