/* The BERT pipeline over one sequence, in one pass with offsets kept for every character:
 * never-split tokens matched in the raw text, then BertNormalizer (clean text, CJK splitting,
 * strip accents, lowercase), BertPreTokenizer (whitespace and punctuation) and greedy
 * longest-match-first WordPiece. Equivalent to Hugging Face tokenizers' stages, which map every
 * normalized character back to the original character it came from. */
#include "tokenizer.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/utf8.h"
#include "unicode.h"

/* One normalized character of the current word. */
typedef struct norm_char {
    size_t pos;    /* byte position in the word buffer */
    size_t b0, b1; /* source bytes */
    size_t c0;     /* source character index */
} norm_char;

typedef struct ctx {
    const lm_tokenizer_t *tok;
    lmi_token_list *out;
    char *buf; /* normalized bytes of the current word */
    size_t len, cap;
    norm_char *ch;
    size_t nch, chcap;
    uint32_t *hash; /* [chcap + 1] scratch for WordPiece */
    /* inline storage for ordinary words: no allocation unless a word is longer */
    char sbuf[512];
    norm_char sch[128];
    uint32_t shash[129];
    size_t nchars;  /* characters in the word (may exceed what is stored) */
    size_t last_b1, last_c1;
    int32_t word;
} ctx;

/* ASCII classes: 0 keep, 1 whitespace, 2 punctuation, 3 control (dropped when cleaning). */
static unsigned char ascii_class(unsigned char b, int clean) {
    if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
        return 1;
    }
    if (b == 0x0B || b == 0x0C) {
        return clean ? 3 : 1;
    }
    if (b < 0x20 || b == 0x7F) {
        return clean ? 3 : 0;
    }
    if ((b >= 33 && b <= 47) || (b >= 58 && b <= 64) || (b >= 91 && b <= 96) ||
        (b >= 123 && b <= 126)) {
        return 2;
    }
    return 0;
}

static lm_status emit(ctx *c, int32_t id, size_t b0, size_t b1, size_t c0, size_t c1) {
    lmi_token_list *l = c->out;
    lmi_token *t;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        lmi_token *p = lmi_realloc_array(l->t, cap, sizeof *p);
        if (p == NULL) {
            return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory for %zu tokens", cap);
        }
        l->t = p;
        l->cap = cap;
    }
    t = &l->t[l->n++];
    t->id = id;
    t->word = c->word;
    t->b0 = b0;
    t->b1 = b1;
    t->c0 = c0;
    t->c1 = c1;
    return LM_OK;
}

/* Appends one normalized character (UTF-8 bytes s[0..n)) that came from source [b0,b1), c0. */
static lm_status append(ctx *c, const char *s, size_t n, size_t b0, size_t b1, size_t c0) {
    size_t limit = c->tok->max_input_chars;
    c->nchars++;
    c->last_b1 = b1;
    c->last_c1 = c0 + 1;
    if (c->nchars > limit + 1) {
        return LM_OK; /* the word is [UNK] already; only its extent matters */
    }
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        char *p;
        while (cap < c->len + n) {
            cap *= 2;
        }
        p = c->buf == c->sbuf ? lmi_malloc(cap) : lmi_realloc(c->buf, cap);
        if (p == NULL) {
            return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory for a word");
        }
        if (c->buf == c->sbuf) {
            memcpy(p, c->sbuf, c->len);
        }
        c->buf = p;
        c->cap = cap;
    }
    if (c->nch == c->chcap) {
        size_t cap = c->chcap ? c->chcap * 2 : 64;
        int inl = c->ch == c->sch;
        norm_char *p = inl ? lmi_malloc_array(cap, sizeof *p) : lmi_realloc_array(c->ch, cap, sizeof *p);
        uint32_t *h;
        if (p == NULL) {
            return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory for a word");
        }
        if (inl) {
            memcpy(p, c->sch, c->nch * sizeof *p);
        }
        c->ch = p;
        h = inl ? lmi_malloc_array(cap + 1, sizeof *h) : lmi_realloc_array(c->hash, cap + 1, sizeof *h);
        if (h == NULL) {
            return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory for a word");
        }
        c->hash = h;
        c->chcap = cap;
    }
    c->ch[c->nch].pos = c->len;
    c->ch[c->nch].b0 = b0;
    c->ch[c->nch].b1 = b1;
    c->ch[c->nch].c0 = c0;
    c->nch++;
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    return LM_OK;
}

