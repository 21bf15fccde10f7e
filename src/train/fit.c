/* A fine-tuning run (lm_fit): the output folder and the checkpoint to resume, the task and its
 * data, the model with its head and labels, the trainer, then the loop: optimizer updates over
 * seeded batches, logs, evaluations, the best model, early stopping, checkpoints, metrics.csv,
 * and the final folder. See lm/fit.h for the contract and fit.h for the pieces. */
#define _XOPEN_SOURCE 700
#include "train/fit.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/timer.h"
#include "data/batch.h"
#include "text/tokenizer.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

void lmi_fit_defaults(lm_fit_options *o) {
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->task = LM_TASK_AUTO;
    o->epochs = 3;
    o->batch_size = 32;
    o->eval_batch_size = 64;
    o->shuffle = 1;
    o->log_every = 50;
    o->keep_checkpoints = 2;
    o->load_best = 1;
    o->mlm_probability = 0.15;
}

static lm_status bad(const char *field, const char *why) {
    return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_fit_options.%s: %s", field, why);
}

static lm_status check_options(const lm_fit_options *o, int need_train) {
    if (o->task < LM_TASK_AUTO || o->task > LM_TASK_MASKED_LM) {
        return bad("task", "not an lm_task");
    }
    if (need_train && (o->train_path == NULL || o->out_dir == NULL)) {
        return bad(o->train_path == NULL ? "train_path" : "out_dir", "required");
    }
    if (o->epochs < 1 && o->max_steps <= 0) {
        return bad("epochs", "1 or more (or max_steps)");
    }
    if (o->max_steps < 0 || o->eval_every < 0 || o->save_every < 0 || o->max_train_examples < 0 ||
        o->max_eval_examples < 0) {
        return bad("max_steps, eval_every, save_every, max_*_examples", "0 or more");
    }
    if (o->batch_size < 1 || o->eval_batch_size < 1) {
        return bad("batch_size / eval_batch_size", "1 or more");
    }
    if (o->max_length < 0 || o->doc_stride < 0) {
        return bad("max_length / doc_stride", "0 (the default) or more");
    }
    if (!(o->warmup_ratio >= 0.0 && o->warmup_ratio <= 1.0)) {
        return bad("warmup_ratio", "between 0 and 1");
    }
    if ((o->shuffle != 0 && o->shuffle != 1) || (o->load_best != 0 && o->load_best != 1) ||
        (o->overwrite != 0 && o->overwrite != 1) || (o->mlm_pack != 0 && o->mlm_pack != 1)) {
        return bad("shuffle, load_best, overwrite, mlm_pack", "0 or 1");
    }
    if (o->group_by_length < 0 || o->patience < 0) {
        return bad("group_by_length / patience", "0 or more");
    }
    if (o->log_every < 1 || o->keep_checkpoints < 1) {
        return bad("log_every / keep_checkpoints", "1 or more");
    }
    if (!(o->mlm_probability > 0.0 && o->mlm_probability <= 1.0)) {
        return bad("mlm_probability", "in (0, 1]");
    }
    if (o->reserved0 != 0) {
        return bad("reserved0", "must be 0");
    }
    return LM_OK;
}

/* ---- the run ---- */

typedef struct fit_run {
    lm_fit_options o;
    lm_trainer_options to;
    const char *model_dir;
    const char *src_dir;        /* where the model is loaded from: model_dir or the checkpoint */
    int task, task_fixed;
    int resumed;
    char *resume_path;          /* the checkpoint folder */
    lmi_bert *m;
    lm_tokenizer_t *tok;
    lmi_label_map model_labels; /* the labels of a model that has the task's head */
    int use_model_labels, rename_labels;
    lmi_dataset *train_ds, *dev_ds;
    lmi_features *train_f, *dev_f;
    lmi_batcher *bat;
    lm_trainer_t *t;
    size_t max_length, doc_stride;
    int64_t bpe, upe, total;    /* batches and updates per epoch, updates of the run */
    lmi_fit_state st;
    int64_t saved_step;         /* the step of the newest checkpoint (-1: none) */
    int64_t evaluated_step;     /* the step of the last evaluation (-1: none) */
    lm_metrics last_eval;
    double train_s;             /* training seconds of this process */
    int64_t first_step, examples, tokens;
    int stop, early;
    int clean_out;              /* overwrite: the earlier run's checkpoints go before training */
    char *best_dir;
} fit_run;

static int higher_is_better(int task) {
    return task != LM_TASK_MASKED_LM;
}

