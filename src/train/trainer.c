/* The trainer: checks its options, makes the model trainable, owns the gradient and optimizer
 * slabs, and runs a step: batch check, forward with dropout, loss, backward, and every
 * accumulation_steps steps the guarded update (global norm, clipping, schedule, optimizer). */
#include "train/trainer.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "tensor/guard.h"

#define LM_ALIGN 64

void lmi_trainer_defaults(lm_trainer_options *o) {
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->optimizer = LM_OPTIMIZER_ADAMW;
    o->schedule = LM_SCHEDULE_LINEAR;
    o->learning_rate = 5e-5;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = 0.0;
    o->momentum = 0.0;
    o->nesterov = 0;
    o->accumulation_steps = 1;
    o->max_grad_norm = 1.0;
    o->warmup_steps = 0;
    o->total_steps = 0;
    o->dropout = 1;
    o->threads = 0;
    o->seed = 42;
}

static lm_status bad(const char *field, const char *why, double v) {
    return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_trainer_options.%s is %g (%s)", field, v, why);
}

static lm_status check_options(const lm_trainer_options *o) {
    if (o->optimizer < LM_OPTIMIZER_ADAMW || o->optimizer > LM_OPTIMIZER_SGD) {
        return bad("optimizer", "not an lm_optimizer", o->optimizer);
    }
    if (o->schedule < LM_SCHEDULE_LINEAR || o->schedule > LM_SCHEDULE_CONSTANT) {
        return bad("schedule", "not an lm_schedule", o->schedule);
    }
    if (!(o->learning_rate >= 0.0) || !isfinite(o->learning_rate)) {
        return bad("learning_rate", "a finite value >= 0", o->learning_rate);
    }
    if (!(o->beta1 >= 0.0 && o->beta1 < 1.0)) {
        return bad("beta1", "in [0, 1)", o->beta1);
    }
    if (!(o->beta2 >= 0.0 && o->beta2 < 1.0)) {
        return bad("beta2", "in [0, 1)", o->beta2);
    }
    if (!(o->eps >= 0.0) || !isfinite(o->eps)) {
        return bad("eps", "a finite value >= 0", o->eps);
    }
    if (!(o->weight_decay >= 0.0) || !isfinite(o->weight_decay)) {
        return bad("weight_decay", "a finite value >= 0", o->weight_decay);
    }
    if (!(o->momentum >= 0.0) || !isfinite(o->momentum)) {
        return bad("momentum", "a finite value >= 0", o->momentum);
    }
    if (o->nesterov != 0 && o->nesterov != 1) {
        return bad("nesterov", "0 or 1", o->nesterov);
    }
    if (o->nesterov && o->optimizer == LM_OPTIMIZER_SGD && !(o->momentum > 0.0)) {
        return bad("nesterov", "Nesterov momentum needs momentum > 0", o->nesterov);
    }
    if (o->accumulation_steps < 1) {
        return bad("accumulation_steps", "1 or more", o->accumulation_steps);
    }
    if (!(o->max_grad_norm >= 0.0) || !isfinite(o->max_grad_norm)) {
        return bad("max_grad_norm", "a finite value >= 0; 0 = no clipping", o->max_grad_norm);
    }
    if (o->warmup_steps < 0) {
        return bad("warmup_steps", ">= 0", (double)o->warmup_steps);
    }
    if (o->total_steps < 0) { /* 0 with a decaying schedule is refused by the first step */
        return bad("total_steps", ">= 0", (double)o->total_steps);
    }
    if (o->dropout != 0 && o->dropout != 1) {
        return bad("dropout", "0 or 1", o->dropout);
    }
    if (o->threads < 0) {
        return bad("threads", "0 = the model's, or more", o->threads);
    }
    return LM_OK;
}

static float *slab_zeroed(size_t n) {
    float *p = lmi_malloc_aligned(n * sizeof(float), LM_ALIGN);
    if (p != NULL) {
        memset(p, 0, n * sizeof(float));
    }
    return p;
}

void lmi_trainer_free(lm_trainer_t *t) {
    if (t == NULL) {
        return;
    }
    t->m->trainer_attached = 0;
    if (t->ctx_planned) {
        lmi_ops_end(&t->ctx);
    }
    lmi_free_aligned(t->grad);
    lmi_free_aligned(t->state1);
    lmi_free_aligned(t->state2);
    lmi_free(t->g.layers);
    lmi_free(t->ranges);
    lmi_bert_work_free(&t->work);
    lmi_free(t);
}

