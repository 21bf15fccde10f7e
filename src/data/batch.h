/* Internal (data): batches of feature rows for training and evaluation.
 *
 * The batcher walks the rows of an lmi_features in an order fixed by (seed, epoch) alone:
 * shuffled per epoch (or in file order, or sorted by length for fast evaluation), optionally
 * grouped by length, cut into batches of batch_size rows, each padded to its longest row
 * (dynamic padding). A resumed run calls lmi_batcher_seek(epoch, batch) and gets bit-identical
 * batches, masked-LM masks included: the masking generator of batch b of epoch e is seeded from
 * (seed, e, b), not from the batches before it.
 *
 * Ownership: the batcher keeps a pointer to the features (which must outlive it) and owns the
 * arrays of the lmi_batch it fills; they stay valid until the next lmi_batcher_next or
 * lmi_batcher_free. Nothing is allocated after lmi_batcher_create. */
#ifndef LM_DATA_BATCH_H
#define LM_DATA_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "lm.h"

typedef enum lmi_order {
    LMI_ORDER_SEQUENTIAL = 0, /* rows in feature order (evaluation) */
    LMI_ORDER_SHUFFLE = 1,    /* a permutation from (seed, epoch) (training) */
    LMI_ORDER_LENGTH = 2      /* by length, longest first (evaluation with less padding; the
                                 batch's rows[] say where each prediction belongs) */
} lmi_order;

typedef struct lmi_batcher_options {
    size_t batch_size;       /* rows per batch (the last may be smaller); 0: 32 */
    lmi_order order;
    uint64_t seed;
    int drop_last;           /* leave out a last, smaller batch */
    size_t group_by_length;  /* with SHUFFLE: 0 off; k: transformers' LengthGroupedSampler: the
                                permutation is cut into runs of k * batch_size rows (k = 50 there),
                                each sorted longest first, and the batch holding the longest row
                                goes first */
    float mlm_probability;   /* masked LM: share of tokens chosen (0: 0.15) */
} lmi_batcher_options;

void lmi_batcher_options_init(lmi_batcher_options *o);

typedef struct lmi_batch {
    size_t B;                 /* rows in this batch */
    size_t T;                 /* padded length: the longest row of the batch */
    size_t epoch, index;      /* which batch this is */
    const size_t *rows;       /* [B] the feature rows, in batch order */
    const int32_t *ids;       /* [B * T] token ids ([PAD] after each row; MLM: masked) */
    const int32_t *type_ids;  /* [B * T] */
    const int32_t *mask;      /* [B * T] attention mask: 1 real token, 0 padding */
    const int32_t *labels;    /* [B] class ids (CLASSIFICATION), else NULL */
    const float *values;      /* [B] targets (REGRESSION), else NULL */
    const int32_t *token_labels; /* [B * T] TOKENS: tag ids; MLM: the original id of masked
                                    tokens; -100 elsewhere and on padding; else NULL */
    const int32_t *start_positions; /* [B] QA, else NULL */
    const int32_t *end_positions;   /* [B] QA, else NULL */
} lmi_batch;

typedef struct lmi_batcher lmi_batcher;

/* The tokenizer gives [PAD] (and [MASK] and the vocabulary size for masked LM); it is not kept. */
lm_status lmi_batcher_create(const lmi_features *f, const lm_tokenizer_t *tok,
                             const lmi_batcher_options *opts, lmi_batcher **out);
void lmi_batcher_free(lmi_batcher *b);

/* Batches in one epoch. */
size_t lmi_batcher_count(const lmi_batcher *b);

/* Starts epoch `epoch` at batch `index` (0 for the start): the order is recomputed from
 * (seed, epoch). index > count is LM_ERR_RANGE. */
lm_status lmi_batcher_seek(lmi_batcher *b, size_t epoch, size_t index);

/* Fills the next batch of the current epoch; returns 1, or 0 at the end of the epoch. */
int lmi_batcher_next(lmi_batcher *b, lmi_batch *batch);

/* Copies each row's real tokens of a [B, T] output (e.g. QA logits) to the features' flat
 * layout: out[f->start[rows[i]] + t] = in[i * T + t] for t below the row's length. */
void lmi_batch_scatter(const lmi_batch *batch, const lmi_features *f, const float *in /* [B*T] */,
                       float *out /* [f->total] */);

/* DataCollatorForLanguageModeling's masking of n tokens, in place: every token whose special
 * flag is 0 is chosen with probability p; a chosen token's label is its id and it becomes
 * [MASK] (80%), a random id in [0, vocab_size) (10%) or stays (10%); labels elsewhere -100.
 * Draws from rng in token order: a uniform for each non-special token, a second for each chosen
 * one (< 0.8 mask, < 0.9 random, else keep), and an id for a random replacement. */
struct lmi_rng;
void lmi_mlm_mask(int32_t *ids /* [n] */, int32_t *labels /* [n] */,
                  const uint8_t *special /* [n] */, size_t n, float p, int32_t mask_id,
                  size_t vocab_size, struct lmi_rng *rng);

#endif