/* Calls the callback (if any) with the run's counters; returns 1 when it asks to stop. */
static int notify(fit_run *r, int event, double loss, const lm_metrics *metrics,
                  const char *path, int is_best) {
    lm_fit_progress p;
    const int64_t done = r->st.step - r->first_step;
    if (r->o.callback == NULL) {
        return 0;
    }
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.event = event;
    p.epoch = (int32_t)(r->upe > 0 ? (r->st.step > 0 ? (r->st.step - 1) / r->upe : 0) + 1 : 1);
    p.step = r->st.step;
    p.total_steps = r->total;
    p.steps_per_epoch = r->upe;
    p.train_rows = r->train_f != NULL ? (int64_t)r->train_f->n : 0;
    p.dev_rows = r->dev_f != NULL ? (int64_t)r->dev_f->n : 0;
    p.first_step = r->first_step;
    p.epoch_float = r->upe > 0 ? (double)r->st.step / (double)r->upe : 0.0;
    p.loss = loss;
    p.learning_rate = r->st.last_lr;
    p.grad_norm = r->st.grad_norm;
    p.elapsed_s = r->train_s;
    p.examples_per_s = r->train_s > 0 ? (double)r->examples / r->train_s : 0.0;
    p.tokens_per_s = r->train_s > 0 ? (double)r->tokens / r->train_s : 0.0;
    p.eta_s = done > 0 ? r->train_s / (double)done * (double)(r->total - r->st.step) : NAN;
    p.examples = r->examples;
    p.tokens = r->tokens;
    p.metrics = metrics;
    p.path = path;
    p.is_best = is_best;
    p.stopped = r->stop;
    p.task = r->task;
    p.max_length = (int32_t)r->max_length;
    p.num_labels = r->m != NULL && (r->task == LM_TASK_CLASSIFICATION ||
                                    r->task == LM_TASK_TOKEN_CLASSIFICATION)
                       ? (int32_t)r->m->cfg.num_labels
                       : 0;
    if (r->o.callback(&p, r->o.user_data) != 0) {
        r->stop = 1;
        return 1;
    }
    return 0;
}

/* ---- metrics.csv ---- */

typedef struct csv_col {
    const char *name;
    size_t offset;
} csv_col;

#define MC(f) {"eval_" #f, offsetof(lm_metrics, f)}
static const csv_col cls_cols[] = {MC(loss), MC(accuracy), MC(f1), MC(f1_binary), {NULL, 0}};
static const csv_col reg_cols[] = {MC(loss), MC(pearson), MC(spearman), MC(mse), {NULL, 0}};
static const csv_col tok_cols[] = {MC(loss), MC(precision), MC(recall), MC(f1), MC(accuracy),
                                   {NULL, 0}};
static const csv_col qa_cols[] = {MC(loss), MC(exact_match), MC(f1), {NULL, 0}};
static const csv_col mlm_cols[] = {MC(loss), MC(perplexity), {NULL, 0}};
#undef MC

static const csv_col *task_cols(int task) {
    switch (task) {
    case LM_TASK_CLASSIFICATION:
        return cls_cols;
    case LM_TASK_REGRESSION:
        return reg_cols;
    case LM_TASK_TOKEN_CLASSIFICATION:
        return tok_cols;
    case LM_TASK_QUESTION_ANSWERING:
        return qa_cols;
    default:
        return mlm_cols;
    }
}

static void put_value(FILE *f, double v) {
    if (isfinite(v)) {
        fprintf(f, ",%.10g", v);
    } else {
        fputc(',', f);
    }
}

/* Rewrites out_dir/metrics.csv from the history (atomically: a small file). */
static lm_status write_metrics_csv(const fit_run *r) {
    const csv_col *cols = r->dev_f != NULL ? task_cols(r->task) : NULL;
    char *text = NULL, *path;
    size_t len = 0, i, c;
    lm_status s;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for metrics.csv");
    }
    fputs("step,epoch,loss,lr,grad_norm", f);
    for (c = 0; cols != NULL && cols[c].name != NULL; c++) {
        fprintf(f, ",%s", cols[c].name);
    }
    fputc('\n', f);
    for (i = 0; i < r->st.n_rows; i++) {
        const lmi_fit_row *row = &r->st.rows[i];
        fprintf(f, "%lld", (long long)row->step);
        put_value(f, row->epoch);
        put_value(f, row->loss);
        put_value(f, isnan(row->loss) ? NAN : row->lr);
        put_value(f, isnan(row->loss) ? NAN : row->grad_norm);
        for (c = 0; cols != NULL && cols[c].name != NULL; c++) {
            put_value(f, row->has_eval ? *(const double *)((const char *)&row->eval +
                                                           cols[c].offset)
                                       : NAN);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0 || text == NULL) {
        free(text);
        return lmi_error(LM_ERR_NOMEM, "out of memory for metrics.csv");
    }
    path = lmi_path_join(r->o.out_dir, "metrics.csv");
    s = path != NULL ? lmi_file_write_atomic(path, text, len)
                     : lmi_error(LM_ERR_NOMEM, "out of memory");
    lmi_free(path);
    free(text);
    return s;
}

