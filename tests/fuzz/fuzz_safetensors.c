/* Fuzz target: the safetensors reader over arbitrary bytes (open_memory, then touch every
 * tensor: lookup by name, metadata, conversion to float32). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lmi_safetensors *st = NULL;
    size_t i;
    size_t total = 0;
    if (lmi_safetensors_open_memory(data, size, "fuzz", &st) != LM_OK) {
        if (st != NULL) {
            abort(); /* out must be NULL on failure */
        }
        return 0;
    }
    (void)lmi_safetensors_metadata(st, "format");
    for (i = 0; i < lmi_safetensors_count(st); i++) {
        const lmi_st_tensor *t = lmi_safetensors_at(st, i);
        if (lmi_safetensors_find(st, t->name) != t) {
            abort();
        }
        if ((const uint8_t *)t->data < data || t->offset + t->nbytes > size) {
            abort();
        }
        total += t->nbytes;
        if (t->numel <= 4096) {
            float out[4096];
            (void)lmi_tensor_to_f32(t, out);
        }
    }
    if (total > size) {
        abort();
    }
    lmi_safetensors_close(st);
    return 0;
}