/* WordPiece over the current word, then starts a new word. */
static lm_status flush(ctx *c) {
    const lm_tokenizer_t *tok = c->tok;
    const lmi_vocab *v = &tok->vocab;
    int32_t unk = tok->special[LM_SPECIAL_UNK];
    size_t mark = c->out->n;
    size_t start = 0;
    size_t n = c->nch;
    lm_status st = LM_OK;
    if (c->nchars == 0) {
        return LM_OK;
    }
    if (c->nchars > tok->max_input_chars) {
        st = emit(c, unk, c->ch[0].b0, c->last_b1, c->ch[0].c0, c->last_c1);
        goto done;
    }
    while (start < n) {
        const lmi_vocab_table *t = start == 0 ? &v->full : &v->cont;
        size_t bstart = c->ch[start].pos;
        uint32_t h = LM_FNV_INIT;
        size_t e;
        size_t last = start;
        int32_t id = -1;
        for (e = start; e < n; e++) {
            size_t bend = e + 1 < n ? c->ch[e + 1].pos : c->len;
            size_t p;
            if (bend - bstart > t->max_len) {
                break;
            }
            for (p = c->ch[e].pos; p < bend; p++) {
                h = LM_FNV_STEP(h, c->buf[p]);
            }
            c->hash[e + 1] = h;
            last = e + 1;
        }
        for (e = last; e > start; e--) {
            size_t bend = e < n ? c->ch[e].pos : c->len;
            id = lmi_vocab_find(t, v->pool, c->buf + bstart, bend - bstart, c->hash[e]);
            if (id >= 0) {
                break;
            }
        }
        if (id < 0) {
            c->out->n = mark;
            st = emit(c, unk, c->ch[0].b0, c->last_b1, c->ch[0].c0, c->last_c1);
            goto done;
        }
        st = emit(c, id, c->ch[start].b0, c->ch[e - 1].b1, c->ch[start].c0, c->ch[e - 1].c0 + 1);
        if (st != LM_OK) {
            goto done;
        }
        start = e;
    }
done:
    c->word++;
    c->len = 0;
    c->nch = 0;
    c->nchars = 0;
    return st;
}

static lm_status append_cp(ctx *c, uint32_t cp, size_t b0, size_t b1, size_t c0) {
    char u[4];
    size_t k = lmi_utf8_encode(cp, u);
    return append(c, u, k, b0, b1, c0);
}

/* A character outside ASCII (or U+FFFD for an invalid sequence). */
static lm_status process_cp(ctx *c, uint32_t cp, size_t b0, size_t b1, size_t c0) {
    const lm_tokenizer_t *tok = c->tok;
    uint32_t norm[LM_TEXT_NORM_MAX];
    size_t n;
    size_t i;
    lm_status st;
    if (tok->clean && (cp == 0 || cp == 0xFFFD || lmi_text_is_control(cp))) {
        return LM_OK;
    }
    if (lmi_text_is_whitespace(cp)) {
        return flush(c);
    }
    if (tok->strip || tok->lower) {
        n = lmi_text_normalize_char(cp, tok->strip, tok->lower, norm);
    } else {
        norm[0] = cp;
        n = 1;
    }
    if (tok->chinese && lmi_text_is_chinese(cp)) {
        if ((st = flush(c)) != LM_OK) {
            return st;
        }
        for (i = 0; i < n; i++) {
            if ((st = append_cp(c, norm[i], b0, b1, c0)) != LM_OK) {
                return st;
            }
        }
        return flush(c);
    }
    for (i = 0; i < n; i++) {
        if (lmi_text_is_whitespace(norm[i])) {
            st = flush(c);
        } else if (lmi_text_is_punct(norm[i])) {
            if ((st = flush(c)) == LM_OK && (st = append_cp(c, norm[i], b0, b1, c0)) == LM_OK) {
                st = flush(c);
            }
        } else {
            st = append_cp(c, norm[i], b0, b1, c0);
        }
        if (st != LM_OK) {
            return st;
        }
    }
    return LM_OK;
}

