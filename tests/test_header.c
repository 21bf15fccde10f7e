/* The public header compiles alone under -std=c11 -pedantic -Werror (this file is built with
 * them) and the header's version matches the linked library's (sqlite's habit). */
#include "lm.h"

#include "test_util.h"

static void test_header_version_matches_library(void **state) {
    (void)state;
    assert_int_equal(lm_version(), LM_VERSION_NUMBER);
    assert_int_equal(LM_VERSION_NUMBER,
                     LM_VERSION_MAJOR * 10000 + LM_VERSION_MINOR * 100 + LM_VERSION_PATCH);
}

static void test_handles_are_opaque(void **state) {
    lm_tokenizer_t *t = NULL;
    lm_model_t *m = NULL;
    lm_trainer_t *tr = NULL;
    (void)state;
    assert_null(t);
    assert_null(m);
    assert_null(tr);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_version_matches_library),
        cmocka_unit_test(test_handles_are_opaque),
    };
    return cmocka_run_group_tests_name("header", tests, NULL, NULL);
}