/* ---- setting up ---- */

/* FNV-1a of a file's bytes (the starting model's config.json). */
static lm_status hash_file(const char *dir, const char *name, uint64_t *h) {
    char *path = lmi_path_join(dir, name), *data = NULL;
    size_t len = 0;
    lm_status s;
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    s = lmi_file_read_all(path, (size_t)16 << 20, &data, &len);
    if (s == LM_OK) {
        *h = lmi_fnv1a(LMI_FNV_START, data, len);
    }
    lmi_free(data);
    lmi_free(path);
    return s;
}

/* FNV-1a of what decides the training batches: the rows and the batching options. */
static uint64_t hash_data(const fit_run *r) {
    const lmi_features *f = r->train_f;
    uint64_t h = LMI_FNV_START;
    int64_t opts[4];
    double p = r->o.mlm_probability;
    opts[0] = r->o.batch_size;
    opts[1] = r->o.shuffle;
    opts[2] = r->o.group_by_length;
    opts[3] = r->task;
    h = lmi_fnv1a(h, f->start, (f->n + 1) * sizeof *f->start);
    h = lmi_fnv1a(h, f->ids, f->total * sizeof *f->ids);
    h = lmi_fnv1a(h, f->type_ids, f->total * sizeof *f->type_ids);
    h = lmi_fnv1a(h, f->special, f->total * sizeof *f->special);
    if (f->token_labels != NULL) {
        h = lmi_fnv1a(h, f->token_labels, f->total * sizeof *f->token_labels);
    }
    if (f->labels != NULL) {
        h = lmi_fnv1a(h, f->labels, f->n * sizeof *f->labels);
    }
    if (f->values != NULL) {
        h = lmi_fnv1a(h, f->values, f->n * sizeof *f->values);
    }
    if (f->start_positions != NULL) {
        h = lmi_fnv1a(h, f->start_positions, f->n * sizeof *f->start_positions);
        h = lmi_fnv1a(h, f->end_positions, f->n * sizeof *f->end_positions);
    }
    h = lmi_fnv1a(h, opts, sizeof opts);
    return lmi_fnv1a(h, &p, sizeof p);
}

