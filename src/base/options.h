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

/* The public *_options_init(opts, caller_size) under the same convention: writes exactly
 * caller_size bytes into `opts` (the library's `defaults`, of our_size bytes, then zeros beyond
 * them), with the first field set to caller_size. NULL `opts` or caller_size < sizeof(size_t) is
 * LM_ERR_INVALID_ARGUMENT (nothing written). `what` names the function. */
lm_status lmi_options_init_caller(void *opts, size_t caller_size, const void *defaults,
                                  size_t our_size, const char *what);

#endif
