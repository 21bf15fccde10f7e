/* Loading and saving tokenizers: vocab.txt, Hugging Face tokenizer.json (BERT kind), model
 * folders (tokenizer.json, else vocab.txt + tokenizer_config.json); the options, the handle's
 * accessors (token <-> id, special ids) and lmi_tokenizer_save_dir. */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json.h"
#include "base/options.h"
#include "base/utf8.h"
#include "tokenizer.h"

#define VOCAB_MAX_BYTES ((size_t)1 << 30)
#define JSON_MAX_BYTES ((size_t)1 << 30)

static const char *const special_names[5] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};

void lmi_tokenizer_options_init(lm_tokenizer_options *opts) {
    if (opts == NULL) {
        return;
    }
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->lower_case = -1;
    opts->strip_accents = -1;
    opts->tokenize_chinese_chars = -1;
    opts->replace_invalid_utf8 = 0;
    opts->clean_text = -1;
}

static lm_status read_options(const lm_tokenizer_options *opts, lm_tokenizer_options *o) {
    lmi_tokenizer_options_init(o);
    return lmi_options_read(o, sizeof *o, opts, offsetof(lm_tokenizer_options, replace_invalid_utf8) +
                           sizeof(int), "lm_tokenizer_options");
}

void lmi_tokenizer_free(lm_tokenizer_t *tok) {
    if (tok == NULL) {
        return;
    }
    lmi_vocab_free(&tok->vocab);
    lmi_free(tok->added);
    lmi_free(tok->added_pool);
    lmi_free(tok->is_special_id);
    lmi_free(tok);
}

/* Settings read from files before options apply; -1 = not said. */
typedef struct file_settings {
    int lower, strip, chinese, clean;
} file_settings;

/* Applies options over file settings, finds special ids, adds the special tokens as never-split
 * tokens when the file listed none. */
static lm_status finish(lm_tokenizer_t *tok, const lm_tokenizer_options *o, file_settings fs,
                        const char *what) {
    size_t i;
    int k;
    tok->lower = o->lower_case >= 0 ? o->lower_case != 0 : (fs.lower >= 0 ? fs.lower : 1);
    tok->strip = o->strip_accents >= 0 ? o->strip_accents != 0
                 : (fs.strip >= 0 ? fs.strip : tok->lower); /* unset: follow lowercase, as HF */
    tok->chinese = o->tokenize_chinese_chars >= 0 ? o->tokenize_chinese_chars != 0
                   : (fs.chinese >= 0 ? fs.chinese : 1);
    tok->clean = o->clean_text >= 0 ? o->clean_text != 0 : (fs.clean >= 0 ? fs.clean : 1);
    tok->replace_invalid = o->replace_invalid_utf8 != 0;
    if (tok->max_input_chars == 0) {
        tok->max_input_chars = 100;
    }
    for (k = 0; k < 5; k++) {
        if (tok->special[k] < 0) {
            tok->special[k] = lmi_vocab_lookup(&tok->vocab, special_names[k], strlen(special_names[k]));
        }
    }
    if (tok->special[LM_SPECIAL_UNK] < 0) {
        return lmi_error(LM_ERR_FORMAT, "%s: the vocabulary has no unknown token [UNK]", what);
    }
    if (tok->added == NULL) {
        tok->added = lmi_calloc(5, sizeof *tok->added);
        if (tok->added == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
        }
        for (k = 0; k < 5; k++) {
            int32_t id = tok->special[k];
            if (id >= 0) {
                lmi_added_token *a = &tok->added[tok->n_added++];
                a->text = tok->vocab.pool + tok->vocab.tok_off[id];
                a->len = tok->vocab.tok_len[id];
                a->id = id;
                a->special = 1;
            }
        }
    }
    tok->is_special_id = lmi_calloc(tok->vocab.n ? tok->vocab.n : 1, 1);
    if (tok->is_special_id == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
    }
    for (k = 0; k < 5; k++) {
        if (tok->special[k] >= 0) {
            tok->is_special_id[tok->special[k]] = 1;
        }
    }
    for (i = 0; i < tok->n_added; i++) {
        if (tok->added[i].len > 0) {
            tok->added_first[(unsigned char)tok->added[i].text[0]] = 1;
        }
        if (tok->added[i].special && tok->added[i].id >= 0 && (size_t)tok->added[i].id < tok->vocab.n) {
            tok->is_special_id[tok->added[i].id] = 1;
        }
    }
    return LM_OK;
}

