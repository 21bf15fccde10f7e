/* Unit tests of the tokenizer API: loaders on good and bad vocabularies and tokenizer.json files,
 * bad text (invalid UTF-8, NUL, empty, 2 MB and 10 MB lines), options, token <-> id, batch on
 * threads with padding, overflow windows, decode, save/load round trip, and every allocation
 * failure of load, encode and decode returning LM_ERR_NOMEM without leaks. */
#include "test_util.h"

#include <sys/stat.h>

#include "text/vocab.h"


static const char small_vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n!\n"
                                  "un\n##aff\n##able\ncafe\n##ing\nplay\n\xe4\xb8\xad\n";

typedef struct fixture {
    char *dir;
    char path[4096];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    f->dir = test_make_temp_dir();
    snprintf(f->path, sizeof f->path, "%s/vocab.txt", f->dir);
    test_write_file(f->path, small_vocab, sizeof small_vocab - 1);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    test_remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static lm_tokenizer_t *load_small(fixture *f) {
    lm_tokenizer_t *tok = NULL;
    assert_int_equal(lm_tokenizer_load_vocab(f->path, NULL, &tok), LM_OK);
    return tok;
}

static void expect_ids(const lm_encoding_t *e, const int32_t *ids, size_t n) {
    size_t i;
    assert_int_equal(lm_encoding_length(e), n);
    for (i = 0; i < n; i++) {
        assert_int_equal(lm_encoding_ids(e)[i], ids[i]);
    }
}

static void test_basic(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = load_small(f);
    lm_encoding_t *e = NULL;
    const char *text = "Unaffable   HELLO, worlds! Caf\xc3\xa9 playing \xe4\xb8\xad" "x";
    static const int32_t want[] = {2, 10, 11, 12, 5, 8, 6, 7, 9, 13, 15, 14, 16, 1, 3};
    static const size_t off[] = {0, 0, 0, 2, 2, 5, 5, 9, 12, 17, 17, 18, 19, 24, 24, 25, 25, 26,
                                 27, 31, 32, 36, 36, 39, 40, 41, 41, 42, 0, 0};
    size_t i;
    assert_int_equal(lm_tokenizer_vocab_size(tok), 17);
    assert_int_equal(lm_tokenizer_token_to_id(tok, "##aff"), 11);
    assert_int_equal(lm_tokenizer_token_to_id(tok, "nope"), -1);
    assert_string_equal(lm_tokenizer_id_to_token(tok, 16), "\xe4\xb8\xad");
    assert_null(lm_tokenizer_id_to_token(tok, 17));
    assert_null(lm_tokenizer_id_to_token(tok, -1));
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_CLS), 2);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_SEP), 3);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_PAD), 0);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_UNK), 1);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_MASK), 4);
    assert_int_equal(lm_tokenizer_special_id(tok, (lm_special_token)9), -1);
    assert_int_equal(lm_tokenizer_encode(tok, text, strlen(text), NULL, &e), LM_OK);
    expect_ids(e, want, sizeof want / sizeof want[0]);
    for (i = 0; i < 2 * lm_encoding_length(e); i++) {
        assert_int_equal(lm_encoding_offsets(e)[i], off[i]);
    }
    /* byte offsets of "café" (1 char = 2 bytes) and the CJK char (3 bytes) */
    assert_int_equal(lm_encoding_byte_offsets(e)[2 * 9], 27);
    assert_int_equal(lm_encoding_byte_offsets(e)[2 * 9 + 1], 32);
    assert_int_equal(lm_encoding_byte_offsets(e)[2 * 12], 41);
    assert_int_equal(lm_encoding_byte_offsets(e)[2 * 12 + 1], 44);
    assert_int_equal(lm_encoding_word_ids(e)[1], 0);
    assert_int_equal(lm_encoding_word_ids(e)[3], 0);
    assert_int_equal(lm_encoding_word_ids(e)[4], 1);
    assert_int_equal(lm_encoding_word_ids(e)[0], -1);
    assert_int_equal(lm_encoding_special_tokens_mask(e)[0], 1);
    assert_int_equal(lm_encoding_special_tokens_mask(e)[1], 0);
    assert_int_equal(lm_encoding_overflow_count(e), 0);
    assert_null(lm_encoding_overflow(e, 0));
    lm_encoding_free(e);
    lm_encoding_free(NULL);
    assert_int_equal(lm_encoding_length(NULL), 0);
    lm_tokenizer_free(tok);
    lm_tokenizer_free(NULL);
}