lm_status lmi_trainer_create(lmi_bert *m, const lm_trainer_options *opts, lm_trainer_t **out) {
    const lmi_bert_config *c = &m->cfg;
    lm_trainer_t *t;
    lm_status s;
    size_t i, n;
    *out = NULL;
    if (m->head == LM_BERT_HEAD_BASE || m->head == LM_BERT_HEAD_AUTO) {
        return lmi_error(LM_ERR_STATE, "lm_trainer_create: a base model has no head and no loss "
                                       "to train (load it with a head: lm_model_options.head)");
    }
    if (m->trainer_attached) {
        return lmi_error(LM_ERR_STATE, "lm_trainer_create: another trainer holds this model");
    }
    s = check_options(opts);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "lm_trainer_create");
    }
    if (m->head == LM_BERT_HEAD_SEQ_CLASS && m->w.pool_w == NULL) {
        return lmi_error(LM_ERR_STATE, "lm_trainer_create: this sequence-classification model "
                                       "has no pooler");
    }
    s = lmi_bert_make_trainable(m);
    if (s != LM_OK) {
        return s;
    }
    t = lmi_calloc(1, sizeof *t);
    if (t == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for a trainer");
    }
    t->m = m;
    t->o = *opts;
    /* planned once for the trainer's life (tensor/guard.h: threads and BLAS under memory limits) */
    lmi_ops_begin(&t->ctx, opts->threads > 0 ? opts->threads : m->threads);
    t->ctx_planned = 1;
    n = m->slab_floats;
    t->grad = slab_zeroed(n);
    t->g.layers = lmi_calloc((size_t)c->num_hidden_layers, sizeof *t->g.layers);
    t->ranges = lmi_calloc(m->nparams, sizeof *t->ranges);
    if (opts->optimizer != LM_OPTIMIZER_SGD) {
        t->state1 = slab_zeroed(n);
        t->state2 = slab_zeroed(n);
    } else if (opts->momentum > 0.0) {
        t->state1 = slab_zeroed(n);
    }
    if (t->grad == NULL || t->g.layers == NULL || t->ranges == NULL ||
        (opts->optimizer != LM_OPTIMIZER_SGD && (t->state1 == NULL || t->state2 == NULL)) ||
        (opts->optimizer == LM_OPTIMIZER_SGD && opts->momentum > 0.0 && t->state1 == NULL)) {
        lmi_trainer_free(t);
        return lmi_error(LM_ERR_NOMEM, "out of memory for the gradients and optimizer state of "
                                       "%zu parameters",
                         n);
    }
    lmi_bert_views(m, t->grad, &t->g);
    for (i = 0; i < m->nparams; i++) { /* every parameter the model has trains */
        const lmi_bert_param *p = &m->params[i];
        if (*p->slot != NULL) {
            t->ranges[t->nranges].offset = p->offset;
            t->ranges[t->nranges].count = p->numel;
            t->ranges[t->nranges++].decay = p->decay;
        }
    }
    if (opts->dropout) {
        t->drop.hidden = (float)c->hidden_dropout_prob;
        t->drop.att = (float)c->attention_probs_dropout_prob;
        t->drop.cls = (float)(c->classifier_dropout >= 0.0 ? c->classifier_dropout
                                                           : c->hidden_dropout_prob);
        if (m->head != LM_BERT_HEAD_SEQ_CLASS && m->head != LM_BERT_HEAD_TOKEN_CLASS) {
            t->drop.cls = 0.0f;
        }
    }
    t->drop.seed = opts->seed;
    t->dropout = t->drop.hidden > 0.0f || t->drop.att > 0.0f || t->drop.cls > 0.0f;
    m->trainer_attached = 1;
    *out = t;
    return LM_OK;
}

static lmi_lr_schedule schedule_kind(int32_t s) {
    return s == LM_SCHEDULE_COSINE     ? LMI_LR_COSINE
           : s == LM_SCHEDULE_CONSTANT ? LMI_LR_CONSTANT_WARMUP
                                       : LMI_LR_LINEAR;
}

double lmi_trainer_next_lr(const lm_trainer_t *t) {
    return lmi_lr_at(schedule_kind(t->o.schedule), t->o.learning_rate, (long)t->updates,
                     (long)t->o.warmup_steps, (long)t->o.total_steps);
}

/* Forward, loss and backward of one batch into t->grad (added). Returns LM_ERR_NUMERIC, with
 * nothing added, when the loss is not finite. */
static lm_status forward_backward(lm_trainer_t *t, const lm_batch *b, double scale, double *loss) {
    lmi_train_task task;
    lmi_bert_dropout d = t->drop;
    lm_status s = lmi_bert_check_batch(t->m, b, 1, &task);
    if (s != LM_OK) {
        return s;
    }
    s = lmi_bert_work_reserve(t->m, &t->work, b, task, t->dropout, 0, t->ctx.threads);
    if (s != LM_OK) {
        return s;
    }
    d.step = t->calls++;
    lmi_bert_train_forward(t->m, &t->ctx, &t->work, b, t->dropout ? &d : NULL, scale, loss, NULL);
    if (!isfinite((float)*loss)) { /* as a float32 loss would be: inf or NaN */
        return lmi_error(LM_ERR_NUMERIC, "the loss is %g", *loss);
    }
    lmi_bert_train_backward(t->m, &t->ctx, &t->work, b, &t->g);
    return LM_OK;
}

