/* Encoding: the post-processor of Hugging Face's BERT template ([CLS] A [SEP] (B [SEP])), with
 * its truncation strategies, overflow windows with a stride, padding, the public lm_encoding_t
 * and batch encoding on several threads. Truncation and overflow follow tokenizers'
 * truncate_encodings / Encoding::truncate / Encoding::merge_with (first level of overflows, the
 * list transformers returns). */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/options.h"
#include "tensor/guard.h"
#include "tokenizer.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void lmi_encode_options_init(lm_encode_options *opts) {
    if (opts == NULL) {
        return;
    }
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->add_special_tokens = 1;
    opts->truncation = LM_TRUNCATE_LONGEST_FIRST;
    opts->padding = LM_PAD_NONE;
}

lm_encoding_t *lmi_encoding_alloc(size_t n) {
    lm_encoding_t *e = lmi_calloc(1, sizeof *e);
    size_t cap = n ? n : 1;
    if (e == NULL) {
        return NULL;
    }
    e->n = n;
    /* one block: 4*cap size_t offsets, then 6*cap int32 arrays (zeroed) */
    e->offsets = lmi_calloc(cap, 4 * sizeof(size_t) + 6 * sizeof(int32_t));
    if (e->offsets == NULL) {
        lmi_free(e);
        return NULL;
    }
    e->ids = (int32_t *)(e->offsets + 4 * cap);
    e->type_ids = e->ids + cap;
    e->attention = e->ids + 2 * cap;
    e->special_mask = e->ids + 3 * cap;
    e->word_ids = e->ids + 4 * cap;
    e->seq_ids = e->ids + 5 * cap;
    e->byte_offsets = e->offsets + 2 * cap;
    return e;
}

void lmi_encoding_free(lm_encoding_t *enc) {
    size_t i;
    if (enc == NULL) {
        return;
    }
    for (i = 0; i < enc->n_overflow; i++) {
        lmi_encoding_free(enc->overflow[i]);
    }
    lmi_free(enc->overflow);
    lmi_free(enc->offsets);
    lmi_free(enc);
}

lm_status lmi_encoding_pad(lm_encoding_t *enc, size_t length, int32_t pad_id) {
    size_t i;
    lm_encoding_t *p;
    lm_status st;
    for (i = 0; i < enc->n_overflow; i++) {
        if ((st = lmi_encoding_pad(enc->overflow[i], length, pad_id)) != LM_OK) {
            return st;
        }
    }
    if (enc->n >= length) {
        return LM_OK;
    }
    p = lmi_encoding_alloc(length);
    if (p == NULL) {
        return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory padding to %zu tokens", length);
    }
    memcpy(p->ids, enc->ids, enc->n * sizeof(int32_t));
    memcpy(p->type_ids, enc->type_ids, enc->n * sizeof(int32_t));
    memcpy(p->attention, enc->attention, enc->n * sizeof(int32_t));
    memcpy(p->special_mask, enc->special_mask, enc->n * sizeof(int32_t));
    memcpy(p->word_ids, enc->word_ids, enc->n * sizeof(int32_t));
    memcpy(p->seq_ids, enc->seq_ids, enc->n * sizeof(int32_t));
    memcpy(p->offsets, enc->offsets, 2 * enc->n * sizeof(size_t));
    memcpy(p->byte_offsets, enc->byte_offsets, 2 * enc->n * sizeof(size_t));
    for (i = enc->n; i < length; i++) {
        p->ids[i] = pad_id;
        p->special_mask[i] = 1;
        p->word_ids[i] = -1;
        p->seq_ids[i] = -1;
    }
    /* swap the arrays in, keep enc's overflow list */
    lmi_free(enc->offsets);
    enc->n = length;
    enc->ids = p->ids;
    enc->type_ids = p->type_ids;
    enc->attention = p->attention;
    enc->special_mask = p->special_mask;
    enc->word_ids = p->word_ids;
    enc->seq_ids = p->seq_ids;
    enc->offsets = p->offsets;
    enc->byte_offsets = p->byte_offsets;
    lmi_free(p);
    return LM_OK;
}

