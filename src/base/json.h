/* Internal: JSON reading on cJSON, with the checks liblm wants before and after the parse
 * (valid UTF-8, size limit, typed getters that say which key was wrong). */
#ifndef LM_BASE_JSON_H
#define LM_BASE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lm.h"

/* Parses text[0..len) (need not be NUL-terminated). `what` names the input in error messages
 * (e.g. a file path). Free *out with cJSON_Delete.
 * A key repeated in an object keeps its last value, at the place of its first occurrence, as
 * Python's json.loads does: config.json, tokenizer_config.json, modules.json ... are read by
 * transformers and sentence-transformers with Python's json, and liblm must read the same model.
 * (tokenizer.json is read by Rust's serde_json, which also keeps the last value of a repeated
 * map key and refuses a repeated struct field; liblm then reads what it keeps or more.)
 * A string holding \u0000 is refused (LM_ERR_FORMAT): cJSON would cut it there, and two keys
 * could then collide. */
lm_status lmi_json_parse(const char *text, size_t len, const char *what, cJSON **out);

/* Reads and parses a JSON file of at most max_size bytes. */
lm_status lmi_json_parse_file(const char *path, size_t max_size, cJSON **out);

/* Typed getters on an object. Each returns LM_OK and stores the value; LM_ERR_NOT_FOUND (no error
 * text set) when the key is absent, so callers can apply defaults; LM_ERR_FORMAT with a sentence
 * naming `what` and the key when the type is wrong or the value out of range. */
lm_status lmi_json_get_int(const cJSON *obj, const char *key, const char *what, int64_t min,
                          int64_t max, int64_t *out);
lm_status lmi_json_get_double(const cJSON *obj, const char *key, const char *what, double *out);
lm_status lmi_json_get_bool(const cJSON *obj, const char *key, const char *what, int *out);
/* The string stays owned by obj. */
lm_status lmi_json_get_string(const cJSON *obj, const char *key, const char *what, const char **out);

/* Serialises with indentation into a new buffer; free with cJSON_free. NULL on allocation failure. */
char *lmi_json_print(const cJSON *item);

#endif
