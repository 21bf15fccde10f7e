/* The WordPiece vocabulary: token pool and hash tables (see vocab.h). */
#include "vocab.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

uint32_t lmi_vocab_hash(const char *s, size_t len) {
    uint32_t h = LM_FNV_INIT;
    size_t i;
    for (i = 0; i < len; i++) {
        h = LM_FNV_STEP(h, s[i]);
    }
    return h;
}

static lm_status table_init(lmi_vocab_table *t, size_t n) {
    size_t cap = 16;
    size_t i;
    unsigned bits = 4;
    while (cap < 2 * n + 1) {
        cap *= 2;
        bits++;
    }
    if (bits > 27) {
        return lmi_error(LM_ERR_RANGE, "vocabulary: %zu tokens are too many", n);
    }
    t->slots = lmi_malloc_array(cap, sizeof *t->slots);
    t->bits = lmi_calloc(cap * 8 / 64, sizeof *t->bits); /* 8 bits a slot = 16 a key */
    if (t->slots == NULL || t->bits == NULL) {
        lmi_free(t->slots);
        lmi_free(t->bits);
        t->slots = NULL;
        t->bits = NULL;
        return lmi_error(LM_ERR_NOMEM, "vocabulary: out of memory for %zu hash slots", cap);
    }
    t->bits_shift = 32 - (bits + 3);
    for (i = 0; i < cap; i++) {
        t->slots[i].id = -1;
    }
    t->mask = cap - 1;
    t->shift = 32 - bits;
    t->max_len = 0;
    return LM_OK;
}

static void table_put(lmi_vocab_table *t, const char *pool, uint32_t off, uint32_t len, int32_t id,
                      uint32_t h) {
    size_t i = LM_VOCAB_SLOT(t, h);
    size_t b = LM_VOCAB_BIT(t, h);
    t->bits[b >> 6] |= (uint64_t)1 << (b & 63);
    for (;;) {
        lmi_vocab_slot *s = &t->slots[i];
        if (s->id < 0) {
            s->hash = h;
            s->id = id;
            s->off = off;
            s->len = len;
            break;
        }
        if (s->hash == h && s->len == len && memcmp(pool + s->off, pool + off, len) == 0) {
            s->id = id; /* a repeated token: the later id wins, as in a Python dict */
            break;
        }
        i = (i + 1) & t->mask;
    }
    if (len > t->max_len) {
        t->max_len = len;
    }
}

void lmi_vocab_free(lmi_vocab *v) {
    if (v == NULL) {
        return;
    }
    lmi_free(v->pool);
    lmi_free(v->tok_off);
    lmi_free(v->tok_len);
    lmi_free(v->full.slots);
    lmi_free(v->cont.slots);
    lmi_free(v->full.bits);
    lmi_free(v->cont.bits);
    memset(v, 0, sizeof *v);
}

lm_status lmi_vocab_build(lmi_vocab *v, size_t n, const char *const *texts, const size_t *lens,
                         const char *prefix) {
    size_t total = 0;
    size_t i;
    size_t pos = 0;
    size_t plen = strlen(prefix);
    lm_status st;
    memset(v, 0, sizeof *v);
    if (plen >= sizeof v->prefix) {
        return lmi_error(LM_ERR_UNSUPPORTED, "vocabulary: continuation prefix longer than %zu bytes",
                        sizeof v->prefix - 1);
    }
    memcpy(v->prefix, prefix, plen + 1);
    v->prefix_len = plen;
    for (i = 0; i < n; i++) {
        if (lens[i] > LM_VOCAB_MAX_TOKEN_BYTES) {
            return lmi_error(LM_ERR_RANGE,
                            "vocabulary: token %zu is %zu bytes long; a token may have at most %u",
                            i, lens[i], LM_VOCAB_MAX_TOKEN_BYTES);
        }
        total += lens[i] + 1;
        if (total > 0xFFFFFFF0u) {
            return lmi_error(LM_ERR_RANGE,
                            "vocabulary: the first %zu tokens hold more than 4 GiB of text", i + 1);
        }
    }
    v->pool = lmi_malloc(total + 1);
    v->tok_off = lmi_malloc_array(n + 1, sizeof *v->tok_off);
    v->tok_len = lmi_malloc_array(n + 1, sizeof *v->tok_len);
    if (v->pool == NULL || v->tok_off == NULL || v->tok_len == NULL) {
        lmi_vocab_free(v);
        return lmi_error(LM_ERR_NOMEM, "vocabulary: out of memory for %zu tokens", n);
    }
    {
        size_t ncont = 0;
        for (i = 0; i < n; i++) {
            ncont += plen > 0 && lens[i] > plen && memcmp(texts[i], prefix, plen) == 0;
        }
        st = table_init(&v->full, n);
        if (st == LM_OK) {
            st = table_init(&v->cont, ncont);
        }
    }
    if (st != LM_OK) {
        lmi_vocab_free(v);
        return st;
    }
    for (i = 0; i < n; i++) {
        memcpy(v->pool + pos, texts[i], lens[i]);
        v->pool[pos + lens[i]] = '\0';
        v->tok_off[i] = (uint32_t)pos;
        v->tok_len[i] = (uint32_t)lens[i];
        pos += lens[i] + 1;
    }
    /* Insert in id order (a repeated text keeps its later id). The slots are random accesses
     * into a table larger than the caches: hash a few tokens ahead and prefetch their slots. */
    {
        enum { AHEAD = 16 };
        uint32_t ring[AHEAD];
        size_t k;
        for (k = 0; k < n + AHEAD; k++) {
            if (k >= AHEAD) {
                size_t j = k - AHEAD;
                table_put(&v->full, v->pool, v->tok_off[j], v->tok_len[j], (int32_t)j,
                          ring[j % AHEAD]);
                if (plen > 0 && v->tok_len[j] > plen &&
                    memcmp(v->pool + v->tok_off[j], prefix, plen) == 0) {
                    uint32_t o = v->tok_off[j] + (uint32_t)plen;
                    uint32_t l = v->tok_len[j] - (uint32_t)plen;
                    table_put(&v->cont, v->pool, o, l, (int32_t)j, lmi_vocab_hash(v->pool + o, l));
                }
            }
            if (k < n) {
                uint32_t h = lmi_vocab_hash(v->pool + v->tok_off[k], v->tok_len[k]);
                ring[k % AHEAD] = h;
#if defined(__GNUC__)
                __builtin_prefetch(&v->full.slots[LM_VOCAB_SLOT(&v->full, h)], 1);
#endif
            }
        }
    }
    v->pool[pos] = '\0';
    v->pool_len = pos;
    v->n = n;
    return LM_OK;
}

int32_t lmi_vocab_lookup(const lmi_vocab *v, const char *s, size_t len) {
    if (v->full.slots == NULL) {
        return -1;
    }
    return lmi_vocab_find(&v->full, v->pool, s, len, lmi_vocab_hash(s, len));
}
