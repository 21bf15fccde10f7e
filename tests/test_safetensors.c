/* Tests of the safetensors reader and writer: round trips, half-precision conversions, every
 * validation rule with an input that breaks it, truncation, allocation failures. */
#include <math.h>
#include <stdint.h>

#include "test_util.h"

#include "base/utf8.h"
#include "safetensors/safetensors.h"

/* Builds header-length + header + data in a static buffer; returns the size. */
static unsigned char buf[1 << 16];

static size_t build(const char *header, const void *data, size_t data_len) {
    size_t h = strlen(header);
    uint64_t n = h;
    int i;
    for (i = 0; i < 8; i++) {
        buf[i] = (unsigned char)(n >> (8 * i));
    }
    memcpy(buf + 8, header, h);
    if (data_len) {
        memcpy(buf + 8 + h, data, data_len);
    }
    return 8 + h + data_len;
}

static lm_status open_header(const char *header, size_t data_len) {
    static unsigned char zeros[4096];
    lmi_safetensors *st = (lmi_safetensors *)1;
    size_t size = build(header, zeros, data_len);
    lm_status s = lmi_safetensors_open_memory(buf, size, "mem.safetensors", &st);
    if (s == LM_OK) {
        lmi_safetensors_close(st);
    } else {
        assert_null(st);
        assert_non_null(strstr(lm_last_error(), "mem.safetensors"));
    }
    return s;
}

static void test_valid_minimal(void **state) {
    (void)state;
    assert_int_equal(open_header("{}", 0), LM_OK);
    assert_int_equal(open_header("{\"__metadata__\":{\"format\":\"pt\"}}", 0), LM_OK);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                                 8),
                     LM_OK);
    /* a scalar and an empty tensor */
    assert_int_equal(open_header("{\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                                 "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[8,8]}}",
                                 8),
                     LM_OK);
}

static void test_hostile_headers(void **state) {
    lmi_safetensors *st = NULL;
    unsigned char tiny[7] = {0};
    unsigned char big[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'}; /* 2^63 */
    unsigned char over[16] = {0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0, '{', '}'}; /* 100000001 */
    (void)state;
    assert_int_equal(lmi_safetensors_open_memory(tiny, sizeof tiny, "t", &st), LM_ERR_FORMAT);
    assert_null(st);
    assert_int_equal(lmi_safetensors_open_memory(tiny, 0, "t", &st), LM_ERR_FORMAT);
    assert_int_equal(lmi_safetensors_open_memory(big, 10, "t", &st), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "9223372036854775808"));
    assert_int_equal(lmi_safetensors_open_memory(over, 10, "t", &st), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "limit"));
    /* header length past the end of the file */
    build("{}", NULL, 0);
    buf[0] = 3;
    assert_int_equal(lmi_safetensors_open_memory(buf, 10, "t", &st), LM_ERR_FORMAT);
    assert_int_equal(lmi_safetensors_open_memory(NULL, 10, "t", &st), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lmi_safetensors_open_memory(buf, 10, "t", NULL), LM_ERR_INVALID_ARGUMENT);

    assert_int_equal(open_header("", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":\"\xff\"}", 0), LM_ERR_UTF8);
    assert_int_equal(open_header("[]", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{} x", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":1}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                     LM_ERR_FORMAT);
    /* dtype */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lm_last_error(), "\"a\""));
    assert_int_equal(open_header("{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                     LM_ERR_FORMAT);
    /* shapes */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4),
                     LM_ERR_FORMAT);
    assert_int_equal(
        open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
                    4),
        LM_ERR_UNSUPPORTED);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,"
                                 "4294967296],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    /* numel * size overflow only in bytes */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
                                 "\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    /* shape and offsets disagree */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "need 8 bytes"));
    /* offsets */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                 2),
                     LM_ERR_FORMAT); /* past the end */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                                 8),
                     LM_ERR_FORMAT); /* gap at the start */
    assert_non_null(strstr(lm_last_error(), "gap"));
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                 6),
                     LM_ERR_FORMAT); /* trailing bytes */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                                 8),
                     LM_ERR_FORMAT); /* overlap */
    assert_non_null(strstr(lm_last_error(), "overlaps"));
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                                 8),
                     LM_ERR_FORMAT); /* duplicate name */
    assert_non_null(strstr(lm_last_error(), "twice"));
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,"
                                 "18446744073709551616]}}",
                                 4),
                     LM_ERR_FORMAT);
    /* metadata */
    assert_int_equal(open_header("{\"__metadata__\":{\"k\":1}}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"__metadata__\":[]}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"__metadata__\":{},\"__metadata__\":{}}", 0), LM_ERR_FORMAT);
}

