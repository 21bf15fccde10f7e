/* Batching: the epoch order from (seed, epoch), length grouping as transformers'
 * LengthGroupedSampler, dynamic padding, and masked-LM masking as
 * DataCollatorForLanguageModeling. See batch.h. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "text/tokenizer.h"
#include "base/rng.h"

struct lmi_batcher {
    const lmi_features *f;
    lmi_batcher_options o;
    int32_t pad_id, mask_id;
    size_t vocab_size;
    size_t n;          /* rows */
    size_t count;      /* batches per epoch */
    size_t epoch, next;
    uint32_t *order;   /* [n] */
    uint64_t *scratch; /* [n] sort keys */
    size_t *rows;      /* [batch_size] */
    int32_t *ids, *type_ids, *mask, *token_labels; /* [batch_size * max_len] */
    int32_t *labels, *start_positions, *end_positions; /* [batch_size] */
    float *values;
};

void lmi_batcher_options_init(lmi_batcher_options *o) {
    memset(o, 0, sizeof *o);
    o->batch_size = 32;
    o->order = LMI_ORDER_SHUFFLE;
    o->mlm_probability = 0.15f;
}

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void lmi_mlm_mask(int32_t *ids, int32_t *labels, const uint8_t *special, size_t n, float p,
                  int32_t mask_id, size_t vocab_size, struct lmi_rng *rng) {
    size_t i;
    for (i = 0; i < n; i++) {
        float u;
        labels[i] = LMI_IGNORE_INDEX;
        if (special[i] || lmi_rng_uniform(rng) >= p) {
            continue;
        }
        labels[i] = ids[i];
        u = lmi_rng_uniform(rng);
        if (u < 0.8f) {
            ids[i] = mask_id;
        } else if (u < 0.9f) {
            ids[i] = (int32_t)lmi_rng_below(rng, vocab_size);
        }
    }
}

lm_status lmi_batcher_create(const lmi_features *f, const lm_tokenizer_t *tok,
                             const lmi_batcher_options *opts, lmi_batcher **out) {
    lmi_batcher *b;
    size_t B, cells;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "batcher: out is NULL");
    }
    *out = NULL;
    if (f == NULL || tok == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "batcher: NULL features or tokenizer");
    }
    b = lmi_calloc(1, sizeof *b);
    if (b == NULL) {
        return lmi_error(LM_ERR_NOMEM, "batcher: out of memory");
    }
    if (opts != NULL) {
        b->o = *opts;
    } else {
        lmi_batcher_options_init(&b->o);
    }
    if (b->o.batch_size == 0) {
        b->o.batch_size = 32;
    }
    if (b->o.mlm_probability == 0.0f) {
        b->o.mlm_probability = 0.15f;
    }
    B = b->o.batch_size;
    b->f = f;
    b->n = f->n;
    if ((unsigned)b->o.order > LMI_ORDER_LENGTH || f->n > UINT32_MAX ||
        !(b->o.mlm_probability > 0.0f && b->o.mlm_probability <= 1.0f)) {
        lmi_free(b);
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "batcher: unknown order, more than 2^32 rows or "
                        "an MLM probability outside (0, 1]");
    }
    b->pad_id = lmi_tokenizer_special_id(tok, LM_SPECIAL_PAD);
    b->mask_id = lmi_tokenizer_special_id(tok, LM_SPECIAL_MASK);
    b->vocab_size = lmi_tokenizer_vocab_size(tok);
    if (b->pad_id < 0 || (f->mlm && (b->mask_id < 0 || b->vocab_size == 0))) {
        lmi_free(b);
        return lmi_error(LM_ERR_UNSUPPORTED, "batcher: the vocabulary has no [PAD]%s",
                        f->mlm ? " or [MASK]" : "");
    }
    b->count = b->o.drop_last ? f->n / B : (f->n + B - 1) / B;
    if (!lmi_size_mul(B, f->max_len ? f->max_len : 1, &cells)) {
        lmi_free(b);
        return lmi_error(LM_ERR_RANGE, "batcher: batch_size %zu is too large", B);
    }
    b->order = lmi_malloc_array(f->n ? f->n : 1, sizeof *b->order);
    b->scratch = lmi_malloc_array(f->n ? f->n : 1, sizeof *b->scratch);
    b->rows = lmi_malloc_array(B, sizeof *b->rows);
    b->ids = lmi_malloc_array(cells, sizeof *b->ids);
    b->type_ids = lmi_malloc_array(cells, sizeof *b->type_ids);
    b->mask = lmi_malloc_array(cells, sizeof *b->mask);
    if (f->token_labels != NULL || f->mlm) {
        b->token_labels = lmi_malloc_array(cells, sizeof *b->token_labels);
    }
    if (f->labels != NULL) {
        b->labels = lmi_malloc_array(B, sizeof *b->labels);
    }
    if (f->values != NULL) {
        b->values = lmi_malloc_array(B, sizeof *b->values);
    }
    if (f->start_positions != NULL) {
        b->start_positions = lmi_malloc_array(B, sizeof *b->start_positions);
        b->end_positions = lmi_malloc_array(B, sizeof *b->end_positions);
    }
    if (b->order == NULL || b->scratch == NULL || b->rows == NULL || b->ids == NULL ||
        b->type_ids == NULL || b->mask == NULL ||
        ((f->token_labels != NULL || f->mlm) && b->token_labels == NULL) ||
        (f->labels != NULL && b->labels == NULL) || (f->values != NULL && b->values == NULL) ||
        (f->start_positions != NULL && (b->start_positions == NULL || b->end_positions == NULL))) {
        lmi_batcher_free(b);
        return lmi_error(LM_ERR_NOMEM, "batcher: out of memory for batches of %zu x %zu", B,
                        f->max_len);
    }
    lmi_batcher_seek(b, 0, 0);
    *out = b;
    return LM_OK;
}

