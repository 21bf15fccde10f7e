/* Internal: the BERT forward pass with its activation layout, the backward pass of the encoder
 * and of every head with transformers' losses, and the workspace a trainer reuses every step.
 *
 * Activation layout (lmi_bert_acts). One forward (lmi_bert_forward) serves inference and
 * training; only the layout differs:
 *  - inference (keep 0): every layer works in the same buffers and the hidden state is updated in
 *    place in the caller's array, as before: per token 3C (Q|K|V) + C (attention output) + C
 *    (dense output) + I (FFN) floats, whatever the depth;
 *  - training (keep 1): each layer keeps what its backward needs, per token
 *      3C  Q|K|V                      (attention backward; Q|K|V products' inputs are recomputed)
 *      C   attention output           (input of attention.output.dense)
 *      C   dropout(ao) + input        (LayerNorm 1 input) + its mean, 1/std
 *      I   FFN pre-activation          (GELU backward; GELU output recomputed in the backward)
 *      C   dropout(ffn) + LN1 output  (LayerNorm 2 input) + its mean, 1/std
 *      NH T attention probabilities
 *      2 ceil(C/8) bytes of dropout bits (when dropout is on)
 *    i.e. 6C + I + NH T + 4 floats per token per layer. The layer-norm outputs (input of the next
 *    products) are not kept: the backward recomputes them from the kept sum, mean and 1/std with
 *    the forward's last formula (bit-identical). Plus, once: the embeddings' LN input and output
 *    (2C), the last hidden state (C), and one scratch region shared by the forward (4C + I) and
 *    the backward (7C + 2I per token).
 *    The layers run on the gathered rows only (as inference): each sequence up to its last real
 *    token, or up to the last row its head reads (lmi_bert_acts.need). The padding rows after a
 *    sequence cannot change its other rows (padding keys get exactly zero weight), and no loss
 *    reads them, so leaving them out changes no value; the heads see the last hidden state in
 *    [B, T] again (zeros in the rows left out), and their gradient is gathered back.
 *
 * Dropout sites (transformers' BERT): the embeddings' output, the attention probabilities, the
 * attention output dense and the FFN output dense (both before the residual), the classifier
 * input (sequence and token classification). Each call draws its mask from
 * lmi_dropout_seed(seed, step, site) with the sites below. */
#ifndef LM_MODEL_TRAIN_H
#define LM_MODEL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "model/bert.h"
#include "tensor/ops.h"

/* Dropout sites (the `site` of lmi_dropout_seed). */
enum {
    LMI_SITE_EMBEDDINGS = 0,
    LMI_SITE_CLASSIFIER = 1,
    LMI_SITE_LAYER0 = 16 /* layer l: 16 + 4 l + one of the three below */
};
enum { LMI_SITE_ATT_PROBS = 0, LMI_SITE_ATT_OUTPUT = 1, LMI_SITE_FFN_OUTPUT = 2 };
#define LMI_SITE_LAYER(l, place) ((uint64_t)LMI_SITE_LAYER0 + 4 * (uint64_t)(l) + (place))

/* Dropout of one forward: probabilities (0 = off) and the seed of its masks. */
typedef struct lmi_bert_dropout {
    float hidden;    /* hidden_dropout_prob: embeddings, attention output, FFN output */
    float att;       /* attention_probs_dropout_prob */
    float cls;       /* the classifier input: classifier_dropout, else hidden_dropout_prob */
    uint64_t seed;   /* the trainer's seed */
    uint64_t step;   /* the step (every call its own masks) */
} lmi_bert_dropout;

/* One layer's activations (see the file comment); NULL where the layout keeps nothing. */
typedef struct lmi_bert_layer_acts {
    float *qkv;             /* [N, 3C] Q | K | V */
    float *att;             /* [B, NH, T, T] attention probabilities, or NULL (inference) */
    float *ctx;             /* [N, C] attention output */
    float *sum1;            /* [N, C] dropout(ao) + input: LayerNorm 1 input, or NULL */
    float *mean1, *rstd1;   /* [N] */
    float *pre;             /* [N, I] FFN pre-activation (inference: activated in place) */
    float *sum2;            /* [N, C] dropout(ffn) + LN1 output: LayerNorm 2 input, or NULL */
    float *mean2, *rstd2;   /* [N] */
    uint8_t *drop_ao;       /* dropout keep bits [N, ceil(C/8)], or NULL (no dropout) */
    uint8_t *drop_ffn;
} lmi_bert_layer_acts;

