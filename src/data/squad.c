/* SQuAD v1.1 JSON: data[].paragraphs[].context with qas[].id, question and answers[].text /
 * answer_start (characters of the context, as Python indexes it). One QA example per question;
 * answer positions are checked against the context and kept in characters and in bytes. Errors
 * name the JSON path of the bad item (the file has no useful line structure). */
#include "loader.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/json.h"
#include "base/utf8.h"

/* The byte position of character `chars` in s[0..len) (len when past the end). */
static size_t byte_of_char(const char *s, size_t len, size_t chars) {
    size_t b = 0, c = 0;
    while (b < len && c < chars) {
        unsigned char x = (unsigned char)s[b];
        b += x < 0x80 ? 1 : x < 0xE0 ? 2 : x < 0xF0 ? 3 : 4;
        c++;
    }
    return b < len ? b : len;
}

static const cJSON *array_item(const cJSON *obj, const char *key) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(a) ? a : NULL;
}

static lm_status string_item(lmi_dataset *ds, const cJSON *obj, const char *key, const char *where,
                             const char **out, size_t *len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t bad;
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        return lmi_error(LM_ERR_FORMAT, "%s: %s: \"%s\" is missing or not a string", ds->name,
                        where, key);
    }
    *len = strlen(v->valuestring);
    if (!lmi_utf8_validate(v->valuestring, *len, &bad)) {
        return lmi_error(LM_ERR_UTF8, "%s: %s: \"%s\" has invalid UTF-8 at byte %zu", ds->name,
                        where, key, bad);
    }
    *out = v->valuestring;
    return LM_OK;
}

static lm_status read_answers(lmi_dataset *ds, const cJSON *answers, const char *where,
                              const char *ctx, size_t ctx_len, size_t ctx_chars) {
    const cJSON *a;
    size_t k = 0;
    lm_status st;
    cJSON_ArrayForEach(a, answers) {
        char w[200];
        const char *text;
        size_t len, chars;
        int64_t start;
        lmi_answer ans;
        snprintf(w, sizeof w, "%s.answers[%zu]", where, k++);
        if (!cJSON_IsObject(a)) {
            return lmi_error(LM_ERR_FORMAT, "%s: %s is not an object", ds->name, w);
        }
        if ((st = string_item(ds, a, "text", w, &text, &len)) != LM_OK) {
            return st;
        }
        st = lmi_json_get_int(a, "answer_start", w, 0, INT32_MAX, &start);
        if (st == LM_ERR_NOT_FOUND) {
            return lmi_error(LM_ERR_FORMAT, "%s: %s: no \"answer_start\"", ds->name, w);
        }
        if (st != LM_OK) {
            return lmi_error_prefix(st, "%s", ds->name);
        }
        chars = lmi_utf8_length(text, len);
        if ((size_t)start > ctx_chars || chars > ctx_chars - (size_t)start) {
            return lmi_error(LM_ERR_FORMAT, "%s: %s: the answer (characters %lld to %lld) runs past "
                            "the end of the context (%zu characters)", ds->name, w,
                            (long long)start, (long long)start + (long long)chars, ctx_chars);
        }
        ans.start_char = (size_t)start;
        ans.start = byte_of_char(ctx, ctx_len, (size_t)start);
        ans.end = ans.start + byte_of_char(ctx + ans.start, ctx_len - ans.start, chars);
        if (ans.end - ans.start != len || memcmp(ctx + ans.start, text, len) != 0) {
            lmi_log(LM_LOG_WARN, "%s: %s: the answer text differs from the context at answer_start",
                    ds->name, w);
        }
        if ((ans.text = lmi_pool_strndup(ds, text, len)) == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory", ds->name);
        }
        ans.len = len;
        if ((st = lmi_dataset_push_answer(ds, &ans)) != LM_OK) {
            return st;
        }
    }
    return LM_OK;
}

