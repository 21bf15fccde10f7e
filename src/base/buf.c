/* The growing byte buffer (see buf.h). */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

/* Room for `need` more bytes and the NUL; 0 (failed) when it cannot be had. */
static int reserve(lmi_buf *b, size_t need) {
    size_t cap;
    char *p;
    if (b->failed) {
        return 0;
    }
    if (need < (size_t)-1 - b->len && b->len + need < b->cap) {
        return 1;
    }
    if (need >= (size_t)-1 / 2 - b->len) {
        b->failed = 1;
        return 0;
    }
    cap = b->cap ? b->cap : 256;
    while (cap <= b->len + need) {
        cap *= 2;
    }
    p = lmi_realloc(b->p, cap);
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

int lmi_buf_put(lmi_buf *b, const void *s, size_t n) {
    if (!reserve(b, n)) {
        return 0;
    }
    if (n > 0) {
        memcpy(b->p + b->len, s, n);
    }
    b->len += n;
    b->p[b->len] = '\0';
    return 1;
}

int lmi_buf_printf(lmi_buf *b, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return 0;
    }
    if (!reserve(b, (size_t)n)) {
        return 0;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 1;
}

void lmi_buf_free(lmi_buf *b) {
    lmi_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