/* The output folder: created, writable, and not holding another run (see lm/fit.h). */
static lm_status prepare_out_dir(fit_run *r) {
    const char *out = r->o.out_dir;
    char what[256], *probe;
    lm_status s = lmi_dir_make(out);
    if (s != LM_OK) {
        return s;
    }
    probe = lmi_path_join(out, ".lm-write-test");
    if (probe == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    s = lmi_file_write_atomic(probe, "", 0);
    if (s == LM_OK) {
        unlink(probe);
    } else {
        s = lmi_error_prefix(s, "the output folder %s is not writable", out);
    }
    lmi_free(probe);
    if (s != LM_OK) {
        return s;
    }
    if (lmi_checkpoint_dir_has_run(out, what, sizeof what)) {
        int same = 0;
        if (r->resume_path != NULL) { /* resuming a checkpoint of this folder */
            char *a = realpath(out, NULL), *b = realpath(r->resume_path, NULL);
            size_t n = a != NULL ? strlen(a) : 0;
            same = a != NULL && b != NULL &&
                   (strcmp(a, b) == 0 || (strncmp(a, b, n) == 0 && b[n] == '/' &&
                                          strchr(b + n + 1, '/') == NULL));
            free(a);
            free(b);
        }
        if (!same && !r->o.overwrite) {
            return lmi_error(LM_ERR_STATE,
                             "the output folder %s already holds a training run (%s): resume "
                             "it (resume_dir, lm train --resume), choose another folder, or "
                             "overwrite it (lm train --overwrite)",
                             out, what);
        }
        r->clean_out = !same; /* when the run is ready to start: a bad file loses nothing */
    }
    return lmi_checkpoint_clean(out, 1);
}

/* 1 when every label is transformers' default name "LABEL_<i>". */
static int default_labels(const lmi_bert_config *c) {
    int64_t i;
    for (i = 0; i < c->num_labels; i++) {
        char name[32];
        snprintf(name, sizeof name, "LABEL_%lld", (long long)i);
        if (strcmp(c->id2label[i], name) != 0) {
            return 0;
        }
    }
    return 1;
}

/* The task and the label map of the source model. */
static lm_status choose_task(fit_run *r) {
    lmi_bert_config cfg;
    char *path = lmi_path_join(r->src_dir, "config.json");
    int head, model_task;
    lm_status s;
    memset(&cfg, 0, sizeof cfg);
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    s = lmi_bert_config_load(path, &cfg);
    lmi_free(path);
    if (s != LM_OK) {
        return s;
    }
    head = lmi_bert_head_from_architecture(cfg.architecture);
    model_task = lmi_task_of_model(&cfg, head);
    r->task = r->o.task;
    if (r->resumed && r->task != LM_TASK_AUTO && r->task != r->st.task) {
        s = lmi_error(LM_ERR_STATE, "%s trained %s, not %s", r->resume_path,
                      lmi_task_name(r->st.task), lmi_task_name(r->task));
    } else if (r->resumed) {
        r->task = r->st.task;
    }
    if (s == LM_OK && r->task == LM_TASK_AUTO) {
        r->task = model_task != LM_TASK_AUTO ? model_task : lmi_task_of_file(r->o.train_path);
        if (r->task == LM_TASK_AUTO) {
            s = lmi_error(LM_ERR_INVALID_ARGUMENT,
                          "cannot tell the task of %s (a base model, and a file that is not "
                          ".tsv, .csv, .jsonl, .conll, .json or .txt): name it (lm train --task)",
                          r->o.train_path);
        }
    }
    r->task_fixed = r->o.task != LM_TASK_AUTO || r->resumed || model_task != LM_TASK_AUTO;
    if (s == LM_OK && r->task == LM_TASK_REGRESSION && model_task == LM_TASK_CLASSIFICATION &&
        lmi_task_head(model_task) == head) {
        s = lmi_error(LM_ERR_STATE, "%s: the model's classification head has %lld labels; "
                                    "regression needs one (start from a base model)",
                      r->src_dir, (long long)cfg.num_labels);
    }
    /* a head of the task already there: its labels are the data's (unless default names) */
    if (s == LM_OK && head == lmi_task_head(r->task) &&
        (r->task == LM_TASK_CLASSIFICATION || r->task == LM_TASK_TOKEN_CLASSIFICATION)) {
        if (default_labels(&cfg) && !r->resumed) {
            r->rename_labels = 1;
        } else {
            s = lmi_label_map_init(&r->model_labels, (const char *const *)cfg.id2label,
                                   (size_t)cfg.num_labels);
            r->use_model_labels = s == LM_OK;
        }
    }
    lmi_bert_config_free(&cfg);
    return s;
}

static lm_status load_data(fit_run *r) {
    const lmi_label_map *labels = r->use_model_labels ? &r->model_labels : NULL;
    lm_status s = lmi_task_data_load(r->o.train_path, &r->task, r->task_fixed, labels,
                                     r->o.max_train_examples, &r->train_ds);
    if (s == LM_ERR_FORMAT && labels != NULL && strstr(lmi_last_error(), "label") != NULL) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lmi_last_error());
        return lmi_error(s, "%s (the labels of the model %s, from its config.json; start from a "
                            "base model to train another label set)",
                         msg, r->src_dir);
    }
    if (s == LM_OK && r->o.dev_path != NULL) {
        int task = r->task;
        const lmi_label_map *dev_labels =
            r->task == LM_TASK_CLASSIFICATION || r->task == LM_TASK_TOKEN_CLASSIFICATION
                ? &r->train_ds->labels
                : NULL;
        s = lmi_task_data_load(r->o.dev_path, &task, 1, dev_labels, r->o.max_eval_examples,
                               &r->dev_ds);
    }
    return s;
}

static lm_status load_model(fit_run *r, int threads) {
    const int head = lmi_task_head(r->task);
    const int classes = r->task == LM_TASK_CLASSIFICATION ||
                        r->task == LM_TASK_TOKEN_CLASSIFICATION;
    const lmi_label_map *lab = &r->train_ds->labels;
    lmi_fresh_head fresh;
    lm_status s;
    memset(&fresh, 0, sizeof fresh);
    fresh.seed = r->to.seed;
    if (!r->use_model_labels && !r->rename_labels) { /* the head is made here */
        if (classes) {
            fresh.num_labels = (int64_t)lab->n;
            fresh.label_names = (const char *const *)lab->names;
            if (r->task == LM_TASK_CLASSIFICATION) {
                fresh.problem_type = LM_PROBLEM_SINGLE_LABEL;
            }
        } else if (r->task == LM_TASK_REGRESSION) {
            fresh.num_labels = 1;
            fresh.problem_type = LM_PROBLEM_REGRESSION;
        }
    }
    s = lmi_bert_load(r->src_dir, head, threads, &fresh, &r->m);
    if (s != LM_OK) {
        return s;
    }
    if (r->rename_labels) {
        if ((size_t)r->m->cfg.num_labels != lab->n) {
            return lmi_error(LM_ERR_STATE,
                             "%s: the model's head has %lld labels, %s has %zu: start from a "
                             "base model for a new label set",
                             r->src_dir, (long long)r->m->cfg.num_labels, r->o.train_path,
                             lab->n);
        }
        s = lmi_bert_config_set_labels(&r->m->cfg, (int64_t)lab->n,
                                       (const char *const *)lab->names);
        if (s != LM_OK) {
            return s;
        }
    }
    if (classes && (size_t)r->m->cfg.num_labels != lab->n) {
        return lmi_error(LM_ERR_STATE, "%s: the model has %lld labels, the data %zu",
                         r->src_dir, (long long)r->m->cfg.num_labels, lab->n);
    }
    s = lmi_tokenizer_load_dir(r->src_dir, NULL, &r->tok);
    if (s == LM_ERR_NOT_FOUND) {
        return lmi_error(s, "%s: no tokenizer files (vocab.txt or tokenizer.json): training "
                            "reads text",
                         r->src_dir);
    }
    return s;
}