/* Opens header + data_len zero bytes; on success returns the handle (the caller closes it). */
static lmi_safetensors *open_ok(const char *header, size_t data_len) {
    static unsigned char zeros[4096];
    lmi_safetensors *st = NULL;
    size_t size = build(header, zeros, data_len);
    lm_status s = lmi_safetensors_open_memory(buf, size, "mem.safetensors", &st);
    if (s != LM_OK) {
        fprintf(stderr, "unexpected failure: %s\n", lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    return st;
}

/* Issue 7, items 14-15: numbers, strings and structure exactly as the reference reader (the
 * safetensors crate on serde_json) takes them; answers checked with safetensors 0.8.0. */
static void test_reference_grammar(void **state) {
    lmi_safetensors *st;
    const lmi_st_tensor *t;
    (void)state;
#define T4(offs) "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":" offs "}}"
    /* offsets that serde reads as floats or signed numbers are not usize: refused */
    assert_int_equal(open_header(T4("[0,16]"), 16), LM_OK);
    assert_int_equal(open_header(T4("[0,16e0]"), 16), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "16e0"));
    assert_non_null(strstr(lm_last_error(), "floating-point"));
    assert_int_equal(open_header(T4("[0,16.0]"), 16), LM_ERR_FORMAT);
    assert_int_equal(open_header(T4("[0,1.6E1]"), 16), LM_ERR_FORMAT);
    assert_int_equal(open_header(T4("[-0,16]"), 16), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "-0"));
    assert_int_equal(open_header(T4("[0,+16]"), 16), LM_ERR_FORMAT);
    assert_int_equal(open_header(T4("[0,016]"), 16), LM_ERR_FORMAT);
    assert_int_equal(open_header(T4("[0,16,16]"), 16), LM_ERR_FORMAT);
    assert_int_equal(open_header(T4("[0, 16 ]"), 16), LM_OK);
    assert_int_equal(open_header(T4("[0,16]") "   \n", 16), LM_OK);
    assert_int_equal(open_header(" \t" T4("[0,16]"), 16), LM_OK);
    assert_int_equal(open_header(T4("[0,16]") "\x01", 16), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}",
                                 16),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}",
                                 16),
                     LM_ERR_FORMAT);
    /* integers above 2^53 are read exactly (a double would round 2^53 + 1 down) */
    st = open_ok("{\"z\":{\"dtype\":\"U8\",\"shape\":[0,9007199254740993,9223372036854775807],"
                 "\"data_offsets\":[0,0]}}",
                 0);
    t = lmi_safetensors_find(st, "z");
    assert_non_null(t);
    assert_int_equal(t->ndim, 3);
    assert_true(t->shape[1] == INT64_C(9007199254740993));
    assert_true(t->shape[2] == INT64_MAX);
    assert_int_equal(t->numel, 0);
    lmi_safetensors_close(st);
    assert_int_equal(open_header("{\"z\":{\"dtype\":\"U8\",\"shape\":[0,9223372036854775808],"
                                 "\"data_offsets\":[0,0]}}",
                                 0),
                     LM_ERR_FORMAT); /* liblm's dimensions are int64 */
    assert_int_equal(open_header("{\"z\":{\"dtype\":\"U8\",\"shape\":[9007199254740993],"
                                 "\"data_offsets\":[0,9007199254740992]}}",
                                 0),
                     LM_ERR_FORMAT); /* the two would be equal as doubles */
    assert_non_null(strstr(lm_last_error(), "9007199254740993"));
    /* names: escapes decoded; U+0000 refused (two such names used to collide) */
    st = open_ok("{\"\\u0061\\n\\ud83d\\ude00\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                 4);
    assert_non_null(lmi_safetensors_find(st, "a\n\xf0\x9f\x98\x80"));
    lmi_safetensors_close(st);
    assert_int_equal(open_header("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "\\u0000"));
    assert_int_equal(open_header("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                                 "\"a\\u0000c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}",
                                 8),
                     LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "\\u0000"));
    /* a long name is cut short in the sentence at a character boundary (valid UTF-8) */
    assert_int_equal(open_header("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"
                                 "\\u0000\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_true(lmi_utf8_validate(lm_last_error(), strlen(lm_last_error()), NULL));
    assert_null(strstr(lm_last_error(), "\xc3"));
    assert_int_equal(open_header("{\"__metadata__\":{\"k\":\"v\\u0000w\"}}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"__metadata__\":{\"k\\u0000\":\"v\"}}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT); /* lone surrogate */
    assert_int_equal(open_header("{\"a\\udc00\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\\x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\tb\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                     LM_ERR_FORMAT); /* raw control character */
    /* the dtype string is a JSON string too */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F\\u00332\",\"shape\":[],\"data_offsets\":[0,4]}}",
                                 4),
                     LM_OK);
    /* structure: a repeated field is an error, unknown fields are skipped whatever they hold */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[],"
                                 "\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "twice"));
    assert_int_equal(open_header("{\"a\":{\"x\":{\"y\":[1.5e3,-0,true,null,\"s\",{}]},\"dtype\":\"F32\","
                                 "\"shape\":[],\"data_offsets\":[0,4],\"z\":[]}}",
                                 4),
                     LM_OK);
    assert_int_equal(open_header("{\"a\":{\"x\":[01],\"dtype\":\"F32\",\"shape\":[],"
                                 "\"data_offsets\":[0,4]}}",
                                 4),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":null}", 0), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"__metadata__\":null}", 0), LM_OK);
    assert_int_equal(open_header(T4("[0,16]") ",", 16), LM_ERR_FORMAT);
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},}",
                                 16),
                     LM_ERR_FORMAT); /* trailing comma */
    assert_int_equal(open_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,],\"data_offsets\":[0,16]}}",
                                 16),
                     LM_ERR_FORMAT);
    assert_int_equal(open_header("\xef\xbb\xbf{}", 0), LM_ERR_FORMAT); /* byte-order mark */
    assert_int_equal(open_header("\"{}\"", 0), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "not a JSON object"));
    {
        /* skipped values nest as deep as in the reference reader (serde_json's recursion limit
         * of 128 counted its way: 125 arrays in a field of a tensor entry, not 126) */
        static char deep[2048];
        size_t n = 0;
        int depth;
        for (depth = 125; depth <= 126; depth++) {
            int i;
            n = (size_t)snprintf(deep, sizeof deep, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],"
                                                    "\"data_offsets\":[0,4],\"x\":");
            for (i = 0; i < depth; i++) {
                deep[n++] = '[';
            }
            for (i = 0; i < depth; i++) {
                deep[n++] = ']';
            }
            deep[n++] = '}';
            deep[n++] = '}';
            deep[n] = '\0';
            assert_int_equal(open_header(deep, 4), depth <= 125 ? LM_OK : LM_ERR_FORMAT);
        }
    }
