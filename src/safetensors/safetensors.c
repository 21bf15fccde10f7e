/* The safetensors reader (validating, over a read-only map or a borrowed buffer) and the atomic
 * writer. See safetensors.h for the rules enforced. Assumes a little-endian host (as the format's
 * data is little-endian). */
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/utf8.h"
#include "safetensors/header.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c reads and writes little-endian data in place: port it to this host first"
#endif

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} dtype_table[LM_DTYPE_COUNT] = {
    [LM_DTYPE_F32] = {"F32", 4},   [LM_DTYPE_F16] = {"F16", 2},
    [LM_DTYPE_BF16] = {"BF16", 2}, [LM_DTYPE_F64] = {"F64", 8},
    [LM_DTYPE_I64] = {"I64", 8},   [LM_DTYPE_I32] = {"I32", 4},
    [LM_DTYPE_I16] = {"I16", 2},   [LM_DTYPE_I8] = {"I8", 1},
    [LM_DTYPE_U8] = {"U8", 1},     [LM_DTYPE_BOOL] = {"BOOL", 1},
    [LM_DTYPE_U16] = {"U16", 2},   [LM_DTYPE_U32] = {"U32", 4},
    [LM_DTYPE_U64] = {"U64", 8},   [LM_DTYPE_F8_E4M3] = {"F8_E4M3", 1},
    [LM_DTYPE_F8_E5M2] = {"F8_E5M2", 1},
};

static int dtype_valid(lmi_dtype d) { return (int)d >= 0 && d < LM_DTYPE_COUNT; }

size_t lmi_dtype_size(lmi_dtype dtype) { return dtype_valid(dtype) ? dtype_table[dtype].size : 0; }

const char *lmi_dtype_name(lmi_dtype dtype) {
    return dtype_valid(dtype) ? dtype_table[dtype].name : "?";
}

int lmi_dtype_from_name(const char *name, lmi_dtype *out) {
    int i;
    if (name == NULL) {
        return 0;
    }
    for (i = 0; i < (int)LM_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_table[i].name) == 0) {
            *out = (lmi_dtype)i;
            return 1;
        }
    }
    return 0;
}

/* ---- half-precision conversions ---- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float lmi_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t lmi_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN, sign kept */
    }
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float lmi_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) {
        return bits_f32(sign | 0x7f800000u | (man << 13));
    }
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in float */
        float v = (float)man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t lmi_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) {
        return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    }
    if (abs >= 0x477ff000u) { /* rounds to >= 65520: infinity */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (abs < 0x38800000u) { /* below the smallest normal half 2^-14: subnormal or zero */
        uint32_t exp = abs >> 23;
        uint32_t man;
        uint32_t shift;
        uint32_t half;
        uint32_t rem;
        uint32_t res;
        if (exp < 102) { /* below half the smallest subnormal (2^-25): zero */
            return sign;
        }
        man = (abs & 0x7fffffu) | 0x800000u;
        shift = 126u - exp; /* value = man * 2^(exp-150); in units of 2^-24 shift right 126-exp */
        res = man >> shift;
        rem = man & ((1u << shift) - 1u);
        half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (res & 1u))) {
            res++;
        }
        return (uint16_t)(sign | res);
    }
    {
        uint32_t r = abs - 0x38000000u; /* rebias exponent 127 -> 15 */
        r += 0xfffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
}

/* ---- reader ---- */

struct lmi_safetensors {
    char *path;
    lmi_mapped_file map; /* empty when borrowed */
    lmi_st_tensor *tensors;
    size_t count;
    const lmi_st_tensor **by_name; /* sorted by name */
    int64_t *dims; /* every tensor's shape, one after the other */
    const char **meta; /* key, value pairs, sorted by key */
    size_t meta_count;
    char *strings; /* one block for every name, key and value */
};

static const char *st_name(const lmi_safetensors *st) { return st->path; }

