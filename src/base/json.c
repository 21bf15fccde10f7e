/* JSON reading on cJSON with UTF-8 validation and typed, self-explaining getters. */
#include "json.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "file.h"
#include "utf8.h"

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
