/* Internal (text): the WordPiece vocabulary: token texts by id in one pool, and two
 * open-addressing hash tables (whole tokens, and continuation pieces without their "##" prefix)
 * that look up a byte range with a precomputed FNV-1a hash, so WordPiece hashes each candidate
 * incrementally and never allocates. */
#ifndef LM_TEXT_VOCAB_H
#define LM_TEXT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"

#define LM_FNV_INIT 2166136261u
#define LM_FNV_STEP(h, b) (((h) ^ (uint32_t)(unsigned char)(b)) * 16777619u)

typedef struct lmi_vocab_slot {
    uint32_t hash;
    int32_t id;     /* -1: empty */
    uint32_t off;   /* key bytes in the pool */
    uint32_t len;
} lmi_vocab_slot;

typedef struct lmi_vocab_table {
    lmi_vocab_slot *slots;
    size_t mask;     /* slot count - 1 (a power of two) */
    unsigned shift;  /* 32 - log2(slot count): the slot is the top bits of hash * golden ratio */
    size_t max_len;  /* longest key in bytes */
    uint64_t *bits;  /* one-hash Bloom filter (16 bits a key): most misses never touch slots */
    unsigned bits_shift;
} lmi_vocab_table;

typedef struct lmi_vocab {
    char *pool;          /* every token text, each followed by NUL */
    size_t pool_len;
    uint32_t *tok_off;   /* [n] offset of token id in pool */
    uint32_t *tok_len;   /* [n] its length in bytes */
    size_t n;            /* number of ids */
    lmi_vocab_table full; /* token text -> id */
    lmi_vocab_table cont; /* text after the continuation prefix -> id */
    char prefix[16];     /* continuation prefix, normally "##" */
    size_t prefix_len;
} lmi_vocab;

/* Longest token text, in bytes (the longest of bert-base-uncased is 18): a longer "token" means
 * the file is not a vocabulary (a vocab.txt holds one token a line). */
#define LM_VOCAB_MAX_TOKEN_BYTES 65535u

/* Builds a vocabulary from `n` tokens: token i is texts[i] of lens[i] bytes (may contain any byte
 * but NUL). When a text repeats, lookups give the later id. Returns LM_OK, LM_ERR_NOMEM or
 * LM_ERR_RANGE (a token longer than LM_VOCAB_MAX_TOKEN_BYTES, naming its id, or the tokens over
 * 4 GiB). On failure v is left empty (lmi_vocab_free is safe). */
lm_status lmi_vocab_build(lmi_vocab *v, size_t n, const char *const *texts, const size_t *lens,
                         const char *prefix);

void lmi_vocab_free(lmi_vocab *v);

/* Fibonacci hashing: FNV-1a's low bits are weak, its products' high bits are not. */
#define LM_VOCAB_SLOT(t, h) ((size_t)((uint32_t)((h) * 2654435769u) >> (t)->shift))
#define LM_VOCAB_BIT(t, h) ((size_t)((uint32_t)((h) * 0x85EBCA77u) >> (t)->bits_shift))

/* Looks up key[0..len) whose FNV-1a hash is h; returns the id or -1. */
static inline int32_t lmi_vocab_find(const lmi_vocab_table *t, const char *pool, const char *key,
                                    size_t len, uint32_t h) {
    size_t b = LM_VOCAB_BIT(t, h);
    size_t i = LM_VOCAB_SLOT(t, h);
    if (!((t->bits[b >> 6] >> (b & 63)) & 1)) {
        return -1;
    }
    for (;;) {
        const lmi_vocab_slot *s = &t->slots[i];
        if (s->id < 0) {
            return -1;
        }
        if (s->hash == h && s->len == len) {
            const char *p = pool + s->off;
            size_t k = 0;
            while (k < len && p[k] == key[k]) {
                k++;
            }
            if (k == len) {
                return s->id;
            }
        }
        i = (i + 1) & t->mask;
    }
}

uint32_t lmi_vocab_hash(const char *s, size_t len);

/* Id of token text s[0..len), or -1. */
int32_t lmi_vocab_lookup(const lmi_vocab *v, const char *s, size_t len);

#endif