static void test_bad_text(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = load_small(f);
    lm_tokenizer_options o;
    lm_tokenizer_t *rep = NULL;
    lm_encoding_t *e = (lm_encoding_t *)1;
    char *big;
    size_t i, n;
    /* invalid UTF-8: rejected with the byte offset */
    assert_int_equal(lm_tokenizer_encode(tok, "hello \xc3(", 8, NULL, &e), LM_ERR_UTF8);
    assert_null(e);
    assert_non_null(strstr(lm_last_error(), "byte offset 6"));
    /* ... or replaced */
    lm_tokenizer_options_init(&o, sizeof o);
    o.replace_invalid_utf8 = 1;
    assert_int_equal(lm_tokenizer_load_vocab(f->path, &o, &rep), LM_OK);
    assert_int_equal(lm_tokenizer_encode(rep, "\xffhello", 6, NULL, &e), LM_OK);
    assert_int_equal(lm_encoding_length(e), 3);
    assert_int_equal(lm_encoding_offsets(e)[2], 1); /* U+FFFD counts as one character */
    assert_int_equal(lm_encoding_byte_offsets(e)[2], 1);
    lm_encoding_free(e);
    lm_tokenizer_free(rep);
    /* embedded NUL in length-delimited input: dropped as a control character */
    assert_int_equal(lm_tokenizer_encode(tok, "hel\0lo", 6, NULL, &e), LM_OK);
    assert_int_equal(lm_encoding_length(e), 3);
    assert_int_equal(lm_encoding_ids(e)[1], 5);
    assert_int_equal(lm_encoding_offsets(e)[3], 6);
    lm_encoding_free(e);
    /* empty input, NULL with length 0 */
    assert_int_equal(lm_tokenizer_encode(tok, "", 0, NULL, &e), LM_OK);
    assert_int_equal(lm_encoding_length(e), 2);
    lm_encoding_free(e);
    assert_int_equal(lm_tokenizer_encode(tok, NULL, 0, NULL, &e), LM_OK);
    lm_encoding_free(e);
    assert_int_equal(lm_tokenizer_encode(tok, NULL, 3, NULL, &e), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_tokenizer_encode(NULL, "a", 1, NULL, &e), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_tokenizer_encode(tok, "a", 1, NULL, NULL), LM_ERR_INVALID_ARGUMENT);
    /* a 10 MB word: one [UNK] spanning it all */
    n = 10u << 20;
    big = malloc(n);
    memset(big, 'a', n);
    assert_int_equal(lm_tokenizer_encode(tok, big, n, NULL, &e), LM_OK);
    assert_int_equal(lm_encoding_length(e), 3);
    assert_int_equal(lm_encoding_ids(e)[1], 1);
    assert_int_equal(lm_encoding_offsets(e)[3], n);
    lm_encoding_free(e);
    /* a 2 MB line of words */
    n = 2u << 20;
    for (i = 0; i + 6 <= n; i += 6) {
        memcpy(big + i, "hello ", 6);
    }
    assert_int_equal(lm_tokenizer_encode(tok, big, i, NULL, &e), LM_OK);
    assert_int_equal(lm_encoding_length(e), i / 6 + 2);
    lm_encoding_free(e);
    free(big);
    lm_tokenizer_free(tok);
}

static void write_vocab(fixture *f, const char *name, const char *data, size_t len, char *path) {
    snprintf(path, 4200, "%s/%s", f->dir, name);
    test_write_file(path, data, len);
}