static lm_tokenizer_t *tok_new(void) {
    lm_tokenizer_t *tok = lmi_calloc(1, sizeof *tok);
    int k;
    if (tok != NULL) {
        for (k = 0; k < 5; k++) {
            tok->special[k] = -1;
        }
    }
    return tok;
}

/* Builds the vocabulary of tok from vocab.txt bytes. */
static lm_status parse_vocab(lm_tokenizer_t *tok, const char *data, size_t len, const char *what) {
    size_t n = 0;
    size_t i;
    size_t bad;
    const char **texts = NULL;
    size_t *lens = NULL;
    size_t start = 0;
    lm_status st;
    if (!lmi_utf8_validate(data, len, &bad)) {
        return lmi_error(LM_ERR_UTF8, "%s: invalid UTF-8 at byte offset %zu", what, bad);
    }
    if (memchr(data, '\0', len) != NULL) {
        return lmi_error(LM_ERR_FORMAT, "%s: NUL byte at byte offset %zu", what,
                        (size_t)((const char *)memchr(data, '\0', len) - data));
    }
    for (i = 0; i < len; i++) {
        n += data[i] == '\n';
    }
    if (len > 0 && data[len - 1] != '\n') {
        n++;
    }
    if (n > 0x7FFFFFFF) {
        return lmi_error(LM_ERR_FORMAT, "%s: too many tokens", what);
    }
    texts = lmi_malloc_array(n + 1, sizeof *texts);
    lens = lmi_malloc_array(n + 1, sizeof *lens);
    if (texts == NULL || lens == NULL) {
        lmi_free(texts);
        lmi_free(lens);
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for %zu tokens", what, n);
    }
    n = 0;
    for (i = 0; i <= len; i++) {
        if (i == len || data[i] == '\n') {
            size_t l;
            if (i == len && start == len) {
                break;
            }
            l = i - start;
            if (l > 0 && data[start + l - 1] == '\r') {
                l--;
            }
            if (l > LM_VOCAB_MAX_TOKEN_BYTES) {
                lmi_free(texts);
                lmi_free(lens);
                return lmi_error(LM_ERR_FORMAT,
                                "%s: line %zu (from byte offset %zu) is %zu bytes long, but a token "
                                "may have at most %u: a vocab.txt holds one token a line",
                                what, n + 1, start, l, LM_VOCAB_MAX_TOKEN_BYTES);
            }
            texts[n] = data + start;
            lens[n] = l;
            n++;
            start = i + 1;
        }
    }
    st = lmi_vocab_build(&tok->vocab, n, texts, lens, "##");
    lmi_free(texts);
    lmi_free(lens);
    if (st != LM_OK) {
        return lmi_error_prefix(st, "%s", what);
    }
    return LM_OK;
}

static lm_status vocab_from_data(const char *data, size_t len, const lm_tokenizer_options *o,
                                 file_settings fs, const char *what, lm_tokenizer_t **out) {
    lm_tokenizer_t *tok = tok_new();
    lm_status st;
    if (tok == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
    }
    st = parse_vocab(tok, data, len, what);
    if (st == LM_OK) {
        st = finish(tok, o, fs, what);
    }
    if (st != LM_OK) {
        lmi_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return LM_OK;
}

static lm_status load_vocab_file(const char *path, const lm_tokenizer_options *o,
                                 file_settings fs, lm_tokenizer_t **out) {
    char *data = NULL;
    size_t len = 0;
    lm_status st = lmi_file_read_all(path, VOCAB_MAX_BYTES, &data, &len);
    if (st != LM_OK) {
        return st;
    }
    st = vocab_from_data(data, len, o, fs, path, out);
    lmi_free(data);
    return st;
}

lm_status lmi_tokenizer_vocab_from_memory(const char *data, size_t len,
                                         const lm_tokenizer_options *opts, lm_tokenizer_t **out) {
    lm_tokenizer_options o;
    file_settings fs = {-1, -1, -1, -1};
    lm_status st;
    *out = NULL;
    if ((st = read_options(opts, &o)) != LM_OK) {
        return st;
    }
    return vocab_from_data(data, len, &o, fs, "vocab", out);
}

/* The checks every public loader starts with: out and the path given, options read into *o.
 * *out is NULL afterwards (also on failure). */
static lm_status loader_entry(const char *fn, const char *path, const lm_tokenizer_options *opts,
                              lm_tokenizer_options *o, lm_tokenizer_t **out) {
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    }
    *out = NULL;
    if (path == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: the path is NULL", fn);
    }
    return read_options(opts, o);
}