/* A window [start, stop) of one sequence's tokens. */
typedef struct window {
    size_t start, stop;
} window;

/* Encoding::truncate: windows of max_len tokens, consecutive windows sharing `stride`. The first
 * window is the kept part; the rest overflow. *count is set; *out allocated (free with lmi_free). */
static lm_status make_windows(size_t len, size_t max_len, size_t stride, int truncate,
                              window *one, window **out, size_t *count) {
    size_t n = 0;
    size_t step;
    size_t start;
    window *w;
    *out = NULL;
    *count = 0;
    if (!truncate || max_len >= len) {
        one->start = 0; /* the caller's own slot: no allocation */
        one->stop = len;
        *out = one;
        *count = 1;
        return LM_OK;
    }
    if (max_len == 0) {
        w = lmi_malloc(2 * sizeof *w);
        if (w == NULL) {
            return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory");
        }
        w[0].start = w[0].stop = 0;
        w[1].start = 0;
        w[1].stop = len;
        *out = w;
        *count = 2;
        return LM_OK;
    }
    if (stride >= max_len) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                        "tokenizer: stride %zu must be less than the %zu tokens left for a sequence "
                        "(max_length minus the special tokens)", stride, max_len);
    }
    step = max_len - stride;
    for (start = 0;; start += step) {
        n++;
        if (start + max_len >= len) {
            break;
        }
    }
    w = lmi_malloc_array(n, sizeof *w);
    if (w == NULL) {
        return lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory for %zu windows", n);
    }
    n = 0;
    for (start = 0;; start += step) {
        w[n].start = start;
        w[n].stop = start + max_len < len ? start + max_len : len;
        n++;
        if (start + max_len >= len) {
            break;
        }
    }
    *out = w;
    *count = n;
    return LM_OK;
}

static void put_special(lm_encoding_t *e, size_t *k, int32_t id, int32_t type) {
    size_t i = (*k)++;
    e->ids[i] = id;
    e->type_ids[i] = type;
    e->attention[i] = 1;
    e->special_mask[i] = 1;
    e->word_ids[i] = -1;
    e->seq_ids[i] = -1;
    e->offsets[2 * i] = e->offsets[2 * i + 1] = 0;
    e->byte_offsets[2 * i] = e->byte_offsets[2 * i + 1] = 0;
}

static void put_seq(lm_encoding_t *e, size_t *k, const lmi_token_list *l, window w, int32_t seq) {
    size_t j;
    for (j = w.start; j < w.stop; j++) {
        const lmi_token *t = &l->t[j];
        size_t i = (*k)++;
        e->ids[i] = t->id;
        e->type_ids[i] = seq;
        e->attention[i] = 1;
        e->special_mask[i] = 0;
        e->word_ids[i] = t->word;
        e->seq_ids[i] = seq;
        e->offsets[2 * i] = t->c0;
        e->offsets[2 * i + 1] = t->c1;
        e->byte_offsets[2 * i] = t->b0;
        e->byte_offsets[2 * i + 1] = t->b1;
    }
}

/* Builds one encoding from window wa of a and (when b) window wb of b. */
static lm_encoding_t *assemble(const lm_tokenizer_t *tok, int specials, const lmi_token_list *a,
                               window wa, const lmi_token_list *b, window wb) {
    size_t n = (wa.stop - wa.start) + (b ? wb.stop - wb.start : 0) + (specials ? (b ? 3 : 2) : 0);
    size_t k = 0;
    lm_encoding_t *e = lmi_encoding_alloc(n);
    if (e == NULL) {
        return NULL;
    }
    if (specials) {
        put_special(e, &k, tok->special[LM_SPECIAL_CLS], 0);
    }
    put_seq(e, &k, a, wa, 0);
    if (specials) {
        put_special(e, &k, tok->special[LM_SPECIAL_SEP], 0);
    }
    if (b) {
        put_seq(e, &k, b, wb, 1);
        if (specials) {
            put_special(e, &k, tok->special[LM_SPECIAL_SEP], 1);
        }
    }
    return e;
}