static void test_bad_vocab(void **state) {
    fixture *f = *state;
    char path[4200];
    lm_tokenizer_t *tok = (lm_tokenizer_t *)1;
    lm_encoding_t *e = NULL;
    static const char dup[] = "[UNK]\n[CLS]\n[SEP]\nx\nx\n\n";
    static const char crlf[] = "[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n";
    assert_int_equal(lm_tokenizer_load_vocab("/nonexistent/vocab.txt", NULL, &tok), LM_ERR_NOT_FOUND);
    assert_null(tok);
    write_vocab(f, "empty.txt", "", 0, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "[UNK]"));
    write_vocab(f, "nounk.txt", "a\nb\n", 4, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_ERR_FORMAT);
    write_vocab(f, "nul.txt", "[UNK]\na\0b\n", 10, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "byte offset 7"));
    write_vocab(f, "utf8.txt", "[UNK]\n\xc3\n", 8, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_ERR_UTF8);
    assert_non_null(strstr(lm_last_error(), "byte offset 6"));
    /* issue 7, item 18: a line far longer than any token says so and names the line (it said
     * "token 0 makes the vocabulary too large") */
    {
        size_t n = 70000 + 20;
        char *longline = malloc(n);
        assert_non_null(longline);
        memcpy(longline, "[UNK]\nab\n", 9);
        memset(longline + 9, 'x', 70000);
        memcpy(longline + 9 + 70000, "\nz\n", 3);
        write_vocab(f, "longline.txt", longline, 9 + 70000 + 3, path);
        assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_ERR_FORMAT);
        assert_null(tok);
        assert_non_null(strstr(lm_last_error(), "line 3 (from byte offset 9) is 70000 bytes long"));
        assert_non_null(strstr(lm_last_error(), "longline.txt"));
        /* the longest token allowed */
        memset(longline + 9, 'x', 70000);
        longline[9 + 65535] = '\n';
        write_vocab(f, "longest.txt", longline, 9 + 65536, path);
        assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_OK);
        lm_tokenizer_free(tok);
        {
            /* tokenizer.json vocabularies reach the same check by id */
            lmi_vocab v;
            const char *texts[2] = {"a", longline + 9};
            size_t lens[2] = {1, 65536};
            assert_int_equal(lmi_vocab_build(&v, 2, texts, lens, "##"), LM_ERR_RANGE);
            assert_non_null(strstr(lm_last_error(), "token 1 is 65536 bytes long"));
            lmi_vocab_free(&v);
        }
        free(longline);
    }
    /* duplicates: the later id wins; a blank line is a token; ids follow line numbers */
    write_vocab(f, "dup.txt", dup, sizeof dup - 1, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_OK);
    assert_int_equal(lm_tokenizer_vocab_size(tok), 6);
    assert_int_equal(lm_tokenizer_token_to_id(tok, "x"), 4);
    assert_string_equal(lm_tokenizer_id_to_token(tok, 3), "x");
    assert_int_equal(lm_tokenizer_token_to_id(tok, ""), 5);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_PAD), -1);
    {
        lm_encode_options o;
        lm_encode_options_init(&o, sizeof o);
        o.padding = LM_PAD_MAX_LENGTH;
        o.max_length = 8;
        assert_int_equal(lm_tokenizer_encode(tok, "x", 1, &o, &e), LM_ERR_UNSUPPORTED);
    }
    assert_int_equal(lm_tokenizer_encode(tok, "x", 1, NULL, &e), LM_OK);
    assert_int_equal(lm_encoding_ids(e)[1], 4);
    lm_encoding_free(e);
    lm_tokenizer_free(tok);
    /* CRLF line ends */
    write_vocab(f, "crlf.txt", crlf, sizeof crlf - 1, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_OK);
    assert_int_equal(lm_tokenizer_token_to_id(tok, "hello"), 3);
    lm_tokenizer_free(tok);
    /* no [CLS]: encoding with special tokens is refused, without works */
    write_vocab(f, "nocls.txt", "[UNK]\nhello\n", 12, path);
    assert_int_equal(lm_tokenizer_load_vocab(path, NULL, &tok), LM_OK);
    assert_int_equal(lm_tokenizer_encode(tok, "hello", 5, NULL, &e), LM_ERR_UNSUPPORTED);
    {
        lm_encode_options o;
        lm_encode_options_init(&o, sizeof o);
        o.add_special_tokens = 0;
        assert_int_equal(lm_tokenizer_encode(tok, "hello", 5, &o, &e), LM_OK);
        assert_int_equal(lm_encoding_length(e), 1);
        lm_encoding_free(e);
    }
    lm_tokenizer_free(tok);
}