typedef struct lmi_bert_acts {
    size_t B, T, N;
    int keep;                    /* 1: the training layout */
    size_t rows;                 /* rows of the forward: the gathered tokens (<= N) */
    lmi_att_seq *seqs;           /* [B] each sequence's rows and keys */
    int32_t *pos;                /* [N] position ids of the rows */
    int32_t *ids, *types;        /* [N] the gathered ids and type ids (0 when none are given) */
    size_t *need;                /* [B] training: rows each sequence must have at least (the
                                    head reads them), 0 after the layout */
    size_t *row_keys;            /* [N] training: row b T + t of [B, T] for each row (dropout) */
    float *wpack;                /* room to pack a weight per product (training), or NULL */
    size_t wpack_floats;
    float *qkv_b;                /* [3C] Q | K | V biases side by side (training) */
    void *q8_scratch;            /* int8 inference: activations quantised */
    float *emb;                  /* [N, C] word + position + type (training: LN input) */
    float *emb_mean, *emb_rstd;  /* [N] (training) */
    float *h0;                   /* [N, C] embeddings output (after dropout) */
    uint8_t *drop_emb;           /* [N, ceil(C/8)] or NULL */
    lmi_bert_layer_acts *layers; /* [L] (training) or [1] (inference: every layer) */
    float *hidden;               /* [N, C] the last hidden state */
    /* forward scratch */
    float *tmp;                  /* [N, C] dense outputs */
    float *ln1;                  /* [N, C] LayerNorm 1 output (training) */
    float *post;                 /* [N, I] GELU output (training) */
    float *x[2];                 /* [N, C] outputs of the layers before the last (training) */
    float *att_scratch;          /* lmi_attention_scratch_floats */
    /* backward scratch (training; the same memory as the forward scratch) */
    float *dx, *ds, *dt, *S;     /* [N, C] */
    float *D, *P;                /* [N, I] */
    float *d3;                   /* [N, 3C] */
    float *att_bscratch;         /* lmi_attention_backward_scratch_floats */
} lmi_bert_acts;

/* Lays out the activations of a B x T batch in `base` (64-byte aligned) and returns the bytes
 * it takes; base NULL only counts. keep: the training layout; dropout: room for dropout bits;
 * hidden: inference only, the caller's [B, T, C] array that holds the hidden state; packed:
 * inference with the model's packs (no room for packing a weight per product). */
size_t lmi_bert_acts_layout(const lmi_bert *m, lmi_bert_acts *a, void *base, size_t B, size_t T,
                            int keep, int dropout, int threads, float *hidden, int packed);

/* The forward pass into a laid-out `a`: embeddings, every layer; a->hidden gets the last hidden
 * state. ids[B, T], type_ids[B, T] or NULL (zeros), mask[B, T] or NULL (ones), checked by
 * lmi_bert_check_inputs. d: dropout, or NULL for none (it needs the dropout layout). */
void lmi_bert_forward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                      const int32_t *ids, const int32_t *type_ids, const int32_t *mask,
                      const lmi_bert_dropout *d);
/* The same with the model's packs (inference; NULL: pack per product) and, for the inference
 * layout, whether the padding rows after each sequence's last real token are computed
 * (lmi_bert_encode). */
void lmi_bert_forward_rows(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                           const int32_t *ids, const int32_t *type_ids, const int32_t *mask,
                           const lmi_bert_dropout *d, const lmi_bert_packs *packs, int pad_rows);

/* The hidden activation (config hidden_act) over n values: out = f(x); its backward
 * dx (+)= dout * f'(x), added when accumulate, else overwritten. */
void lmi_bert_act_forward(const lmi_ops_ctx *ctx, lmi_act act, float *out, const float *x,
                          size_t n);
void lmi_bert_act_backward(const lmi_ops_ctx *ctx, lmi_act act, float *dx, const float *dout,
                           const float *x, size_t n, int accumulate);

