/* Internal: reading a caller's options struct under the struct_size convention of lm.h. */
#ifndef LM_BASE_OPTIONS_H
#define LM_BASE_OPTIONS_H

#include <stddef.h>

#include "lm.h"

/* Copies a caller's options struct into `dst` (the library's own, already filled with defaults).
 * `src` may be NULL (defaults stay). src's first field is its size: smaller than a size_t, or
 * smaller than `min_size` (the fields of version 1), is LM_ERR_INVALID_ARGUMENT; a caller's struct
 * larger than ours is accepted only if every byte we do not know is zero. `what` names the struct. */
lm_status lmi_options_read(void *dst, size_t dst_size, const void *src, size_t min_size,
                          const char *what);

#endif