static lm_status read_paragraph(lmi_dataset *ds, const cJSON *p, const char *where) {
    const char *ctx, *ctx_copy;
    size_t ctx_len, ctx_chars, k = 0;
    const cJSON *qas, *q;
    lm_status st;
    if (!cJSON_IsObject(p)) {
        return lmi_error(LM_ERR_FORMAT, "%s: %s is not an object", ds->name, where);
    }
    if ((st = string_item(ds, p, "context", where, &ctx, &ctx_len)) != LM_OK) {
        return st;
    }
    if (ctx_len > INT32_MAX) {
        return lmi_error(LM_ERR_RANGE, "%s: %s: the context is longer than 2 GiB", ds->name, where);
    }
    if ((qas = array_item(p, "qas")) == NULL) {
        return lmi_error(LM_ERR_FORMAT, "%s: %s: no \"qas\" array", ds->name, where);
    }
    ctx_chars = lmi_utf8_length(ctx, ctx_len);
    if ((ctx_copy = lmi_pool_strndup(ds, ctx, ctx_len)) == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", ds->name);
    }
    cJSON_ArrayForEach(q, qas) {
        char w[160];
        const char *question, *id;
        size_t qlen, idlen;
        const cJSON *answers, *idv;
        char idbuf[32];
        lmi_example *e;
        snprintf(w, sizeof w, "%s.qas[%zu]", where, k++);
        if (!cJSON_IsObject(q)) {
            return lmi_error(LM_ERR_FORMAT, "%s: %s is not an object", ds->name, w);
        }
        idv = cJSON_GetObjectItemCaseSensitive(q, "id");
        if (cJSON_IsNumber(idv)) {
            snprintf(idbuf, sizeof idbuf, "%.17g", idv->valuedouble);
            id = idbuf;
            idlen = strlen(idbuf);
        } else if ((st = string_item(ds, q, "id", w, &id, &idlen)) != LM_OK) {
            return st;
        }
        if ((st = string_item(ds, q, "question", w, &question, &qlen)) != LM_OK) {
            return st;
        }
        if ((answers = array_item(q, "answers")) == NULL) {
            return lmi_error(LM_ERR_FORMAT, "%s: %s: no \"answers\" array", ds->name, w);
        }
        if ((e = lmi_dataset_push(ds, 0)) == NULL ||
            (e->text = lmi_pool_strndup(ds, question, qlen)) == NULL ||
            (e->id = lmi_pool_strndup(ds, id, idlen)) == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory", ds->name);
        }
        e->text_len = qlen;
        e->pair = ctx_copy;
        e->pair_len = ctx_len;
        e->first = ds->n_answers;
        if ((st = read_answers(ds, answers, w, ctx_copy, ctx_len, ctx_chars)) != LM_OK) {
            return st;
        }
        ds->examples[ds->n - 1].count = ds->n_answers - ds->examples[ds->n - 1].first;
    }
    return LM_OK;
}

lm_status lmi_read_squad(lmi_dataset *ds, const char *data, size_t len, const lmi_load_options *o) {
    cJSON *root = NULL;
    const cJSON *arts, *art;
    size_t a = 0;
    lm_status st;
    (void)o;
    ds->task = LMI_TASK_QA;
    if ((st = lmi_json_parse(data, len, ds->name, &root)) != LM_OK) {
        return st;
    }
    if (!cJSON_IsObject(root) || (arts = array_item(root, "data")) == NULL) {
        cJSON_Delete(root);
        return lmi_error(LM_ERR_FORMAT, "%s: no \"data\" array (not SQuAD v1.1 JSON)", ds->name);
    }
    cJSON_ArrayForEach(art, arts) {
        const cJSON *paras, *p;
        size_t k = 0;
        char w[80];
        snprintf(w, sizeof w, "data[%zu]", a++);
        if (!cJSON_IsObject(art) || (paras = array_item(art, "paragraphs")) == NULL) {
            st = lmi_error(LM_ERR_FORMAT, "%s: %s: no \"paragraphs\" array", ds->name, w);
            break;
        }
        cJSON_ArrayForEach(p, paras) {
            char wp[120];
            snprintf(wp, sizeof wp, "%s.paragraphs[%zu]", w, k++);
            if ((st = read_paragraph(ds, p, wp)) != LM_OK) {
                break;
            }
        }
        if (st != LM_OK) {
            break;
        }
    }
    cJSON_Delete(root);
    return st;
}
