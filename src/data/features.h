/* Internal (data): model inputs made from a data set by the tokenizer, as Hugging Face's example
 * scripts make them, and the steps that map predictions back (question answering).
 *
 *   dataset task     features (one row = one model input)                    as transformers'
 *   CLASSIFICATION   [CLS] text [SEP] (pair [SEP]), longest_first truncation  run_glue
 *   REGRESSION       the same with a float target                             run_glue
 *   TOKENS           words tokenized one by one (is_split_into_words), the    run_ner
 *                    word's class id on its first sub-token, -100 on the
 *                    others and on [CLS]/[SEP] (or, with label_all_tokens, the
 *                    I- tag of a B- tag on the following sub-tokens)
 *   QA               question (left-stripped) + context, only_second          run_qa
 *                    truncation, windows of max_length sharing doc_stride      prepare_train_features
 *                    tokens; start/end token of answers[0], 0 ([CLS]) when     + prepare_validation_
 *                    it is not wholly inside the window; context offsets per   features
 *                    token for post-processing
 *   TEXT, mlm = 0    [CLS] text [SEP] (pair), truncated (prediction inputs)   run_glue (no labels)
 *   TEXT, mlm = 1    one row per line, truncated; or with mlm_group the        run_mlm
 *                    lines' tokens concatenated and cut into blocks of         (line_by_line /
 *                    max_length (group_texts; the remainder of each run of     group_texts)
 *                    mlm_group_lines lines is dropped, as datasets.map's
 *                    batches of 1000 do). Masking happens per batch (batch.h).
 *
 * Rows are kept unpadded in flat arrays; the batcher pads. Ownership: lmi_features_build returns
 * a new lmi_features that owns all its arrays; free it with lmi_features_free. It refers to the
 * data set only by example index (the dataset must outlive nothing here, but the QA
 * post-processing needs the same dataset again). */
#ifndef LM_DATA_FEATURES_H
#define LM_DATA_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "lm.h"

#define LMI_IGNORE_INDEX (-100) /* label of tokens the loss skips (PyTorch's ignore_index) */

typedef struct lmi_feature_options {
    size_t max_length;       /* tokens per row, specials included; 0: 128 for classification,
                                regression and text, 512 for tokens and masked LM, 384 for QA */
    size_t doc_stride;       /* QA: tokens shared by consecutive windows; 0: 128 */
    int label_all_tokens;    /* TOKENS: label every sub-token, not only a word's first */
    int mlm;                 /* TEXT: rows for masked-LM training */
    int mlm_group;           /* with mlm: pack lines into blocks of max_length (group_texts) */
    size_t mlm_group_lines;  /* lines grouped at once; 0: 1000 */
    int threads;             /* tokenizer threads; 0: OpenMP's default */
} lmi_feature_options;

void lmi_feature_options_init(lmi_feature_options *o);

typedef struct lmi_features {
    lmi_task task;
    int mlm;                  /* rows are masked-LM inputs (batches get MLM labels) */
    size_t n;                 /* rows */
    size_t total;             /* tokens over all rows */
    size_t max_len;           /* the longest row */
    size_t *start;            /* [n + 1] row r holds tokens start[r] .. start[r + 1] - 1 */
    int32_t *ids;             /* [total] token ids */
    int32_t *type_ids;        /* [total] 0 first sequence, 1 second */
    uint8_t *special;         /* [total] 1 for template tokens ([CLS], [SEP]) */
    int32_t *token_labels;    /* [total] TOKENS: class id or LMI_IGNORE_INDEX; else NULL */
    int32_t *word_ids;        /* [total] TOKENS: word index in the example, -1 for specials;
                                 else NULL */
    int32_t *offsets;         /* [2 * total] QA: byte [start, end) of each context token in the
                                 context, -1 -1 for other tokens; else NULL */
    int32_t *labels;          /* [n] CLASSIFICATION: class id (-1 unlabeled); else NULL */
    float *values;            /* [n] REGRESSION: target; else NULL */
    int32_t *start_positions; /* [n] QA: answer start token (0 = [CLS]: not in the window) */
    int32_t *end_positions;   /* [n] QA: answer end token (inclusive) */
    size_t *example;          /* [n] the dataset example of each row (mlm_group: its first) */
    /* private */
    size_t cap_rows, cap_tokens;
} lmi_features;

/* Tokenizes the data set. The tokenizer is only read. On failure *out is NULL and the error
 * names the example (file:line, or the QA id). */
lm_status lmi_features_build(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                             const lmi_feature_options *opts, lmi_features **out);
void lmi_features_free(lmi_features *f);

/* Row length. */
static inline size_t lmi_features_len(const lmi_features *f, size_t row) {
    return f->start[row + 1] - f->start[row];
}

/* ---- question answering: from logits to answers ---- */

/* A byte span of an example's context; start = end = -1 when there is no answer. */
typedef struct lmi_span {
    int64_t start, end;
} lmi_span;

/* run_qa's postprocess_qa_predictions (SQuAD v1: no null answer). For every example, over all
 * its rows: the n_best tokens by start logit and by end logit (ties: the later token first, as
 * numpy's argsort reversed), every pair of context tokens with start <= end < start +
 * max_answer_length scores start_logit + end_logit (in float, as numpy), the best score wins
 * (the first found among equals) and its answer is the context from the start token's offset to
 * the end token's. Logits are laid out as the features' tokens (row r's token t at
 * start[r] + t): copy each batch row's real tokens there (lmi_batch_scatter). No valid pair
 * gives the span -1 -1 (run_qa answers the text "empty"). n_best 20 and max_answer_length 30 are
 * run_qa's defaults. */
lm_status lmi_qa_postprocess(const lmi_dataset *ds, const lmi_features *f,
                             const float *start_logits /* [f->total] */,
                             const float *end_logits /* [f->total] */, size_t n_best,
                             size_t max_answer_length, lmi_span *answers /* [ds->n] */);

/* evaluate-v1.1.py over the data set: exact match and F1 in percent (each the maximum over an
 * example's gold answers, averaged over the examples), with answers[i] the prediction for example
 * i (-1 -1: the text "empty", as run_qa answers). Examples without gold answers are left out (the
 * script cannot score them). */
lm_status lmi_qa_evaluate(const lmi_dataset *ds, const lmi_span *answers /* [ds->n] */, double *em,
                          double *f1);

#endif
