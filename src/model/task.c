/* Training and evaluation steps over a model's head: the batch checks, the workspace, the heads'
 * forward with their activations kept, transformers' losses (BertForSequenceClassification's
 * choice by problem type, token classification, the QA span loss, masked LM over the labelled
 * tokens only) and the heads' backward into the encoder's. */
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "loss/loss.h"
#include "model/bert.h"
#include "model/train.h"
#include "tensor/ops.h"

#define LM_ALIGN 64

typedef struct carver {
    char *base;
    size_t off;
} carver;

static void *carve(carver *c, size_t bytes) {
    void *p = c->base != NULL ? c->base + c->off : NULL;
    c->off += (bytes + LM_ALIGN - 1) & ~(size_t)(LM_ALIGN - 1);
    return p;
}

static float *carve_f(carver *c, size_t n) {
    return carve(c, n * sizeof(float));
}

static void zero(float *x, size_t n) {
    memset(x, 0, n * sizeof(float));
}

/* ---- batch checks ---- */

static const char *task_name(lmi_train_task t) {
    switch (t) {
    case LMI_TRAIN_SINGLE_LABEL:
        return "sequence classification (single-label)";
    case LMI_TRAIN_MULTI_LABEL:
        return "sequence classification (multi-label)";
    case LMI_TRAIN_REGRESSION:
        return "sequence classification (regression)";
    case LMI_TRAIN_TOKENS:
        return "token classification";
    case LMI_TRAIN_SPANS:
        return "question answering";
    case LMI_TRAIN_MASKED_LM:
        return "masked LM";
    default:
        return "none";
    }
}

/* The task of a sequence-classification head, as BertForSequenceClassification decides it: the
 * config's problem type, else regression for one label, else single-label for integer labels
 * and multi-label for float ones. */
static lmi_train_task seq_task(const lmi_bert *m, const lm_batch *b) {
    switch (m->cfg.problem_type) {
    case LM_PROBLEM_SINGLE_LABEL:
        return LMI_TRAIN_SINGLE_LABEL;
    case LM_PROBLEM_MULTI_LABEL:
        return LMI_TRAIN_MULTI_LABEL;
    case LM_PROBLEM_REGRESSION:
        return LMI_TRAIN_REGRESSION;
    default:
        break;
    }
    if (m->cfg.num_labels == 1) {
        return LMI_TRAIN_REGRESSION;
    }
    return b->labels == NULL && b->float_labels != NULL ? LMI_TRAIN_MULTI_LABEL
                                                        : LMI_TRAIN_SINGLE_LABEL;
}

/* Integer labels[n] in [0, K) or -100. */
static lm_status check_int_labels(const int32_t *labels, size_t n, size_t T, int64_t K,
                                  const char *what, int per_token) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (labels[i] != LMI_IGNORE_INDEX && (labels[i] < 0 || labels[i] >= K)) {
            if (per_token) {
                return lmi_error(LM_ERR_RANGE,
                                 "lm_batch.labels: label %ld at row %zu, position %zu is outside "
                                 "[0, %lld) and not -100 (%s)",
                                 (long)labels[i], i / T, i % T, (long long)K, what);
            }
            return lmi_error(LM_ERR_RANGE,
                             "lm_batch.labels: label %ld at row %zu is outside [0, %lld) and not "
                             "-100 (%s)",
                             (long)labels[i], i, (long long)K, what);
        }
    }
    return LM_OK;
}