static lm_status make_features(fit_run *r, int threads) {
    lm_status s = lmi_task_lengths(r->task, r->o.max_length, r->o.doc_stride, &r->m->cfg,
                                   &r->max_length, &r->doc_stride);
    if (s == LM_OK) {
        s = lmi_task_features(r->train_ds, r->tok, r->task, r->max_length, r->doc_stride,
                              r->o.mlm_pack, threads, &r->train_f);
    }
    if (s == LM_OK && r->dev_ds != NULL) {
        s = lmi_task_features(r->dev_ds, r->tok, r->task, r->max_length, r->doc_stride,
                              r->o.mlm_pack, threads, &r->dev_f);
    }
    return s;
}

static lm_status make_batcher(fit_run *r) {
    lmi_batcher_options bo;
    lm_status s;
    lmi_batcher_options_init(&bo);
    bo.batch_size = (size_t)r->o.batch_size;
    bo.order = r->o.shuffle ? LMI_ORDER_SHUFFLE : LMI_ORDER_SEQUENTIAL;
    bo.seed = r->to.seed;
    bo.group_by_length = (size_t)r->o.group_by_length;
    bo.mlm_probability = (float)r->o.mlm_probability;
    s = lmi_batcher_create(r->train_f, r->tok, &bo, &r->bat);
    if (s != LM_OK) {
        return s;
    }
    r->bpe = (int64_t)lmi_batcher_count(r->bat);
    r->upe = r->bpe / r->to.accumulation_steps;
    if (r->upe == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "%s: %lld batches an epoch, fewer than accumulation_steps (%d)",
                         r->o.train_path, (long long)r->bpe, (int)r->to.accumulation_steps);
    }
    r->total = r->o.max_steps > 0 ? r->o.max_steps : (int64_t)r->o.epochs * r->upe;
    r->to.total_steps = r->total;
    if (r->o.warmup_ratio > 0.0) {
        r->to.warmup_steps = (int64_t)ceil(r->o.warmup_ratio * (double)r->total);
    }
    return LM_OK;
}

/* The checks of a resumed run against its checkpoint. */
static lm_status check_resume(fit_run *r, uint64_t model_hash, uint64_t data_hash, int threads) {
    const lmi_fit_state *st = &r->st;
    if (st->model_hash != model_hash) {
        return lmi_error(LM_ERR_STATE,
                         "%s: this checkpoint continues a run that started from another model "
                         "(its config.json is not %s/config.json)",
                         r->resume_path, r->model_dir);
    }
    if (st->data_hash != data_hash || st->batch_size != r->o.batch_size) {
        return lmi_error(LM_ERR_STATE,
                         "%s: this checkpoint's run read other training data or batches (the "
                         "file, max_train_examples, max_length, batch_size, shuffle, "
                         "group_by_length and mlm_probability must be the run's)",
                         r->resume_path);
    }
    if (st->accumulation != r->to.accumulation_steps || st->optimizer != r->to.optimizer ||
        st->seed != r->to.seed) {
        return lmi_error(LM_ERR_STATE,
                         "%s: this checkpoint's run had another optimizer, seed or "
                         "accumulation_steps",
                         r->resume_path);
    }
    if (st->epoch * r->upe + st->batch / r->to.accumulation_steps != st->step &&
        st->step <= r->total) {
        return lmi_error(LM_ERR_FORMAT, "%s: step %lld does not match epoch %lld, batch %lld",
                         r->resume_path, (long long)st->step, (long long)st->epoch,
                         (long long)st->batch);
    }
    if (st->total_steps != r->total) {
        lmi_log(LM_LOG_WARN, "resuming %s: the run now has %lld steps, not %lld: the schedule "
                             "changes",
                 r->resume_path, (long long)r->total, (long long)st->total_steps);
    }
    if (st->threads != threads) {
        lmi_log(LM_LOG_WARN, "resuming %s on %d threads (it ran on %d): the losses may differ "
                             "from the uninterrupted run in the last digits",
                 r->resume_path, threads, (int)st->threads);
    }
    return LM_OK;
}

