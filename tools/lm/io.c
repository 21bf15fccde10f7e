/* The lm tool's input batches, checked output and JSON writers (see io.h). */
#define _POSIX_C_SOURCE 200809L
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536

/* ---- input ---------------------------------------------------------------------------------- */

void tool_lines_free(tool_lines *l) {
    free(l->text);
    free(l->len);
    free(l->off);
    free(l->data);
    memset(l, 0, sizeof *l);
}

/* Appends one line; returns 0 or -1 (out of memory). */
static int add_line(tool_lines *l, const char *s, size_t len) {
    if (len > 0 && s[len - 1] == '\r') {
        len--;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        size_t *off = realloc(l->off, cap * sizeof *off), *lens;
        const char **text;
        if (off == NULL) {
            return -1;
        }
        l->off = off;
        lens = realloc(l->len, cap * sizeof *lens);
        if (lens == NULL) {
            return -1;
        }
        l->len = lens;
        text = realloc(l->text, cap * sizeof *text);
        if (text == NULL) {
            return -1;
        }
        l->text = text;
        l->cap = cap;
    }
    if (l->data_cap - l->data_len < len + 1) {
        size_t cap = l->data_cap ? l->data_cap : 4096;
        char *d;
        while (cap - l->data_len < len + 1) {
            cap *= 2;
        }
        d = realloc(l->data, cap);
        if (d == NULL) {
            return -1;
        }
        l->data = d;
        l->data_cap = cap;
    }
    memcpy(l->data + l->data_len, s, len);
    l->data[l->data_len + len] = '\0';
    l->off[l->n] = l->data_len;
    l->len[l->n] = len;
    l->data_len += len + 1;
    l->n++;
    return 0;
}

int tool_input_open(tool_input *in, const char *cmd, const char *path) {
    memset(in, 0, sizeof *in);
    in->cmd = cmd;
    if (path == NULL || strcmp(path, "-") == 0) {
        in->fd = 0;
        in->name = "stdin";
        return 0;
    }
    in->name = path;
    in->fd = open(path, O_RDONLY);
    if (in->fd < 0) {
        fprintf(stderr, "lm %s: cannot open %s: %s\n", cmd, path, strerror(errno));
        return 1;
    }
    in->close_fd = 1;
    return 0;
}

void tool_input_close(tool_input *in) {
    if (in->close_fd) {
        close(in->fd);
    }
    free(in->buf);
    memset(in, 0, sizeof *in);
}

/* Whether a read would return at once (data or end of input waiting). */
static int input_ready(int fd) {
    struct pollfd p;
    int r;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        r = poll(&p, 1, 0);
    } while (r < 0 && errno == EINTR);
    return r > 0; /* POLLIN, POLLHUP (end) or POLLERR (the read reports it) */
}

/* One read into the read-ahead buffer. Returns 0 (eof set at the end), or -1 after a message. */
static int fill(tool_input *in) {
    ssize_t r;
    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->cap - in->end < READ_CHUNK) {
        size_t cap = in->cap ? in->cap : READ_CHUNK;
        char *b;
        while (cap - in->end < READ_CHUNK) {
            cap *= 2;
        }
        b = realloc(in->buf, cap);
        if (b == NULL) {
            fprintf(stderr, "lm %s: out of memory reading %s\n", in->cmd, in->name);
            return -1;
        }
        in->buf = b;
        in->cap = cap;
    }
    do {
        r = read(in->fd, in->buf + in->end, in->cap - in->end);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        fprintf(stderr, "lm %s: cannot read %s: %s\n", in->cmd, in->name, strerror(errno));
        return -1;
    }
    if (r == 0) {
        in->eof = 1;
    }
    in->end += (size_t)r;
    return 0;
}

long tool_input_batch(tool_input *in, size_t max, tool_lines *l) {
    size_t i;
    l->n = 0;
    l->data_len = 0;
    l->first = in->lines + 1;
    for (;;) {
        while (l->n < max && in->start < in->end) {
            char *s = in->buf + in->start, *nl = memchr(s, '\n', in->end - in->start);
            if (nl == NULL) {
                break;
            }
            if (add_line(l, s, (size_t)(nl - s)) != 0) {
                goto nomem;
            }
            in->start += (size_t)(nl - s) + 1;
        }
        if (l->n == max) {
            break;
        }
        if (in->eof) {
            if (in->start < in->end) { /* a last line without its newline */
                if (add_line(l, in->buf + in->start, in->end - in->start) != 0) {
                    goto nomem;
                }
                in->start = in->end;
            }
            break;
        }
        if (l->n > 0 && !input_ready(in->fd)) {
            break; /* answer what is there before waiting for more */
        }
        if (fill(in) != 0) {
            return -1;
        }
    }
    for (i = 0; i < l->n; i++) {
        l->text[i] = l->data + l->off[i];
    }
    in->lines += l->n;
    return (long)l->n;
nomem:
    fprintf(stderr, "lm %s: out of memory reading %s\n", in->cmd, in->name);
    return -1;
}

/* ---- output --------------------------------------------------------------------------------- */

static int stdout_reported;               /* a failed write to stdout was reported */
static char *volatile cleanup_path;       /* the temporary file to remove on a fatal signal */

static void on_signal(int sig) {
    char *p = cleanup_path;
    if (p != NULL) {
        unlink(p);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void watch_signals(void) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    size_t i;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
    }
}

