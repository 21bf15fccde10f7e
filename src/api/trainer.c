/* Public trainer API (lm/trainer.h): argument checks and the struct_size convention of the
 * options and batch structs; the work is in src/train/trainer.c. */
#include <stddef.h>
#include <string.h>

#include "base/error.h"
#include "base/options.h"
#include "lm.h"
#include "model/bert.h"
#include "train/trainer.h"

lm_status lm_trainer_options_init(lm_trainer_options *opts, size_t struct_size) {
    lm_trainer_options d;
    lmi_trainer_defaults(&d);
    return lmi_options_init_caller(opts, struct_size, &d, sizeof d, "lm_trainer_options_init");
}

lm_status lm_batch_init(lm_batch *b, size_t struct_size) {
    lm_batch d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    return lmi_options_init_caller(b, struct_size, &d, sizeof d, "lm_batch_init");
}

lm_status lm_trainer_create(lm_model_t *model, const lm_trainer_options *opts,
                            lm_trainer_t **out) {
    lm_trainer_options o;
    lm_status s;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_trainer_create: out is NULL");
    }
    *out = NULL;
    if (model == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_trainer_create: model is NULL");
    }
    lmi_trainer_defaults(&o);
    s = lmi_options_read(&o, sizeof o, opts, sizeof o, "lm_trainer_options");
    if (s != LM_OK) {
        return s;
    }
    return lmi_trainer_create(lmi_model_bert(model), &o, out);
}

void lm_trainer_free(lm_trainer_t *trainer) {
    lmi_trainer_free(trainer);
}

/* The caller's batch in a full-size struct. */
static lm_status read_batch(const char *fn, const lm_trainer_t *t, const lm_batch *batch,
                            lm_batch *b) {
    lm_status s;
    if (t == NULL || batch == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                         t == NULL ? "trainer" : "batch");
    }
    memset(b, 0, sizeof *b);
    s = lmi_options_read(b, sizeof *b, batch, sizeof *b, "lm_batch");
    return s != LM_OK ? lmi_error_prefix(s, "%s", fn) : LM_OK;
}

lm_status lm_trainer_step(lm_trainer_t *trainer, const lm_batch *batch, float *loss) {
    lm_batch b;
    lm_status s = read_batch("lm_trainer_step", trainer, batch, &b);
    return s != LM_OK ? s : lmi_trainer_step(trainer, &b, loss);
}

lm_status lm_trainer_evaluate(lm_trainer_t *trainer, const lm_batch *batch, float *loss,
                              float *logits, size_t capacity) {
    lm_batch b;
    lm_status s = read_batch("lm_trainer_evaluate", trainer, batch, &b);
    return s != LM_OK ? s : lmi_trainer_evaluate(trainer, &b, loss, logits, capacity);
}

int64_t lm_trainer_steps(const lm_trainer_t *trainer) {
    return trainer != NULL ? trainer->updates : 0;
}

double lm_trainer_learning_rate(const lm_trainer_t *trainer) {
    return trainer != NULL ? lmi_trainer_next_lr(trainer) : 0.0;
}

double lm_trainer_grad_norm(const lm_trainer_t *trainer) {
    return trainer != NULL ? trainer->grad_norm : 0.0;
}
