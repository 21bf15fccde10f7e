/* The struct_size convention for options structs (see lm.h). */
#include "options.h"

#include <string.h>

#include "error.h"

lm_status lmi_options_read(void *dst, size_t dst_size, const void *src, size_t min_size,
                          const char *what) {
    size_t caller_size;
    size_t i;
    if (src == NULL) {
        return LM_OK;
    }
    memcpy(&caller_size, src, sizeof caller_size);
    if (caller_size < sizeof(size_t) || caller_size < min_size) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                        "%s: struct_size %zu is too small (at least %zu); call its _init function",
                        what, caller_size, min_size);
    }
    if (caller_size > dst_size) {
        const unsigned char *extra = (const unsigned char *)src + dst_size;
        for (i = 0; i < caller_size - dst_size; i++) {
            if (extra[i] != 0) {
                return lmi_error(LM_ERR_UNSUPPORTED,
                                "%s: field at byte %zu is set but this liblm %s does not know it",
                                what, dst_size + i, lm_version_string());
            }
        }
        caller_size = dst_size;
    }
    memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
           caller_size - sizeof(size_t));
    memcpy(dst, &dst_size, sizeof dst_size);
    return LM_OK;
}