void lmi_safetensors_release(const lmi_safetensors *st, const void *p, size_t bytes) {
    if (st != NULL) {
        lmi_file_map_release(&st->map, p, bytes);
    }
}

void lmi_safetensors_close(lmi_safetensors *st) {
    if (st == NULL) {
        return;
    }
    lmi_file_unmap(&st->map);
    lmi_free(st->tensors);
    lmi_free(st->by_name);
    lmi_free(st->dims);
    lmi_free((void *)st->meta);
    lmi_free(st->strings);
    lmi_free(st->path);
    lmi_free(st);
}

static int cmp_name(const void *a, const void *b) {
    const lmi_st_tensor *const *ta = a;
    const lmi_st_tensor *const *tb = b;
    return strcmp((*ta)->name, (*tb)->name);
}

static int cmp_offset(const void *a, const void *b) {
    const lmi_st_tensor *ta = a;
    const lmi_st_tensor *tb = b;
    if (ta->offset != tb->offset) {
        return ta->offset < tb->offset ? -1 : 1;
    }
    if (ta->nbytes != tb->nbytes) {
        return ta->nbytes < tb->nbytes ? -1 : 1;
    }
    return strcmp(ta->name, tb->name);
}

static int cmp_meta(const void *a, const void *b) {
    const char *const *ka = a;
    const char *const *kb = b;
    return strcmp(ka[0], kb[0]);
}