static lm_status post_process(const lm_tokenizer_t *tok, const lm_encode_options *o,
                              const lmi_token_list *a, const lmi_token_list *b,
                              lm_encoding_t **out) {
    size_t added = o->add_special_tokens ? (b ? 3 : 2) : 0;
    size_t na = a->n;
    size_t nb = b ? b->n : 0;
    size_t ta = na, tb = nb; /* lengths to truncate to */
    int truncate = 0;
    window *wa = NULL, *wb = NULL;
    window one_a, one_b;
    size_t ka = 0, kb = 0;
    size_t i, j, n_over = 0;
    lm_encoding_t *e = NULL;
    lm_status st;

    if (o->max_length > 0 && o->max_length >= added) {
        size_t max = o->max_length - added;
        truncate = 1;
        if (max == 0) {
            ta = tb = 0;
        } else if (na + nb > max) {
            size_t to_remove = na + nb - max;
            if (o->truncation == LM_TRUNCATE_LONGEST_FIRST) {
                if (b) {
                    size_t n1 = na, n2 = nb;
                    int swap = n1 > n2;
                    if (swap) {
                        size_t t = n1;
                        n1 = n2;
                        n2 = t;
                    }
                    if (n1 > max) {
                        n2 = n1;
                    } else {
                        n2 = n1 > max - n1 ? n1 : max - n1;
                    }
                    if (n1 + n2 > max) {
                        n1 = max / 2;
                        n2 = n1 + max % 2;
                    }
                    if (swap) {
                        size_t t = n1;
                        n1 = n2;
                        n2 = t;
                    }
                    ta = n1;
                    tb = n2;
                } else {
                    ta = na - to_remove;
                }
            } else if (o->truncation == LM_TRUNCATE_ONLY_FIRST || b != NULL) {
                size_t len = o->truncation == LM_TRUNCATE_ONLY_FIRST ? na : nb;
                if (len <= to_remove) {
                    return lmi_error(LM_ERR_RANGE,
                                    "tokenizer: cannot truncate to max_length %zu: the %s sequence "
                                    "has only %zu tokens", o->max_length,
                                    o->truncation == LM_TRUNCATE_ONLY_FIRST ? "first" : "second",
                                    len);
                }
                if (o->truncation == LM_TRUNCATE_ONLY_FIRST) {
                    ta = na - to_remove;
                } else {
                    tb = nb - to_remove;
                }
            } else {
                return lmi_error(LM_ERR_INVALID_ARGUMENT,
                                "tokenizer: only_second truncation needs a text pair");
            }
        } else {
            truncate = 0;
        }
    }
    if ((st = make_windows(na, ta, o->stride, truncate, &one_a, &wa, &ka)) != LM_OK) {
        goto fail;
    }
    if (b && (st = make_windows(nb, tb, o->stride, truncate, &one_b, &wb, &kb)) != LM_OK) {
        goto fail;
    }
    e = assemble(tok, o->add_special_tokens, a, wa[0], b, b ? wb[0] : wa[0]);
    if (e == NULL) {
        goto nomem;
    }
    if (o->return_overflowing) {
        size_t total = b ? ka * kb - 1 : ka - 1;
        if (total > 0) {
            e->overflow = lmi_calloc(total, sizeof *e->overflow);
            if (e->overflow == NULL) {
                goto nomem;
            }
        }
        /* (i >= 1, any j), then (i = 0, j >= 1): Encoding::merge_with's order */
        for (i = 1; i < ka; i++) {
            for (j = 0; j < (b ? kb : 1); j++) {
                lm_encoding_t *x = assemble(tok, o->add_special_tokens, a, wa[i], b, b ? wb[j] : wa[0]);
                if (x == NULL) {
                    goto nomem;
                }
                e->overflow[n_over++] = x;
                e->n_overflow = n_over;
            }
        }
        for (j = 1; b && j < kb; j++) {
            lm_encoding_t *x = assemble(tok, o->add_special_tokens, a, wa[0], b, wb[j]);
            if (x == NULL) {
                goto nomem;
            }
            e->overflow[n_over++] = x;
            e->n_overflow = n_over;
        }
    }
    if (o->padding == LM_PAD_MAX_LENGTH && o->max_length > 0) {
        if ((st = lmi_encoding_pad(e, o->max_length, tok->special[LM_SPECIAL_PAD])) != LM_OK) {
            goto fail;
        }
    }
    if (wa != &one_a) {
        lmi_free(wa);
    }
    if (wb != &one_b) {
        lmi_free(wb);
    }
    *out = e;
    return LM_OK;
nomem:
    st = lmi_error(LM_ERR_NOMEM, "tokenizer: out of memory for an encoding");
fail:
    if (wa != &one_a) {
        lmi_free(wa);
    }
    if (wb != &one_b) {
        lmi_free(wb);
    }
    lmi_encoding_free(e);
    return st;
}