lm_status lmi_bert_check_batch(const lmi_bert *m, const lm_batch *b, int need_labels,
                               lmi_train_task *task) {
    const size_t B = b->batch, T = b->seq_len;
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t L = (size_t)m->cfg.num_hidden_layers, NH = (size_t)m->cfg.num_attention_heads;
    const int64_t NL = m->cfg.num_labels;
    const int head = m->head;
    size_t N, per_token, i;
    int has_labels;
    lmi_train_task t;
    lm_status s;
    *task = LMI_TRAIN_NONE;
    if (b->ids == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_batch.ids is NULL");
    }
    if (B == 0 || T == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "empty batch: %zu sequences of %zu tokens", B,
                         T);
    }
    if ((int64_t)T > m->cfg.max_position_embeddings) {
        return lmi_error(LM_ERR_RANGE,
                         "sequences of %zu tokens are longer than the position table "
                         "(max_position_embeddings %lld)",
                         T, (long long)m->cfg.max_position_embeddings);
    }
    /* the workspace: per token (6C + I + NH T) floats per layer and the head's rows */
    per_token = (L + 2) * (16 * C + 3 * I + NH * T) + (size_t)m->cfg.vocab_size * 2;
    if (!lmi_size_mul(B, T, &N) || !lmi_size_mul(N, per_token * sizeof(float), &i)) {
        return lmi_error(LM_ERR_RANGE, "a batch of %zu x %zu tokens is too large", B, T);
    }
    s = lmi_bert_check_inputs(m, b->ids, b->type_ids, b->attention_mask, B, T);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "lm_batch");
    }
    switch (head) {
    case LM_BERT_HEAD_SEQ_CLASS:
        t = seq_task(m, b);
        break;
    case LM_BERT_HEAD_TOKEN_CLASS:
        t = LMI_TRAIN_TOKENS;
        break;
    case LM_BERT_HEAD_QA:
        t = LMI_TRAIN_SPANS;
        break;
    case LM_BERT_HEAD_MLM:
        t = LMI_TRAIN_MASKED_LM;
        break;
    default:
        return lmi_error(LM_ERR_STATE, "a %s model has no head to train", lmi_bert_head_name(head));
    }
    /* fields the head does not read are refused: they say the batch was meant for another */
    if (t != LMI_TRAIN_SPANS && (b->start_positions != NULL || b->end_positions != NULL)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_batch.start_positions / end_positions are set, but the model's head "
                         "is %s (only question answering reads them)",
                         task_name(t));
    }
    if (t == LMI_TRAIN_SPANS && (b->labels != NULL || b->float_labels != NULL)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_batch.labels / float_labels are set, but a question-answering head "
                         "trains on start_positions and end_positions");
    }
    if ((t == LMI_TRAIN_MULTI_LABEL || t == LMI_TRAIN_REGRESSION) && b->labels != NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_batch.labels (integers) are set, but the head is %s: it trains on "
                         "float_labels [batch * %lld]",
                         task_name(t), (long long)NL);
    }
    if ((t == LMI_TRAIN_SINGLE_LABEL || t == LMI_TRAIN_TOKENS || t == LMI_TRAIN_MASKED_LM) &&
        b->float_labels != NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_batch.float_labels are set, but the head is %s: it trains on integer "
                         "labels",
                         task_name(t));
    }
    if (t == LMI_TRAIN_SPANS && (b->start_positions == NULL) != (b->end_positions == NULL)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_batch: %s is NULL but %s is set",
                         b->start_positions == NULL ? "start_positions" : "end_positions",
                         b->start_positions == NULL ? "end_positions" : "start_positions");
    }
    has_labels = t == LMI_TRAIN_SPANS ? b->start_positions != NULL
                 : (t == LMI_TRAIN_MULTI_LABEL || t == LMI_TRAIN_REGRESSION) ? b->float_labels != NULL
                                                                            : b->labels != NULL;
    if (!has_labels) {
        if (need_labels) {
            return lmi_error(LM_ERR_INVALID_ARGUMENT,
                             "lm_batch has no labels for the model's head, %s (it needs %s)",
                             task_name(t),
                             t == LMI_TRAIN_SPANS ? "start_positions and end_positions [batch]"
                             : t == LMI_TRAIN_SINGLE_LABEL ? "labels [batch]"
                             : t == LMI_TRAIN_MULTI_LABEL || t == LMI_TRAIN_REGRESSION
                                 ? "float_labels [batch * num_labels]"
                                 : "labels [batch * seq_len]");
        }
        return LM_OK; /* evaluation without a loss */
    }
    switch (t) {
    case LMI_TRAIN_SINGLE_LABEL:
        s = check_int_labels(b->labels, B, T, NL, task_name(t), 0);
        break;
    case LMI_TRAIN_TOKENS:
        s = check_int_labels(b->labels, N, T, NL, task_name(t), 1);
        break;
    case LMI_TRAIN_MASKED_LM:
        s = check_int_labels(b->labels, N, T, m->cfg.vocab_size, task_name(t), 1);
        break;
    case LMI_TRAIN_MULTI_LABEL:
    case LMI_TRAIN_REGRESSION:
        for (i = 0; i < B * (size_t)NL; i++) {
            const float y = b->float_labels[i];
            if (!isfinite(y) || (t == LMI_TRAIN_MULTI_LABEL && (y < 0.0f || y > 1.0f))) {
                return lmi_error(LM_ERR_RANGE,
                                 "lm_batch.float_labels: value %g at row %zu, label %zu is %s",
                                 (double)y, i / (size_t)NL, i % (size_t)NL,
                                 isfinite(y) ? "outside [0, 1] (multi-label targets)"
                                             : "not finite");
            }
        }
        s = LM_OK;
        break;
    default: /* question answering: any position; transformers clamps them to [0, seq_len] */
        s = LM_OK;
        break;
    }
    if (s == LM_OK) {
        *task = t;
    }
    return s;
}