static lm_status open_impl(lmi_safetensors *st, const unsigned char *base, size_t size) {
    uint64_t hlen = 0;
    size_t data_start;
    size_t data_size;
    size_t bad;
    lmi_st_scan sc;
    size_t i;
    size_t expect;
    lm_status s;
    int k;

    if (size < 8) {
        return lmi_error(LM_ERR_FORMAT,
                        "%s: %zu bytes is too short for a safetensors file (8-byte header length)",
                        st_name(st), size);
    }
    for (k = 7; k >= 0; k--) {
        hlen = (hlen << 8) | base[k];
    }
    if (hlen > LM_ST_MAX_HEADER) {
        return lmi_error(LM_ERR_FORMAT,
                        "%s: header length %llu at byte 0 exceeds the limit of %llu bytes",
                        st_name(st), (unsigned long long)hlen, (unsigned long long)LM_ST_MAX_HEADER);
    }
    if (hlen > size - 8) {
        return lmi_error(LM_ERR_FORMAT,
                        "%s: header length %llu at byte 0 runs past the end of the file (%zu bytes)",
                        st_name(st), (unsigned long long)hlen, size);
    }
    data_start = 8 + (size_t)hlen;
    data_size = size - data_start;
    if (!lmi_utf8_validate((const char *)base + 8, (size_t)hlen, &bad)) {
        return lmi_error(LM_ERR_UTF8, "%s: JSON header: invalid UTF-8 at file byte %zu",
                        st_name(st), 8 + bad);
    }
    /* Pass 1 validates and counts; then one exact allocation per table; pass 2 fills them. */
    memset(&sc, 0, sizeof sc);
    s = lmi_st_header_scan((const char *)base + 8, (size_t)hlen, st_name(st), 8, &sc);
    if (s != LM_OK) {
        return s;
    }
    st->tensors = lmi_calloc(sc.tensors ? sc.tensors : 1, sizeof *st->tensors);
    st->by_name = lmi_malloc_array(sc.tensors ? sc.tensors : 1, sizeof *st->by_name);
    st->dims = lmi_malloc_array(sc.dims ? sc.dims : 1, sizeof *st->dims);
    st->meta = lmi_calloc(sc.meta ? 2 * sc.meta : 1, sizeof *st->meta);
    st->strings = lmi_malloc(sc.string_bytes ? sc.string_bytes : 1);
    if (st->tensors == NULL || st->by_name == NULL || st->dims == NULL || st->meta == NULL ||
        st->strings == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for the table of %zu tensors",
                        st_name(st), sc.tensors);
    }
    sc.t = st->tensors;
    sc.dim_block = st->dims;
    sc.meta_kv = st->meta;
    sc.strings = st->strings;
    s = lmi_st_header_scan((const char *)base + 8, (size_t)hlen, st_name(st), 8, &sc);
    if (s != LM_OK) {
        return s;
    }
    st->count = sc.tensors;
    st->meta_count = sc.meta;

    /* Layout: sort by offset (the name index is built after it, as it points into the table);
     * names first, so that a repeated tensor is reported as such rather than as an overlap;
     * then the tensors must tile [0, data_size) exactly. */
    qsort(st->tensors, st->count, sizeof *st->tensors, cmp_offset);
    /* Names unique (the JSON header may repeat a key; the reference keeps the last one). */
    for (i = 0; i < st->count; i++) {
        st->by_name[i] = &st->tensors[i];
    }
    qsort(st->by_name, st->count, sizeof *st->by_name, cmp_name);
    for (i = 1; i < st->count; i++) {
        const char *a = st->by_name[i - 1]->name;
        if (strcmp(a, st->by_name[i]->name) == 0) {
            return lmi_error(LM_ERR_FORMAT,
                            "%s: tensor name \"%s\" appears twice in the header (liblm does not "
                            "guess which entry is meant)",
                            st_name(st), a);
        }
    }
    expect = 0;
    for (i = 0; i < st->count; i++) {
        lmi_st_tensor *t = &st->tensors[i];
        size_t begin = t->offset;
        if (begin > data_size || t->nbytes > data_size - begin) {
            return lmi_error(LM_ERR_FORMAT,
                            "%s: tensor \"%s\": data_offsets [%zu, %zu] run past the data section "
                            "(%zu bytes from file byte %zu)",
                            st_name(st), t->name, begin, begin + t->nbytes, data_size, data_start);
        }
        if (begin != expect) {
            if (begin < expect) {
                return lmi_error(LM_ERR_FORMAT,
                                "%s: tensor \"%s\" at data offset %zu (file byte %zu) overlaps "
                                "the tensor before it, which ends at data offset %zu",
                                st_name(st), t->name, begin, data_start + begin, expect);
            }
            return lmi_error(LM_ERR_FORMAT,
                            "%s: gap in the data section: bytes %zu..%zu (file bytes %zu..%zu) "
                            "belong to no tensor (next is \"%s\")",
                            st_name(st), expect, begin, data_start + expect, data_start + begin,
                            t->name);
        }
        expect = begin + t->nbytes;
        t->data = base + data_start + begin;
        t->offset = data_start + begin;
    }
    if (expect != data_size) {
        return lmi_error(LM_ERR_FORMAT,
                        "%s: the data section has %zu bytes but the tensors cover %zu (trailing "
                        "bytes from file byte %zu)",
                        st_name(st), data_size, expect, data_start + expect);
    }
    qsort(st->meta, st->meta_count, 2 * sizeof *st->meta, cmp_meta);
    for (i = 1; i < st->meta_count; i++) {
        if (strcmp(st->meta[2 * i - 2], st->meta[2 * i]) == 0) {
            return lmi_error(LM_ERR_FORMAT, "%s: \"__metadata__\" key \"%s\" appears twice",
                            st_name(st), st->meta[2 * i]);
        }
    }
    return LM_OK;
}

static lm_status new_handle(const char *name, lmi_safetensors **out) {
    lmi_safetensors *st = lmi_calloc(1, sizeof *st);
    if (st == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", name);
    }
    st->path = lmi_strdup(name);
    if (st->path == NULL) {
        lmi_free(st);
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", name);
    }
    *out = st;
    return LM_OK;
}

lm_status lmi_safetensors_open_memory(const void *data, size_t size, const char *what,
                                     lmi_safetensors **out) {
    lmi_safetensors *st;
    lm_status s;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_safetensors_open_memory: out is NULL");
    }
    *out = NULL;
    if (data == NULL && size != 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_safetensors_open_memory: data is NULL");
    }
    s = new_handle(what != NULL ? what : "<memory>", &st);
    if (s != LM_OK) {
        return s;
    }
    s = open_impl(st, data, size);
    if (s != LM_OK) {
        lmi_safetensors_close(st);
        return s;
    }
    *out = st;
    return LM_OK;
}