/* The encoder's backward from the gradient of the last hidden state, a->dx [B, T, C]
 * (overwritten: scratch), into the gradient views g (added, +=), for the forward that ran last on
 * `a` (the training layout: its rows, ids and masks are kept there) with the same dropout d. The
 * word embedding of the padding token gets no gradient from the lookup (nn.Embedding's
 * padding_idx); its tied-decoder gradient stays. */
void lmi_bert_backward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                       const lmi_bert_grads *g, const lmi_bert_dropout *d);

/* ---- training and evaluation steps over a head ---- */

/* What a batch's labels train, resolved from the head and the problem type. */
typedef enum lmi_train_task {
    LMI_TRAIN_NONE = 0,     /* no labels (evaluation only) */
    LMI_TRAIN_SINGLE_LABEL, /* sequence classification, cross-entropy */
    LMI_TRAIN_MULTI_LABEL,  /* sequence classification, BCE with logits */
    LMI_TRAIN_REGRESSION,   /* sequence classification, MSE */
    LMI_TRAIN_TOKENS,       /* token classification, cross-entropy per token */
    LMI_TRAIN_SPANS,        /* question answering, start/end cross-entropy */
    LMI_TRAIN_MASKED_LM     /* masked LM, cross-entropy over labelled tokens */
} lmi_train_task;

/* The workspace of training and evaluation steps: one arena, laid out again for each batch,
 * reallocated only when a batch needs more than it holds. */
typedef struct lmi_bert_work {
    void *arena;
    size_t capacity;             /* bytes */
    lmi_bert_acts acts;
    lmi_train_task task;
    /* head activations (kept for the backward) */
    float *first;                /* [B, C] first tokens (sequence classification) */
    float *pooled;               /* [B, C] tanh output */
    float *cls_in;               /* classifier input after dropout: [B, C] or [N, C]; may alias */
    uint8_t *drop_cls;           /* dropout bits of the classifier input, or NULL */
    float *logits, *dlogits;     /* [rows, K] */
    size_t rows, K;
    size_t *mlm_rows;            /* [n_mlm] labelled token rows (masked LM) */
    int32_t *mlm_labels;         /* [n_mlm] their labels */
    size_t n_mlm;
    float *mlm_x, *mlm_pre, *mlm_act, *mlm_t; /* [n_mlm, C]: gathered, dense, act, LN output */
    float *mlm_mean, *mlm_rstd;  /* [n_mlm] */
    float *pad_row;              /* [C] the padding token's word-embedding gradient, kept */
    lmi_bert_dropout drop;       /* the last forward's dropout */
    int has_drop;
} lmi_bert_work;

void lmi_bert_work_free(lmi_bert_work *w);

/* Checks a batch against the model before any work: shape, ids, type ids, mask, and the labels
 * the head needs (need_labels 0: labels may be absent). Sets *task. Sentences name the field,
 * row and position. LM_ERR_INVALID_ARGUMENT, LM_ERR_RANGE. */
lm_status lmi_bert_check_batch(const lmi_bert *m, const lm_batch *b, int need_labels,
                               lmi_train_task *task);

/* Lays out (growing when needed) the workspace for a checked batch. all_logits: masked LM
 * evaluation writing every token's logits to the caller (the head then runs on every row). */
lm_status lmi_bert_work_reserve(const lmi_bert *m, lmi_bert_work *w, const lm_batch *b,
                                lmi_train_task task, int dropout, int all_logits, int threads);

/* Forward of the encoder and the head, the loss (*loss; 0 without labels), and, when grad_scale
 * is not 0, the gradient of loss * grad_scale w.r.t. the logits, ready for the backward.
 * d: dropout or NULL. logits_out: NULL, or the head's outputs (see lm_trainer_evaluate) with
 * the layout reserved by all_logits for the masked LM. */
void lmi_bert_train_forward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_work *w,
                            const lm_batch *b, const lmi_bert_dropout *d, double grad_scale,
                            double *loss, float *logits_out);

/* Backward of the head and the encoder after lmi_bert_train_forward (with grad_scale != 0):
 * the gradients are added into the views g. */
void lmi_bert_train_backward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_work *w,
                             const lm_batch *b, const lmi_bert_grads *g);

/* Floats of the head's outputs for a batch (what lm_trainer_evaluate writes). */
size_t lmi_bert_logits_count(const lmi_bert *m, size_t B, size_t T);

#endif