lm_status lmi_tokenizer_load_vocab(const char *vocab_txt, const lm_tokenizer_options *opts,
                                  lm_tokenizer_t **out) {
    lm_tokenizer_options o;
    file_settings fs = {-1, -1, -1, -1};
    lm_status st;
    if ((st = loader_entry("lm_tokenizer_load_vocab", vocab_txt, opts, &o, out)) != LM_OK) {
        return st;
    }
    return load_vocab_file(vocab_txt, &o, fs, out);
}

/* ---- tokenizer.json ---- */

static lm_status json_bool_setting(const cJSON *obj, const char *key, const char *what, int *out) {
    lm_status st = lmi_json_get_bool(obj, key, what, out);
    if (st == LM_ERR_NOT_FOUND) {
        *out = -1;
        return LM_OK;
    }
    return st;
}

/* The first id of a special token of the post-processor ("[CLS]" entry of TemplateProcessing's
 * special_tokens, or BertProcessing's ["[CLS]", 101] pair). */
static int32_t processor_id(const cJSON *pp, const char *type, int which) {
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(pp, which == LM_SPECIAL_CLS ? "cls" : "sep");
        const cJSON *id = cJSON_IsArray(p) ? cJSON_GetArrayItem(p, 1) : NULL;
        return cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 2147483647.0
                   ? (int32_t)id->valuedouble : -1;
    } else {
        /* TemplateProcessing: single = [SpecialToken cls, Sequence A, SpecialToken sep] */
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
        const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
        const cJSON *piece;
        int seen_seq = 0;
        cJSON_ArrayForEach(piece, single) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(piece, "SpecialToken");
            if (cJSON_GetObjectItemCaseSensitive(piece, "Sequence") != NULL) {
                seen_seq = 1;
            } else if (st != NULL && seen_seq == (which == LM_SPECIAL_SEP)) {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "id");
                const cJSON *entry = cJSON_IsString(name)
                    ? cJSON_GetObjectItemCaseSensitive(specials, name->valuestring) : NULL;
                const cJSON *ids = cJSON_GetObjectItemCaseSensitive(entry, "ids");
                const cJSON *id = cJSON_IsArray(ids) ? cJSON_GetArrayItem(ids, 0) : NULL;
                return cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 2147483647.0
                           ? (int32_t)id->valuedouble : -1;
            }
        }
    }
    return -1;
}