static int write_failed(tool_output *out, int err) {
    if (!out->failed) {
        fprintf(stderr, "lm %s: cannot write to %s: %s\n", out->cmd, out->name,
                strerror(err != 0 ? err : EIO));
        if (out->f == stdout) {
            stdout_reported = 1;
        }
    }
    out->failed = 1;
    return 1;
}

int tool_output_open(tool_output *out, const char *cmd, const char *path) {
    struct stat st;
    size_t len;
    mode_t mask;
    int fd;
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    if (path == NULL || strcmp(path, "-") == 0) {
        out->f = stdout;
        out->name = "stdout";
        return 0;
    }
    out->name = path;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* /dev/full, a FIFO, ...: directly */
        out->f = fopen(path, "w");
        if (out->f == NULL) {
            fprintf(stderr, "lm %s: cannot open %s: %s\n", cmd, path, strerror(errno));
            return 1;
        }
        return 0;
    }
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
        fprintf(stderr, "lm %s: cannot write to %s: %s\n", cmd, path, strerror(errno));
        return 1;
    }
    len = strlen(path);
    out->tmp = malloc(len + 8);
    if (out->tmp == NULL) {
        fprintf(stderr, "lm %s: out of memory\n", cmd);
        return 1;
    }
    memcpy(out->tmp, path, len);
    memcpy(out->tmp + len, ".XXXXXX", 8);
    fd = mkstemp(out->tmp);
    if (fd < 0) {
        fprintf(stderr, "lm %s: cannot create %s: %s\n", cmd, path, strerror(errno));
        free(out->tmp);
        out->tmp = NULL;
        return 1;
    }
    mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || (out->f = fdopen(fd, "w")) == NULL) {
        fprintf(stderr, "lm %s: cannot create %s: %s\n", cmd, path, strerror(errno));
        close(fd);
        unlink(out->tmp);
        free(out->tmp);
        out->tmp = NULL;
        return 1;
    }
    cleanup_path = out->tmp;
    watch_signals();
    return 0;
}

int tool_output_line(tool_output *out) {
    if (out->failed) {
        return 1;
    }
    errno = 0;
    if (fflush(out->f) != 0 || ferror(out->f)) {
        return write_failed(out, errno);
    }
    return 0;
}

int tool_output_rewind(tool_output *out) {
    if (out->failed) {
        return 1;
    }
    errno = 0;
    if (fflush(out->f) != 0 || fseek(out->f, 0, SEEK_SET) != 0) {
        return write_failed(out, errno);
    }
    return 0;
}

int tool_output_close(tool_output *out, int keep) {
    int r = 0;
    if (out->f == NULL) {
        return 0;
    }
    if (out->f == stdout) {
        r = keep ? tool_output_line(out) : 0;
        out->f = NULL;
        return r;
    }
    if (keep && !out->failed) {
        errno = 0;
        if (fflush(out->f) != 0 || ferror(out->f) || (out->tmp && fsync(fileno(out->f)) != 0)) {
            r = write_failed(out, errno);
        }
    }
    errno = 0;
    if (fclose(out->f) != 0 && keep && !out->failed) {
        r = write_failed(out, errno);
    }
    out->f = NULL;
    if (out->tmp != NULL) {
        if (keep && r == 0 && !out->failed && rename(out->tmp, out->name) != 0) {
            fprintf(stderr, "lm %s: cannot rename %s to %s: %s\n", out->cmd, out->tmp, out->name,
                    strerror(errno));
            r = 1;
        }
        if (!keep || r != 0 || out->failed) {
            unlink(out->tmp);
        }
        cleanup_path = NULL;
        free(out->tmp);
        out->tmp = NULL;
    }
    return r != 0 || out->failed;
}

int tool_close_stdout(void) {
    int bad;
    errno = 0;
    bad = fflush(stdout) != 0 || ferror(stdout);
    if (fclose(stdout) != 0) {
        bad = 1;
    }
    if (bad && !stdout_reported) {
        fprintf(stderr, "lm: cannot write to stdout: %s\n", strerror(errno != 0 ? errno : EIO));
        stdout_reported = 1;
    }
    return bad;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 when the byte is invalid. */
size_t tool_utf8_valid(const unsigned char *p, size_t n) {
    uint32_t cp;
    size_t len, i;
    if (p[0] < 0x80) {
        return 1;
    } else if ((p[0] & 0xE0) == 0xC0) {
        len = 2, cp = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3, cp = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4, cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

void tool_json_string(FILE *f, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    fputc('"', f);
    while (i < len) {
        size_t k = tool_utf8_valid(p + i, len - i);
        if (k == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (k > 1) {
            fwrite(p + i, 1, k, f);
            i += k;
            continue;
        }
        switch (p[i]) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (p[i] < 0x20 || p[i] == 0x7F) {
                fprintf(f, "\\u%04x", p[i]);
            } else {
                fputc(p[i], f);
            }
        }
        i++;
    }
    fputc('"', f);
}

void tool_json_float(FILE *f, float v, int digits) {
    if (!isfinite(v)) {
        fputs("null", f);
    } else {
        fprintf(f, "%.*g", digits, (double)v);
    }
}

void tool_json_error(FILE *f, const char *msg, uint64_t line) {
    fputs("{\"error\":", f);
    tool_json_string(f, msg != NULL ? msg : "", msg != NULL ? strlen(msg) : 0);
    fprintf(f, ",\"line\":%llu}\n", (unsigned long long)line);
}