#undef T4
}

static void write_sample(const char *path) {
    static const float f32[6] = {1.0f, -2.5f, 3.25f, 0.0f, 1e-8f, 65504.0f};
    static const int64_t i64[2] = {-1, 42};
    static const uint8_t b[3] = {1, 0, 1};
    uint16_t f16[6];
    uint16_t bf16[6];
    int i;
    lmi_st_write w[6];
    const char *meta[] = {"format", "pt", "note", "quote \" and \\", NULL};
    for (i = 0; i < 6; i++) {
        f16[i] = lmi_f32_to_f16(f32[i]);
        bf16[i] = lmi_f32_to_bf16(f32[i]);
    }
    memset(w, 0, sizeof w);
    w[0] = (lmi_st_write){"bool", LM_DTYPE_BOOL, 1, {3}, b};
    w[1] = (lmi_st_write){"w.f32", LM_DTYPE_F32, 2, {2, 3}, f32};
    w[2] = (lmi_st_write){"w.f16", LM_DTYPE_F16, 2, {3, 2}, f16};
    w[3] = (lmi_st_write){"w.bf16", LM_DTYPE_BF16, 1, {6}, bf16};
    w[4] = (lmi_st_write){"ids", LM_DTYPE_I64, 1, {2}, i64};
    w[5] = (lmi_st_write){"empty", LM_DTYPE_F32, 2, {0, 4}, NULL};
    assert_int_equal(lmi_safetensors_write(path, w, 6, meta), LM_OK);
}