/* ---- workspace ---- */

static size_t count_mlm_rows(const lm_batch *b) {
    size_t i, n = 0;
    for (i = 0; i < b->batch * b->seq_len; i++) {
        n += b->labels[i] != LMI_IGNORE_INDEX;
    }
    return n;
}

/* Lays out the head's buffers after the activations; returns the end offset. */
static size_t head_layout(const lmi_bert *m, lmi_bert_work *w, carver *c, size_t B, size_t T,
                          int dropout, size_t n_mlm, int mlm_logits) {
    const size_t C = (size_t)m->cfg.hidden_size, N = B * T;
    const size_t NL = (size_t)m->cfg.num_labels, V = (size_t)m->cfg.vocab_size;
    size_t rows = 0, K = 0;
    w->first = w->pooled = w->cls_in = w->logits = w->dlogits = NULL;
    w->drop_cls = NULL;
    w->mlm_rows = NULL;
    w->mlm_labels = NULL;
    w->mlm_x = w->mlm_pre = w->mlm_act = w->mlm_t = w->mlm_mean = w->mlm_rstd = NULL;
    switch (m->head) {
    case LM_BERT_HEAD_SEQ_CLASS:
        w->first = carve_f(c, B * C);
        w->pooled = carve_f(c, B * C);
        w->cls_in = dropout ? carve_f(c, B * C) : w->pooled;
        w->drop_cls = dropout ? carve(c, lmi_dropout_mask_bytes(B, C)) : NULL;
        rows = B;
        K = NL;
        break;
    case LM_BERT_HEAD_TOKEN_CLASS:
        w->cls_in = dropout ? carve_f(c, N * C) : NULL; /* NULL: the hidden state itself */
        w->drop_cls = dropout ? carve(c, lmi_dropout_mask_bytes(N, C)) : NULL;
        rows = N;
        K = NL;
        break;
    case LM_BERT_HEAD_QA:
        rows = N;
        K = 2;
        break;
    case LM_BERT_HEAD_MLM:
        w->mlm_rows = carve(c, n_mlm * sizeof(size_t));
        w->mlm_labels = carve(c, n_mlm * sizeof(int32_t));
        w->mlm_x = carve_f(c, n_mlm * C);
        w->mlm_pre = carve_f(c, n_mlm * C);
        w->mlm_act = carve_f(c, n_mlm * C);
        w->mlm_t = carve_f(c, n_mlm * C);
        w->mlm_mean = carve_f(c, n_mlm);
        w->mlm_rstd = carve_f(c, n_mlm);
        rows = mlm_logits ? n_mlm : 0;
        K = V;
        break;
    default:
        break;
    }
    if (rows > 0) {
        w->logits = carve_f(c, rows * K);
        w->dlogits = carve_f(c, rows * K);
    }
    w->rows = rows;
    w->K = K;
    w->n_mlm = n_mlm;
    return c->off;
}