static void test_bad_json(void **state) {
    fixture *f = *state;
    char path[4200];
    lm_tokenizer_t *tok = (lm_tokenizer_t *)1;
    static const char bpe[] = "{\"model\":{\"type\":\"BPE\",\"vocab\":{}}}";
    static const char gap[] = "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"a\":2}}}";
    static const char neg[] = "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":-1}}}";
    static const char ok[] = "{\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":false},"
                             "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"A\":1}}}";
    static const char badnorm[] = "{\"normalizer\":{\"type\":\"NFC\"},"
                                  "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0}}}";
    write_vocab(f, "bpe.json", bpe, sizeof bpe - 1, path);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_ERR_UNSUPPORTED);
    assert_null(tok);
    write_vocab(f, "gap.json", gap, sizeof gap - 1, path);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_ERR_FORMAT);
    write_vocab(f, "neg.json", neg, sizeof neg - 1, path);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_ERR_FORMAT);
    write_vocab(f, "trunc.json", ok, 20, path);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_ERR_FORMAT);
    write_vocab(f, "badnorm.json", badnorm, sizeof badnorm - 1, path);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_ERR_UNSUPPORTED);
    write_vocab(f, "ok.json", ok, sizeof ok - 1, path);
    assert_int_equal(lm_tokenizer_load_json(path, NULL, &tok), LM_OK);
    {
        lm_encoding_t *e = NULL;
        lm_encode_options o;
        lm_encode_options_init(&o, sizeof o);
        o.add_special_tokens = 0;
        assert_int_equal(lm_tokenizer_encode(tok, "A a", 3, &o, &e), LM_OK);
        assert_int_equal(lm_encoding_ids(e)[0], 1);
        assert_int_equal(lm_encoding_ids(e)[1], 0);
        lm_encoding_free(e);
    }
    lm_tokenizer_free(tok);
    assert_int_equal(lm_tokenizer_load_dir("/nonexistent-dir", NULL, &tok), LM_ERR_NOT_FOUND);
}

static void test_options(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = NULL;
    lm_tokenizer_options o;
    lm_encode_options eo;
    lm_encoding_t *e = NULL;
    struct {
        lm_encode_options base;
        int extra;
    } bigger;
    lm_tokenizer_options_init(&o, sizeof o);
    o.struct_size = 4;
    assert_int_equal(lm_tokenizer_load_vocab(f->path, &o, &tok), LM_ERR_INVALID_ARGUMENT);
    assert_null(tok);
    tok = load_small(f);
    memset(&bigger, 0, sizeof bigger);
    lm_encode_options_init(&bigger.base, sizeof bigger.base);
    bigger.base.struct_size = sizeof bigger;
    bigger.extra = 1;
    assert_int_equal(lm_tokenizer_encode(tok, "a", 1, &bigger.base, &e), LM_ERR_UNSUPPORTED);
    bigger.extra = 0;
    assert_int_equal(lm_tokenizer_encode(tok, "a", 1, &bigger.base, &e), LM_OK);
    lm_encoding_free(e);
    lm_encode_options_init(&eo, sizeof eo);
    eo.truncation = (lm_truncation)7;
    assert_int_equal(lm_tokenizer_encode(tok, "a", 1, &eo, &e), LM_ERR_INVALID_ARGUMENT);
    /* stride too large for the window */
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = 4;
    eo.stride = 2;
    eo.return_overflowing = 1;
    assert_int_equal(lm_tokenizer_encode(tok, "hello hello hello", 17, &eo, &e),
                     LM_ERR_INVALID_ARGUMENT);
    /* only_second without a pair */
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = 3;
    eo.truncation = LM_TRUNCATE_ONLY_SECOND;
    assert_int_equal(lm_tokenizer_encode(tok, "hello hello", 11, &eo, &e), LM_ERR_INVALID_ARGUMENT);
    /* only_first with a first sequence too short */
    assert_int_equal(lm_tokenizer_encode_pair(tok, "hello", 5, "hello hello hello", 17, &eo, &e),
                     LM_OK); /* max_length 3 = the special tokens only: both emptied */
    lm_encoding_free(e);
    eo.max_length = 5;
    eo.truncation = LM_TRUNCATE_ONLY_FIRST;
    assert_int_equal(lm_tokenizer_encode_pair(tok, "hello", 5, "hello hello hello", 17, &eo, &e),
                     LM_ERR_RANGE);
    assert_null(e);
    lm_tokenizer_free(tok);
}