static void test_roundtrip(void **state) {
    char *dir = test_make_temp_dir();
    char path[4200];
    lmi_safetensors *st = NULL;
    const lmi_st_tensor *t;
    float out[6];
    size_t i;
    (void)state;
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    write_sample(path);
    assert_int_equal(lmi_safetensors_open(path, &st), LM_OK);
    assert_int_equal(lmi_safetensors_count(st), 6);
    assert_string_equal(lmi_safetensors_path(st), path);
    assert_string_equal(lmi_safetensors_metadata(st, "format"), "pt");
    assert_string_equal(lmi_safetensors_metadata(st, "note"), "quote \" and \\");
    assert_null(lmi_safetensors_metadata(st, "nope"));
    assert_null(lmi_safetensors_find(st, "nope"));
    assert_null(lmi_safetensors_at(st, 6));
    /* Largest element size first: every tensor aligned in the page-aligned map. */
    assert_string_equal(lmi_safetensors_at(st, 0)->name, "ids");
    for (i = 0; i < lmi_safetensors_count(st); i++) {
        assert_true(lmi_st_tensor_is_aligned(lmi_safetensors_at(st, i)));
    }
    t = lmi_safetensors_find(st, "w.f32");
    assert_non_null(t);
    assert_int_equal(t->dtype, LM_DTYPE_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->numel, 6);
    assert_int_equal(t->nbytes, 24);
    assert_int_equal(lmi_tensor_to_f32(t, out), LM_OK);
    assert_true(out[1] == -2.5f && out[5] == 65504.0f);
    assert_true(((const float *)t->data)[2] == 3.25f); /* zero copy */
    {
        const int64_t good[2] = {2, 3};
        const int64_t bad[2] = {3, 2};
        const lmi_st_tensor *e = NULL;
        assert_int_equal(lmi_safetensors_expect(st, "w.f32", 2, good, &e), LM_OK);
        assert_ptr_equal(e, t);
        assert_int_equal(lmi_safetensors_expect(st, "w.f32", 2, bad, &e), LM_ERR_SHAPE);
        assert_null(e);
        assert_non_null(strstr(lm_last_error(), "has shape [2, 3], expected [3, 2]"));
        assert_non_null(strstr(lm_last_error(), path));
        assert_int_equal(lmi_safetensors_expect(st, "w.f32", 1, good, &e), LM_ERR_SHAPE);
        assert_int_equal(lmi_safetensors_expect(st, "nope", 1, good, &e), LM_ERR_NOT_FOUND);
        assert_non_null(strstr(lm_last_error(), "nope"));
    }
    t = lmi_safetensors_find(st, "w.f16");
    assert_int_equal(lmi_tensor_to_f32(t, out), LM_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.5f && out[2] == 3.25f && out[5] == 65504.0f);
    assert_true(out[4] == 0.0f); /* 1e-8 is below half the smallest f16 subnormal */
    t = lmi_safetensors_find(st, "w.bf16");
    assert_int_equal(lmi_tensor_to_f32(t, out), LM_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.5f && out[2] == 3.25f && out[5] == 65536.0f);
    t = lmi_safetensors_find(st, "ids");
    assert_int_equal(lmi_tensor_to_f32(t, out), LM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lm_last_error(), "ids"));
    assert_int_equal(((const int64_t *)t->data)[1], 42);
    t = lmi_safetensors_find(st, "empty");
    assert_int_equal(t->numel, 0);
    assert_int_equal(lmi_tensor_to_f32(t, out), LM_OK);
    t = lmi_safetensors_find(st, "bool");
    assert_int_equal(t->nbytes, 3);
    lmi_safetensors_close(st);
    lmi_safetensors_close(NULL);
    test_remove_tree(dir);
    free(dir);
}

