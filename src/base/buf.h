/* Internal: a growing byte buffer (text being built: decoded strings, JSON answers). The bytes
 * are always followed by a NUL. An allocation failure sets `failed` and makes every later call a
 * no-op, so a caller can build a whole text and check once at the end. */
#ifndef LM_BASE_BUF_H
#define LM_BASE_BUF_H

#include <stddef.h>

#include "base/error.h"

typedef struct lmi_buf {
    char *p;    /* the bytes (lmi_malloc), NUL-terminated once anything was added; or NULL */
    size_t len; /* bytes used, the NUL not counted */
    size_t cap;
    int failed; /* 1 after an allocation failed */
} lmi_buf;

#define LMI_BUF_INIT {NULL, 0, 0, 0}

/* Appends s[0..n). Returns 1, or 0 when the buffer has failed. */
int lmi_buf_put(lmi_buf *b, const void *s, size_t n);
/* Appends printf-style text. Returns 1, or 0 when the buffer has failed. */
int lmi_buf_printf(lmi_buf *b, const char *fmt, ...) LM_PRINTF(2, 3);
/* Frees the bytes and resets b to empty. */
void lmi_buf_free(lmi_buf *b);

#endif
