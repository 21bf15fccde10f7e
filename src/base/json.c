/* JSON reading on cJSON with UTF-8 validation, Python's rule for repeated keys, and typed,
 * self-explaining getters. */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "file.h"
#include "utf8.h"

/* The offset of the first \u0000 escape inside a JSON string of text[0..len), or len. */
static size_t nul_escape(const char *text, size_t len) {
    size_t i;
    int in_string = 0;
    for (i = 0; i < len; i++) {
        char c = text[i];
        if (!in_string) {
            in_string = c == '"';
        } else if (c == '"') {
            in_string = 0;
        } else if (c == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && text[i + 2] == '0' && text[i + 3] == '0' &&
                text[i + 4] == '0' && text[i + 5] == '0') {
                return i;
            }
            i++; /* the escaped character */
        }
    }
    return len;
}

typedef struct key_ref {
    const char *key;
    size_t index;
    cJSON *item;
} key_ref;

static int cmp_key_ref(const void *a, const void *b) {
    const key_ref *x = a;
    const key_ref *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0) {
        return c;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Repeated keys of one object: Python's json (and so transformers) keeps the last value, at the
 * place of the first key; so does this. Returns 0 when out of memory. */
static int dedupe_object(cJSON *obj) {
    key_ref small[32];
    key_ref *refs = small;
    size_t n = 0;
    size_t i;
    size_t j;
    cJSON *c;
    for (c = obj->child; c != NULL; c = c->next) {
        n++;
    }
    if (n < 2) {
        return 1;
    }
    if (n > sizeof small / sizeof small[0]) {
        refs = lmi_malloc_array(n, sizeof *refs);
        if (refs == NULL) {
            return 0;
        }
    }
    for (c = obj->child, i = 0; c != NULL; c = c->next, i++) {
        refs[i].key = c->string != NULL ? c->string : "";
        refs[i].index = i;
        refs[i].item = c;
    }
    qsort(refs, n, sizeof *refs, cmp_key_ref);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(refs[j].key, refs[i].key) == 0; j++) {
        }
        if (j - i > 1) {
            size_t m;
            cJSON *last = cJSON_DetachItemViaPointer(obj, refs[j - 1].item);
            for (m = i + 1; m + 1 < j; m++) {
                cJSON_Delete(cJSON_DetachItemViaPointer(obj, refs[m].item));
            }
            cJSON_ReplaceItemViaPointer(obj, refs[i].item, last); /* frees the first */
        }
    }
    if (refs != small) {
        lmi_free(refs);
    }
    return 1;
}

/* dedupe_object on every object of the tree (cJSON limits the nesting to CJSON_NESTING_LIMIT). */
static int dedupe_tree(cJSON *item) {
    cJSON *c;
    if (cJSON_IsObject(item) && !dedupe_object(item)) {
        return 0;
    }
    for (c = item->child; c != NULL; c = c->next) {
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !dedupe_tree(c)) {
            return 0;
        }
    }
    return 1;
}

lm_status lmi_json_parse(const char *text, size_t len, const char *what, cJSON **out) {
    size_t bad;
    const char *end = NULL;
    cJSON *root;
    *out = NULL;
    if (!lmi_utf8_validate(text, len, &bad)) {
        return lmi_error(LM_ERR_UTF8, "%s: invalid UTF-8 at byte %zu", what, bad);
    }
    if (memchr(text, '\0', len) != NULL) {
        return lmi_error(LM_ERR_FORMAT, "%s: NUL byte at offset %zu in JSON text", what,
                        (size_t)((const char *)memchr(text, '\0', len) - text));
    }
    if (nul_escape(text, len) < len) { /* cJSON would cut the string there */
        return lmi_error(LM_ERR_FORMAT,
                        "%s: a string holds \\u0000 at byte %zu, which liblm cannot hold in a C "
                        "string",
                        what, nul_escape(text, len));
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        size_t at = (end != NULL && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
        return lmi_error(LM_ERR_FORMAT, "%s: malformed JSON near byte %zu", what, at);
    }
    /* Only whitespace may follow the value. */
    if (end != NULL) {
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) {
            end++;
        }
        if (end < text + len) {
            cJSON_Delete(root);
            return lmi_error(LM_ERR_FORMAT, "%s: unexpected data after the JSON value at byte %zu",
                            what, (size_t)(end - text));
        }
    }
    if (!dedupe_tree(root)) {
        cJSON_Delete(root);
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
    }
    *out = root;
    return LM_OK;
}

lm_status lmi_json_parse_file(const char *path, size_t max_size, cJSON **out) {
    char *text;
    size_t len;
    lm_status st = lmi_file_read_all(path, max_size, &text, &len);
    *out = NULL;
    if (st != LM_OK) {
        return st;
    }
    st = lmi_json_parse(text, len, path, out);
    lmi_free(text);
    return st;
}

static lm_status get_item(const cJSON *obj, const char *key, const cJSON **item) {
    *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (*item == NULL || cJSON_IsNull(*item)) {
        return LM_ERR_NOT_FOUND;
    }
    return LM_OK;
}

lm_status lmi_json_get_int(const cJSON *obj, const char *key, const char *what, int64_t min,
                          int64_t max, int64_t *out) {
    const cJSON *item;
    double v;
    if (get_item(obj, key, &item) != LM_OK) {
        return LM_ERR_NOT_FOUND;
    }
    if (!cJSON_IsNumber(item)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" must be an integer", what, key);
    }
    v = item->valuedouble;
    if (!isfinite(v) || v != floor(v)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" must be an integer, not %g", what, key, v);
    }
    if (v < (double)min || v > (double)max) {
        return lmi_error(LM_ERR_RANGE, "%s: \"%s\" is %.0f, outside [%lld, %lld]", what, key, v,
                        (long long)min, (long long)max);
    }
    *out = (int64_t)v;
    return LM_OK;
}

lm_status lmi_json_get_double(const cJSON *obj, const char *key, const char *what, double *out) {
    const cJSON *item;
    if (get_item(obj, key, &item) != LM_OK) {
        return LM_ERR_NOT_FOUND;
    }
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" must be a finite number", what, key);
    }
    *out = item->valuedouble;
    return LM_OK;
}

lm_status lmi_json_get_bool(const cJSON *obj, const char *key, const char *what, int *out) {
    const cJSON *item;
    if (get_item(obj, key, &item) != LM_OK) {
        return LM_ERR_NOT_FOUND;
    }
    if (!cJSON_IsBool(item)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" must be true or false", what, key);
    }
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return LM_OK;
}

lm_status lmi_json_get_string(const cJSON *obj, const char *key, const char *what,
                             const char **out) {
    const cJSON *item;
    if (get_item(obj, key, &item) != LM_OK) {
        return LM_ERR_NOT_FOUND;
    }
    if (!cJSON_IsString(item) || item->valuestring == NULL) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" must be a string", what, key);
    }
    *out = item->valuestring;
    return LM_OK;
}

char *lmi_json_print(const cJSON *item) { return cJSON_Print(item); }
