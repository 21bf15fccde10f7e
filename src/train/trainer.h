/* Internal: the trainer behind lm/trainer.h. It owns the gradient slab and the optimizer's state
 * slabs (the model's parameter layout), the step counters and the workspace; the model owns the
 * writable parameter slab. Visible to the tests, which read gradients through it. */
#ifndef LM_TRAIN_TRAINER_H
#define LM_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "model/bert.h"
#include "model/train.h"
#include "optim/optim.h"

struct lm_trainer {
    lmi_bert *m;
    lm_trainer_options o;         /* checked, full size */
    lmi_ops_ctx ctx;              /* planned by lmi_ops_begin at create (ctx_planned) */
    int ctx_planned;
    float *grad;                  /* [m->slab_floats] gradients */
    float *state1, *state2;       /* Adam: exp_avg, exp_avg_sq; SGD with momentum: buffer */
    lmi_bert_grads g;             /* views over grad */
    lmi_optim_range *ranges;      /* one per parameter: offset, count, decay */
    size_t nranges;
    lmi_bert_work work;
    lmi_bert_dropout drop;        /* probabilities (0 with dropout off) and seed */
    int dropout;                  /* 1: some dropout probability is above 0 */
    int64_t updates;              /* optimizer updates done */
    uint64_t calls;               /* training steps done (the dropout masks' step) */
    int32_t accumulated;          /* steps whose gradients are in `grad` */
    double grad_norm;             /* of the last update, before clipping */
};

/* Creates a trainer on m with checked full-size options (see lm_trainer_create). */
lm_status lmi_trainer_create(lmi_bert *m, const lm_trainer_options *opts, lm_trainer_t **out);
void lmi_trainer_free(lm_trainer_t *t);
/* lm_trainer_step / lm_trainer_evaluate over a full-size batch. */
lm_status lmi_trainer_step(lm_trainer_t *t, const lm_batch *b, float *loss);
lm_status lmi_trainer_evaluate(lm_trainer_t *t, const lm_batch *b, float *loss, float *logits,
                               size_t capacity);
/* Tests: zeroes the gradients, then one forward and backward of the batch (loss scale 1, dropout
 * as in a step, the step counter unchanged) without an update; t->grad then holds the batch's
 * gradients. */
lm_status lmi_trainer_gradients(lm_trainer_t *t, const lm_batch *b, double *loss);
/* The learning rate of the next update. */
double lmi_trainer_next_lr(const lm_trainer_t *t);
/* The defaults of lm_trainer_options (full size). */
void lmi_trainer_defaults(lm_trainer_options *o);

#endif
