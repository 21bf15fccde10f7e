/* Fuzz target: the JSON reader and its typed getters on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cJSON *root = NULL;
    const cJSON *item;
    if (lmi_json_parse((const char *)data, size, "fuzz", &root) != LM_OK) {
        if (root != NULL) {
            abort(); /* a failed parse must not hand out a tree */
        }
        return 0;
    }
    cJSON_ArrayForEach(item, root) {
        if (item->string != NULL) {
            int64_t i;
            double d;
            int b;
            const char *s;
            (void)lmi_json_get_int(root, item->string, "fuzz", INT64_MIN / 2, INT64_MAX / 2, &i);
            (void)lmi_json_get_double(root, item->string, "fuzz", &d);
            (void)lmi_json_get_bool(root, item->string, "fuzz", &b);
            (void)lmi_json_get_string(root, item->string, "fuzz", &s);
        }
    }
    {
        char *printed = lmi_json_print(root);
        cJSON_free(printed);
    }
    cJSON_Delete(root);
    return 0;
}