lm_status lmi_trainer_step(lm_trainer_t *t, const lm_batch *b, float *loss_out) {
    const size_t n = t->m->slab_floats;
    double loss = 0.0, norm, lr;
    lm_status s;
    if (t->o.total_steps == 0 && t->o.schedule != LM_SCHEDULE_CONSTANT) {
        /* checked here, not at create: a trainer that only evaluates needs no schedule */
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_trainer_step: lm_trainer_options.total_steps is 0, but the linear and "
                         "cosine schedules decay to 0 at total_steps: set it to the number of "
                         "optimizer updates of the run (or use LM_SCHEDULE_CONSTANT)");
    }
    if (t->accumulated == 0) {
        lmi_optim_zero(t->ctx.threads, t->grad, n);
    }
    s = forward_backward(t, b, 1.0 / t->o.accumulation_steps, &loss);
    if (loss_out != NULL) {
        *loss_out = (float)loss;
    }
    if (s == LM_ERR_NUMERIC) {
        t->accumulated = 0; /* the gradients gathered so far are dropped with this step */
        return lmi_error(LM_ERR_NUMERIC, "lm_trainer_step: %s; the update is skipped, the "
                                         "weights and the optimizer state are unchanged",
                         lmi_last_error());
    }
    if (s != LM_OK) {
        return lmi_error_prefix(s, "lm_trainer_step");
    }
    if (++t->accumulated < t->o.accumulation_steps) {
        return LM_OK;
    }
    t->accumulated = 0;
    norm = t->o.max_grad_norm > 0.0 ? lmi_clip_grad_norm(t->ctx.threads, t->grad, n,
                                                         t->o.max_grad_norm)
                                    : lmi_grad_norm(t->ctx.threads, t->grad, n);
    if (!isfinite(norm)) {
        return lmi_error(LM_ERR_NUMERIC, "lm_trainer_step: the gradient norm is %g; the update "
                                         "is skipped, the weights and the optimizer state are "
                                         "unchanged",
                         norm);
    }
    t->grad_norm = norm;
    lr = lmi_trainer_next_lr(t);
    if (t->o.optimizer == LM_OPTIMIZER_SGD) {
        lmi_sgd_params hp;
        hp.lr = lr;
        hp.momentum = t->o.momentum;
        hp.dampening = 0.0;
        hp.weight_decay = t->o.weight_decay;
        hp.nesterov = t->o.nesterov;
        lmi_sgd_step(t->ctx.threads, t->m->slab, t->grad, t->state1, n, t->ranges, t->nranges,
                     &hp, (long)t->updates + 1);
    } else {
        lmi_adam_params hp;
        hp.lr = lr;
        hp.beta1 = t->o.beta1;
        hp.beta2 = t->o.beta2;
        hp.eps = t->o.eps;
        hp.weight_decay = t->o.weight_decay;
        hp.decoupled = t->o.optimizer == LM_OPTIMIZER_ADAMW;
        lmi_adam_step(t->ctx.threads, t->m->slab, t->grad, t->state1, t->state2, n, t->ranges,
                      t->nranges, &hp, (long)t->updates + 1);
    }
    t->updates++;
    lmi_bert_packs_drop(t->m); /* inference packs (if any) hold the old weights */
    return LM_OK;
}

lm_status lmi_trainer_gradients(lm_trainer_t *t, const lm_batch *b, double *loss) {
    const uint64_t calls = t->calls;
    lm_status s;
    memset(t->grad, 0, t->m->slab_floats * sizeof(float));
    t->accumulated = 0;
    s = forward_backward(t, b, 1.0, loss);
    t->calls = calls;
    return s;
}

lm_status lmi_trainer_evaluate(lm_trainer_t *t, const lm_batch *b, float *loss, float *logits,
                               size_t capacity) {
    double l = 0.0;
    lmi_train_task task;
    lm_status s = lmi_bert_check_batch(t->m, b, 0, &task);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "lm_trainer_evaluate");
    }
    if (logits != NULL) {
        const size_t need = lmi_bert_logits_count(t->m, b->batch, b->seq_len);
        if (capacity < need) {
            return lmi_error(LM_ERR_BUFFER_TOO_SMALL,
                             "lm_trainer_evaluate: the logits need %zu floats, capacity is %zu",
                             need, capacity);
        }
    }
    s = lmi_bert_work_reserve(t->m, &t->work, b, task, t->dropout,
                              logits != NULL && t->m->head == LM_BERT_HEAD_MLM, t->ctx.threads);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "lm_trainer_evaluate");
    }
    lmi_bert_train_forward(t->m, &t->ctx, &t->work, b, NULL, 0.0, &l, logits);
    if (loss != NULL) {
        *loss = (float)l;
    }
    return LM_OK;
}
