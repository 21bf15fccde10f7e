/* Internal (data): a line reader over a file or a memory buffer, for the data set loaders. It
 * reads in chunks (memory stays bounded by the longest line, never the file), counts lines from 1,
 * drops a leading UTF-8 byte-order mark and each line's "\n" / "\r\n", and refuses lines longer
 * than a limit, NUL bytes and invalid UTF-8 with a "file:line: ..." sentence. */
#ifndef LM_DATA_READER_H
#define LM_DATA_READER_H

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "lm.h"

typedef struct lmi_reader {
    const char *name;   /* the input's name in messages (a path or the caller's label) */
    FILE *f;            /* NULL when reading memory */
    const char *mem;    /* memory input, or the file's chunk buffer */
    size_t mem_len;     /* bytes in mem */
    size_t mem_pos;     /* next unread byte of mem */
    char *chunk;        /* file chunk buffer (owned) */
    char *buf;          /* the current record (owned), NUL-terminated */
    size_t len;         /* bytes in buf */
    size_t cap;         /* allocated bytes of buf */
    size_t line;        /* number of the record's first line */
    size_t next_line;   /* number of the next line to read */
    size_t max_line;    /* longest record accepted, in bytes */
    int at_start;       /* nothing read yet (BOM check) */
    int eof;
} lmi_reader;

/* Opens a file. max_line is the longest record in bytes. Close with lmi_reader_close. */
lm_status lmi_reader_open_file(lmi_reader *r, const char *path, size_t max_line);

/* Reads data[0..len) (not copied: it must outlive the reader); `name` labels messages. */
void lmi_reader_open_memory(lmi_reader *r, const char *data, size_t len, const char *name,
                            size_t max_line);

void lmi_reader_close(lmi_reader *r);

/* Reads the next line into r->buf / r->len (line number r->line). *got is 0 at the end of the
 * input. With append = 1 the line is added to the current record after a "\n" instead (a quoted
 * CSV field that spans lines); then *got = 0 means the input ended inside the record. The line's
 * bytes are checked (NUL, UTF-8, length) before it is returned. */
lm_status lmi_reader_next(lmi_reader *r, int append, int *got);

/* Formats "name:line: " + message as the last error and returns status. */
lm_status lmi_reader_error(const lmi_reader *r, lm_status status, const char *fmt, ...)
    LM_PRINTF(3, 4);

#endif
