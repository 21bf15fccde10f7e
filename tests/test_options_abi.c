/* The options ABI: the caller's struct size reaches the library, which writes and reads exactly
 * that many bytes. Plays an older program (a smaller struct, the fields of an earlier release)
 * and a newer one (a larger struct with fields this library does not know). */
#include "test_util.h"

#include <stddef.h>

/* Every options initialiser, called through one shape. */
typedef lm_status (*init_fn)(void *opts, size_t struct_size);

static lm_status init_model(void *o, size_t n) { return lm_model_options_init(o, n); }
static lm_status init_tok(void *o, size_t n) { return lm_tokenizer_options_init(o, n); }
static lm_status init_enc(void *o, size_t n) { return lm_encode_options_init(o, n); }

static const struct {
    const char *name;
    init_fn init;
    size_t size;
} inits[] = {{"model", init_model, sizeof(lm_model_options)},
             {"tokenizer", init_tok, sizeof(lm_tokenizer_options)},
             {"encode", init_enc, sizeof(lm_encode_options)}};

/* An older caller: every size from a bare struct_size up to ours; nothing past it is written. */
static void test_init_writes_only_the_callers_size(void **state) {
    size_t k, n, i;
    (void)state;
    for (k = 0; k < sizeof inits / sizeof inits[0]; k++) {
        for (n = sizeof(size_t); n <= inits[k].size + 16; n++) {
            unsigned char buf[256];
            size_t got;
            memset(buf, 0xA5, sizeof buf);
            assert_int_equal(inits[k].init(buf, n), LM_OK);
            memcpy(&got, buf, sizeof got);
            assert_int_equal(got, n);
            for (i = n; i < sizeof buf; i++) {
                if (buf[i] != 0xA5) {
                    fail_msg("%s options_init(size %zu) wrote byte %zu", inits[k].name, n, i);
                }
            }
            for (i = inits[k].size; i < n; i++) { /* a newer caller's unknown fields: zero */
                assert_int_equal(buf[i], 0);
            }
        }
        assert_int_equal(inits[k].init(NULL, inits[k].size), LM_ERR_INVALID_ARGUMENT);
        assert_int_equal(inits[k].init(&n, 4), LM_ERR_INVALID_ARGUMENT);
        assert_true(strstr(lm_last_error(), "sizeof") != NULL);
    }
}

/* Older caller end to end: a 0.1 lm_model_options (struct_size, threads, head: 16 bytes) with
 * garbage after it still loads a model, the 0.2 fields at their defaults. A newer caller: unknown
 * trailing bytes zero are fine, non-zero are refused. */
static void test_older_and_newer_callers(void **state) {
    const char *dir = LM_SOURCE_DIR "/tests/data/model/tiny/model-gelu-f32";
    lm_model_t *m = NULL;
    lm_tokenizer_t *tok = NULL;
    lm_encoding_t *e = NULL;
    struct {
        lm_model_options o;
        unsigned char guard[64];
    } s;
    (void)state;
    memset(&s, 0x5A, sizeof s);
    assert_int_equal(lm_model_options_init(&s.o, 16), LM_OK);
    assert_int_equal(((unsigned char *)&s)[16], 0x5A);
    s.o.threads = 1;
    assert_int_equal(lm_model_load(dir, &s.o, &m), LM_OK);
    assert_non_null(lm_model_tokenizer(m)); /* no_tokenizer beyond the old struct: default 0 */
    lm_model_free(m);
    assert_int_equal(lm_tokenizer_load_dir(dir, NULL, &tok), LM_OK);
    {
        struct {
            lm_encode_options o;
            int32_t newer_field;
        } big;
        assert_int_equal(lm_encode_options_init(&big.o, sizeof big), LM_OK);
        assert_int_equal(big.newer_field, 0);
        assert_int_equal(lm_tokenizer_encode(tok, "hello", 5, &big.o, &e), LM_OK);
        lm_encoding_free(e);
        big.newer_field = 1;
        assert_int_equal(lm_tokenizer_encode(tok, "hello", 5, &big.o, &e), LM_ERR_UNSUPPORTED);
        assert_null(e);
        assert_non_null(strstr(lm_last_error(), "does not know"));
    }
    lm_tokenizer_free(tok);
}

/* Fixed-width fields: the layouts do not depend on the size of enums (-fshort-enums). */
static void test_fixed_width_fields(void **state) {
    lm_encode_options o;
    (void)state;
    assert_int_equal(sizeof o.truncation, 4);
    assert_int_equal(sizeof o.padding, 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_writes_only_the_callers_size),
        cmocka_unit_test(test_older_and_newer_callers),
        cmocka_unit_test(test_fixed_width_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
