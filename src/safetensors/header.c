/* The safetensors JSON header scanner (see header.h): one pass that validates and counts, a second
 * that fills the tensor table; nothing else is allocated. */
#include "safetensors/header.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/utf8.h"

/* Nesting limit of skipped values: serde_json's recursion limit (128) counted as the reference
 * reader counts it, where a field of a tensor entry may hold 125 nested arrays but not 126. */
#define MAX_DEPTH 128
/* Bytes of a name kept for error sentences. */
#define NAME_SHOWN 64

typedef struct scanner {
    const unsigned char *p;
    size_t len;
    size_t pos;
    const char *what;
    size_t base;
    lmi_st_scan *sc;
    int fill;          /* pass 2 */
    size_t tensor;     /* next tensor slot (pass 2) */
    size_t dim;        /* next dimension slot (pass 2) */
    size_t str;        /* next byte of the strings block (pass 2) */
    size_t cap_tensors;    /* pass 2: the sizes pass 1 counted */
    size_t cap_dims;
    size_t cap_meta;
    int seen_meta;
    char name[NAME_SHOWN]; /* the current tensor's name, cut short, for error sentences */
} scanner;

static lm_status fail(const scanner *s, lm_status code, size_t at, const char *fmt, ...)
    LM_PRINTF(4, 5);

static lm_status fail(const scanner *s, lm_status code, size_t at, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lmi_error(code, "%s: JSON header, file byte %zu: %s", s->what, s->base + at, msg);
}

/* Pass 2 found more than pass 1 counted: the mapped file was rewritten while being read. */
static lm_status changed(const scanner *s, size_t at) {
    return fail(s, LM_ERR_IO, at, "the header changed while it was being read");
}

static int peek(const scanner *s) { return s->pos < s->len ? s->p[s->pos] : -1; }