/* ---- the loop ---- */

/* One optimizer update: accumulation_steps batches. *loss: their mean loss. */
static lm_status run_update(fit_run *r, double *loss) {
    double sum = 0.0;
    int32_t k;
    for (k = 0; k < r->to.accumulation_steps; k++) {
        lmi_batch bt;
        lm_batch b;
        float l = 0.0f;
        size_t i;
        lm_status s;
        if (!lmi_batcher_next(r->bat, &bt)) {
            return lmi_error(LM_ERR_INTERNAL, "the epoch ended inside an update");
        }
        memset(&b, 0, sizeof b);
        b.struct_size = sizeof b;
        b.batch = bt.B;
        b.seq_len = bt.T;
        b.ids = bt.ids;
        b.type_ids = bt.type_ids;
        b.attention_mask = bt.mask;
        switch (r->task) {
        case LM_TASK_CLASSIFICATION:
            b.labels = bt.labels;
            break;
        case LM_TASK_REGRESSION:
            b.float_labels = bt.values;
            break;
        case LM_TASK_QUESTION_ANSWERING:
            b.start_positions = bt.start_positions;
            b.end_positions = bt.end_positions;
            break;
        default:
            b.labels = bt.token_labels;
            break;
        }
        s = lmi_trainer_step(r->t, &b, &l);
        if (s != LM_OK) {
            return lmi_error_prefix(s, "step %lld (epoch %lld, batch %lld)",
                                    (long long)r->st.step + 1, (long long)r->st.epoch + 1,
                                    (long long)r->st.batch + 1);
        }
        sum += l;
        r->st.batch++;
        r->examples += (int64_t)bt.B;
        for (i = 0; i < bt.B * bt.T; i++) {
            r->tokens += bt.mask[i];
        }
    }
    *loss = sum / r->to.accumulation_steps;
    return LM_OK;
}

static lm_status save_checkpoint(fit_run *r) {
    char *path = NULL;
    lm_status s;
    r->st.calls = r->t->calls;
    s = lmi_checkpoint_save(r->o.out_dir, r->m, r->tok, r->t, &r->st, r->o.keep_checkpoints,
                            &path);
    if (s != LM_OK) {
        return s;
    }
    r->saved_step = r->st.step;
    notify(r, LM_FIT_CHECKPOINT, NAN, NULL, path, 0);
    lmi_free(path);
    return LM_OK;
}

static lm_status evaluate(fit_run *r) {
    lmi_fit_row row;
    int better;
    lm_status s = lmi_evaluate(r->m, r->tok, r->task, r->dev_ds, r->dev_f,
                               (size_t)r->o.eval_batch_size, r->o.mlm_probability, r->to.seed,
                               &r->last_eval, NULL);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "evaluation at step %lld", (long long)r->st.step);
    }
    r->evaluated_step = r->st.step;
    memset(&row, 0, sizeof row);
    row.step = r->st.step;
    row.epoch = (double)r->st.step / (double)r->upe;
    row.loss = row.lr = row.grad_norm = NAN;
    row.has_eval = 1;
    row.eval = r->last_eval;
    s = lmi_fit_state_add_row(&r->st, &row);
    if (s == LM_OK) {
        s = write_metrics_csv(r);
    }
    if (s != LM_OK) {
        return s;
    }
    better = !r->st.has_best || (higher_is_better(r->task) ? r->last_eval.main > r->st.best
                                                           : r->last_eval.main < r->st.best);
    if (isnan(r->last_eval.main)) {
        better = !r->st.has_best;
    }
    if (better) {
        r->st.has_best = 1;
        r->st.best = r->last_eval.main;
        r->st.best_step = r->st.step;
        r->st.bad_evals = 0;
        if (r->o.load_best) {
            s = lmi_model_dir_save(r->m, r->tok, r->best_dir);
            if (s != LM_OK) {
                return s;
            }
        }
    } else {
        r->st.bad_evals++;
    }
    notify(r, LM_FIT_EVAL, NAN, &r->last_eval, NULL, better);
    if (r->o.patience > 0 && r->st.bad_evals >= r->o.patience) {
        lmi_log(LM_LOG_INFO, "early stopping at step %lld: %d evaluations without a better %s",
                (long long)r->st.step, (int)r->st.bad_evals,
                r->task == LM_TASK_MASKED_LM ? "perplexity" : "metric");
        r->stop = r->early = 1;
    }
    return LM_OK;
}

