/* The WordPiece vocabulary: token pool and hash tables (see vocab.h). */
#include "vocab.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

uint32_t lm_vocab_hash(const char *s, size_t len) {
    uint32_t h = LM_FNV_INIT;
    size_t i;
    for (i = 0; i < len; i++) {
        h = LM_FNV_STEP(h, s[i]);
    }
    return h;
}

static lm_status table_init(lm_vocab_table *t, size_t n) {
    size_t cap = 16;
    size_t i;
    while (cap < 2 * n + 1) {
        cap *= 2;
    }
    t->slots = lm_malloc_array(cap, sizeof *t->slots);
    if (t->slots == NULL) {
        return lm_error(LM_ERR_NOMEM, "vocabulary: out of memory for %zu hash slots", cap);
    }
    for (i = 0; i < cap; i++) {
        t->slots[i].id = -1;
    }
    t->mask = cap - 1;
    t->max_len = 0;
    return LM_OK;
}

static void table_put(lm_vocab_table *t, const char *pool, uint32_t off, uint32_t len, int32_t id) {
    uint32_t h = lm_vocab_hash(pool + off, len);
    size_t i = h & t->mask;
    for (;;) {
        lm_vocab_slot *s = &t->slots[i];
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

void lm_vocab_free(lm_vocab *v) {
    if (v == NULL) {
        return;
    }
    lm_free(v->pool);
    lm_free(v->tok_off);
    lm_free(v->tok_len);
    lm_free(v->full.slots);
    lm_free(v->cont.slots);
    memset(v, 0, sizeof *v);
}

lm_status lm_vocab_build(lm_vocab *v, size_t n, const char *const *texts, const size_t *lens,
                         const char *prefix) {
    size_t total = 0;
    size_t i;
    size_t pos = 0;
    size_t plen = strlen(prefix);
    lm_status st;
    memset(v, 0, sizeof *v);
    if (plen >= sizeof v->prefix) {
        return lm_error(LM_ERR_UNSUPPORTED, "vocabulary: continuation prefix longer than %zu bytes",
                        sizeof v->prefix - 1);
    }
    memcpy(v->prefix, prefix, plen + 1);
    v->prefix_len = plen;
    for (i = 0; i < n; i++) {
        total += lens[i] + 1;
        if (total > 0xFFFFFFF0u || lens[i] > 0xFFFFu) {
            return lm_error(LM_ERR_RANGE, "vocabulary: token %zu makes the vocabulary too large", i);
        }
    }
    v->pool = lm_malloc(total + 1);
    v->tok_off = lm_malloc_array(n + 1, sizeof *v->tok_off);
    v->tok_len = lm_malloc_array(n + 1, sizeof *v->tok_len);
    if (v->pool == NULL || v->tok_off == NULL || v->tok_len == NULL) {
        lm_vocab_free(v);
        return lm_error(LM_ERR_NOMEM, "vocabulary: out of memory for %zu tokens", n);
    }
    st = table_init(&v->full, n);
    if (st == LM_OK) {
        st = table_init(&v->cont, n);
    }
    if (st != LM_OK) {
        lm_vocab_free(v);
        return st;
    }
    for (i = 0; i < n; i++) {
        memcpy(v->pool + pos, texts[i], lens[i]);
        v->pool[pos + lens[i]] = '\0';
        v->tok_off[i] = (uint32_t)pos;
        v->tok_len[i] = (uint32_t)lens[i];
        table_put(&v->full, v->pool, (uint32_t)pos, (uint32_t)lens[i], (int32_t)i);
        if (plen > 0 && lens[i] > plen && memcmp(texts[i], prefix, plen) == 0) {
            table_put(&v->cont, v->pool, (uint32_t)(pos + plen), (uint32_t)(lens[i] - plen),
                      (int32_t)i);
        }
        pos += lens[i] + 1;
    }
    v->pool[pos] = '\0';
    v->pool_len = pos;
    v->n = n;
    return LM_OK;
}

int32_t lm_vocab_lookup(const lm_vocab *v, const char *s, size_t len) {
    if (v->full.slots == NULL) {
        return -1;
    }
    return lm_vocab_find(&v->full, v->pool, s, len, lm_vocab_hash(s, len));
}