void lmi_bert_work_free(lmi_bert_work *w) {
    if (w != NULL) {
        lmi_free_aligned(w->arena);
        memset(w, 0, sizeof *w);
    }
}

lm_status lmi_bert_work_reserve(const lmi_bert *m, lmi_bert_work *w, const lm_batch *b,
                                lmi_train_task task, int dropout, int all_logits, int threads) {
    const size_t B = b->batch, T = b->seq_len, N = B * T;
    size_t n_mlm = 0, need, acts;
    carver c;
    if (m->head == LM_BERT_HEAD_MLM) {
        n_mlm = all_logits ? N : task == LMI_TRAIN_MASKED_LM ? count_mlm_rows(b) : 0;
    }
    acts = lmi_bert_acts_layout(m, &w->acts, NULL, B, T, 1, dropout, threads, NULL, 0);
    c.base = NULL;
    c.off = acts;
    need = head_layout(m, w, &c, B, T, dropout, n_mlm, !all_logits);
    if (need > w->capacity) {
        size_t cap = need;
        void *arena;
        if (m->head == LM_BERT_HEAD_MLM && !all_logits && n_mlm < (N + 3) / 4) {
            /* room for a quarter of the tokens labelled (15% is usual): the next batches with
             * more labels than this one do not grow it again */
            c.off = acts;
            cap = head_layout(m, w, &c, B, T, dropout, (N + 3) / 4, 1);
        }
        arena = lmi_malloc_aligned(cap, LM_ALIGN);
        if (arena == NULL) {
            return lmi_error(LM_ERR_NOMEM,
                             "out of memory for the training workspace of a %zu x %zu batch "
                             "(%zu MB)",
                             B, T, cap >> 20);
        }
        lmi_free_aligned(w->arena);
        w->arena = arena;
        w->capacity = cap;
    }
    lmi_bert_acts_layout(m, &w->acts, w->arena, B, T, 1, dropout, threads, NULL, 0);
    c.base = w->arena;
    c.off = acts;
    head_layout(m, w, &c, B, T, dropout, n_mlm, !all_logits);
    w->task = task;
    return LM_OK;
}

size_t lmi_bert_logits_count(const lmi_bert *m, size_t B, size_t T) {
    switch (m->head) {
    case LM_BERT_HEAD_SEQ_CLASS:
        return B * (size_t)m->cfg.num_labels;
    case LM_BERT_HEAD_TOKEN_CLASS:
        return B * T * (size_t)m->cfg.num_labels;
    case LM_BERT_HEAD_QA:
        return B * T * 2;
    case LM_BERT_HEAD_MLM:
        return B * T * (size_t)m->cfg.vocab_size;
    default:
        return 0;
    }
}

/* ---- forward ---- */

/* The classifier's dropout probability when dropout is on. */
static float cls_p(const lmi_bert_dropout *d) {
    return d != NULL ? d->cls : 0.0f;
}

