/* The data sets' line reader: chunked reads of a file or a memory buffer, line numbers, checks
 * of every line (length, NUL bytes, UTF-8). See reader.h. */
#include "reader.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "base/alloc.h"
#include "base/utf8.h"

#define CHUNK (64 * 1024)

lm_status lmi_reader_error(const lmi_reader *r, lm_status status, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lmi_error(status, "%s:%zu: %s", r->name, r->line, msg);
}

lm_status lmi_reader_open_file(lmi_reader *r, const char *path, size_t max_line) {
    memset(r, 0, sizeof *r);
    r->name = path;
    r->max_line = max_line;
    r->next_line = 1;
    r->at_start = 1;
    r->f = fopen(path, "rb");
    if (r->f == NULL) {
        int err = errno;
        return lmi_error(lmi_status_from_errno(err), "cannot open %s: %s", path, strerror(err));
    }
    r->chunk = lmi_malloc(CHUNK);
    if (r->chunk == NULL) {
        fclose(r->f);
        r->f = NULL;
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for a read buffer", path);
    }
    r->mem = r->chunk;
    return LM_OK;
}

void lmi_reader_open_memory(lmi_reader *r, const char *data, size_t len, const char *name,
                            size_t max_line) {
    memset(r, 0, sizeof *r);
    r->name = name;
    r->max_line = max_line;
    r->next_line = 1;
    r->at_start = 1;
    r->mem = data;
    r->mem_len = len;
}

void lmi_reader_close(lmi_reader *r) {
    if (r->f != NULL) {
        fclose(r->f);
    }
    lmi_free(r->chunk);
    lmi_free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Makes room for `extra` more bytes (plus the NUL) in buf, refusing records over max_line. */
static lm_status reserve(lmi_reader *r, size_t extra) {
    size_t need;
    if (extra > r->max_line || r->len > r->max_line - extra) {
        return lmi_reader_error(r, LM_ERR_RANGE,
                               "line longer than %zu bytes (the limit on a record's length)",
                               r->max_line);
    }
    need = r->len + extra + 1;
    if (need > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        char *p;
        while (cap < need) {
            cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
        }
        p = lmi_realloc(r->buf, cap);
        if (p == NULL) {
            return lmi_reader_error(r, LM_ERR_NOMEM, "out of memory for a line of %zu bytes", need);
        }
        r->buf = p;
        r->cap = cap;
    }
    return LM_OK;
}

/* Refills the chunk from the file; returns the bytes now available (0 at the end). */
static lm_status refill(lmi_reader *r, size_t *avail) {
    size_t n;
    *avail = r->mem_len - r->mem_pos;
    if (*avail > 0 || r->f == NULL || r->eof) {
        return LM_OK;
    }
    n = fread(r->chunk, 1, CHUNK, r->f);
    if (n == 0) {
        if (ferror(r->f)) {
            return lmi_reader_error(r, LM_ERR_IO, "read error");
        }
        r->eof = 1;
    }
    r->mem_len = n;
    r->mem_pos = 0;
    *avail = n;
    return LM_OK;
}

lm_status lmi_reader_next(lmi_reader *r, int append, int *got) {
    size_t start;
    int any = 0;
    lm_status st;
    *got = 0;
    if (!append) {
        r->len = 0;
        r->line = r->next_line;
    } else {
        if ((st = reserve(r, 1)) != LM_OK) {
            return st;
        }
        r->buf[r->len++] = '\n';
    }
    start = r->len;
    for (;;) {
        size_t avail;
        const char *p, *nl;
        size_t take;
        if ((st = refill(r, &avail)) != LM_OK) {
            return st;
        }
        if (avail == 0) {
            break;
        }
        any = 1;
        p = r->mem + r->mem_pos;
        nl = memchr(p, '\n', avail);
        take = nl ? (size_t)(nl - p) : avail;
        if ((st = reserve(r, take)) != LM_OK) {
            return st;
        }
        memcpy(r->buf + r->len, p, take);
        r->len += take;
        r->mem_pos += take + (nl ? 1 : 0);
        if (nl) {
            break;
        }
    }
    if (!any) {
        if (append) {
            r->len--; /* take the "\n" back */
        }
        if (r->buf != NULL) {
            r->buf[r->len] = '\0';
        }
        return LM_OK;
    }
    r->next_line++;
    if (r->len > start && r->buf[r->len - 1] == '\r') {
        r->len--;
    }
    r->buf[r->len] = '\0';
    if (r->at_start) {
        r->at_start = 0;
        if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
            memmove(r->buf, r->buf + 3, r->len - 2);
            r->len -= 3;
        }
    }
    {
        const char *s = r->buf + start;
        size_t n = r->len - start;
        const char *z = memchr(s, '\0', n);
        size_t bad;
        if (z != NULL) {
            return lmi_error(LM_ERR_FORMAT, "%s:%zu: NUL byte at byte %zu of the line (not a text "
                            "file?)", r->name, r->next_line - 1, (size_t)(z - s) + 1);
        }
        if (!lmi_utf8_validate(s, n, &bad)) {
            return lmi_error(LM_ERR_UTF8, "%s:%zu: invalid UTF-8 at byte %zu of the line", r->name,
                            r->next_line - 1, bad + 1);
        }
    }
    *got = 1;
    return LM_OK;
}
