/* Compares liblm's tokenizer with Hugging Face BertTokenizerFast on the committed fixtures
 * (tests/data/tokenizer, written by scripts/gen_tokenizer_fixtures.py): SST-2 train+dev, the
 * Unicode stress corpus (uncased, cased, Chinese vocabulary), Chinese text, pairs with truncation,
 * padding and overflow windows, invalid UTF-8 with replacement, decoding, tokenizer.json loading. */
#include "test_util.h"

#include <sys/stat.h>

#include "base/json.h"

#define FIX LM_SOURCE_DIR "/tests/data/tokenizer"
#define SST2 LM_SOURCE_DIR "/examples/data/sst2"

/* The committed vocabularies (tests/data/vocab/, xz), decompressed once into a temporary
 * folder: the loaders under test read files. */
static char vocab_dir[64];

static int setup_vocab(void **state) {
    char cmd[512];
    (void)state;
    snprintf(vocab_dir, sizeof vocab_dir, "/tmp/lm-vocab-XXXXXX");
    if (mkdtemp(vocab_dir) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof cmd,
             "for v in bert-base-uncased bert-base-chinese; do xz -dc '%s/tests/data/vocab/'$v.txt.xz"
             " > '%s/'$v.txt || exit 1; done", LM_SOURCE_DIR, vocab_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown_vocab(void **state) {
    char cmd[512];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", vocab_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *vocab_path(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", vocab_dir, name);
    return path;
}

/* Reads a whole (optionally compressed) file through a command. */
static char *slurp_cmd(const char *cmd, size_t *len) {
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
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
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *slurp(const char *path, size_t *len) {
    char cmd[4096];
    size_t l = strlen(path);
    if (l > 3 && strcmp(path + l - 3, ".gz") == 0) {
        snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    } else if (l > 3 && strcmp(path + l - 3, ".xz") == 0) {
        snprintf(cmd, sizeof cmd, "xz -dc '%s'", path);
    } else {
        snprintf(cmd, sizeof cmd, "cat '%s'", path);
    }
    return slurp_cmd(cmd, len);
}

/* Splits buf at '\n' in place; returns line starts and lengths. */
static size_t split_lines(char *buf, size_t len, char ***lines, size_t **lens) {
    size_t n = 0, i, start = 0, k = 0;
    for (i = 0; i < len; i++) {
        n += buf[i] == '\n';
    }
    *lines = malloc((n + 1) * sizeof **lines);
    *lens = malloc((n + 1) * sizeof **lens);
    for (i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            (*lines)[k] = buf + start;
            (*lens)[k] = i - start;
            buf[i] = '\0';
            k++;
            start = i + 1;
        }
    }
    return k;
}

static lm_tokenizer_t *load_vocab(const char *name, int lower) {
    lm_tokenizer_options o;
    lm_tokenizer_t *tok = NULL;
    char path[1024];
    lm_tokenizer_options_init(&o, sizeof o);
    o.lower_case = lower;
    snprintf(path, sizeof path, "%s", vocab_path(name));
    if (lm_tokenizer_load_vocab(path, &o, &tok) != LM_OK) {
        fail_msg("load %s: %s", path, lm_last_error());
    }
    return tok;
}

/* Number of code points in s[0..n) (valid UTF-8). */
static size_t chars_of(const char *s, size_t n) {
    size_t i, c = 0;
    for (i = 0; i < n; i++) {
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return c;
}

static int json_ints_equal(const cJSON *arr, const int32_t *v, size_t n) {
    const cJSON *it;
    size_t i = 0;
    if (arr == NULL) {
        return 1; /* field not recorded */
    }
    if ((size_t)cJSON_GetArraySize(arr) != n) {
        return 0;
    }
    cJSON_ArrayForEach(it, arr) {
        if ((int64_t)it->valuedouble != v[i++]) {
            return 0;
        }
    }
    return 1;
}

static int json_sizes_equal(const cJSON *arr, const size_t *v, size_t n) {
    const cJSON *it;
    size_t i = 0;
    if ((size_t)cJSON_GetArraySize(arr) != n) {
        return 0;
    }
    cJSON_ArrayForEach(it, arr) {
        if ((size_t)it->valuedouble != v[i++]) {
            return 0;
        }
    }
    return 1;
}

/* Checks that byte offsets are the char offsets converted through the text. */
static int byte_offsets_consistent(const lm_encoding_t *e, const char *a, size_t a_len,
                                   const char *b, size_t b_len) {
    size_t i, n = lm_encoding_length(e);
    const size_t *co = lm_encoding_offsets(e);
    const size_t *bo = lm_encoding_byte_offsets(e);
    const int32_t *seq = lm_encoding_sequence_ids(e);
    for (i = 0; i < n; i++) {
        const char *t = seq[i] == 1 ? b : a;
        size_t tl = seq[i] == 1 ? b_len : a_len;
        if (seq[i] < 0) {
            if (bo[2 * i] != 0 || bo[2 * i + 1] != 0) {
                return 0;
            }
            continue;
        }
        if (bo[2 * i] > bo[2 * i + 1] || bo[2 * i + 1] > tl) {
            return 0;
        }
        if (chars_of(t, bo[2 * i]) != co[2 * i] || chars_of(t, bo[2 * i + 1]) != co[2 * i + 1]) {
            return 0;
        }
    }
    return 1;
}

/* Compares one encoding with a fixture record; returns 1 when equal. Only the first level of
 * overflow windows is compared (the Rust library nests more; transformers returns this level). */
static int matches_at(const lm_encoding_t *e, const cJSON *r, int depth) {
    size_t n = lm_encoding_length(e);
    const cJSON *over = cJSON_GetObjectItem(r, "over");
    size_t i;
    if (!json_ints_equal(cJSON_GetObjectItem(r, "ids"), lm_encoding_ids(e), n) ||
        !json_ints_equal(cJSON_GetObjectItem(r, "type"), lm_encoding_type_ids(e), n) ||
        !json_ints_equal(cJSON_GetObjectItem(r, "words"), lm_encoding_word_ids(e), n) ||
        !json_ints_equal(cJSON_GetObjectItem(r, "special"), lm_encoding_special_tokens_mask(e), n) ||
        !json_ints_equal(cJSON_GetObjectItem(r, "attn"), lm_encoding_attention_mask(e), n) ||
        !json_ints_equal(cJSON_GetObjectItem(r, "seq"), lm_encoding_sequence_ids(e), n) ||
        !json_sizes_equal(cJSON_GetObjectItem(r, "off"), lm_encoding_offsets(e), 2 * n)) {
        return 0;
    }
    if (depth > 0) {
        return 1;
    }
    if ((size_t)(over ? cJSON_GetArraySize(over) : 0) != lm_encoding_overflow_count(e)) {
        return 0;
    }
    for (i = 0; i < lm_encoding_overflow_count(e); i++) {
        if (!matches_at(lm_encoding_overflow(e, i), cJSON_GetArrayItem(over, (int)i), depth + 1)) {
            return 0;
        }
    }
    return 1;
}

static int matches(const lm_encoding_t *e, const cJSON *r) { return matches_at(e, r, 0); }

static void print_mismatch(const char *name, size_t line, const lm_encoding_t *e, const char *expect) {
    size_t i, n = lm_encoding_length(e);
    print_message("%s line %zu differs\n  expected %.600s\n  got ids", name, line + 1, expect);
    for (i = 0; i < n && i < 60; i++) {
        print_message(" %d", (int)lm_encoding_ids(e)[i]);
    }
    print_message("\n  got off");
    for (i = 0; i < n && i < 60; i++) {
        print_message(" %zu,%zu", lm_encoding_offsets(e)[2 * i], lm_encoding_offsets(e)[2 * i + 1]);
    }
    print_message("\n");
}

/* Every line of `text_path` against the JSON-lines fixture. */
static void check_corpus(const char *name, lm_tokenizer_t *tok, const char *text_path,
                         const char *fixture) {
    size_t tlen, flen, i;
    char *text = slurp(text_path, &tlen);
    char *fix = slurp(fixture, &flen);
    char **lines, **recs;
    size_t *lens, *rlens;
    size_t n = split_lines(text, tlen, &lines, &lens);
    size_t nr = split_lines(fix, flen, &recs, &rlens);
    size_t bad = 0;
    assert_int_equal(n, nr);
    for (i = 0; i < n; i++) {
        lm_encoding_t *e = NULL;
        cJSON *r = NULL;
        assert_int_equal(lmi_json_parse(recs[i], rlens[i], fixture, &r), LM_OK);
        if (lm_tokenizer_encode(tok, lines[i], lens[i], NULL, &e) != LM_OK) {
            fail_msg("%s line %zu: %s", name, i + 1, lm_last_error());
        }
        if (!matches(e, r) || !byte_offsets_consistent(e, lines[i], lens[i], NULL, 0)) {
            if (bad < 5) {
                print_mismatch(name, i, e, recs[i]);
            }
            bad++;
        }
        lm_encoding_free(e);
        cJSON_Delete(r);
    }
    print_message("%s: %zu of %zu lines identical to BertTokenizerFast\n", name, n - bad, n);
    assert_int_equal(bad, 0);
    free(lines);
    free(lens);
    free(recs);
    free(rlens);
    free(text);
    free(fix);
}

static void test_stress_uncased(void **state) {
    lm_tokenizer_t *tok;
    (void)state;
    tok = load_vocab("bert-base-uncased.txt", -1);
    check_corpus("stress_uncased", tok, LM_SOURCE_DIR "/tests/data/unicode_stress.txt",
                 FIX "/stress_uncased.jsonl.gz");
    lm_tokenizer_free(tok);
}

static void test_stress_cased(void **state) {
    lm_tokenizer_t *tok;
    (void)state;
    tok = load_vocab("bert-base-uncased.txt", 0);
    check_corpus("stress_cased", tok, LM_SOURCE_DIR "/tests/data/unicode_stress.txt",
                 FIX "/stress_cased.jsonl.gz");
    lm_tokenizer_free(tok);
}

static void test_stress_chinese(void **state) {
    lm_tokenizer_t *tok;
    (void)state;
    tok = load_vocab("bert-base-chinese.txt", -1);
    check_corpus("stress_chinese", tok, LM_SOURCE_DIR "/tests/data/unicode_stress.txt",
                 FIX "/stress_chinese.jsonl.gz");
    check_corpus("chinese", tok, FIX "/chinese.txt", FIX "/chinese.jsonl.gz");
    lm_tokenizer_free(tok);
}

/* Every code point where utf8proc needed an override, and every 61st, in the three modes. */
static void test_codepoints(void **state) {
    lm_tokenizer_t *tok;
    lm_tokenizer_options o;
    (void)state;
    tok = load_vocab("bert-base-uncased.txt", -1);
    check_corpus("codepoints_uncased", tok, FIX "/codepoints.txt.gz", FIX "/codepoints_uncased.jsonl.gz");
    lm_tokenizer_free(tok);
    tok = load_vocab("bert-base-uncased.txt", 0);
    check_corpus("codepoints_cased", tok, FIX "/codepoints.txt.gz", FIX "/codepoints_cased.jsonl.gz");
    lm_tokenizer_free(tok);
    lm_tokenizer_options_init(&o, sizeof o);
    o.lower_case = 0;
    o.strip_accents = 1;
    tok = NULL;
    assert_int_equal(lm_tokenizer_load_vocab(vocab_path("bert-base-uncased.txt"), &o, &tok), LM_OK);
    check_corpus("codepoints_strip", tok, FIX "/codepoints.txt.gz", FIX "/codepoints_strip.jsonl.gz");
    lm_tokenizer_free(tok);
}

/* SST-2 fixture line: "id id ...|o o ..." (o = len, or gap:len when the gap is not 1). */
static int sst2_matches(const lm_encoding_t *e, const char *rec) {
    size_t n = lm_encoding_length(e), i = 0;
    const int32_t *ids = lm_encoding_ids(e);
    const size_t *off = lm_encoding_offsets(e);
    const char *p = rec;
    char *end;
    size_t prev = 0;
    while (*p && *p != '|') {
        long v = strtol(p, &end, 10);
        if (end == p || i >= n || ids[i] != v) {
            return 0;
        }
        i++;
        p = end;
        while (*p == ' ') {
            p++;
        }
    }
    if (i != n || *p != '|') {
        return 0;
    }
    p++;
    for (i = 0; i < n; i++) {
        long a = strtol(p, &end, 10), gap = 1, len = a;
        if (*end == ':') {
            gap = a;
            p = end + 1;
            len = strtol(p, &end, 10);
        }
        if (off[2 * i] != prev + (size_t)gap || off[2 * i + 1] != off[2 * i] + (size_t)len) {
            return 0;
        }
        prev = off[2 * i + 1];
        p = end;
        while (*p == ' ') {
            p++;
        }
    }
    return *p == '\0';
}

static void test_sst2(void **state) {
    const char *files[2] = {SST2 "/train.tsv.xz", SST2 "/dev.tsv.xz"};
    lm_tokenizer_t *tok;
    size_t flen, nr, k, r = 0, bad = 0, checked = 0;
    /* quick mode (valgrind) checks every 40th sentence */
    const size_t every = test_quick() ? 40 : 1;
    char *fix, **recs;
    size_t *rlens;
    lm_encode_options o;
    (void)state;
    tok = load_vocab("bert-base-uncased.txt", -1);
    fix = slurp(FIX "/sst2_uncased.txt.xz", &flen);
    nr = split_lines(fix, flen, &recs, &rlens);
    lm_encode_options_init(&o, sizeof o);
    o.add_special_tokens = 0;
    for (k = 0; k < 2; k++) {
        size_t tlen, n, i;
        char *text = slurp(files[k], &tlen);
        char **lines;
        size_t *lens;
        n = split_lines(text, tlen, &lines, &lens);
        for (i = 1; i < n; i++) {
            lm_encoding_t *e = NULL;
            char *tab = memchr(lines[i], '\t', lens[i]);
            size_t l = tab ? (size_t)(tab - lines[i]) : lens[i];
            assert_true(r < nr);
            if (r % every != 0) {
                r++;
                continue;
            }
            checked++;
            assert_int_equal(lm_tokenizer_encode(tok, lines[i], l, &o, &e), LM_OK);
            if (!sst2_matches(e, recs[r])) {
                if (bad < 5) {
                    print_mismatch("sst2", r, e, recs[r]);
                }
                bad++;
            }
            lm_encoding_free(e);
            r++;
        }
        free(lines);
        free(lens);
        free(text);
    }
    print_message("sst2: %zu of %zu sentences checked, %zu identical to BertTokenizerFast\n",
                  checked, r, checked - bad);
    assert_int_equal(r, nr);
    assert_int_equal(bad, 0);
    free(recs);
    free(rlens);
    free(fix);
    lm_tokenizer_free(tok);
}

static void test_pairs(void **state) {
    lm_tokenizer_t *tok;
    size_t flen, nr, i, bad = 0;
    char *fix, **recs;
    size_t *rlens;
    (void)state;
    tok = load_vocab("bert-base-uncased.txt", -1);
    fix = slurp(FIX "/pairs.jsonl.gz", &flen);
    nr = split_lines(fix, flen, &recs, &rlens);
    for (i = 0; i < nr; i++) {
        cJSON *r = NULL;
        lm_encoding_t *e = NULL;
        lm_encode_options o;
        const char *a = NULL, *b = NULL, *strat = NULL, *pad = NULL;
        int64_t ml = 0, stride = 0;
        lm_status st;
        assert_int_equal(lmi_json_parse(recs[i], rlens[i], "pairs", &r), LM_OK);
        lmi_json_get_string(r, "a", "", &a);
        lmi_json_get_string(r, "b", "", &b);
        lmi_json_get_string(r, "strategy", "", &strat);
        lmi_json_get_string(r, "padding", "", &pad);
        lmi_json_get_int(r, "max_length", "", 0, 100000, &ml);
        lmi_json_get_int(r, "stride", "", 0, 100000, &stride);
        lm_encode_options_init(&o, sizeof o);
        o.max_length = (size_t)ml;
        o.stride = (size_t)stride;
        o.return_overflowing = 1;
        o.truncation = strcmp(strat, "only_first") == 0    ? LM_TRUNCATE_ONLY_FIRST
                       : strcmp(strat, "only_second") == 0 ? LM_TRUNCATE_ONLY_SECOND
                                                           : LM_TRUNCATE_LONGEST_FIRST;
        o.padding = strcmp(pad, "max_length") == 0 ? LM_PAD_MAX_LENGTH : LM_PAD_NONE;
        if (b != NULL) {
            st = lm_tokenizer_encode_pair(tok, a, strlen(a), b, strlen(b), &o, &e);
        } else {
            st = lm_tokenizer_encode(tok, a, strlen(a), &o, &e);
        }
        if (cJSON_GetObjectItem(r, "error") != NULL) {
            if (st == LM_OK) {
                print_message("pairs record %zu: expected an error, got success\n", i + 1);
                bad++;
            }
        } else if (st != LM_OK || !matches(e, r) ||
                   !byte_offsets_consistent(e, a, strlen(a), b, b ? strlen(b) : 0)) {
            if (bad < 5) {
                if (st != LM_OK) {
                    print_message("pairs record %zu: %s\n", i + 1, lm_last_error());
                } else {
                    print_mismatch("pairs", i, e, recs[i]);
                }
            }
            bad++;
        }
        lm_encoding_free(e);
        cJSON_Delete(r);
    }
    print_message("pairs/truncation/overflow: %zu of %zu records identical\n", nr - bad, nr);
    assert_int_equal(bad, 0);
    free(recs);
    free(rlens);
    free(fix);
    lm_tokenizer_free(tok);
}

static void test_invalid_utf8_replace(void **state) {
    lm_tokenizer_options o;
    lm_tokenizer_t *tok = NULL, *strict;
    size_t flen, nr, i;
    char *fix, **recs;
    size_t *rlens;
    (void)state;
    lm_tokenizer_options_init(&o, sizeof o);
    o.replace_invalid_utf8 = 1;
    assert_int_equal(lm_tokenizer_load_vocab(vocab_path("bert-base-uncased.txt"), &o, &tok), LM_OK);
    strict = load_vocab("bert-base-uncased.txt", -1);
    fix = slurp(FIX "/invalid_utf8.jsonl.gz", &flen);
    nr = split_lines(fix, flen, &recs, &rlens);
    for (i = 0; i < nr; i++) {
        cJSON *r = NULL;
        lm_encoding_t *e = NULL;
        const char *hex = NULL;
        char bytes[256];
        size_t n = 0;
        assert_int_equal(lmi_json_parse(recs[i], rlens[i], "invalid", &r), LM_OK);
        assert_int_equal(lmi_json_get_string(r, "hex", "", &hex), LM_OK);
        for (n = 0; hex[2 * n]; n++) {
            unsigned v;
            sscanf(hex + 2 * n, "%2x", &v);
            bytes[n] = (char)v;
        }
        assert_int_equal(lm_tokenizer_encode(tok, bytes, n, NULL, &e), LM_OK);
        if (!matches(e, r)) {
            print_mismatch("invalid_utf8", i, e, recs[i]);
            fail();
        }
        lm_encoding_free(e);
        assert_int_equal(lm_tokenizer_encode(strict, bytes, n, NULL, &e), LM_ERR_UTF8);
        assert_null(e);
        assert_non_null(strstr(lm_last_error(), "byte offset"));
        cJSON_Delete(r);
    }
    free(recs);
    free(rlens);
    free(fix);
    lm_tokenizer_free(tok);
    lm_tokenizer_free(strict);
}

static void test_decode(void **state) {
    lm_tokenizer_t *tok;
    size_t flen, nr, i, bad = 0;
    char *fix, **recs;
    size_t *rlens;
    (void)state;
    tok = load_vocab("bert-base-uncased.txt", -1);
    fix = slurp(FIX "/decode.jsonl.gz", &flen);
    nr = split_lines(fix, flen, &recs, &rlens);
    for (i = 0; i < nr; i++) {
        cJSON *r = NULL, *it;
        int32_t ids[4096];
        size_t n = 0;
        int64_t skip_special = 0;
        const char *expect = NULL;
        char *text = NULL;
        assert_int_equal(lmi_json_parse(recs[i], rlens[i], "decode", &r), LM_OK);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(r, "ids")) {
            ids[n++] = (int32_t)it->valuedouble;
        }
        lmi_json_get_int(r, "skip", "", 0, 1, &skip_special);
        lmi_json_get_string(r, "text", "", &expect);
        assert_int_equal(lm_tokenizer_decode(tok, ids, n, (int)skip_special, &text), LM_OK);
        if (strcmp(text, expect) != 0) {
            if (bad < 5) {
                print_message("decode %zu:\n  expected %s\n  got      %s\n", i + 1, expect, text);
            }
            bad++;
        }
        lm_free(text);
        cJSON_Delete(r);
    }
    print_message("decode: %zu of %zu identical\n", nr - bad, nr);
    assert_int_equal(bad, 0);
    free(recs);
    free(rlens);
    free(fix);
    lm_tokenizer_free(tok);
}

static void test_tokenizer_json(void **state) {
    char *dir = test_make_temp_dir();
    char cmd[8400], path[4096];
    lm_tokenizer_t *tok = NULL, *ref;
    (void)state;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/uncased_tokenizer.json.gz' > '%s'", FIX, path);
    assert_int_equal(system(cmd), 0);
    if (lm_tokenizer_load_json(path, NULL, &tok) != LM_OK) {
        fail_msg("%s", lm_last_error());
    }
    ref = load_vocab("bert-base-uncased.txt", -1);
    assert_int_equal(lm_tokenizer_vocab_size(tok), 30522);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_CLS), 101);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_SEP), 102);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_MASK), 103);
    check_corpus("stress_uncased (tokenizer.json)", tok,
                 LM_SOURCE_DIR "/tests/data/unicode_stress.txt", FIX "/stress_uncased.jsonl.gz");
    lm_tokenizer_free(tok);
    /* the folder loader picks tokenizer.json */
    assert_int_equal(lm_tokenizer_load_dir(dir, NULL, &tok), LM_OK);
    lm_tokenizer_free(tok);
    lm_tokenizer_free(ref);
    test_remove_tree(dir);
    free(dir);
}

/* bert-base-uncased's vocab.txt (committed, compressed): size and special ids. */
static void test_uncased_vocab_load(void **state) {
    lm_tokenizer_t *tok = NULL;
    (void)state;
    assert_int_equal(lm_tokenizer_load_vocab(vocab_path("bert-base-uncased.txt"), NULL, &tok), LM_OK);
    assert_int_equal(lm_tokenizer_vocab_size(tok), 30522);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_PAD), 0);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_UNK), 100);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_CLS), 101);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_SEP), 102);
    assert_int_equal(lm_tokenizer_special_id(tok, LM_SPECIAL_MASK), 103);
    lm_tokenizer_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_uncased),   cmocka_unit_test(test_stress_cased),
        cmocka_unit_test(test_stress_chinese),   cmocka_unit_test(test_codepoints),
        cmocka_unit_test(test_sst2),             cmocka_unit_test(test_uncased_vocab_load),
        cmocka_unit_test(test_pairs),            cmocka_unit_test(test_invalid_utf8_replace),
        cmocka_unit_test(test_decode),           cmocka_unit_test(test_tokenizer_json),
    };
    return cmocka_run_group_tests(tests, setup_vocab, teardown_vocab);
}