/* The masked-LM head over w->n_mlm rows of the hidden state (w->mlm_rows), logits into out. */
static void mlm_forward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_work *w,
                        const float *h, float *out) {
    const size_t C = (size_t)m->cfg.hidden_size, V = (size_t)m->cfg.vocab_size, n = w->n_mlm;
    size_t i;
    for (i = 0; i < n; i++) {
        memcpy(w->mlm_x + i * C, h + w->mlm_rows[i] * C, C * sizeof(float));
    }
    lmi_matmul_forward(ctx, w->mlm_pre, C, w->mlm_x, m->w.mlm_w, m->w.mlm_b, n, C, C);
    lmi_bert_act_forward(ctx, m->cfg.hidden_act, w->mlm_act, w->mlm_pre, n * C);
    lmi_layernorm_forward(ctx, w->mlm_t, w->mlm_mean, w->mlm_rstd, w->mlm_act, m->w.mlm_ln_w,
                          m->w.mlm_ln_b, n, C, (float)m->cfg.layer_norm_eps);
    lmi_matmul_forward(ctx, out, V, w->mlm_t, m->w.mlm_dec_w, m->w.mlm_bias, n, C, V);
}

/* The trainer's ops context with the workspace's room for packing weights (liblm's GEMM). */
static lmi_ops_ctx with_wbuf(const lmi_ops_ctx *ctx, const lmi_bert_work *w) {
    lmi_ops_ctx c = *ctx;
    c.wbuf = w->acts.wpack;
    c.wbuf_floats = w->acts.wpack_floats;
    return c;
}

/* The rows of each sequence the head reads beyond its real tokens (a->need): the encoder runs
 * on each sequence's tokens up to its last real one, and the padding rows after it cannot change
 * them (padding keys get exactly zero weight). Sequence classification reads row 0 only; token
 * classification and masked LM read the labelled rows, and every row when the caller takes all
 * logits; question answering's span softmax runs over every position. */
static void rows_needed(const lmi_bert *m, lmi_bert_acts *a, const lm_batch *b, int all_logits) {
    const size_t B = b->batch, T = b->seq_len;
    size_t i, t;
    for (i = 0; i < B; i++) {
        size_t need = 0;
        switch (m->head) {
        case LM_BERT_HEAD_QA:
            need = T;
            break;
        case LM_BERT_HEAD_TOKEN_CLASS:
        case LM_BERT_HEAD_MLM:
            if (all_logits || b->labels == NULL) {
                need = T;
                break;
            }
            for (t = T; t > 0; t--) {
                if (b->labels[i * T + t - 1] != LMI_IGNORE_INDEX) {
                    need = t;
                    break;
                }
            }
            break;
        default:
            break;
        }
        a->need[i] = need;
    }
}

