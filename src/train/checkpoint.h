/* Internal: the state of a fine-tuning run that a checkpoint keeps, and the checkpoint folders.
 *
 * A checkpoint is out_dir/checkpoint-STEP/: the model folder (config.json, model.safetensors,
 * tokenizer files), optimizer.safetensors (the optimizer's slabs, one tensor per parameter:
 * "exp_avg.NAME" and "exp_avg_sq.NAME" for Adam(W), "momentum_buffer.NAME" for SGD with
 * momentum) and trainer_state.json (lmi_fit_state). It is written into
 * out_dir/.checkpoint-STEP.tmp/ (every file fsynced), the folder fsynced, then renamed to its
 * name and out_dir fsynced: a checkpoint-STEP folder is always whole. Older checkpoints are then
 * deleted: renamed to .checkpoint-STEP.del first, so a deletion cut short never leaves a
 * checkpoint-STEP folder that is not whole (leftover .tmp and .del folders are removed when a
 * run starts in the folder). Numbers are written with 17 significant digits (doubles round-trip exactly)
 * and 64-bit integers as strings. */
#ifndef LM_TRAIN_CHECKPOINT_H
#define LM_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "model/bert.h"

/* One row of the metrics history (metrics.csv, log_history). NaN where there is no value. */
typedef struct lmi_fit_row {
    int64_t step;
    double epoch;          /* epochs done, with the fraction */
    double loss, lr, grad_norm;
    int has_eval;
    lm_metrics eval;       /* when has_eval */
} lmi_fit_row;

typedef struct lmi_fit_state {
    int task;              /* lm_task */
    int64_t step;          /* optimizer updates done */
    uint64_t calls;        /* trainer steps done (the dropout masks' counter) */
    int64_t epoch;         /* the epoch to run next, from 0 */
    int64_t batch;         /* its next batch */
    int64_t total_steps;
    int64_t batch_size, accumulation;
    int32_t optimizer, threads;
    uint64_t seed;
    uint64_t model_hash;   /* FNV-1a of the starting model's config.json */
    uint64_t data_hash;    /* FNV-1a of the training rows */
    double grad_norm;      /* of the last update */
    double last_lr;        /* the learning rate of the last update */
    double win_loss;       /* sum of the update losses since the last log */
    int64_t win_n;
    int has_best;
    double best;           /* best main metric */
    int64_t best_step;
    int32_t bad_evals;     /* evaluations since the best */
    lmi_fit_row *rows;     /* history, owned */
    size_t n_rows, cap_rows;
} lmi_fit_state;

void lmi_fit_state_free(lmi_fit_state *st);
/* Appends a row (or merges into the last one when it has the same step). */
lm_status lmi_fit_state_add_row(lmi_fit_state *st, const lmi_fit_row *row);

/* 64-bit FNV-1a, continued from h (start with LMI_FNV_START). */
#define LMI_FNV_START 0xcbf29ce484222325ull
uint64_t lmi_fnv1a(uint64_t h, const void *data, size_t len);

/* Writes out_dir/checkpoint-<st->step> (see the file comment) and keeps the `keep` newest
 * checkpoints of out_dir. *path_out (may be NULL) gets the folder's path (lmi_free). On failure
 * the temporary folder is removed and the previous checkpoints are untouched. */
lm_status lmi_checkpoint_save(const char *out_dir, const lmi_bert *m, const lm_tokenizer_t *tok,
                              const lm_trainer_t *t, const lmi_fit_state *st, int keep,
                              char **path_out);

/* The checkpoint to resume from: `dir` itself when it holds trainer_state.json, else its newest
 * complete checkpoint-STEP folder. *path_out: lmi_free. LM_ERR_NOT_FOUND when there is none. */
lm_status lmi_checkpoint_find(const char *dir, char **path_out);

/* Reads ckpt/trainer_state.json into st (zeroed first; free with lmi_fit_state_free). */
lm_status lmi_checkpoint_read_state(const char *ckpt, lmi_fit_state *st);

/* Reads ckpt/optimizer.safetensors into the trainer's optimizer state and restores its
 * counters from st (updates, calls, grad norm). */
lm_status lmi_checkpoint_load_optimizer(const char *ckpt, lm_trainer_t *t,
                                        const lmi_fit_state *st);

/* Names of the files of a run in an output folder, for the "already holds a run" check: 1 when
 * dir holds checkpoint-* folders, trainer files or a model. `what` gets one name found. */
int lmi_checkpoint_dir_has_run(const char *dir, char *what, size_t what_cap);
/* Removes the checkpoint-* and .checkpoint-*.tmp folders of dir (an overwritten run) or only
 * the temporary ones (tmp_only). */
lm_status lmi_checkpoint_clean(const char *dir, int tmp_only);

#endif
