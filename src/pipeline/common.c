/* What the text pipelines share: settings, texts, tokenization, length-sorted batches through the
 * encoder, softmax and ranking. */
#include "pipeline/common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "text/unicode.h"

#define DEFAULT_BATCH 32

lm_status lmi_pipe_init(lmi_pipe *p, const lmi_bert *m, const lm_tokenizer_t *tok,
                        const lm_text_options *o, int head, size_t default_cap) {
    const int64_t positions = m->cfg.max_position_embeddings;
    memset(p, 0, sizeof *p);
    if (head != LM_BERT_HEAD_AUTO && m->head != head) {
        return lmi_error(LM_ERR_STATE, "the model's head is %s, not %s",
                         lmi_bert_head_name(m->head), lmi_bert_head_name(head));
    }
    if (o->max_length != 0 && (o->max_length < 3 || o->max_length > positions)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_text_options.max_length is %d (0, or 3 to the model's %lld positions)",
                         (int)o->max_length, (long long)positions);
    }
    if (o->batch_size < 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_text_options.batch_size is %d (0 or more)",
                         (int)o->batch_size);
    }
    if (o->replace_invalid_utf8 != 0 && o->replace_invalid_utf8 != 1) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_text_options.replace_invalid_utf8 is %d (0 or 1)",
                         (int)o->replace_invalid_utf8);
    }
    p->m = m;
    p->tok = *tok;
    p->tok.replace_invalid = o->replace_invalid_utf8;
    if (o->max_length != 0) {
        p->max_length = (size_t)o->max_length;
    } else {
        p->max_length = (size_t)(m->max_seq_length > 0 ? m->max_seq_length : positions);
        if (default_cap != 0 && p->max_length > default_cap) {
            p->max_length = default_cap;
        }
    }
    p->batch = o->batch_size > 0 ? (size_t)o->batch_size : DEFAULT_BATCH;
    p->C = (size_t)m->cfg.hidden_size;
    return LM_OK;
}

lm_status lmi_pipe_text(const char *const *texts, const size_t *lens, size_t i, const char *what,
                        const char **s, size_t *len) {
    *s = texts[i];
    *len = 0;
    if (*s == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s %zu is NULL", what, i);
    }
    *len = lens != NULL ? lens[i] : strlen(*s);
    return LM_OK;
}

lm_status lmi_pipe_encode(const lmi_pipe *p, size_t n, const char *const *texts,
                          const size_t *lens, const char *const *pairs, const size_t *pair_lens,
                          lm_encoding_t **encs) {
    lm_encode_options eo;
    size_t i;
    lmi_encode_options_init(&eo);
    eo.max_length = p->max_length;
    eo.truncation = LM_TRUNCATE_LONGEST_FIRST;
    for (i = 0; i < n; i++) {
        const char *a, *b = NULL;
        size_t la, lb = 0;
        lm_status s = lmi_pipe_text(texts, lens, i, "text", &a, &la);
        if (s == LM_OK && pairs != NULL) {
            s = lmi_pipe_text(pairs, pair_lens, i, "pair", &b, &lb);
        }
        if (s != LM_OK) {
            return s;
        }
        /* an empty second text is no pair: transformers' tokenizer(text=a, text_pair="") */
        s = pairs != NULL && lb > 0
                ? lmi_tokenizer_encode_pair(&p->tok, a, la, b, lb, &eo, &encs[i])
                : lmi_tokenizer_encode(&p->tok, a, la, &eo, &encs[i]);
        if (s != LM_OK) {
            return lmi_error_prefix(s, "text %zu", i);
        }
    }
    return LM_OK;
}

void lmi_pipe_free_encodings(lm_encoding_t **encs, size_t n) {
    size_t i;
    for (i = 0; encs != NULL && i < n; i++) {
        lmi_encoding_free(encs[i]);
        encs[i] = NULL;
    }
}

/* ---- batches ---- */

typedef struct by_length {
    size_t len, index;
} by_length;