void lmi_bert_train_forward(const lmi_bert *m, const lmi_ops_ctx *ctx0, lmi_bert_work *w,
                            const lm_batch *b, const lmi_bert_dropout *d, double grad_scale,
                            double *loss, float *logits_out) {
    const lmi_ops_ctx ctx_w = with_wbuf(ctx0, w), *ctx = &ctx_w;
    const size_t B = b->batch, T = b->seq_len, N = B * T, C = (size_t)m->cfg.hidden_size;
    const size_t NL = (size_t)m->cfg.num_labels;
    const float pc = cls_p(d);
    lmi_bert_acts *a = &w->acts;
    const float *h;
    float *dl;
    double l = 0.0;
    size_t i;
    if (d != NULL) {
        w->drop = *d;
        w->has_drop = 1;
    } else {
        w->has_drop = 0;
    }
    rows_needed(m, a, b, logits_out != NULL);
    lmi_bert_forward(m, ctx, a, b->ids, b->type_ids, b->attention_mask, d);
    h = a->hidden;
    switch (m->head) {
    case LM_BERT_HEAD_SEQ_CLASS: /* logits = classifier(dropout(tanh(pooler(h[:, 0])))) */
        for (i = 0; i < B; i++) {
            memcpy(w->first + i * C, h + i * T * C, C * sizeof(float));
        }
        lmi_matmul_forward(ctx, w->pooled, C, w->first, m->w.pool_w, m->w.pool_b, B, C, C);
        lmi_tanh_forward(ctx, w->pooled, w->pooled, B * C);
        if (pc > 0.0f) {
            lmi_dropout_forward(ctx, w->cls_in, w->drop_cls, w->pooled, pc,
                                lmi_dropout_seed(d->seed, d->step, LMI_SITE_CLASSIFIER), B, C);
        } else if (w->cls_in != w->pooled) {
            memcpy(w->cls_in, w->pooled, B * C * sizeof(float));
        }
        lmi_matmul_forward(ctx, w->logits, NL, w->cls_in, m->w.cls_w, m->w.cls_b, B, C, NL);
        break;
    case LM_BERT_HEAD_TOKEN_CLASS: { /* logits = classifier(dropout(h)) per token */
        const float *in = h;
        if (w->cls_in != NULL) {
            lmi_dropout_forward(ctx, w->cls_in, w->drop_cls, h, pc,
                                pc > 0.0f ? lmi_dropout_seed(d->seed, d->step, LMI_SITE_CLASSIFIER)
                                          : 0,
                                N, C);
            in = w->cls_in;
        }
        lmi_matmul_forward(ctx, w->logits, NL, in, m->w.cls_w, m->w.cls_b, N, C, NL);
        break;
    }
    case LM_BERT_HEAD_QA: /* [N, 2]: start, end */
        lmi_matmul_forward(ctx, w->logits, 2, h, m->w.qa_w, m->w.qa_b, N, C, 2);
        break;
    case LM_BERT_HEAD_MLM: {
        size_t k = 0;
        for (i = 0; i < N && k < w->n_mlm; i++) { /* the labelled rows (every row: evaluation) */
            if (w->n_mlm == N || b->labels[i] != LMI_IGNORE_INDEX) {
                w->mlm_rows[k] = i;
                w->mlm_labels[k++] = b->labels != NULL ? b->labels[i] : LMI_IGNORE_INDEX;
            }
        }
        mlm_forward(m, ctx, w, h, w->logits != NULL ? w->logits : logits_out);
        break;
    }
    default:
        break;
    }
    /* the loss, and the gradient of loss * grad_scale w.r.t. the logits */
    dl = grad_scale != 0.0 ? w->dlogits : NULL;
    if (dl != NULL) {
        zero(dl, w->rows * w->K);
    }
    switch (w->task) {
    case LMI_TRAIN_SINGLE_LABEL:
    case LMI_TRAIN_TOKENS:
        lmi_cross_entropy_loss(ctx->threads, &l, NULL, dl, w->logits, b->labels, w->rows, NL,
                               LMI_IGNORE_INDEX, grad_scale);
        break;
    case LMI_TRAIN_MULTI_LABEL:
        l = lmi_bce_with_logits_loss(ctx->threads, dl, w->logits, b->float_labels, B * NL,
                                     grad_scale);
        break;
    case LMI_TRAIN_REGRESSION:
        l = lmi_mse_loss(ctx->threads, dl, w->logits, b->float_labels, B * NL, grad_scale);
        break;
    case LMI_TRAIN_SPANS:
        l = lmi_qa_loss(ctx->threads, dl, w->logits, b->start_positions, b->end_positions, B, T,
                        grad_scale);
        break;
    case LMI_TRAIN_MASKED_LM:
        if (w->logits != NULL) {
            lmi_cross_entropy_loss(ctx->threads, &l, NULL, dl, w->logits, w->mlm_labels, w->n_mlm,
                                   (size_t)m->cfg.vocab_size, LMI_IGNORE_INDEX, grad_scale);
        } else { /* evaluation: every row's logits are the caller's */
            lmi_cross_entropy_loss(ctx->threads, &l, NULL, NULL, logits_out, b->labels, N,
                                   (size_t)m->cfg.vocab_size, LMI_IGNORE_INDEX, 0.0);
        }
        break;
    default:
        break;
    }
    *loss = l;
    if (logits_out != NULL && m->head != LM_BERT_HEAD_MLM) {
        memcpy(logits_out, w->logits, w->rows * w->K * sizeof(float));
    }
}

/* ---- backward ---- */