static void skip_ws(scanner *s) {
    if (s->pos < s->len && s->p[s->pos] > ' ') { /* the usual case: no whitespace */
        return;
    }
    while (s->pos < s->len) {
        unsigned char c = s->p[s->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        s->pos++;
    }
}

/* Describes the byte at s->pos for an error sentence. */
static const char *what_is_here(const scanner *s, char buf[16]) {
    int c = peek(s);
    if (c < 0) {
        return "the end of the header";
    }
    if (c >= 0x20 && c < 0x7f) {
        snprintf(buf, 16, "'%c'", c);
    } else {
        snprintf(buf, 16, "byte 0x%02x", (unsigned)c);
    }
    return buf;
}

/* Consumes `c` after optional whitespace, or fails saying what was expected. */
static lm_status expect(scanner *s, char c, const char *where) {
    char b[16];
    skip_ws(s);
    if (peek(s) != (unsigned char)c) {
        return fail(s, LM_ERR_FORMAT, s->pos, "expected '%c' %s, found %s", c, where,
                    what_is_here(s, b));
    }
    s->pos++;
    return LM_OK;
}

static int hex4(const unsigned char *p, uint32_t *out) {
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t)(c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

static void put(char *out, size_t cap, size_t *n, unsigned char c) {
    if (out != NULL && *n < cap) {
        out[*n] = (char)c;
    }
    (*n)++;
}

/* Reads the JSON string at s->pos (its opening quote) and decodes it: the first `cap` bytes go to
 * out when out is not NULL (not terminated), *n gets the decoded length and *nul the offset in the
 * file of the first escape that decodes to U+0000 (0 when there is none). */
static lm_status string(scanner *s, char *out, size_t cap, size_t *n, size_t *nul) {
    const size_t start = s->pos;
    *n = 0;
    *nul = 0;
    if (peek(s) != '"') {
        char b[16];
        return fail(s, LM_ERR_FORMAT, s->pos, "expected a string, found %s", what_is_here(s, b));
    }
    s->pos++;
    for (;;) {
        unsigned char c;
        if (s->pos >= s->len) {
            return fail(s, LM_ERR_FORMAT, start, "the string starting here is not terminated");
        }
        c = s->p[s->pos];
        if (c == '"') {
            s->pos++;
            return LM_OK;
        }
        if (c < 0x20) {
            return fail(s, LM_ERR_FORMAT, s->pos,
                        "control character 0x%02x inside a string (JSON wants it escaped)",
                        (unsigned)c);
        }
        if (c != '\\') { /* a run of plain bytes */
            size_t e = s->pos + 1;
            while (e < s->len && s->p[e] != '"' && s->p[e] != '\\' && s->p[e] >= 0x20) {
                e++;
            }
            if (out != NULL && *n < cap) {
                size_t m = e - s->pos < cap - *n ? e - s->pos : cap - *n;
                memcpy(out + *n, s->p + s->pos, m);
            }
            *n += e - s->pos;
            s->pos = e;
            continue;
        }
        /* an escape */
        if (s->pos + 1 >= s->len) {
            return fail(s, LM_ERR_FORMAT, start, "the string starting here is not terminated");
        }
        c = s->p[s->pos + 1];
        if (c != 'u') {
            static const char from[] = "\"\\/bfnrt";
            static const char to[] = "\"\\/\b\f\n\r\t";
            const char *k = c != '\0' ? strchr(from, c) : NULL;
            if (k == NULL) {
                return fail(s, LM_ERR_FORMAT, s->pos, "invalid escape in a string");
            }
            put(out, cap, n, (unsigned char)to[k - from]);
            s->pos += 2;
            continue;
        }
        {
            uint32_t cp;
            uint32_t lo;
            const size_t at = s->pos;
            char enc[4];
            size_t k;
            size_t m;
            if (s->pos + 6 > s->len || !hex4(s->p + s->pos + 2, &cp)) {
                return fail(s, LM_ERR_FORMAT, at, "invalid \\u escape in a string");
            }
            s->pos += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(s, LM_ERR_FORMAT, at, "lone low surrogate \\u%04X in a string",
                            (unsigned)cp);
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (s->pos + 6 > s->len || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u' ||
                    !hex4(s->p + s->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    return fail(s, LM_ERR_FORMAT, at,
                                "high surrogate \\u%04X not followed by a low surrogate",
                                (unsigned)cp);
                }
                s->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0 && *nul == 0) {
                *nul = s->base + at;
            }
            /* cp is a scalar value here: every branch above keeps it below 0x110000 */
            m = lmi_utf8_encode(cp, enc);
            for (k = 0; k < m; k++) {
                put(out, cap, n, (unsigned char)enc[k]);
            }
        }
    }
}

/* A string read into buf (cap bytes, NUL-terminated, cut short at a character boundary when
 * longer); *n gets the full decoded length. */
static lm_status short_string(scanner *s, char *buf, size_t cap, size_t *n, size_t *nul) {
    lm_status st = string(s, buf, cap, n, nul); /* up to cap bytes: buf[k] below is written */
    size_t k;
    if (st != LM_OK) {
        return st;
    }
    k = *n < cap - 1 ? *n : cap - 1;
    if (*n > k) { /* cut before byte k: back to the start of the character it belongs to */
        while (k > 0 && ((unsigned char)buf[k] & 0xC0) == 0x80) {
            k--;
        }
    }
    buf[k] = '\0';
    return LM_OK;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* The end of the JSON number at s->pos (for error sentences). */
static size_t number_end(const scanner *s) {
    size_t e = s->pos;
    while (e < s->len && e - s->pos < 40 &&
           (is_digit(s->p[e]) || (s->p[e] != '\0' && strchr("+-.eE", s->p[e]) != NULL))) {
        e++;
    }
    return e;
}

/* An unsigned integer as the reference reads a usize: 0 or a digit string without leading zero,
 * below 2^64, and no sign, fraction or exponent (serde_json reads those as floats or signed). */
static lm_status uint_value(scanner *s, const char *field, uint64_t *out) {
    uint64_t v = 0;
    size_t start;
    size_t e;
    char b[16];
    int c;
    skip_ws(s);
    start = s->pos;
    c = peek(s);
    if (c == '-' || c == '+' || c == '.') {
        e = number_end(s);
        return fail(s, LM_ERR_FORMAT, start,
                    "tensor \"%s\": %s entry %.*s is not a plain unsigned integer", s->name,
                    field, (int)(e - start), (const char *)s->p + start);
    }
    if (!is_digit(c)) {
        return fail(s, LM_ERR_FORMAT, start,
                    "tensor \"%s\": expected an unsigned integer in %s, found %s", s->name, field,
                    what_is_here(s, b));
    }
    if (c == '0' && s->pos + 1 < s->len && is_digit(s->p[s->pos + 1])) {
        return fail(s, LM_ERR_FORMAT, start,
                    "tensor \"%s\": %s entry has a leading zero (not a JSON number)", s->name,
                    field);
    }
    e = number_end(s);
    while (is_digit(peek(s))) {
        unsigned d = (unsigned)(s->p[s->pos] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return fail(s, LM_ERR_FORMAT, start,
                        "tensor \"%s\": %s entry %.*s%s is above 2^64-1", s->name, field,
                        (int)(e - start), (const char *)s->p + start,
                        e - start >= 40 ? "..." : "");
        }
        v = v * 10 + d;
        s->pos++;
    }
    c = peek(s);
    if (c == '.' || c == 'e' || c == 'E') {
        return fail(s, LM_ERR_FORMAT, start,
                    "tensor \"%s\": %s entry %.*s is written as a floating-point number, not a "
                    "plain unsigned integer",
                    s->name, field, (int)(e - start), (const char *)s->p + start);
    }
    *out = v;
    return LM_OK;
}

static lm_status literal(scanner *s, const char *word) {
    size_t n = strlen(word);
    if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0) {
        return fail(s, LM_ERR_FORMAT, s->pos, "invalid JSON value");
    }
    s->pos += n;
    return LM_OK;
}

/* Any JSON number (RFC 8259 grammar). */
static lm_status any_number(scanner *s) {
    const size_t at = s->pos;
    if (peek(s) == '-') {
        s->pos++;
    }
    if (peek(s) == '0') {
        s->pos++;
    } else if (is_digit(peek(s))) {
        while (is_digit(peek(s))) {
            s->pos++;
        }
    } else {
        return fail(s, LM_ERR_FORMAT, at, "invalid JSON number");
    }
    if (peek(s) == '.') {
        s->pos++;
        if (!is_digit(peek(s))) {
            return fail(s, LM_ERR_FORMAT, at, "invalid JSON number");
        }
        while (is_digit(peek(s))) {
            s->pos++;
        }
    }
    if (peek(s) == 'e' || peek(s) == 'E') {
        s->pos++;
        if (peek(s) == '+' || peek(s) == '-') {
            s->pos++;
        }
        if (!is_digit(peek(s))) {
            return fail(s, LM_ERR_FORMAT, at, "invalid JSON number");
        }
        while (is_digit(peek(s))) {
            s->pos++;
        }
    }
    return LM_OK;
}

/* Skips one JSON value of any kind (a field liblm does not read), nested at most MAX_DEPTH. */
static lm_status skip_value(scanner *s, int depth) {
    lm_status st;
    size_t n;
    size_t nul;
    char b[16];
    int c;
    skip_ws(s);
    c = peek(s);
    if (c == '"') {
        return string(s, NULL, 0, &n, &nul);
    }
    if (c == '-' || is_digit(c)) {
        return any_number(s);
    }
    if (c == 't') {
        return literal(s, "true");
    }
    if (c == 'f') {
        return literal(s, "false");
    }
    if (c == 'n') {
        return literal(s, "null");
    }
    if (c != '[' && c != '{') {
        return fail(s, LM_ERR_FORMAT, s->pos, "expected a JSON value, found %s",
                    what_is_here(s, b));
    }
    if (depth >= MAX_DEPTH) {
        return fail(s, LM_ERR_FORMAT, s->pos, "values nested more than %d deep", MAX_DEPTH);
    }
    s->pos++;
    skip_ws(s);
    if (peek(s) == (c == '[' ? ']' : '}')) {
        s->pos++;
        return LM_OK;
    }
    for (;;) {
        if (c == '{') {
            skip_ws(s);
            if ((st = string(s, NULL, 0, &n, &nul)) != LM_OK ||
                (st = expect(s, ':', "after a key")) != LM_OK) {
                return st;
            }
        }
        if ((st = skip_value(s, depth + 1)) != LM_OK) {
            return st;
        }
        skip_ws(s);
        if (peek(s) == ',') {
            s->pos++;
            continue;
        }
        if (peek(s) == (c == '[' ? ']' : '}')) {
            s->pos++;
            return LM_OK;
        }
        return fail(s, LM_ERR_FORMAT, s->pos, "expected ',' or '%c', found %s",
                    c == '[' ? ']' : '}', what_is_here(s, b));
    }
}

/* Copies the string at s->pos into the strings block (pass 2) and returns it there. */
static const char *store_string(scanner *s) {
    size_t n;
    size_t nul;
    char *dst = s->sc->strings + s->str;
    /* pass 1 checked this string and counted its bytes: it fits */
    if (string(s, dst, s->sc->string_bytes - s->str, &n, &nul) != LM_OK ||
        n >= s->sc->string_bytes - s->str) {
        return NULL;
    }
    dst[n] = '\0';
    s->str += n + 1;
    return dst;
}

/* "__metadata__": null or an object of strings. */
static lm_status metadata_value(scanner *s, size_t key_at) {
    lm_status st;
    char b[16];
    skip_ws(s);
    if (s->seen_meta) {
        return fail(s, LM_ERR_FORMAT, key_at, "\"__metadata__\" appears twice");
    }
    s->seen_meta = 1;
    if (peek(s) == 'n') {
        return literal(s, "null");
    }
    if (peek(s) != '{') {
        return fail(s, LM_ERR_FORMAT, s->pos, "\"__metadata__\" is not an object");
    }
    s->pos++;
    skip_ws(s);
    if (peek(s) == '}') {
        s->pos++;
        return LM_OK;
    }
    for (;;) {
        const size_t k_at = (skip_ws(s), s->pos);
        size_t v_at;
        size_t kn;
        size_t vn;
        size_t nul;
        char key[NAME_SHOWN];
        if ((st = short_string(s, key, sizeof key, &kn, &nul)) != LM_OK) {
            return st;
        }
        if (nul != 0) {
            return fail(s, LM_ERR_FORMAT, nul - s->base,
                        "\"__metadata__\" key \"%s\" contains \\u0000, which liblm cannot hold "
                        "in a C string",
                        key);
        }
        if ((st = expect(s, ':', "after a \"__metadata__\" key")) != LM_OK) {
            return st;
        }
        skip_ws(s);
        v_at = s->pos;
        if (peek(s) != '"') {
            return fail(s, LM_ERR_FORMAT, s->pos,
                        "\"__metadata__\" value of \"%s\" is not a string", key);
        }
        if ((st = string(s, NULL, 0, &vn, &nul)) != LM_OK) {
            return st;
        }
        if (nul != 0) {
            return fail(s, LM_ERR_FORMAT, nul - s->base,
                        "\"__metadata__\" value of \"%s\" contains \\u0000, which liblm cannot "
                        "hold in a C string",
                        key);
        }
        if (s->fill) {
            const char **kv = s->sc->meta_kv + 2 * s->sc->meta;
            size_t end = s->pos;
            if (s->sc->meta >= s->cap_meta) {
                return changed(s, k_at);
            }
            s->pos = k_at;
            kv[0] = store_string(s);
            s->pos = v_at;
            kv[1] = store_string(s);
            s->pos = end;
            if (kv[0] == NULL || kv[1] == NULL) {
                return changed(s, k_at);
            }
        }
        s->sc->meta++;
        s->sc->string_bytes += s->fill ? 0 : kn + vn + 2;
        skip_ws(s);
        if (peek(s) == ',') {
            s->pos++;
            continue;
        }
        if (peek(s) == '}') {
            s->pos++;
            return LM_OK;
        }
        return fail(s, LM_ERR_FORMAT, s->pos, "expected ',' or '}' in \"__metadata__\", found %s",
                    what_is_here(s, b));
    }
}

enum { F_DTYPE = 1, F_SHAPE = 2, F_OFFSETS = 4 };

/* One tensor entry {"dtype", "shape", "data_offsets", ...}; t is its slot in pass 2 (else NULL). */
static lm_status tensor_value(scanner *s, lmi_st_tensor *t) {
    lm_status st;
    char b[16];
    int seen = 0;
    lmi_dtype dtype = LM_DTYPE_F32;
    size_t ndim = 0;
    size_t numel = 1;
    uint64_t off[2] = {0, 0};
    size_t nbytes;
    size_t first_dim = s->dim;
    const size_t at = (skip_ws(s), s->pos);
    if (peek(s) != '{') {
        return fail(s, LM_ERR_FORMAT, s->pos, "tensor \"%s\": its entry is not a JSON object",
                    s->name);
    }
    s->pos++;
    skip_ws(s);
    if (peek(s) == '}') {
        s->pos++;
        return fail(s, LM_ERR_FORMAT, at, "tensor \"%s\": no \"dtype\"", s->name);
    }
    for (;;) {
        char key[16];
        size_t kn;
        size_t nul;
        size_t key_at = (skip_ws(s), s->pos);
        int field;
        if ((st = short_string(s, key, sizeof key, &kn, &nul)) != LM_OK ||
            (st = expect(s, ':', "after a field name")) != LM_OK) {
            return st;
        }
        field = kn == 5 && strcmp(key, "dtype") == 0          ? F_DTYPE
                : kn == 5 && strcmp(key, "shape") == 0        ? F_SHAPE
                : kn == 12 && strcmp(key, "data_offsets") == 0 ? F_OFFSETS
                                                              : 0;
        if (field != 0 && (seen & field)) {
            return fail(s, LM_ERR_FORMAT, key_at, "tensor \"%s\": field \"%s\" appears twice",
                        s->name, key);
        }
        seen |= field;
        skip_ws(s);
        if (field == F_DTYPE) {
            char name[16];
            size_t n;
            if (peek(s) != '"') {
                return fail(s, LM_ERR_FORMAT, s->pos, "tensor \"%s\": \"dtype\" is not a string",
                            s->name);
            }
            if ((st = short_string(s, name, sizeof name, &n, &nul)) != LM_OK) {
                return st;
            }
            if (n >= sizeof name || nul != 0 || !lmi_dtype_from_name(name, &dtype)) {
                return fail(s, LM_ERR_UNSUPPORTED, key_at, "tensor \"%s\": unknown dtype \"%s%s\"",
                            s->name, name, n >= sizeof name ? "..." : "");
            }
        } else if (field == F_SHAPE) {
            if (peek(s) != '[') {
                return fail(s, LM_ERR_FORMAT, s->pos, "tensor \"%s\": \"shape\" is not an array",
                            s->name);
            }
            s->pos++;
            skip_ws(s);
            if (peek(s) == ']') {
                s->pos++;
            } else {
                for (;;) {
                    uint64_t d;
                    size_t d_at = (skip_ws(s), s->pos);
                    if ((st = uint_value(s, "\"shape\"", &d)) != LM_OK) {
                        return st;
                    }
                    if (ndim == LM_ST_MAX_DIMS) {
                        return fail(s, LM_ERR_UNSUPPORTED, d_at,
                                    "tensor \"%s\": more than %d dimensions", s->name,
                                    LM_ST_MAX_DIMS);
                    }
                    if (d > (uint64_t)INT64_MAX) {
                        return fail(s, LM_ERR_FORMAT, d_at,
                                    "tensor \"%s\": dimension %zu (%llu) is 2^63 or more", s->name,
                                    ndim, (unsigned long long)d);
                    }
                    if (d > SIZE_MAX || !lmi_size_mul(numel, (size_t)d, &numel)) {
                        return fail(s, LM_ERR_FORMAT, d_at,
                                    "tensor \"%s\": shape overflows the element count", s->name);
                    }
                    if (s->fill) {
                        if (s->dim >= s->cap_dims) {
                            return changed(s, d_at);
                        }
                        s->sc->dim_block[s->dim] = (int64_t)d;
                    }
                    s->dim++;
                    ndim++;
                    skip_ws(s);
                    if (peek(s) == ',') {
                        s->pos++;
                        continue;
                    }
                    if (peek(s) == ']') {
                        s->pos++;
                        break;
                    }
                    return fail(s, LM_ERR_FORMAT, s->pos,
                                "tensor \"%s\": expected ',' or ']' in \"shape\", found %s",
                                s->name, what_is_here(s, b));
                }
            }
        } else if (field == F_OFFSETS) {
            if (peek(s) != '[') {
                return fail(s, LM_ERR_FORMAT, s->pos,
                            "tensor \"%s\": \"data_offsets\" is not an array", s->name);
            }
            s->pos++;
            if ((st = uint_value(s, "\"data_offsets\"", &off[0])) != LM_OK ||
                (st = expect(s, ',', "between the two data_offsets")) != LM_OK ||
                (st = uint_value(s, "\"data_offsets\"", &off[1])) != LM_OK) {
                return st;
            }
            skip_ws(s);
            if (peek(s) != ']') {
                return fail(s, LM_ERR_FORMAT, s->pos,
                            "tensor \"%s\": \"data_offsets\" must hold exactly two integers",
                            s->name);
            }
            s->pos++;
        } else if ((st = skip_value(s, 3)) != LM_OK) { /* as deep as the reference allows */
            return st;
        }
        skip_ws(s);
        if (peek(s) == ',') {
            s->pos++;
            continue;
        }
        if (peek(s) == '}') {
            s->pos++;
            break;
        }
        return fail(s, LM_ERR_FORMAT, s->pos, "tensor \"%s\": expected ',' or '}', found %s",
                    s->name, what_is_here(s, b));
    }
    if ((seen & (F_DTYPE | F_SHAPE | F_OFFSETS)) != (F_DTYPE | F_SHAPE | F_OFFSETS)) {
        return fail(s, LM_ERR_FORMAT, at, "tensor \"%s\": no \"%s\"", s->name,
                    !(seen & F_DTYPE) ? "dtype" : !(seen & F_SHAPE) ? "shape" : "data_offsets");
    }
    if (off[0] > off[1]) {
        return fail(s, LM_ERR_FORMAT, at, "tensor \"%s\": data_offsets [%llu, %llu] run backwards",
                    s->name, (unsigned long long)off[0], (unsigned long long)off[1]);
    }
    if (!lmi_size_mul(numel, lmi_dtype_size(dtype), &nbytes)) {
        return fail(s, LM_ERR_FORMAT, at, "tensor \"%s\": shape and dtype %s overflow the size",
                    s->name, lmi_dtype_name(dtype));
    }
    if ((uint64_t)nbytes != off[1] - off[0]) {
        return fail(s, LM_ERR_FORMAT, at,
                    "tensor \"%s\": shape and dtype %s need %zu bytes but data_offsets [%llu, "
                    "%llu] hold %llu",
                    s->name, lmi_dtype_name(dtype), nbytes, (unsigned long long)off[0],
                    (unsigned long long)off[1], (unsigned long long)(off[1] - off[0]));
    }
    if (t != NULL) {
        t->dtype = dtype;
        t->ndim = ndim;
        t->shape = s->sc->dim_block + first_dim;
        t->numel = numel;
        t->offset = (size_t)off[0];
        t->nbytes = nbytes;
        t->data = NULL;
    }
    return LM_OK;
}

lm_status lmi_st_header_scan(const char *text, size_t len, const char *what, size_t base,
                            lmi_st_scan *sc) {
    scanner s;
    lm_status st;
    char b[16];
    memset(&s, 0, sizeof s);
    s.p = (const unsigned char *)text;
    s.len = len;
    s.what = what;
    s.base = base;
    s.sc = sc;
    s.fill = sc->t != NULL;
    if (!s.fill) {
        sc->string_bytes = 0;
    }
    s.cap_tensors = sc->tensors;
    s.cap_dims = sc->dims;
    s.cap_meta = sc->meta;
    sc->tensors = 0;
    sc->dims = 0;
    sc->meta = 0;
    skip_ws(&s);
    if (peek(&s) != '{') { /* refused before anything is read */
        return fail(&s, LM_ERR_FORMAT, s.pos, "the header is not a JSON object (it starts with %s)",
                    what_is_here(&s, b));
    }
    s.pos++;
    skip_ws(&s);
    if (peek(&s) == '}') {
        s.pos++;
    } else {
        for (;;) {
            size_t n;
            size_t nul;
            const size_t key_at = (skip_ws(&s), s.pos);
            if (peek(&s) != '"') {
                return fail(&s, LM_ERR_FORMAT, s.pos, "expected a tensor name in quotes, found %s",
                            what_is_here(&s, b));
            }
            if ((st = short_string(&s, s.name, sizeof s.name, &n, &nul)) != LM_OK ||
                (st = expect(&s, ':', "after a tensor name")) != LM_OK) {
                return st;
            }
            if (n == 12 && strcmp(s.name, "__metadata__") == 0) {
                if ((st = metadata_value(&s, key_at)) != LM_OK) {
                    return st;
                }
            } else {
                lmi_st_tensor *t = NULL;
                if (s.fill) {
                    if (s.tensor >= s.cap_tensors) {
                        return changed(&s, key_at);
                    }
                    t = &sc->t[s.tensor];
                }
                if (n == 0) {
                    return fail(&s, LM_ERR_FORMAT, key_at, "a tensor has an empty name");
                }
                if (nul != 0) {
                    return fail(&s, LM_ERR_FORMAT, nul - base,
                                "tensor name \"%s...\" contains \\u0000, which liblm cannot hold "
                                "in a C string",
                                s.name);
                }
                if ((st = tensor_value(&s, t)) != LM_OK) {
                    return st;
                }
                if (t != NULL) {
                    size_t end = s.pos;
                    s.pos = key_at;
                    t->name = store_string(&s);
                    s.pos = end;
                    if (t->name == NULL) {
                        return changed(&s, key_at);
                    }
                    s.tensor++;
                } else {
                    sc->string_bytes += n + 1;
                }
                sc->tensors++;
            }
            skip_ws(&s);
            if (peek(&s) == ',') {
                s.pos++;
                continue;
            }
            if (peek(&s) == '}') {
                s.pos++;
                break;
            }
            return fail(&s, LM_ERR_FORMAT, s.pos, "expected ',' or '}' after a tensor, found %s",
                        what_is_here(&s, b));
        }
    }
    skip_ws(&s);
    if (s.pos != s.len) {
        return fail(&s, LM_ERR_FORMAT, s.pos,
                    "unexpected %s after the header object (only spaces may follow it)",
                    what_is_here(&s, b));
    }
    sc->dims = s.dim;
    return LM_OK;
}