static void test_truncated_files(void **state) {
    char *dir = test_make_temp_dir();
    char path[4200];
    char *data;
    size_t len;
    size_t cut;
    lmi_safetensors *st;
    (void)state;
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    write_sample(path);
    {
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        data = malloc(len);
        assert_int_equal(fread(data, 1, len, f), len);
        fclose(f);
    }
    for (cut = 0; cut < len; cut++) {
        lm_status s = lmi_safetensors_open_memory(data, cut, "cut", &st);
        assert_int_not_equal(s, LM_OK);
        assert_null(st);
    }
    /* flip every byte of the header: never a crash, never a leak (ASan/valgrind runs) */
    for (cut = 0; cut < len; cut++) {
        char saved = data[cut];
        data[cut] = (char)(saved ^ 0x5a);
        if (lmi_safetensors_open_memory(data, len, "flip", &st) == LM_OK) {
            lmi_safetensors_close(st);
        }
        data[cut] = saved;
    }
    free(data);
    /* the same through a real file */
    {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(ftruncate(fileno(f), (off_t)(len - 1)), 0);
        fclose(f);
    }
    assert_int_equal(lmi_safetensors_open(path, &st), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), path));
    assert_null(st);
    snprintf(path, sizeof path, "%s/empty.safetensors", dir);
    test_write_file(path, "", 0);
    assert_int_equal(lmi_safetensors_open(path, &st), LM_ERR_FORMAT);
    assert_int_not_equal(lmi_safetensors_open(dir, &st), LM_OK); /* a folder */
    assert_null(st);
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    assert_int_equal(lmi_safetensors_open(path, &st), LM_ERR_NOT_FOUND);
    assert_int_equal(lmi_safetensors_open(NULL, &st), LM_ERR_INVALID_ARGUMENT);
    test_remove_tree(dir);
    free(dir);
}

static void test_nan_weights_load(void **state) {
    float v[4] = {NAN, INFINITY, -INFINITY, 1.0f};
    lmi_st_write w = {"nan", LM_DTYPE_F32, 1, {4}, v};
    char *dir = test_make_temp_dir();
    char path[4200];
    lmi_safetensors *st;
    float out[4];
    (void)state;
    snprintf(path, sizeof path, "%s/n.safetensors", dir);
    assert_int_equal(lmi_safetensors_write(path, &w, 1, NULL), LM_OK);
    assert_int_equal(lmi_safetensors_open(path, &st), LM_OK);
    assert_int_equal(lmi_tensor_to_f32(lmi_safetensors_find(st, "nan"), out), LM_OK);
    assert_true(isnan(out[0]) && isinf(out[1]) && out[2] < 0 && out[3] == 1.0f);
    lmi_safetensors_close(st);
    test_remove_tree(dir);
    free(dir);
}

static void test_unaligned_data(void **state) {
    /* A legal file whose F32 tensor starts at an odd address: conversion still works. */
    float v = 1.5f;
    unsigned char data[5] = {7};
    lmi_safetensors *st;
    float out;
    size_t size;
    (void)state;
    memcpy(data + 1, &v, 4);
    size = build("{\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                 "\"f\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[1,5]}}",
                 data, 5);
    assert_int_equal(lmi_safetensors_open_memory(buf, size, "u", &st), LM_OK);
    assert_int_equal(lmi_safetensors_count(st), 2);
    assert_int_equal(lmi_safetensors_at(st, 1)->offset, size - 4);
    assert_int_equal(lmi_tensor_to_f32(lmi_safetensors_find(st, "f"), &out), LM_OK);
    assert_true(out == 1.5f);
    lmi_safetensors_close(st);
}