void lmi_bert_train_backward(const lmi_bert *m, const lmi_ops_ctx *ctx0, lmi_bert_work *w,
                             const lm_batch *b, const lmi_bert_grads *g) {
    const lmi_ops_ctx ctx_w = with_wbuf(ctx0, w), *ctx = &ctx_w;
    const size_t B = b->batch, T = b->seq_len, N = B * T, C = (size_t)m->cfg.hidden_size;
    const size_t NL = (size_t)m->cfg.num_labels;
    const lmi_bert_dropout *d = w->has_drop ? &w->drop : NULL;
    const float pc = cls_p(d);
    lmi_bert_acts *a = &w->acts;
    float *dh = a->dx; /* [N, C] gradient of the last hidden state */
    size_t i;
    zero(dh, N * C);
    switch (m->head) {
    case LM_BERT_HEAD_SEQ_CLASS: {
        const float *dp = a->ds;
        zero(a->ds, B * C);
        lmi_matmul_backward(ctx, a->ds, g->cls_w, g->cls_b, w->dlogits, NL, w->cls_in, m->w.cls_w,
                            B, C, NL);
        if (pc > 0.0f) {
            zero(a->dt, B * C);
            lmi_dropout_backward(ctx, a->dt, a->ds, w->drop_cls, pc, B, C);
            dp = a->dt;
        }
        zero(a->S, B * C);
        lmi_tanh_backward(ctx, a->S, dp, w->pooled, B * C);
        zero(a->D, B * C);
        lmi_matmul_backward(ctx, a->D, g->pool_w, g->pool_b, a->S, C, w->first, m->w.pool_w, B, C,
                            C);
        for (i = 0; i < B; i++) {
            memcpy(dh + i * T * C, a->D + i * C, C * sizeof(float));
        }
        break;
    }
    case LM_BERT_HEAD_TOKEN_CLASS:
        if (w->cls_in != NULL) {
            zero(a->ds, N * C);
            lmi_matmul_backward(ctx, a->ds, g->cls_w, g->cls_b, w->dlogits, NL, w->cls_in,
                                m->w.cls_w, N, C, NL);
            lmi_dropout_backward(ctx, dh, a->ds, w->drop_cls, pc, N, C);
        } else {
            lmi_matmul_backward(ctx, dh, g->cls_w, g->cls_b, w->dlogits, NL, a->hidden, m->w.cls_w,
                                N, C, NL);
        }
        break;
    case LM_BERT_HEAD_QA:
        lmi_matmul_backward(ctx, dh, g->qa_w, g->qa_b, w->dlogits, 2, a->hidden, m->w.qa_w, N, C,
                            2);
        break;
    case LM_BERT_HEAD_MLM: {
        /* logits = decoder(LN(act(dense(x)))) over the labelled rows; the decoder's weight
         * gradient lands in the word embeddings' when tied */
        const size_t n = w->n_mlm, V = (size_t)m->cfg.vocab_size;
        zero(a->ds, n * C);
        lmi_matmul_backward(ctx, a->ds, g->mlm_dec_w, g->mlm_bias, w->dlogits, V, w->mlm_t,
                            m->w.mlm_dec_w, n, C, V);
        zero(a->dt, n * C);
        lmi_layernorm_backward(ctx, a->dt, g->mlm_ln_w, g->mlm_ln_b, a->ds, w->mlm_act,
                               w->mlm_mean, w->mlm_rstd, m->w.mlm_ln_w, n, C);
        lmi_bert_act_backward(ctx, m->cfg.hidden_act, a->S, a->dt, w->mlm_pre, n * C, 0);
        zero(a->ds, n * C);
        lmi_matmul_backward(ctx, a->ds, g->mlm_w, g->mlm_b, a->S, C, w->mlm_x, m->w.mlm_w, n, C,
                            C);
        for (i = 0; i < n; i++) {
            memcpy(dh + w->mlm_rows[i] * C, a->ds + i * C, C * sizeof(float));
        }
        break;
    }
    default:
        break;
    }
    lmi_bert_backward(m, ctx, a, g, d);
}