static lm_status train_loop(fit_run *r) {
    int seek = 1;
    lm_status s = LM_OK;
    while (s == LM_OK && !r->stop && r->st.step < r->total) {
        uint64_t t0;
        double loss = 0.0;
        int epoch_end, log;
        if (seek) {
            s = lmi_batcher_seek(r->bat, (size_t)r->st.epoch, (size_t)r->st.batch);
            if (s != LM_OK) {
                break;
            }
            seek = 0;
        }
        r->st.last_lr = lmi_trainer_next_lr(r->t);
        t0 = lmi_time_ns();
        s = run_update(r, &loss);
        r->train_s += lmi_time_since(t0);
        if (s != LM_OK) {
            break;
        }
        r->st.step++;
        r->st.grad_norm = r->t->grad_norm;
        r->st.win_loss += loss;
        r->st.win_n++;
        notify(r, LM_FIT_STEP, loss, NULL, NULL, 0);
        epoch_end = r->st.batch + r->to.accumulation_steps > r->bpe;
        log = r->st.step % r->o.log_every == 0 || r->st.step == r->total;
        if (log) {
            lmi_fit_row row;
            memset(&row, 0, sizeof row);
            row.step = r->st.step;
            row.epoch = (double)r->st.step / (double)r->upe;
            row.loss = r->st.win_loss / (double)r->st.win_n;
            row.lr = r->st.last_lr;
            row.grad_norm = r->st.grad_norm;
            r->st.win_loss = 0.0;
            r->st.win_n = 0;
            s = lmi_fit_state_add_row(&r->st, &row);
            if (s == LM_OK) {
                s = write_metrics_csv(r);
            }
            if (s != LM_OK) {
                break;
            }
            notify(r, LM_FIT_LOG, row.loss, NULL, NULL, 0);
        }
        if (epoch_end) {
            r->st.epoch++;
            r->st.batch = 0;
            seek = 1;
        }
        if (r->dev_f != NULL && ((r->o.eval_every > 0 && r->st.step % r->o.eval_every == 0) ||
                                 epoch_end || r->st.step == r->total)) {
            s = evaluate(r);
            if (s != LM_OK) {
                break;
            }
        }
        if ((r->o.save_every > 0 && r->st.step % r->o.save_every == 0) || epoch_end || r->stop ||
            r->st.step == r->total) {
            s = save_checkpoint(r);
        }
    }
    return s;
}

/* The final folder: the best model (copied from best/) or the model as it is now. */
static lm_status finish(fit_run *r, lm_metrics *out) {
    const lm_metrics *final = NULL;
    lm_metrics best;
    char *from = NULL, *to = NULL;
    size_t i;
    lm_status s = LM_OK;
    static const char *const files[] = {"model.safetensors", "config.json", "vocab.txt",
                                        "tokenizer_config.json", "tokenizer.json",
                                        "special_tokens_map.json"};
    if (r->st.step > 0 && r->saved_step != r->st.step) {
        s = save_checkpoint(r);
    }
    if (s == LM_OK && r->dev_f != NULL && r->evaluated_step != r->st.step &&
        !(r->o.load_best && r->st.has_best)) {
        s = evaluate(r);
    }
    if (s != LM_OK) {
        return s;
    }
    if (r->o.load_best && r->st.has_best && r->st.best_step != r->st.step &&
        lmi_dir_exists(r->best_dir)) {
        for (i = 0; s == LM_OK && i < sizeof files / sizeof *files; i++) {
            from = lmi_path_join(r->best_dir, files[i]);
            to = lmi_path_join(r->o.out_dir, files[i]);
            if (from == NULL || to == NULL) {
                s = lmi_error(LM_ERR_NOMEM, "out of memory");
            } else if (lmi_file_exists(from)) {
                s = lmi_file_copy_atomic(from, to);
            }
            lmi_free(from);
            lmi_free(to);
        }
        for (i = r->st.n_rows; i-- > 0;) { /* the best evaluation's metrics */
            if (r->st.rows[i].has_eval && r->st.rows[i].step == r->st.best_step) {
                best = r->st.rows[i].eval;
                final = &best;
                break;
            }
        }
    } else {
        s = lmi_model_dir_save(r->m, r->tok, r->o.out_dir);
        final = r->evaluated_step == r->st.step ? &r->last_eval : NULL;
        if (final == NULL && r->st.has_best && r->st.best_step == r->st.step) {
            for (i = r->st.n_rows; i-- > 0;) {
                if (r->st.rows[i].has_eval && r->st.rows[i].step == r->st.step) {
                    best = r->st.rows[i].eval;
                    final = &best;
                    break;
                }
            }
        }
    }
    if (s != LM_OK) {
        return s;
    }
    if (out != NULL) {
        if (final != NULL) {
            *out = *final;
        } else {
            lmi_metrics_clear(out, r->task);
        }
    }
    notify(r, LM_FIT_END, NAN, final, r->o.out_dir, 0);
    return LM_OK;
}

