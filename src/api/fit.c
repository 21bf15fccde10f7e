/* Public fine-tuning API (lm/fit.h): argument checks and the struct_size convention of the
 * options and metrics structs; the work is in src/train/ (fit.c, evaluate.c). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "api/handle.h"
#include "base/error.h"
#include "base/options.h"
#include "data/dataset.h"
#include "data/features.h"
#include "lm.h"
#include "model/bert.h"
#include "tensor/blas.h"
#include "train/fit.h"
#include "train/trainer.h"

lm_status lm_fit_options_init(lm_fit_options *opts, size_t struct_size) {
    lm_fit_options d;
    lmi_fit_defaults(&d);
    return lmi_options_init_caller(opts, struct_size, &d, sizeof d, "lm_fit_options_init");
}

lm_status lm_metrics_init(lm_metrics *m, size_t struct_size) {
    lm_metrics d;
    lmi_metrics_clear(&d, LM_TASK_AUTO);
    return lmi_options_init_caller(m, struct_size, &d, sizeof d, "lm_metrics_init");
}

/* Checks the caller's metrics struct before any work. */
static lm_status check_metrics(const char *fn, const lm_metrics *m) {
    if (m != NULL && m->struct_size < offsetof(lm_metrics, loss)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "%s: metrics.struct_size is %zu (fill it with lm_metrics_init)", fn,
                         m->struct_size);
    }
    return LM_OK;
}

/* Writes the bytes of `src` that the caller's struct holds, keeping its struct_size. */
static void put_metrics(lm_metrics *dst, const lm_metrics *src) {
    size_t n;
    if (dst == NULL) {
        return;
    }
    n = dst->struct_size < sizeof *src ? dst->struct_size : sizeof *src;
    memcpy((char *)dst + sizeof dst->struct_size, (const char *)src + sizeof src->struct_size,
           n - sizeof src->struct_size);
}

static lm_status read_fit_options(const char *fn, const lm_fit_options *opts, lm_fit_options *o) {
    lm_status s;
    lmi_fit_defaults(o);
    if (opts == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: opts is NULL", fn);
    }
    s = lmi_options_read(o, sizeof *o, opts, sizeof *o, "lm_fit_options");
    return s != LM_OK ? lmi_error_prefix(s, "%s", fn) : LM_OK;
}

lm_status lm_fit(const char *model_dir, const lm_fit_options *fit, const lm_trainer_options *train,
                 lm_metrics *metrics) {
    lm_fit_options o;
    lm_trainer_options to;
    lm_metrics r;
    lm_status s;
    if (model_dir == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_fit: model_dir is NULL");
    }
    s = check_metrics("lm_fit", metrics);
    if (s == LM_OK) {
        s = read_fit_options("lm_fit", fit, &o);
    }
    if (s != LM_OK) {
        return s;
    }
    lmi_trainer_defaults(&to);
    s = lmi_options_read(&to, sizeof to, train, sizeof to, "lm_trainer_options");
    if (s != LM_OK) {
        return lmi_error_prefix(s, "lm_fit");
    }
    lmi_blas_set_threads(1); /* one thread pool: OpenMP runs the BLAS per block (ops.c) */
    s = lmi_fit(model_dir, &o, &to, &r);
    if (s == LM_OK) {
        put_metrics(metrics, &r);
    }
    return s;
}

lm_status lm_evaluate(const lm_model_t *model, const lm_fit_options *opts, lm_metrics *metrics,
                      char **json_out) {
    static const char fn[] = "lm_evaluate";
    lm_fit_options o;
    lmi_label_map labels;
    lmi_dataset *ds = NULL;
    lmi_features *f = NULL;
    const lmi_bert *m;
    lm_metrics r;
    size_t len = 0, stride = 0;
    int task, model_task, classes;
    lm_status s;
    if (json_out != NULL) {
        *json_out = NULL;
    }
    if (model == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
    }
    s = check_metrics(fn, metrics);
    if (s == LM_OK) {
        s = read_fit_options(fn, opts, &o);
    }
    if (s == LM_OK && o.dev_path == NULL) {
        s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: opts->dev_path (the data file) is NULL", fn);
    }
    if (s == LM_OK && (o.task < LM_TASK_AUTO || o.task > LM_TASK_MASKED_LM ||
                       o.eval_batch_size < 1 || o.max_eval_examples < 0 ||
                       !(o.mlm_probability > 0.0 && o.mlm_probability <= 1.0))) {
        s = lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: a bad task, eval_batch_size, "
                                               "max_eval_examples or mlm_probability", fn);
    }
    if (s != LM_OK) {
        return s;
    }
    m = model->bert;
    if (model->tok == NULL) {
        return lmi_error(LM_ERR_STATE, "%s: the model has no tokenizer (load it from a folder "
                                       "with vocab.txt or tokenizer.json)", fn);
    }
    model_task = lmi_task_of_model(&m->cfg, m->head);
    if (model_task == LM_TASK_AUTO) {
        return lmi_error(LM_ERR_STATE, "%s: a base model has no head to score", fn);
    }
    task = o.task != LM_TASK_AUTO ? o.task : model_task;
    if (lmi_task_head(task) != m->head) {
        return lmi_error(LM_ERR_STATE, "%s: the model's head is %s: it does not score %s", fn,
                         lmi_bert_head_name(m->head), lmi_task_name(task));
    }
    classes = task == LM_TASK_CLASSIFICATION || task == LM_TASK_TOKEN_CLASSIFICATION;
    memset(&labels, 0, sizeof labels);
    if (classes) {
        s = lmi_label_map_init(&labels, (const char *const *)m->cfg.id2label,
                               (size_t)m->cfg.num_labels);
    }
    if (s == LM_OK) {
        s = lmi_task_data_load(o.dev_path, &task, 1, classes ? &labels : NULL,
                               o.max_eval_examples, &ds);
    }
    if (s == LM_OK) {
        s = lmi_task_lengths(task, o.max_length, o.doc_stride, &m->cfg, &len, &stride);
    }
    if (s == LM_OK) {
        s = lmi_task_features(ds, model->tok, task, len, stride, o.mlm_pack, m->threads, &f);
    }
    if (s == LM_OK) {
        s = lmi_evaluate(m, model->tok, task, ds, f, (size_t)o.eval_batch_size, o.mlm_probability,
                         42, &r, json_out);
    }
    lmi_features_free(f);
    lmi_dataset_free(ds);
    lmi_label_map_clear(&labels);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "%s", fn);
    }
    put_metrics(metrics, &r);
    return LM_OK;
}
