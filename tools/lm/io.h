/* The lm tool's input and output.
 *
 * Input: lines read in batches that never wait for more than is there: a batch takes up to
 * `max` lines, blocks only until the first one is complete, then takes only what can be read
 * without blocking (poll). A file or a fast pipe thus gives full batches, and a program that
 * writes one line and waits for its answer gets it. Memory grows with the input, never with
 * `max`.
 *
 * Output: stdout, or a file written under a temporary name next to it and renamed when the run
 * ends (a failed run leaves no half file; a path that is not a regular file, such as /dev/full
 * or a FIFO, is written directly). Every line is flushed and checked: the first failed write is
 * reported ("lm NAME: cannot write to stdout: No space left on device") and stops the run. */
#ifndef LM_TOOL_IO_H
#define LM_TOOL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A batch of lines (their newline, and a '\r' before it, removed). */
typedef struct tool_lines {
    size_t n;          /* lines */
    const char **text; /* [n] NUL-terminated (a line may hold other NULs: use len) */
    size_t *len;       /* [n] bytes */
    uint64_t first;    /* 1-based number of text[0] in the input */
    char *data;        /* storage of the texts */
    size_t data_len, data_cap, cap;
    size_t *off; /* [cap] offsets of the texts in data */
} tool_lines;
void tool_lines_free(tool_lines *l);

typedef struct tool_input {
    const char *cmd;  /* subcommand, for messages */
    const char *name; /* "stdin" or the path */
    int fd, close_fd, eof;
    char *buf; /* read-ahead [start, end) */
    size_t start, end, cap;
    uint64_t lines; /* lines handed out so far */
} tool_input;

/* Opens `path` (NULL or "-": stdin). Returns 0, or 1 after a message. */
int tool_input_open(tool_input *in, const char *cmd, const char *path);
/* The next batch of at most max (>= 1) lines into l (cleared first). Returns the line count, 0
 * at the end of the input, -1 after a message (read error, out of memory). */
long tool_input_batch(tool_input *in, size_t max, tool_lines *l);
void tool_input_close(tool_input *in);

typedef struct tool_output {
    const char *cmd;  /* subcommand */
    const char *name; /* "stdout" or the path */
    FILE *f;
    char *tmp;        /* temporary path while writing a regular file, else NULL */
    int failed;       /* a write failed (reported) */
} tool_output;

/* Opens `path` (NULL or "-": stdout). Returns 0, or 1 after a message. */
int tool_output_open(tool_output *out, const char *cmd, const char *path);
/* Ends a line: flushes and checks. Returns 0, or 1 after a message (then every later call
 * returns 1 at once). */
int tool_output_line(tool_output *out);
/* Ends the run: keep != 0 closes and renames into place (checked); keep == 0 (a failed run)
 * removes the temporary file. Returns 0, or 1 after a message. */
int tool_output_close(tool_output *out, int keep);
/* Seeks to the start (for a header rewritten at the end). Returns 0, or 1 after a message. */
int tool_output_rewind(tool_output *out);

/* Closes stdout at exit, checked ("lm: cannot write to stdout: ..." unless already said).
 * Returns 0 or 1. */
int tool_close_stdout(void);

/* JSON: a string (invalid UTF-8 bytes become U+FFFD, so the output is always valid JSON), a
 * number (NaN and infinities become null), {"error":MSG,"line":N}\n. */
void tool_json_string(FILE *f, const char *s, size_t len);
void tool_json_float(FILE *f, float v, int digits);
void tool_json_error(FILE *f, const char *msg, uint64_t line);
/* Length of the valid UTF-8 sequence at p (n >= 1 bytes left), or 0 when the byte is invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t tool_utf8_valid(const unsigned char *p, size_t n);

#endif