/* The longest added token at s[0..len), or NULL. */
static const lmi_added_token *match_added(const lm_tokenizer_t *tok, const char *s, size_t len) {
    const lmi_added_token *best = NULL;
    size_t i;
    for (i = 0; i < tok->n_added; i++) {
        const lmi_added_token *a = &tok->added[i];
        if (a->len <= len && (best == NULL || a->len > best->len) && a->text[0] == s[0] &&
            memcmp(a->text, s, a->len) == 0) {
            best = a;
        }
    }
    return best;
}

lm_status lmi_text_tokenize(const lm_tokenizer_t *tok, const char *text, size_t len,
                           lmi_token_list *out) {
    const unsigned char *s = (const unsigned char *)text;
    size_t pos = 0;
    size_t ci = 0;
    lm_status st = LM_OK;
    ctx c;
    c.tok = tok;
    c.out = out;
    c.buf = c.sbuf;
    c.len = 0;
    c.cap = sizeof c.sbuf;
    c.ch = c.sch;
    c.nch = 0;
    c.chcap = sizeof c.sch / sizeof c.sch[0];
    c.hash = c.shash;
    c.nchars = 0;
    c.last_b1 = c.last_c1 = 0;
    c.word = 0;
    while (pos < len) {
        unsigned char b = s[pos];
        if (tok->added_first[b]) {
            const lmi_added_token *a = match_added(tok, text + pos, len - pos);
            if (a != NULL) {
                size_t chars = 0;
                size_t k;
                for (k = 0; k < a->len; k++) {
                    chars += ((unsigned char)a->text[k] & 0xC0) != 0x80;
                }
                if ((st = flush(&c)) != LM_OK ||
                    (st = emit(&c, a->id, pos, pos + a->len, ci, ci + chars)) != LM_OK) {
                    goto out;
                }
                c.word++;
                pos += a->len;
                ci += chars;
                continue;
            }
        }
        if (b < 0x80) {
            char ch;
            switch (ascii_class(b, tok->clean)) {
            case 1:
                st = flush(&c);
                break;
            case 2:
                ch = (char)b;
                if ((st = flush(&c)) == LM_OK && (st = append(&c, &ch, 1, pos, pos + 1, ci)) == LM_OK) {
                    st = flush(&c);
                }
                break;
            case 3:
                break;
            default:
                ch = (char)(tok->lower && b >= 'A' && b <= 'Z' ? b + 32 : b);
                st = append(&c, &ch, 1, pos, pos + 1, ci);
                break;
            }
            pos++;
        } else {
            uint32_t cp = 0;
            int valid;
            size_t n = lmi_text_decode(s + pos, len - pos, &cp, &valid);
            if (!valid) {
                if (!tok->replace_invalid) {
                    st = lmi_error(LM_ERR_UTF8, "invalid UTF-8 at byte offset %zu", pos);
                    goto out;
                }
                cp = 0xFFFD;
            }
            st = process_cp(&c, cp, pos, pos + n, ci);
            pos += n;
        }
        ci++;
        if (st != LM_OK) {
            goto out;
        }
    }
    st = flush(&c);
out:
    if (c.buf != c.sbuf) {
        lmi_free(c.buf);
    }
    if (c.ch != c.sch) {
        lmi_free(c.ch);
        lmi_free(c.hash);
    }
    return st;
}