static lm_status check_args(const lm_tokenizer_t *tok, const lm_encode_options *opts,
                            lm_encode_options *o) {
    lm_status st;
    lmi_encode_options_init(o);
    if (tok == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "tokenizer: tok is NULL");
    }
    st = lmi_options_read(o, sizeof *o, opts, offsetof(lm_encode_options, return_overflowing) +
                         sizeof(int), "lm_encode_options");
    if (st != LM_OK) {
        return st;
    }
    if ((unsigned)o->truncation > LM_TRUNCATE_ONLY_SECOND || (unsigned)o->padding > LM_PAD_MAX_LENGTH) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_encode_options: unknown truncation or padding");
    }
    if (o->add_special_tokens &&
        (tok->special[LM_SPECIAL_CLS] < 0 || tok->special[LM_SPECIAL_SEP] < 0)) {
        return lmi_error(LM_ERR_UNSUPPORTED,
                        "tokenizer: the vocabulary has no [CLS] or [SEP] to add special tokens");
    }
    if (o->padding != LM_PAD_NONE && tok->special[LM_SPECIAL_PAD] < 0) {
        return lmi_error(LM_ERR_UNSUPPORTED, "tokenizer: the vocabulary has no [PAD] to pad with");
    }
    return LM_OK;
}

lm_status lmi_encode_token_lists(const lm_tokenizer_t *tok, const lmi_token_list *a,
                                const lmi_token_list *b, const lm_encode_options *opts,
                                lm_encoding_t **out) {
    lm_encode_options o;
    lm_status st;
    *out = NULL;
    if ((st = check_args(tok, opts, &o)) != LM_OK) {
        return st;
    }
    return post_process(tok, &o, a, b, out);
}

static lm_status encode_impl(const lm_tokenizer_t *tok, const char *a, size_t a_len,
                             const char *b, size_t b_len, int pair, const lm_encode_options *o,
                             lm_encoding_t **out) {
    lmi_token_list la = {NULL, 0, 0};
    lmi_token_list lb = {NULL, 0, 0};
    lm_status st;
    if ((a == NULL && a_len > 0) || (pair && b == NULL && b_len > 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "tokenizer: text is NULL");
    }
    st = lmi_text_tokenize(tok, a, a_len, &la);
    if (st == LM_OK && pair) {
        st = lmi_text_tokenize(tok, b, b_len, &lb);
        if (st != LM_OK) {
            lmi_error_prefix(st, "second text");
        }
    }
    if (st == LM_OK) {
        st = post_process(tok, o, &la, pair ? &lb : NULL, out);
    }
    lmi_free(la.t);
    lmi_free(lb.t);
    return st;
}

