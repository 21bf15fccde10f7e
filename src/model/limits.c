/* The default input length of a model folder: what sentence-transformers (max_seq_length) and
 * transformers (the tokenizer's model_max_length) truncate inputs to, bounded by the position
 * table. Read once at load; the text pipelines (src/pipeline/) use it. */
#include <stdint.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json.h"
#include "model/bert.h"

/* dir/name's number under `key`: LM_OK with *value set, LM_ERR_NOT_FOUND when the file or key is
 * absent or unusable (logged), LM_ERR_NOMEM. */
static lm_status read_number(const char *dir, const char *name, const char *key, double *value) {
    char *path = lmi_path_join(dir, name);
    cJSON *root = NULL;
    const cJSON *item;
    lm_status s;
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    if (!lmi_file_exists(path)) {
        lmi_free(path);
        return LM_ERR_NOT_FOUND;
    }
    s = lmi_json_parse_file(path, (size_t)1 << 20, &root);
    if (s == LM_ERR_NOMEM) {
        lmi_free(path);
        return s;
    }
    if (s != LM_OK) {
        lmi_log(LM_LOG_WARN, "%s (ignored)", lmi_last_error());
        lmi_clear_error();
        lmi_free(path);
        return LM_ERR_NOT_FOUND;
    }
    item = cJSON_GetObjectItemCaseSensitive(root, key);
    s = LM_ERR_NOT_FOUND;
    if (cJSON_IsNumber(item)) {
        *value = item->valuedouble;
        s = LM_OK;
    } else if (item != NULL && !cJSON_IsNull(item)) {
        lmi_log(LM_LOG_WARN, "%s: \"%s\" is not a number (ignored)", path, key);
    }
    cJSON_Delete(root);
    lmi_free(path);
    return s;
}

lm_status lmi_bert_read_max_length(lmi_bert *m, const char *dir) {
    static const struct {
        const char *file, *key;
    } sources[] = {{"sentence_bert_config.json", "max_seq_length"},
                   {"tokenizer_config.json", "model_max_length"}};
    const int64_t positions = m->cfg.max_position_embeddings;
    size_t i;
    m->max_seq_length = positions;
    for (i = 0; i < sizeof sources / sizeof *sources; i++) {
        double v = 0;
        lm_status s = read_number(dir, sources[i].file, sources[i].key, &v);
        if (s == LM_ERR_NOMEM) {
            return s;
        }
        if (s != LM_OK) {
            continue;
        }
        if (!(v >= 3)) { /* also NaN */
            lmi_log(LM_LOG_WARN, "%s/%s: %s %g is not a usable length (ignored)", dir,
                    sources[i].file, sources[i].key, v);
            continue;
        }
        m->max_seq_length = v < (double)positions ? (int64_t)v : positions;
        return LM_OK;
    }
    return LM_OK;
}