static void free_run(fit_run *r) {
    lmi_trainer_free(r->t);
    lmi_batcher_free(r->bat);
    lmi_features_free(r->train_f);
    lmi_features_free(r->dev_f);
    lmi_dataset_free(r->train_ds);
    lmi_dataset_free(r->dev_ds);
    lmi_tokenizer_free(r->tok);
    lmi_bert_free(r->m);
    lmi_label_map_clear(&r->model_labels);
    lmi_fit_state_free(&r->st);
    lmi_free(r->resume_path);
    lmi_free(r->best_dir);
}

lm_status lmi_fit(const char *model_dir, const lm_fit_options *fo, const lm_trainer_options *to,
                  lm_metrics *out) {
    fit_run r;
    uint64_t model_hash = 0;
    int threads;
    lm_status s;
    memset(&r, 0, sizeof r);
    r.o = *fo;
    r.to = *to;
    r.model_dir = model_dir;
    r.src_dir = model_dir;
    r.saved_step = -1;
    r.evaluated_step = -1;
    threads = to->threads > 0 ? to->threads : omp_get_max_threads();
    threads = threads > 0 ? threads : 1;
    r.to.threads = threads;
    s = check_options(fo, 1);
    if (s == LM_OK && fo->resume_dir != NULL) {
        s = lmi_checkpoint_find(fo->resume_dir, &r.resume_path);
        if (s == LM_OK) {
            s = lmi_checkpoint_read_state(r.resume_path, &r.st);
        }
        r.resumed = s == LM_OK;
        r.src_dir = r.resume_path;
    }
    if (s == LM_OK) {
        s = prepare_out_dir(&r);
    }
    if (s == LM_OK) {
        r.best_dir = lmi_path_join(fo->out_dir, "best");
        s = r.best_dir != NULL ? hash_file(model_dir, "config.json", &model_hash)
                               : lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    if (s == LM_OK && r.resumed && r.st.model_hash != model_hash) {
        s = check_resume(&r, model_hash, 0, threads); /* names the foreign model early */
    }
    if (s == LM_OK) {
        s = choose_task(&r);
    }
    if (s == LM_OK) {
        s = load_data(&r);
    }
    if (s == LM_OK) {
        s = load_model(&r, threads);
    }
    if (s == LM_OK) {
        s = make_features(&r, threads);
    }
    if (s == LM_OK) {
        s = make_batcher(&r);
    }
    if (s == LM_OK && r.resumed) {
        s = check_resume(&r, model_hash, hash_data(&r), threads);
    }
    if (s == LM_OK) {
        s = lmi_trainer_create(r.m, &r.to, &r.t);
    }
    if (s == LM_OK && r.resumed) {
        s = lmi_checkpoint_load_optimizer(r.resume_path, r.t, &r.st);
        r.saved_step = r.st.step;
        r.first_step = r.st.step;
        r.st.total_steps = r.total;
        r.st.threads = threads;
    } else if (s == LM_OK) {
        r.st.task = r.task;
        r.st.total_steps = r.total;
        r.st.batch_size = r.o.batch_size;
        r.st.accumulation = r.to.accumulation_steps;
        r.st.optimizer = r.to.optimizer;
        r.st.threads = threads;
        r.st.seed = r.to.seed;
        r.st.model_hash = model_hash;
        r.st.data_hash = hash_data(&r);
        r.st.grad_norm = NAN;
        r.st.last_lr = NAN;
    }
    if (s == LM_OK && r.clean_out) {
        s = lmi_checkpoint_clean(fo->out_dir, 0);
    }
    if (s == LM_OK) {
        lmi_log(LM_LOG_INFO,
                "lm_fit: %s of %s on %s: %zu examples -> %zu rows (%lld steps: %lld epoch(s) of "
                "%lld), dev %zu rows, max_length %zu%s",
                lmi_task_name(r.task), r.src_dir, fo->train_path, r.train_ds->n, r.train_f->n,
                (long long)r.total, (long long)((r.total + r.upe - 1) / r.upe),
                (long long)r.upe, r.dev_f != NULL ? r.dev_f->n : 0, r.max_length,
                r.resumed ? ", resumed" : r.m->fresh_head ? ", fresh head" : "");
        notify(&r, LM_FIT_START, NAN, NULL, NULL, 0);
        s = train_loop(&r);
    }
    if (s == LM_OK) {
        s = finish(&r, out);
    }
    free_run(&r);
    return s;
}