static lm_status parse_tokenizer_json(lm_tokenizer_t *tok, const cJSON *root, const char *what,
                                      file_settings *fs) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const cJSON *vocab;
    const cJSON *item;
    const char *type = NULL;
    const char *prefix = "##";
    const char *unk = "[UNK]";
    const char **texts = NULL;
    size_t *lens = NULL;
    size_t n = 0, i;
    int64_t max_chars = 100;
    lm_status st;

    if (!cJSON_IsObject(root) || !cJSON_IsObject(model)) {
        return lmi_error(LM_ERR_FORMAT, "%s: no \"model\" object", what);
    }
    if (lmi_json_get_string(model, "type", what, &type) != LM_OK || strcmp(type, "WordPiece") != 0) {
        return lmi_error(LM_ERR_UNSUPPORTED, "%s: model type is %s, not WordPiece", what,
                        type ? type : "missing");
    }
    st = lmi_json_get_string(model, "continuing_subword_prefix", what, &prefix);
    if (st != LM_OK && st != LM_ERR_NOT_FOUND) {
        return st;
    }
    st = lmi_json_get_string(model, "unk_token", what, &unk);
    if (st != LM_OK && st != LM_ERR_NOT_FOUND) {
        return st;
    }
    st = lmi_json_get_int(model, "max_input_chars_per_word", what, 1, 1 << 30, &max_chars);
    if (st != LM_OK && st != LM_ERR_NOT_FOUND) {
        return st;
    }
    tok->max_input_chars = (size_t)max_chars;
    if (norm != NULL && !cJSON_IsNull(norm)) {
        if (lmi_json_get_string(norm, "type", what, &type) != LM_OK ||
            strcmp(type, "BertNormalizer") != 0) {
            return lmi_error(LM_ERR_UNSUPPORTED, "%s: normalizer is not a BertNormalizer", what);
        }
        if ((st = json_bool_setting(norm, "lowercase", what, &fs->lower)) != LM_OK ||
            (st = json_bool_setting(norm, "strip_accents", what, &fs->strip)) != LM_OK ||
            (st = json_bool_setting(norm, "handle_chinese_chars", what, &fs->chinese)) != LM_OK ||
            (st = json_bool_setting(norm, "clean_text", what, &fs->clean)) != LM_OK) {
            return st;
        }
    } else {
        fs->lower = fs->strip = fs->chinese = fs->clean = 0;
    }
    if (pre != NULL && !cJSON_IsNull(pre) &&
        (lmi_json_get_string(pre, "type", what, &type) != LM_OK ||
         strcmp(type, "BertPreTokenizer") != 0)) {
        return lmi_error(LM_ERR_UNSUPPORTED, "%s: pre_tokenizer is not a BertPreTokenizer", what);
    }
    vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab)) {
        return lmi_error(LM_ERR_FORMAT, "%s: model.vocab is not an object", what);
    }
    cJSON_ArrayForEach(item, vocab) {
        if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble >= 16777216.0 ||
            item->valuedouble != (double)(int64_t)item->valuedouble) {
            return lmi_error(LM_ERR_FORMAT, "%s: model.vocab[\"%.40s\"] is not an id in [0, 2^24)",
                            what, item->string ? item->string : "");
        }
        if ((size_t)item->valuedouble + 1 > n) {
            n = (size_t)item->valuedouble + 1;
        }
    }
    texts = lmi_calloc(n + 1, sizeof *texts);
    lens = lmi_calloc(n + 1, sizeof *lens);
    if (texts == NULL || lens == NULL) {
        st = lmi_error(LM_ERR_NOMEM, "%s: out of memory for %zu tokens", what, n);
        goto done;
    }
    cJSON_ArrayForEach(item, vocab) {
        size_t id = (size_t)item->valuedouble;
        texts[id] = item->string;
        lens[id] = strlen(item->string);
    }
    for (i = 0; i < n; i++) {
        if (texts[i] == NULL) {
            st = lmi_error(LM_ERR_FORMAT, "%s: model.vocab has no token with id %zu", what, i);
            goto done;
        }
    }
    if ((st = lmi_vocab_build(&tok->vocab, n, texts, lens, prefix)) != LM_OK) {
        lmi_error_prefix(st, "%s", what);
        goto done;
    }
    tok->special[LM_SPECIAL_UNK] = lmi_vocab_lookup(&tok->vocab, unk, strlen(unk));
    if (tok->special[LM_SPECIAL_UNK] < 0) {
        st = lmi_error(LM_ERR_FORMAT, "%s: unk_token \"%.40s\" is not in the vocabulary", what, unk);
        goto done;
    }
    if (pp != NULL && !cJSON_IsNull(pp)) {
        if (lmi_json_get_string(pp, "type", what, &type) != LM_OK ||
            (strcmp(type, "TemplateProcessing") != 0 && strcmp(type, "BertProcessing") != 0)) {
            st = lmi_error(LM_ERR_UNSUPPORTED, "%s: post_processor is not BERT's template", what);
            goto done;
        }
        tok->special[LM_SPECIAL_CLS] = processor_id(pp, type, LM_SPECIAL_CLS);
        tok->special[LM_SPECIAL_SEP] = processor_id(pp, type, LM_SPECIAL_SEP);
        for (i = LM_SPECIAL_CLS; i <= LM_SPECIAL_SEP; i++) {
            if (tok->special[i] >= (int32_t)n) {
                st = lmi_error(LM_ERR_FORMAT, "%s: post_processor id %d outside the vocabulary",
                              what, (int)tok->special[i]);
                goto done;
            }
        }
    }
    if (cJSON_IsArray(added)) {
        size_t count = (size_t)cJSON_GetArraySize(added);
        size_t pool = 0;
        tok->added = lmi_calloc(count + 1, sizeof *tok->added);
        if (tok->added == NULL) {
            st = lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
            goto done;
        }
        cJSON_ArrayForEach(item, added) {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "content");
            if (!cJSON_IsString(c) || c->valuestring[0] == '\0') {
                st = lmi_error(LM_ERR_FORMAT, "%s: added_tokens entry without content", what);
                goto done;
            }
            pool += strlen(c->valuestring) + 1;
        }
        tok->added_pool = lmi_malloc(pool + 1);
        if (tok->added_pool == NULL) {
            st = lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
            goto done;
        }
        pool = 0;
        cJSON_ArrayForEach(item, added) {
            const char *c = cJSON_GetObjectItemCaseSensitive(item, "content")->valuestring;
            int64_t id = -1;
            int special = 0;
            lmi_added_token *a;
            size_t l = strlen(c);
            st = lmi_json_get_int(item, "id", what, 0, (int64_t)n - 1, &id);
            if (st != LM_OK) {
                if (st == LM_ERR_NOT_FOUND) {
                    st = lmi_error(LM_ERR_FORMAT, "%s: added token \"%.40s\" has no id", what, c);
                }
                goto done;
            }
            st = lmi_json_get_bool(item, "special", what, &special);
            if (st != LM_OK && st != LM_ERR_NOT_FOUND) {
                goto done;
            }
            memcpy(tok->added_pool + pool, c, l + 1);
            a = &tok->added[tok->n_added++];
            a->text = tok->added_pool + pool;
            a->len = l;
            a->id = (int32_t)id;
            a->special = special == 1;
            pool += l + 1;
        }
        st = LM_OK;
    }
