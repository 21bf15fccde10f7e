/* Internal (pipeline): what every text pipeline shares: the call's settings, reading the caller's
 * texts, tokenizing them, running encodings through the encoder in length-sorted padded batches,
 * and small numeric helpers (softmax, ranking). */
#ifndef LM_PIPELINE_COMMON_H
#define LM_PIPELINE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "model/bert.h"
#include "text/tokenizer.h"

/* One call's settings. */
typedef struct lmi_pipe {
    const lmi_bert *m;
    struct lm_tokenizer tok; /* the model's tokenizer (a shallow copy: same tables) with this
                                call's replace_invalid */
    size_t max_length;       /* tokens per model input, special tokens included */
    size_t batch;            /* inputs per forward pass */
    size_t C;                /* hidden size */
} lmi_pipe;

/* Checks the options every call shares (max_length, batch_size, replace_invalid_utf8) and that
 * the model has `head` (LM_BERT_HEAD_AUTO: any), then fills p. max_length 0 takes the model's
 * max_seq_length, at most `default_cap` when that is not 0 (question answering: 384). */
lm_status lmi_pipe_init(lmi_pipe *p, const lmi_bert *m, const lm_tokenizer_t *tok,
                        const lm_text_options *o, int head, size_t default_cap);

/* texts[i] and its length (lens[i], or strlen when lens is NULL). `what` names the input in the
 * error ("text", "question", ...). A NULL text is LM_ERR_INVALID_ARGUMENT. */
lm_status lmi_pipe_text(const char *const *texts, const size_t *lens, size_t i, const char *what,
                        const char **s, size_t *len);

/* Encodes n texts (or pairs when `pairs` is not NULL) with special tokens, longest-first
 * truncation to p->max_length, no padding (an empty second text makes no pair, as in
 * transformers' tokenizer(text=a, text_pair="")), into encs[n] (zeroed by the caller; free them
 * with lmi_pipe_free_encodings even on failure). Errors name the input. */
lm_status lmi_pipe_encode(const lmi_pipe *p, size_t n, const char *const *texts,
                          const size_t *lens, const char *const *pairs, const size_t *pair_lens,
                          lm_encoding_t **encs);
void lmi_pipe_free_encodings(lm_encoding_t **encs, size_t n);

/* One padded batch of the encoder's input and output. Row b is encoding rows[b]; positions at or
 * past its length are padding (mask 0). */
typedef struct lmi_pipe_batch {
    size_t B, T;
    const size_t *rows;     /* [B] */
    const int32_t *ids;     /* [B, T] */
    const int32_t *mask;    /* [B, T] */
    const float *hidden;    /* [B, T, C] last hidden state */
} lmi_pipe_batch;

typedef lm_status (*lmi_pipe_batch_fn)(void *user, const lmi_pipe_batch *b);

/* Runs the n encodings through the encoder, longest first (ties in input order), p->batch at a
 * time, each batch padded to its longest, and hands each batch to fn. The model's batch
 * independence makes the results those of one encoding at a time. */
lm_status lmi_pipe_run(const lmi_pipe *p, lm_encoding_t *const *encs, size_t n,
                       lmi_pipe_batch_fn fn, void *user);

/* LM_ERR_BUFFER_TOO_SMALL naming what is needed. */
lm_status lmi_pipe_too_small(size_t needed, size_t capacity, const char *unit);

/* out[n] = softmax(x[n]), computed in double. */
void lmi_pipe_softmax(const float *x /* [n] */, size_t n, float *out /* [n] */);

/* The k indices of the largest scores, best first; equal scores in index order. idx[k]. */
lm_status lmi_pipe_rank(const float *scores /* [n] */, size_t n, size_t k, int32_t *idx /* [k] */);

/* Code points in s[0..len) as the tokenizer counts them (an invalid sequence counts once). */
size_t lmi_pipe_chars(const char *s, size_t len);

#endif