/* The public entry of both encode functions: argument checks, then the pipeline. */
static lm_status encode_entry(const lm_tokenizer_t *tok, const char *a, size_t a_len,
                              const char *b, size_t b_len, int is_pair,
                              const lm_encode_options *opts, lm_encoding_t **out) {
    lm_encode_options o;
    lm_status st;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "tokenizer: out is NULL");
    }
    *out = NULL;
    if ((st = check_args(tok, opts, &o)) != LM_OK) {
        return st;
    }
    return encode_impl(tok, a, a_len, b, b_len, is_pair, &o, out);
}

lm_status lmi_tokenizer_encode(const lm_tokenizer_t *tok, const char *text, size_t text_len,
                              const lm_encode_options *opts, lm_encoding_t **out) {
    return encode_entry(tok, text, text_len, NULL, 0, 0, opts, out);
}

lm_status lmi_tokenizer_encode_pair(const lm_tokenizer_t *tok, const char *a, size_t a_len,
                                   const char *b, size_t b_len, const lm_encode_options *opts,
                                   lm_encoding_t **out) {
    return encode_entry(tok, a, a_len, b, b_len, 1, opts, out);
}

lm_status lmi_tokenizer_encode_batch(const lm_tokenizer_t *tok, size_t n, const char *const *texts,
                                    const size_t *lens, const char *const *pairs,
                                    const size_t *pair_lens, const lm_encode_options *opts,
                                    int threads, lm_encoding_t **encs_out, int32_t *statuses) {
    lm_encode_options o;
    lm_status st;
    size_t i;
    size_t first_bad = n;
    size_t longest = 0;
    long long k;
    if (encs_out == NULL || (n > 0 && (texts == NULL || lens == NULL)) ||
        (pairs != NULL && pair_lens == NULL) || threads < 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "tokenizer: batch arguments are NULL or invalid");
    }
    for (i = 0; i < n; i++) {
        encs_out[i] = NULL;
        if (statuses) {
            statuses[i] = LM_ERR_INTERNAL;
        }
    }
    if ((st = check_args(tok, opts, &o)) != LM_OK) {
        for (i = 0; statuses != NULL && i < n; i++) {
            statuses[i] = st;
        }
        return st;
    }
#ifdef _OPENMP
    if (threads == 0) {
        threads = omp_get_max_threads();
    }
    threads = lmi_plan_threads(threads); /* fewer when their stacks do not fit (tensor/guard.h) */
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
#endif
    for (k = 0; k < (long long)n; k++) {
        size_t x = (size_t)k;
        lm_status s = encode_impl(tok, texts[x], lens[x], pairs ? pairs[x] : NULL,
                                  pairs ? pair_lens[x] : 0, pairs != NULL, &o, &encs_out[x]);
        if (statuses) {
            statuses[x] = s;
        }
        if (s != LM_OK) {
            encs_out[x] = NULL;
        }
    }
    for (i = 0; i < n; i++) {
        if (encs_out[i] == NULL) {
            first_bad = i;
            break;
        }
        if (encs_out[i]->n > longest) {
            longest = encs_out[i]->n;
        }
    }
    if (first_bad < n) {
        lm_encoding_t *tmp = NULL;
        /* re-run the first failure on this thread for its error text */
        st = encode_impl(tok, texts[first_bad], lens[first_bad], pairs ? pairs[first_bad] : NULL,
                         pairs ? pair_lens[first_bad] : 0, pairs != NULL, &o, &tmp);
        lmi_encoding_free(tmp);
        if (st == LM_OK) {
            st = statuses ? statuses[first_bad] : LM_ERR_NOMEM;
        }
        return lmi_error_prefix(st, "batch input %zu", first_bad);
    }
    if (o.padding == LM_PAD_LONGEST) {
        for (i = 0; i < n; i++) {
            if ((st = lmi_encoding_pad(encs_out[i], longest, tok->special[LM_SPECIAL_PAD])) != LM_OK) {
                if (statuses) {
                    statuses[i] = st;
                }
                lmi_encoding_free(encs_out[i]);
                encs_out[i] = NULL;
                return lmi_error_prefix(st, "batch input %zu", i);
            }
        }
    }
    return LM_OK;
}
