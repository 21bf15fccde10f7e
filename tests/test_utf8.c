/* Tests of UTF-8 decoding, encoding and validation. */
#include "test_util.h"

#include "base/utf8.h"

static void test_decode_valid(void **state) {
    uint32_t cp = 0;
    (void)state;
    assert_int_equal(lmi_utf8_decode("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(lmi_utf8_decode("\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(lmi_utf8_decode("\xE4\xB8\xAD", 3, &cp), 3);
    assert_int_equal(cp, 0x4E2D);
    assert_int_equal(lmi_utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(lmi_utf8_decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
}

static void test_decode_invalid(void **state) {
    uint32_t cp = 12345;
    (void)state;
    assert_int_equal(lmi_utf8_decode("\x80", 1, &cp), 0);          /* lone continuation */
    assert_int_equal(lmi_utf8_decode("\xC0\xAF", 2, &cp), 0);      /* overlong '/' */
    assert_int_equal(lmi_utf8_decode("\xE0\x80\xAF", 3, &cp), 0);  /* overlong 3-byte */
    assert_int_equal(lmi_utf8_decode("\xED\xA0\x80", 3, &cp), 0);  /* surrogate U+D800 */
    assert_int_equal(lmi_utf8_decode("\xF4\x90\x80\x80", 4, &cp), 0); /* above U+10FFFF */
    assert_int_equal(lmi_utf8_decode("\xF5\x80\x80\x80", 4, &cp), 0);
    assert_int_equal(lmi_utf8_decode("\xE4\xB8", 2, &cp), 0);      /* truncated */
    assert_int_equal(lmi_utf8_decode("\xC3\x41", 2, &cp), 0);      /* bad continuation */
    assert_int_equal(lmi_utf8_decode("", 0, &cp), 0);
    assert_int_equal(cp, 12345);
}

static void test_encode_roundtrip(void **state) {
    uint32_t cps[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char buf[4];
        uint32_t back;
        size_t n = lmi_utf8_encode(cps[i], buf);
        assert_true(n >= 1 && n <= 4);
        assert_int_equal(lmi_utf8_decode(buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    {
        char buf[4];
        assert_int_equal(lmi_utf8_encode(0xD800, buf), 0);
        assert_int_equal(lmi_utf8_encode(0x110000, buf), 0);
    }
}

static void test_validate(void **state) {
    size_t bad = 0;
    const char ok[] = "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80";
    const char broken[] = "abc\xC3\xA9\xFF" "def";
    (void)state;
    assert_true(lmi_utf8_validate(ok, sizeof ok - 1, &bad));
    assert_false(lmi_utf8_validate(broken, sizeof broken - 1, &bad));
    assert_int_equal(bad, 5);
    assert_true(lmi_utf8_validate("", 0, NULL));
    assert_false(lmi_utf8_validate("\xE4\xB8", 2, &bad));
    assert_int_equal(bad, 0);
    assert_int_equal(lmi_utf8_length(ok, sizeof ok - 1), 9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_valid),
        cmocka_unit_test(test_decode_invalid),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_validate),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