static void test_overflow_padding(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = load_small(f);
    lm_encoding_t *e = NULL;
    lm_encode_options o;
    const lm_encoding_t *w;
    lm_encode_options_init(&o, sizeof o);
    o.max_length = 6;
    o.stride = 1;
    o.return_overflowing = 1;
    o.padding = LM_PAD_MAX_LENGTH;
    /* hello world , ! with 3 tokens a window: [hello world ,] [!], then stride 1: [, !] */
    lm_encode_options_init(&o, sizeof o);
    o.max_length = 5;
    o.return_overflowing = 1;
    o.padding = LM_PAD_MAX_LENGTH;
    assert_int_equal(lm_tokenizer_encode(tok, "hello world,!", 13, &o, &e), LM_OK);
    assert_int_equal(lm_encoding_length(e), 5);
    assert_int_equal(lm_encoding_ids(e)[3], 8);
    assert_int_equal(lm_encoding_overflow_count(e), 1);
    w = lm_encoding_overflow(e, 0);
    assert_int_equal(lm_encoding_length(w), 5);
    assert_int_equal(lm_encoding_ids(w)[1], 9);
    assert_int_equal(lm_encoding_ids(w)[2], 3);
    assert_int_equal(lm_encoding_ids(w)[3], 0);
    assert_int_equal(lm_encoding_attention_mask(w)[3], 0);
    assert_int_equal(lm_encoding_word_ids(w)[3], -1);
    assert_int_equal(lm_encoding_offsets(w)[2], 12);
    lm_encoding_free(e);
    o.stride = 1;
    assert_int_equal(lm_tokenizer_encode(tok, "hello world,!", 13, &o, &e), LM_OK);
    assert_int_equal(lm_encoding_overflow_count(e), 1);
    w = lm_encoding_overflow(e, 0);
    assert_int_equal(lm_encoding_ids(w)[1], 8); /* the shared token */
    assert_int_equal(lm_encoding_ids(w)[2], 9);
    assert_int_equal(lm_encoding_ids(w)[3], 3);
    assert_int_equal(lm_encoding_attention_mask(w)[4], 0);
    lm_encoding_free(e);
    lm_tokenizer_free(tok);
}

static void test_batch(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = load_small(f);
    enum { N = 300 };
    const char *texts[N], *pairs[N];
    size_t lens[N], plens[N], i, j;
    lm_encoding_t *encs[N];
    int32_t sts[N];
    lm_encode_options o;
    int threads;
    for (i = 0; i < N; i++) {
        texts[i] = i % 3 == 0 ? "hello world" : i % 3 == 1 ? "unaffable, cafe!" : "play";
        lens[i] = strlen(texts[i]);
        pairs[i] = "worlds";
        plens[i] = 6;
    }
    lm_encode_options_init(&o, sizeof o);
    o.padding = LM_PAD_LONGEST;
    for (threads = 1; threads <= 3; threads++) {
        assert_int_equal(lm_tokenizer_encode_batch(tok, N, texts, lens, pairs, plens, &o, threads,
                                                   encs, sts), LM_OK);
        for (i = 0; i < N; i++) {
            lm_encoding_t *one = NULL;
            assert_int_equal(sts[i], LM_OK);
            assert_int_equal(lm_encoding_length(encs[i]), 11); /* longest: unaffable pair */
            assert_int_equal(lm_tokenizer_encode_pair(tok, texts[i], lens[i], pairs[i], plens[i],
                                                      NULL, &one), LM_OK);
            for (j = 0; j < lm_encoding_length(one); j++) {
                assert_int_equal(lm_encoding_ids(one)[j], lm_encoding_ids(encs[i])[j]);
                assert_int_equal(lm_encoding_type_ids(one)[j], lm_encoding_type_ids(encs[i])[j]);
            }
            for (; j < 11; j++) {
                assert_int_equal(lm_encoding_attention_mask(encs[i])[j], 0);
            }
            lm_encoding_free(one);
            lm_encoding_free(encs[i]);
        }
    }
    /* a bad input: the others are still encoded */
    texts[7] = "bad \xff";
    lens[7] = 5;
    assert_int_equal(lm_tokenizer_encode_batch(tok, N, texts, lens, NULL, NULL, NULL, 2, encs, sts),
                     LM_ERR_UTF8);
    assert_non_null(strstr(lm_last_error(), "batch input 7"));
    for (i = 0; i < N; i++) {
        assert_int_equal(sts[i], i == 7 ? LM_ERR_UTF8 : LM_OK);
        assert_true((encs[i] == NULL) == (i == 7));
        lm_encoding_free(encs[i]);
    }
    lm_tokenizer_free(tok);
}