lm_status lmi_safetensors_open(const char *path, lmi_safetensors **out) {
    lmi_safetensors *st;
    lm_status s;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_safetensors_open: out is NULL");
    }
    *out = NULL;
    if (path == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_safetensors_open: path is NULL");
    }
    s = new_handle(path, &st);
    if (s != LM_OK) {
        return s;
    }
    s = lmi_file_map(path, &st->map);
    if (s == LM_OK) {
        s = open_impl(st, st->map.data, st->map.size);
    }
    if (s != LM_OK) {
        lmi_safetensors_close(st);
        return s;
    }
    *out = st;
    return LM_OK;
}

const char *lmi_safetensors_path(const lmi_safetensors *st) { return st != NULL ? st->path : NULL; }

size_t lmi_safetensors_count(const lmi_safetensors *st) { return st != NULL ? st->count : 0; }

const lmi_st_tensor *lmi_safetensors_at(const lmi_safetensors *st, size_t i) {
    return (st != NULL && i < st->count) ? &st->tensors[i] : NULL;
}

const lmi_st_tensor *lmi_safetensors_find(const lmi_safetensors *st, const char *name) {
    size_t lo = 0;
    size_t hi;
    if (st == NULL || name == NULL) {
        return NULL;
    }
    hi = st->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const lmi_st_tensor *t = st->by_name[mid];
        int c = strcmp(name, t->name);
        if (c == 0) {
            return t;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

const char *lmi_safetensors_metadata(const lmi_safetensors *st, const char *key) {
    size_t lo = 0;
    size_t hi;
    if (st == NULL || key == NULL) {
        return NULL;
    }
    hi = st->meta_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, st->meta[2 * mid]);
        if (c == 0) {
            return st->meta[2 * mid + 1];
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

void lmi_shape_text(char *buf, size_t cap, size_t ndim, const int64_t *shape) {
    size_t i;
    size_t len = 1;
    if (cap < 3) {
        buf[0] = '\0';
        return;
    }
    buf[0] = '[';
    buf[1] = '\0';
    for (i = 0; i < ndim && len + 24 < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "",
                                (long long)shape[i]);
    }
    snprintf(buf + len, cap - len, "]");
}

lm_status lmi_safetensors_expect(const lmi_safetensors *st, const char *name, size_t ndim,
                                const int64_t *shape, const lmi_st_tensor **out) {
    const lmi_st_tensor *t;
    size_t i;
    int same;
    if (out == NULL || st == NULL || name == NULL || (shape == NULL && ndim != 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_safetensors_expect: NULL argument");
    }
    *out = NULL;
    t = lmi_safetensors_find(st, name);
    if (t == NULL) {
        return lmi_error(LM_ERR_NOT_FOUND, "%s: no tensor \"%s\"", st->path, name);
    }
    same = t->ndim == ndim;
    for (i = 0; same && i < ndim; i++) {
        same = t->shape[i] == shape[i];
    }
    if (!same) {
        char want[200];
        char got[200];
        lmi_shape_text(want, sizeof want, ndim > LM_ST_MAX_DIMS ? LM_ST_MAX_DIMS : ndim, shape);
        lmi_shape_text(got, sizeof got, t->ndim, t->shape);
        return lmi_error(LM_ERR_SHAPE, "%s: tensor \"%s\" (file byte %zu) has shape %s, expected %s",
                        st->path, name, t->offset, got, want);
    }
    *out = t;
    return LM_OK;
}

int lmi_st_tensor_is_aligned(const lmi_st_tensor *t) {
    size_t a;
    if (t == NULL) {
        return 0;
    }
    a = lmi_dtype_size(t->dtype);
    return a != 0 && ((uintptr_t)t->data % a) == 0;
}

lm_status lmi_tensor_to_f32(const lmi_st_tensor *t, float *out) {
    const unsigned char *p;
    size_t i;
    if (t == NULL || (out == NULL && t->numel != 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_tensor_to_f32: NULL argument");
    }
    p = t->data;
    switch (t->dtype) {
    case LM_DTYPE_F32:
        if (t->numel != 0) {
            memcpy(out, p, t->numel * sizeof(float));
        }
        return LM_OK;
    case LM_DTYPE_F16:
    case LM_DTYPE_BF16:
        for (i = 0; i < t->numel; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = t->dtype == LM_DTYPE_F16 ? lmi_f16_to_f32(h) : lmi_bf16_to_f32(h);
        }
        return LM_OK;
    default:
        return lmi_error(LM_ERR_UNSUPPORTED,
                        "tensor \"%s\" (file byte %zu) has dtype %s; expected F32, F16 or BF16",
                        t->name, t->offset, lmi_dtype_name(t->dtype));
    }
}

/* ---- writer ---- */

typedef struct strbuf {
    char *p;
    size_t len;
    size_t cap;
    int failed;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n) {
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *np;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        np = lmi_realloc(b->p, cap);
        if (np == NULL) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(strbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_str(b, esc);
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static void sb_u64(strbuf *b, unsigned long long v) {
    char num[32];
    snprintf(num, sizeof num, "%llu", v);
    sb_str(b, num);
}

static lm_status check_name(const char *path, const char *name, const char *kind) {
    if (name == NULL || name[0] == '\0') {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: a %s is NULL or empty", path, kind);
    }
    if (!lmi_utf8_validate(name, strlen(name), NULL)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: a %s is not valid UTF-8", path, kind);
    }
    return LM_OK;
}

lm_status lmi_safetensors_write(const char *path, const lmi_st_write *tensors, size_t n,
                               const char *const *meta_kv) {
    strbuf hb = {NULL, 0, 0, 0};
    size_t *order = NULL;
    size_t *sizes = NULL;
    size_t i;
    size_t j;
    size_t off = 0;
    lmi_atomic_file *f = NULL;
    lm_status s = LM_OK;
    unsigned char lenbuf[8];
    uint64_t hlen;
    int first = 1;

    if (path == NULL || (tensors == NULL && n != 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_safetensors_write: NULL argument");
    }
    order = lmi_malloc_array(n ? n : 1, sizeof *order);
    sizes = lmi_malloc_array(n ? n : 1, sizeof *sizes);
    if (order == NULL || sizes == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    /* Validate. */
    for (i = 0; i < n; i++) {
        const lmi_st_write *t = &tensors[i];
        size_t numel = 1;
        s = check_name(path, t->name, "tensor name");
        if (s != LM_OK) {
            goto done;
        }
        if (strcmp(t->name, "__metadata__") == 0) {
            s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: \"__metadata__\" is not a tensor name",
                         path);
            goto done;
        }
        if (!dtype_valid(t->dtype)) {
            s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: tensor \"%s\": invalid dtype %d", path,
                         t->name, (int)t->dtype);
            goto done;
        }
        if (t->ndim > LM_ST_MAX_DIMS) {
            s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: tensor \"%s\": %zu dimensions (at most %d)",
                         path, t->name, t->ndim, LM_ST_MAX_DIMS);
            goto done;
        }
        for (j = 0; j < t->ndim; j++) {
            if (t->shape[j] < 0 || (uint64_t)t->shape[j] > SIZE_MAX ||
                !lmi_size_mul(numel, (size_t)t->shape[j], &numel)) {
                s = lmi_error(LM_ERR_INVALID_ARGUMENT,
                             "%s: tensor \"%s\": dimension %zu (%lld) is negative or too large",
                             path, t->name, j, (long long)t->shape[j]);
                goto done;
            }
        }
        if (!lmi_size_mul(numel, lmi_dtype_size(t->dtype), &sizes[i]) ||
            (sizes[i] != 0 && t->data == NULL)) {
            s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: tensor \"%s\": size overflow or NULL data",
                         path, t->name);
            goto done;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(tensors[j].name, t->name) == 0) {
                s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: tensor name \"%s\" given twice", path,
                             t->name);
                goto done;
            }
        }
    }
    if (meta_kv != NULL) {
        for (i = 0; meta_kv[i] != NULL; i += 2) {
            s = check_name(path, meta_kv[i], "metadata key");
            if (s != LM_OK) {
                goto done;
            }
            if (meta_kv[i + 1] == NULL ||
                !lmi_utf8_validate(meta_kv[i + 1], strlen(meta_kv[i + 1]), NULL)) {
                s = lmi_error(LM_ERR_INVALID_ARGUMENT,
                             "%s: metadata key \"%s\" has no value or one that is not UTF-8",
                             path, meta_kv[i]);
                goto done;
            }
        }
    }
    /* Order: element size descending, stable (insertion sort on indices). */
    for (i = 0; i < n; i++) {
        size_t k = i;
        while (k > 0 &&
               lmi_dtype_size(tensors[order[k - 1]].dtype) < lmi_dtype_size(tensors[i].dtype)) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    /* Header. */
    sb_str(&hb, "{");
    if (meta_kv != NULL && meta_kv[0] != NULL) {
        sb_str(&hb, "\"__metadata__\":{");
        for (i = 0; meta_kv[i] != NULL; i += 2) {
            if (i > 0) {
                sb_str(&hb, ",");
            }
            sb_json_string(&hb, meta_kv[i]);
            sb_str(&hb, ":");
            sb_json_string(&hb, meta_kv[i + 1]);
        }
        sb_str(&hb, "}");
        first = 0;
    }
    for (i = 0; i < n; i++) {
        const lmi_st_write *t = &tensors[order[i]];
        if (!first) {
            sb_str(&hb, ",");
        }
        first = 0;
        sb_json_string(&hb, t->name);
        sb_str(&hb, ":{\"dtype\":\"");
        sb_str(&hb, lmi_dtype_name(t->dtype));
        sb_str(&hb, "\",\"shape\":[");
        for (j = 0; j < t->ndim; j++) {
            if (j > 0) {
                sb_str(&hb, ",");
            }
            sb_u64(&hb, (unsigned long long)t->shape[j]);
        }
        sb_str(&hb, "],\"data_offsets\":[");
        sb_u64(&hb, off);
        sb_str(&hb, ",");
        if (sizes[order[i]] > SIZE_MAX - off) {
            s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: total size overflows", path);
            goto done;
        }
        off += sizes[order[i]];
        sb_u64(&hb, off);
        sb_str(&hb, "]}");
    }
    sb_str(&hb, "}");
    while (!hb.failed && hb.len % 8 != 0) {
        sb_str(&hb, " ");
    }
    if (hb.failed) {
        s = lmi_error(LM_ERR_NOMEM, "%s: out of memory for the header", path);
        goto done;
    }
    hlen = hb.len;
    for (i = 0; i < 8; i++) {
        lenbuf[i] = (unsigned char)(hlen >> (8 * i));
    }
    s = lmi_atomic_file_open(path, &f);
    if (s != LM_OK) {
        f = NULL;
        goto done;
    }
    s = lmi_atomic_file_write(f, lenbuf, 8);
    if (s == LM_OK) {
        s = lmi_atomic_file_write(f, hb.p, hb.len);
    }
    for (i = 0; i < n && s == LM_OK; i++) {
        if (sizes[order[i]] != 0) {
            s = lmi_atomic_file_write(f, tensors[order[i]].data, sizes[order[i]]);
        }
    }
    if (s != LM_OK) {
        lmi_atomic_file_abort(f);
    } else {
        s = lmi_atomic_file_commit(f);
    }
    f = NULL;
done:
    lmi_free(hb.p);
    lmi_free(order);
    lmi_free(sizes);
    return s;
}