static void test_half_conversions(void **state) {
    uint32_t h;
    (void)state;
    for (h = 0; h < 65536; h++) {
        float f = lmi_f16_to_f32((uint16_t)h);
        float g = lmi_bf16_to_f32((uint16_t)h);
        if (isnan(f)) {
            assert_true(isnan(lmi_f16_to_f32(lmi_f32_to_f16(f))));
        } else {
            assert_int_equal(lmi_f32_to_f16(f), h);
        }
        if (isnan(g)) {
            assert_true(isnan(lmi_bf16_to_f32(lmi_f32_to_bf16(g))));
        } else {
            assert_int_equal(lmi_f32_to_bf16(g), h);
        }
    }
    /* round to nearest even, overflow, underflow */
    assert_int_equal(lmi_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);      /* tie -> even */
    assert_int_equal(lmi_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);      /* tie -> even (up) */
    assert_int_equal(lmi_f32_to_f16(65520.0f), 0x7c00);
    assert_int_equal(lmi_f32_to_f16(65519.0f), 0x7bff);
    assert_int_equal(lmi_f32_to_f16(-1e-10f), 0x8000);
    assert_int_equal(lmi_f32_to_f16(2.9802322387695312e-08f), 0x0000); /* 2^-25: tie -> 0 */
    assert_int_equal(lmi_f32_to_f16(2.99e-08f), 0x0001);
    assert_int_equal(lmi_f32_to_bf16(1.0f + 1.0f / 256), 0x3f80);      /* tie -> even */
    assert_int_equal(lmi_f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
    assert_int_equal(lmi_f32_to_bf16(3.4028235e38f), 0x7f80);         /* rounds to inf */
    assert_int_equal(lmi_dtype_size(LM_DTYPE_BF16), 2);
    assert_int_equal(lmi_dtype_size((lmi_dtype)99), 0);
    assert_string_equal(lmi_dtype_name((lmi_dtype)99), "?");
}

static void test_writer_errors(void **state) {
    char *dir = test_make_temp_dir();
    char path[4200];
    float v[2] = {1, 2};
    lmi_st_write w[2] = {{"a", LM_DTYPE_F32, 1, {2}, v}, {"a", LM_DTYPE_F32, 1, {2}, v}};
    const char *odd[] = {"k", NULL, NULL};
    (void)state;
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].name = "__metadata__";
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].name = "";
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].name = "b";
    w[1].shape[0] = -2;
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].shape[0] = 2;
    w[1].ndim = 9;
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].ndim = 1;
    w[1].data = NULL;
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].data = v;
    w[1].dtype = LM_DTYPE_COUNT;
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_ERR_INVALID_ARGUMENT);
    w[1].dtype = LM_DTYPE_F32;
    assert_int_equal(lmi_safetensors_write(path, w, 2, odd), LM_ERR_INVALID_ARGUMENT);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(lmi_safetensors_write(path, w, 2, NULL), LM_OK);
    /* a folder that does not exist */
    snprintf(path, sizeof path, "%s/no/such/w.safetensors", dir);
    assert_int_not_equal(lmi_safetensors_write(path, w, 2, NULL), LM_OK);
    test_remove_tree(dir);
    free(dir);
}

static const char *alloc_dir;

static lm_status write_then_read(void *arg) {
    char path[4200];
    float v[3] = {1, 2, 3};
    lmi_st_write w[2] = {{"x", LM_DTYPE_F32, 1, {3}, v}, {"y", LM_DTYPE_U8, 1, {2}, v}};
    const char *meta[] = {"format", "pt", NULL};
    lmi_safetensors *st = NULL;
    lm_status s;
    (void)arg;
    snprintf(path, sizeof path, "%s/a.safetensors", alloc_dir);
    s = lmi_safetensors_write(path, w, 2, meta);
    if (s != LM_OK) {
        return s;
    }
    s = lmi_safetensors_open(path, &st);
    if (s != LM_OK) {
        assert_null(st);
        return s;
    }
    assert_non_null(lmi_safetensors_find(st, "y"));
    lmi_safetensors_close(st);
    return LM_OK;
}

static void test_allocation_failures(void **state) {
    char *dir = test_make_temp_dir();
    (void)state;
    alloc_dir = dir;
    TEST_EVERY_ALLOCATION_FAILURE(write_then_read, NULL);
    test_remove_tree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_minimal),   cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_reference_grammar),
        cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_nan_weights_load), cmocka_unit_test(test_unaligned_data),
        cmocka_unit_test(test_half_conversions), cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