static int longest_first(const void *a, const void *b) {
    const by_length *x = a, *y = b;
    if (x->len != y->len) {
        return x->len > y->len ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

lm_status lmi_pipe_run(const lmi_pipe *p, lm_encoding_t *const *encs, size_t n,
                       lmi_pipe_batch_fn fn, void *user) {
    const lmi_bert *m = p->m;
    by_length *order = NULL;
    size_t *rows = NULL;
    int32_t *ids = NULL, *types = NULL, *mask = NULL;
    float *hidden = NULL;
    size_t i, start, B0, T0, cells, floats;
    lm_status s = LM_OK;
    if (n == 0) {
        return LM_OK;
    }
    order = lmi_malloc_array(n, sizeof *order);
    if (order == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for %zu inputs", n);
    }
    for (i = 0; i < n; i++) {
        order[i].len = encs[i]->n;
        order[i].index = i;
    }
    qsort(order, n, sizeof *order, longest_first);
    B0 = n < p->batch ? n : p->batch;
    T0 = order[0].len > 0 ? order[0].len : 1;
    if (!lmi_size_mul(B0, T0, &cells) || !lmi_size_mul(cells, p->C, &floats) ||
        floats > SIZE_MAX / sizeof(float)) {
        lmi_free(order);
        return lmi_error(LM_ERR_RANGE, "a batch of %zu x %zu tokens is too large", B0, T0);
    }
    rows = lmi_malloc_array(B0, sizeof *rows);
    ids = lmi_malloc_array(3 * cells, sizeof *ids);
    hidden = lmi_malloc_aligned(floats * sizeof(float), 64);
    if (rows == NULL || ids == NULL || hidden == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for a batch of %zu x %zu tokens", B0, T0);
        goto done;
    }
    types = ids + cells;
    mask = types + cells;
    for (start = 0; start < n && s == LM_OK; start += B0) {
        const size_t B = n - start < B0 ? n - start : B0;
        const size_t T = order[start].len > 0 ? order[start].len : 1;
        lmi_pipe_batch batch;
        size_t b;
        for (b = 0; b < B; b++) {
            const lm_encoding_t *e = encs[order[start + b].index];
            size_t t;
            rows[b] = order[start + b].index;
            memcpy(ids + b * T, e->ids, e->n * sizeof *ids);
            memcpy(types + b * T, e->type_ids, e->n * sizeof *types);
            memcpy(mask + b * T, e->attention, e->n * sizeof *mask);
            for (t = e->n; t < T; t++) {
                ids[b * T + t] = (int32_t)m->cfg.pad_token_id;
                types[b * T + t] = 0;
                mask[b * T + t] = 0;
            }
        }
        s = lmi_bert_check_inputs(m, ids, types, mask, B, T);
        if (s != LM_OK) {
            s = lmi_error_prefix(s, "the tokenizer does not fit the model");
            break;
        }
        s = lmi_bert_encode(m, ids, types, mask, B, T, hidden, 0); /* padding unread */
        if (s != LM_OK) {
            break;
        }
        batch.B = B;
        batch.T = T;
        batch.rows = rows;
        batch.ids = ids;
        batch.mask = mask;
        batch.hidden = hidden;
        s = fn(user, &batch);
    }
done:
    lmi_free_aligned(hidden);
    lmi_free(ids);
    lmi_free(rows);
    lmi_free(order);
    return s;
}

/* ---- helpers ---- */

lm_status lmi_pipe_too_small(size_t needed, size_t capacity, const char *unit) {
    return lmi_error(LM_ERR_BUFFER_TOO_SMALL, "the results need %zu %s; the buffer holds %zu",
                     needed, unit, capacity);
}

void lmi_pipe_softmax(const float *x, size_t n, float *out) {
    double mx = -INFINITY, sum = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        mx = x[i] > mx ? x[i] : mx;
    }
    for (i = 0; i < n; i++) {
        sum += exp((double)x[i] - mx);
    }
    for (i = 0; i < n; i++) {
        out[i] = (float)(exp((double)x[i] - mx) / sum);
    }
}

/* 1 when (a, ia) ranks before (b, ib): higher score first, NaN last, then lower index. */
static int ranks_before(float a, size_t ia, float b, size_t ib) {
    if (isnan(a) || isnan(b)) {
        return isnan(a) == isnan(b) ? ia < ib : !isnan(a);
    }
    return a > b || (a == b && ia < ib);
}

typedef struct scored {
    float score;
    int32_t index;
} scored;

static int scored_cmp(const void *pa, const void *pb) {
    const scored *a = pa, *b = pb;
    if (ranks_before(a->score, (size_t)a->index, b->score, (size_t)b->index)) {
        return -1;
    }
    return ranks_before(b->score, (size_t)b->index, a->score, (size_t)a->index);
}

lm_status lmi_pipe_rank(const float *scores, size_t n, size_t k, int32_t *idx) {
    size_t i, j, have = 0;
    k = k < n ? k : n;
    if (k == 0) {
        return LM_OK;
    }
    if (k > 32) { /* many: sort them all */
        scored *all = lmi_malloc_array(n, sizeof *all);
        if (all == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory ranking %zu scores", n);
        }
        for (i = 0; i < n; i++) {
            all[i].score = scores[i];
            all[i].index = (int32_t)i;
        }
        qsort(all, n, sizeof *all, scored_cmp);
        for (i = 0; i < k; i++) {
            idx[i] = all[i].index;
        }
        lmi_free(all);
        return LM_OK;
    }
    for (i = 0; i < n; i++) { /* few: insertion into the best k so far */
        if (have == k && !ranks_before(scores[i], i, scores[idx[k - 1]], (size_t)idx[k - 1])) {
            continue;
        }
        j = have < k ? have++ : k - 1;
        while (j > 0 && ranks_before(scores[i], i, scores[idx[j - 1]], (size_t)idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = (int32_t)i;
    }
    return LM_OK;
}

size_t lmi_pipe_chars(const char *s, size_t len) {
    size_t pos = 0, n = 0;
    while (pos < len) {
        uint32_t cp;
        int valid;
        pos += lmi_text_decode((const unsigned char *)s + pos, len - pos, &cp, &valid);
        n++;
    }
    return n;
}