static void test_decode_small(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = load_small(f);
    static const int32_t ids[] = {2, 10, 11, 12, 8, 5, 7, 9, 3};
    static const int32_t bad[] = {2, 99};
    char *text = NULL;
    assert_int_equal(lm_tokenizer_decode(tok, ids, 9, 1, &text), LM_OK);
    assert_string_equal(text, "unaffable, hellos!");
    lm_free(text);
    assert_int_equal(lm_tokenizer_decode(tok, ids, 9, 0, &text), LM_OK);
    assert_string_equal(text, "[CLS] unaffable, hellos! [SEP]");
    lm_free(text);
    assert_int_equal(lm_tokenizer_decode(tok, ids, 0, 0, &text), LM_OK);
    assert_string_equal(text, "");
    lm_free(text);
    assert_int_equal(lm_tokenizer_decode(tok, bad, 2, 0, &text), LM_ERR_RANGE);
    assert_null(text);
    lm_tokenizer_free(tok);
}

static void test_save_roundtrip(void **state) {
    fixture *f = *state;
    lm_tokenizer_t *tok = NULL, *back = NULL;
    lm_tokenizer_options o;
    char sub[4200];
    lm_tokenizer_options_init(&o, sizeof o);
    o.lower_case = 0;
    assert_int_equal(lm_tokenizer_load_vocab(f->path, &o, &tok), LM_OK);
    snprintf(sub, sizeof sub, "%s/saved", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(lm_tokenizer_save_dir(tok, sub), LM_OK);
    assert_int_equal(lm_tokenizer_load_dir(sub, NULL, &back), LM_OK);
    assert_int_equal(lm_tokenizer_vocab_size(back), lm_tokenizer_vocab_size(tok));
    {
        lm_encoding_t *e = NULL;
        assert_int_equal(lm_tokenizer_encode(back, "Hello hello", 11, NULL, &e), LM_OK);
        assert_int_equal(lm_encoding_ids(e)[1], 1); /* cased: "Hello" is unknown */
        assert_int_equal(lm_encoding_ids(e)[2], 5);
        lm_encoding_free(e);
    }
    lm_tokenizer_free(back);
    assert_int_equal(lm_tokenizer_save_dir(tok, "/nonexistent/dir"), LM_ERR_NOT_FOUND);
    lm_tokenizer_free(tok);
}

/* ---- allocation failures ---- */

static lm_status body_load(void *arg) {
    fixture *f = arg;
    lm_tokenizer_t *tok = NULL;
    lm_status st = lm_tokenizer_load_vocab(f->path, NULL, &tok);
    if (st != LM_OK) {
        assert_null(tok);
    }
    lm_tokenizer_free(tok);
    return st;
}

static lm_tokenizer_t *shared_tok;

static lm_status body_encode(void *arg) {
    lm_encoding_t *e = NULL;
    lm_encode_options o;
    lm_status st;
    char *text = NULL;
    static const int32_t ids[] = {2, 10, 11, 12, 8, 5, 7, 9, 3};
    (void)arg;
    lm_encode_options_init(&o, sizeof o);
    o.max_length = 10;
    o.stride = 1;
    o.return_overflowing = 1;
    o.padding = LM_PAD_MAX_LENGTH;
    st = lm_tokenizer_encode_pair(shared_tok, "hello world, unaffable play", 27,
                                  "cafe cafe cafe cafe", 19, &o, &e);
    if (st != LM_OK) {
        assert_null(e);
        return st;
    }
    lm_encoding_free(e);
    st = lm_tokenizer_decode(shared_tok, ids, 9, 0, &text);
    lm_free(text);
    return st;
}

static lm_status body_batch(void *arg) {
    const char *texts[3] = {"hello", "world world", "unaffable"};
    size_t lens[3] = {5, 11, 9};
    lm_encoding_t *encs[3];
    lm_encode_options o;
    lm_status st;
    size_t i;
    (void)arg;
    lm_encode_options_init(&o, sizeof o);
    o.padding = LM_PAD_LONGEST;
    st = lm_tokenizer_encode_batch(shared_tok, 3, texts, lens, NULL, NULL, &o, 1, encs, NULL);
    for (i = 0; i < 3; i++) {
        lm_encoding_free(encs[i]);
    }
    return st;
}

static void test_alloc_failures(void **state) {
    fixture *f = *state;
    TEST_EVERY_ALLOCATION_FAILURE(body_load, f);
    shared_tok = load_small(f);
    TEST_EVERY_ALLOCATION_FAILURE(body_encode, NULL);
    TEST_EVERY_ALLOCATION_FAILURE(body_batch, NULL);
    lm_tokenizer_free(shared_tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_vocab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