void lmi_batcher_free(lmi_batcher *b) {
    if (b == NULL) {
        return;
    }
    lmi_free(b->order);
    lmi_free(b->scratch);
    lmi_free(b->rows);
    lmi_free(b->ids);
    lmi_free(b->type_ids);
    lmi_free(b->mask);
    lmi_free(b->token_labels);
    lmi_free(b->labels);
    lmi_free(b->values);
    lmi_free(b->start_positions);
    lmi_free(b->end_positions);
    lmi_free(b);
}

size_t lmi_batcher_count(const lmi_batcher *b) { return b ? b->count : 0; }

static int cmp_u64_desc(const void *pa, const void *pb) {
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? 1 : (a > b ? -1 : 0);
}

/* Sorts order[0..n) by row length, longest first, keeping the given order among equals. Keys
 * are (length << 32) | (UINT32_MAX - position), sorted descending. */
static void sort_by_length(lmi_batcher *b, uint32_t *order, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        uint64_t len = lmi_features_len(b->f, order[i]);
        b->scratch[i] = (len << 32) | (uint64_t)(UINT32_MAX - (uint32_t)i);
    }
    qsort(b->scratch, n, sizeof *b->scratch, cmp_u64_desc);
    for (i = 0; i < n; i++) {
        b->scratch[i] = order[UINT32_MAX - (uint32_t)(b->scratch[i] & 0xFFFFFFFFull)];
    }
    for (i = 0; i < n; i++) {
        order[i] = (uint32_t)b->scratch[i];
    }
}

lm_status lmi_batcher_seek(lmi_batcher *b, size_t epoch, size_t index) {
    size_t i;
    if (b == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "batcher: NULL");
    }
    if (index > b->count) {
        return lmi_error(LM_ERR_RANGE, "batcher: batch %zu of an epoch of %zu", index, b->count);
    }
    for (i = 0; i < b->n; i++) {
        b->order[i] = (uint32_t)i;
    }
    if (b->o.order == LMI_ORDER_SHUFFLE) {
        lmi_rng rng;
        lmi_rng_seed(&rng, mix(mix(b->o.seed, 0x6F72646572ull), (uint64_t)epoch));
        lmi_rng_shuffle_u32(&rng, b->order, b->n);
        if (b->o.group_by_length > 0 && b->n > 0) {
            size_t mult = b->n / 4 / b->o.batch_size; /* transformers: n // (4 * batch_size) */
            size_t mega, first_max = 0, best = 0, best_len = 0;
            if (mult > b->o.group_by_length) {
                mult = b->o.group_by_length;
            }
            if (mult == 0) {
                mult = 1;
            }
            mega = mult * b->o.batch_size;
            for (i = 0; i < b->n; i += mega) {
                size_t m = b->n - i < mega ? b->n - i : mega;
                size_t len;
                sort_by_length(b, b->order + i, m);
                len = lmi_features_len(b->f, b->order[i]);
                if (i == 0 || len > best_len) {
                    best_len = len;
                    best = i;
                }
            }
            /* the longest row first (its megabatch's head trades places with row 0) */
            first_max = b->order[0];
            b->order[0] = b->order[best];
            b->order[best] = (uint32_t)first_max;
        }
    } else if (b->o.order == LMI_ORDER_LENGTH) {
        sort_by_length(b, b->order, b->n);
    }
    b->epoch = epoch;
    b->next = index;
    return LM_OK;
}