done:
    lmi_free(texts);
    lmi_free(lens);
    return st;
}

/* Builds a tokenizer from a parsed tokenizer.json and deletes root. */
static lm_status json_to_tokenizer(cJSON *root, const lm_tokenizer_options *o, file_settings fs,
                                   const char *what, lm_tokenizer_t **out) {
    lm_tokenizer_t *tok = tok_new();
    lm_status st;
    if (tok == NULL) {
        cJSON_Delete(root);
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
    }
    st = parse_tokenizer_json(tok, root, what, &fs);
    cJSON_Delete(root);
    if (st == LM_OK) {
        st = finish(tok, o, fs, what);
    }
    if (st != LM_OK) {
        lmi_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return LM_OK;
}

lm_status lmi_tokenizer_load_json(const char *tokenizer_json, const lm_tokenizer_options *opts,
                                 lm_tokenizer_t **out) {
    lm_tokenizer_options o;
    file_settings fs = {-1, -1, -1, -1};
    cJSON *root = NULL;
    lm_status st;
    if ((st = loader_entry("lm_tokenizer_load_json", tokenizer_json, opts, &o, out)) != LM_OK) {
        return st;
    }
    if ((st = lmi_json_parse_file(tokenizer_json, JSON_MAX_BYTES, &root)) != LM_OK) {
        return st;
    }
    return json_to_tokenizer(root, &o, fs, tokenizer_json, out);
}

lm_status lmi_tokenizer_json_from_memory(const char *data, size_t len,
                                        const lm_tokenizer_options *opts, lm_tokenizer_t **out) {
    lm_tokenizer_options o;
    file_settings fs = {-1, -1, -1, -1};
    cJSON *root = NULL;
    lm_status st;
    *out = NULL;
    if ((st = read_options(opts, &o)) != LM_OK) {
        return st;
    }
    if ((st = lmi_json_parse(data, len, "tokenizer.json", &root)) != LM_OK) {
        return st;
    }
    return json_to_tokenizer(root, &o, fs, "tokenizer.json", out);
}

lm_status lmi_tokenizer_load_dir(const char *dir, const lm_tokenizer_options *opts,
                                lm_tokenizer_t **out) {
    lm_tokenizer_options o;
    file_settings fs = {-1, -1, -1, -1};
    char *json = NULL, *vocab = NULL, *config = NULL;
    lm_status st;
    if ((st = loader_entry("lm_tokenizer_load_dir", dir, opts, &o, out)) != LM_OK) {
        return st;
    }
    json = lmi_path_join(dir, "tokenizer.json");
    vocab = lmi_path_join(dir, "vocab.txt");
    config = lmi_path_join(dir, "tokenizer_config.json");
    if (json == NULL || vocab == NULL || config == NULL) {
        st = lmi_error(LM_ERR_NOMEM, "%s: out of memory", dir);
    } else if (lmi_file_exists(json)) {
        st = lmi_tokenizer_load_json(json, &o, out);
    } else if (lmi_file_exists(vocab)) {
        st = LM_OK;
        if (lmi_file_exists(config)) {
            cJSON *root = NULL;
            st = lmi_json_parse_file(config, 16u << 20, &root);
            if (st == LM_OK) {
                if ((st = json_bool_setting(root, "do_lower_case", config, &fs.lower)) == LM_OK &&
                    (st = json_bool_setting(root, "strip_accents", config, &fs.strip)) == LM_OK) {
                    st = json_bool_setting(root, "tokenize_chinese_chars", config, &fs.chinese);
                }
                cJSON_Delete(root);
            }
        }
        if (st == LM_OK) {
            st = load_vocab_file(vocab, &o, fs, out);
        }
    } else {
        st = lmi_error(LM_ERR_NOT_FOUND, "%s: no tokenizer.json nor vocab.txt in the folder", dir);
    }
    lmi_free(json);
    lmi_free(vocab);
    lmi_free(config);
    return st;
}

/* ---- accessors ---- */

size_t lmi_tokenizer_vocab_size(const lm_tokenizer_t *tok) { return tok ? tok->vocab.n : 0; }

int32_t lmi_tokenizer_token_to_id(const lm_tokenizer_t *tok, const char *token) {
    if (tok == NULL || token == NULL) {
        return -1;
    }
    return lmi_vocab_lookup(&tok->vocab, token, strlen(token));
}

const char *lmi_tokenizer_id_to_token(const lm_tokenizer_t *tok, int32_t id) {
    if (tok == NULL || id < 0 || (size_t)id >= tok->vocab.n) {
        return NULL;
    }
    return tok->vocab.pool + tok->vocab.tok_off[id];
}

int32_t lmi_tokenizer_special_id(const lm_tokenizer_t *tok, lm_special_token which) {
    if (tok == NULL || (unsigned)which > LM_SPECIAL_MASK) {
        return -1;
    }
    return tok->special[which];
}

/* ---- saving ---- */

lm_status lmi_tokenizer_save_dir(const lm_tokenizer_t *tok, const char *dir) {
    char *path = NULL;
    lmi_atomic_file *f = NULL;
    lm_status st;
    size_t i;
    char config[512];
    int k;
    if (tok == NULL || dir == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_tokenizer_save_dir: tok or dir is NULL");
    }
    for (i = 0; i < tok->vocab.n; i++) {
        if (memchr(tok->vocab.pool + tok->vocab.tok_off[i], '\n', tok->vocab.tok_len[i]) != NULL) {
            return lmi_error(LM_ERR_UNSUPPORTED,
                            "lm_tokenizer_save_dir: token %zu contains a newline; vocab.txt cannot "
                            "hold it", i);
        }
    }
    path = lmi_path_join(dir, "vocab.txt");
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "lm_tokenizer_save_dir: out of memory");
    }
    st = lmi_atomic_file_open(path, &f);
    for (i = 0; st == LM_OK && i < tok->vocab.n; i++) {
        st = lmi_atomic_file_write(f, tok->vocab.pool + tok->vocab.tok_off[i], tok->vocab.tok_len[i]);
        if (st == LM_OK) {
            st = lmi_atomic_file_write(f, "\n", 1);
        }
    }
    if (f != NULL) {
        if (st == LM_OK) {
            st = lmi_atomic_file_commit(f);
        } else {
            lmi_atomic_file_abort(f);
        }
    }
    lmi_free(path);
    if (st != LM_OK) {
        return st;
    }
    k = snprintf(config, sizeof config,
                 "{\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"do_lower_case\": %s,\n"
                 "  \"strip_accents\": %s,\n  \"tokenize_chinese_chars\": %s,\n"
                 "  \"clean_up_tokenization_spaces\": true\n}\n",
                 tok->lower ? "true" : "false",
                 tok->strip == tok->lower ? "null" : (tok->strip ? "true" : "false"),
                 tok->chinese ? "true" : "false");
    path = lmi_path_join(dir, "tokenizer_config.json");
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "lm_tokenizer_save_dir: out of memory");
    }
    st = lmi_file_write_atomic(path, config, (size_t)k);
    lmi_free(path);
    return st;
}
