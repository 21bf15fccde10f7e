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
                                what, dst_size + i, LM_VERSION_STRING);
            }
        }
        caller_size = dst_size;
    }
    memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
           caller_size - sizeof(size_t));
    memcpy(dst, &dst_size, sizeof dst_size);
    return LM_OK;
}

lm_status lmi_options_init_caller(void *opts, size_t caller_size, const void *defaults,
                                  size_t our_size, const char *what) {
    if (opts == NULL || caller_size < sizeof(size_t)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                        "%s: opts is NULL or struct_size %zu is smaller than a size_t; call it as "
                        "%s(&opts, sizeof opts)", what, caller_size, what);
    }
    memcpy(opts, defaults, caller_size < our_size ? caller_size : our_size);
    if (caller_size > our_size) {
        memset((char *)opts + our_size, 0, caller_size - our_size);
    }
    memcpy(opts, &caller_size, sizeof caller_size);
    return LM_OK;
}