int lmi_batcher_next(lmi_batcher *b, lmi_batch *out) {
    const lmi_features *f;
    size_t B, T = 0, i, first;
    if (b == NULL || out == NULL || b->next >= b->count) {
        return 0;
    }
    f = b->f;
    first = b->next * b->o.batch_size;
    B = f->n - first < b->o.batch_size ? f->n - first : b->o.batch_size;
    for (i = 0; i < B; i++) {
        size_t r = b->order[first + i];
        size_t len = lmi_features_len(f, r);
        b->rows[i] = r;
        T = len > T ? len : T;
    }
    for (i = 0; i < B; i++) {
        size_t r = b->rows[i], len = lmi_features_len(f, r), s = f->start[r], t;
        int32_t *ids = b->ids + i * T, *types = b->type_ids + i * T, *mask = b->mask + i * T;
        memcpy(ids, f->ids + s, len * sizeof *ids);
        memcpy(types, f->type_ids + s, len * sizeof *types);
        for (t = 0; t < len; t++) {
            mask[t] = 1;
        }
        for (t = len; t < T; t++) {
            ids[t] = b->pad_id;
            types[t] = 0;
            mask[t] = 0;
        }
        if (f->token_labels != NULL) {
            int32_t *lab = b->token_labels + i * T;
            memcpy(lab, f->token_labels + s, len * sizeof *lab);
            for (t = len; t < T; t++) {
                lab[t] = LMI_IGNORE_INDEX;
            }
        }
        if (b->labels != NULL) {
            b->labels[i] = f->labels[r];
        }
        if (b->values != NULL) {
            b->values[i] = f->values[r];
        }
        if (b->start_positions != NULL) {
            b->start_positions[i] = f->start_positions[r];
            b->end_positions[i] = f->end_positions[r];
        }
    }
    if (f->mlm) {
        lmi_rng rng;
        lmi_rng_seed(&rng, mix(mix(mix(b->o.seed, 0x6D6C6Dull), (uint64_t)b->epoch), (uint64_t)b->next));
        for (i = 0; i < B; i++) {
            size_t r = b->rows[i], len = lmi_features_len(f, r), t;
            int32_t *lab = b->token_labels + i * T;
            lmi_mlm_mask(b->ids + i * T, lab, f->special + f->start[r], len, b->o.mlm_probability,
                         b->mask_id, b->vocab_size, &rng);
            for (t = len; t < T; t++) {
                lab[t] = LMI_IGNORE_INDEX;
            }
        }
    }
    memset(out, 0, sizeof *out);
    out->B = B;
    out->T = T;
    out->epoch = b->epoch;
    out->index = b->next;
    out->rows = b->rows;
    out->ids = b->ids;
    out->type_ids = b->type_ids;
    out->mask = b->mask;
    out->labels = b->labels;
    out->values = b->values;
    out->token_labels = b->token_labels;
    out->start_positions = b->start_positions;
    out->end_positions = b->end_positions;
    b->next++;
    return 1;
}

void lmi_batch_scatter(const lmi_batch *batch, const lmi_features *f, const float *in, float *out) {
    size_t i;
    for (i = 0; i < batch->B; i++) {
        size_t r = batch->rows[i];
        memcpy(out + f->start[r], in + i * batch->T, lmi_features_len(f, r) * sizeof *out);
    }
}
