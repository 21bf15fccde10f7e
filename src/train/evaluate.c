/* Evaluation of a model on a data set's features: batches longest first, the inference forward
 * (the encoder and the head, as lm_model_* run them: no training activations kept), the head's
 * loss (src/loss, as the trainer computes it) and the task's metrics (src/data/metrics.h), as
 * the reference recipe computes them (docs/finetune.md). See fit.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/timer.h"
#include "data/batch.h"
#include "data/metrics.h"
#include "loss/loss.h"
#include "train/fit.h"

#define LM_ALIGN 64

void lmi_metrics_clear(lm_metrics *m, int task) {
    memset(m, 0, sizeof *m);
    m->struct_size = sizeof *m;
    m->task = task;
    m->loss = m->accuracy = m->f1 = m->f1_binary = m->precision = m->recall = NAN;
    m->exact_match = m->pearson = m->spearman = m->mse = m->perplexity = m->main = NAN;
    m->eval_s = NAN;
}

/* ---- the JSON answer (base/buf.h) ---- */

/* "key":value with NaN as null. */
static void jb_num(lmi_buf *b, const char *key, double v) {
    if (isfinite(v)) {
        lmi_buf_printf(b, ",\"%s\":%.10g", key, v);
    } else {
        lmi_buf_printf(b, ",\"%s\":null", key);
    }
}

/* A JSON string (the text is valid UTF-8: the data readers check it). */
static void jb_str(lmi_buf *b, const char *s) {
    lmi_buf_printf(b, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            lmi_buf_printf(b, "\\%c", c);
        } else if (c < 0x20) {
            lmi_buf_printf(b, "\\u%04x", c);
        } else {
            lmi_buf_printf(b, "%c", c);
        }
    }
    lmi_buf_printf(b, "\"");
}

/* ---- the evaluation ---- */

typedef struct eval_bufs {
    float *hidden;       /* [B * T * C] */
    float *pooled;       /* [B * C] */
    float *logits;       /* head outputs, grown as needed */
    size_t logits_cap;
    float *qa2;          /* [B * T * 2] interleaved start/end for the QA loss */
    size_t *mlm_rows;    /* [B * T] */
    int32_t *mlm_labels; /* [B * T] */
} eval_bufs;

static int grow_floats(float **p, size_t *cap, size_t n) {
    if (n > *cap) {
        float *q = lmi_malloc_array(n, sizeof *q);
        if (q == NULL) {
            return 0;
        }
        lmi_free(*p);
        *p = q;
        *cap = n;
    }
    return 1;
}

static int32_t argmax(const float *x, size_t n) {
    size_t i, best = 0;
    for (i = 1; i < n; i++) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return (int32_t)best;
}

/* Sum of loss over the counted items of one batch into *sum / *count. */
static lm_status eval_batch(const lmi_bert *m, int task, const lmi_features *f,
                            const lmi_batch *bt, eval_bufs *e, double *sum, double *count,
                            int32_t *cls_pred, double *reg_pred, int32_t *tok_pred,
                            float *qa_start, float *qa_end) {
    const size_t B = bt->B, T = bt->T, N = B * T;
    const size_t NL = (size_t)m->cfg.num_labels, V = (size_t)m->cfg.vocab_size;
    const int th = m->threads;
    size_t i, t, cnt = 0, n_mlm = 0;
    double l = 0.0;
    lm_status s = lmi_bert_encode(m, bt->ids, bt->type_ids, bt->mask, B, T, e->hidden,
                                  0); /* padding rows unread: ignored labels */
    if (s != LM_OK) {
        return s;
    }
    switch (task) {
    case LM_TASK_CLASSIFICATION:
    case LM_TASK_REGRESSION:
        s = lmi_bert_pool(m, e->hidden, B, T, e->pooled);
        if (s == LM_OK) {
            s = lmi_bert_seq_logits(m, e->pooled, B, e->logits);
        }
        if (s != LM_OK) {
            return s;
        }
        if (task == LM_TASK_REGRESSION) {
            l = lmi_mse_loss(th, NULL, e->logits, bt->values, B, 1.0);
            cnt = B;
            for (i = 0; i < B; i++) {
                reg_pred[bt->rows[i]] = e->logits[i];
            }
        } else {
            s = lmi_cross_entropy_loss(th, &l, &cnt, NULL, e->logits, bt->labels, B, NL,
                                       LMI_IGNORE_INDEX, 1.0);
            for (i = 0; i < B; i++) {
                cls_pred[bt->rows[i]] = argmax(e->logits + i * NL, NL);
            }
        }
        break;
    case LM_TASK_TOKEN_CLASSIFICATION:
        s = lmi_bert_token_logits(m, e->hidden, N, e->logits);
        if (s == LM_OK) {
            s = lmi_cross_entropy_loss(th, &l, &cnt, NULL, e->logits, bt->token_labels, N, NL,
                                       LMI_IGNORE_INDEX, 1.0);
        }
        for (i = 0; s == LM_OK && i < B; i++) {
            const size_t r = bt->rows[i], len = lmi_features_len(f, r);
            for (t = 0; t < len; t++) {
                tok_pred[f->start[r] + t] = argmax(e->logits + (i * T + t) * NL, NL);
            }
        }
        break;
    case LM_TASK_QUESTION_ANSWERING:
        s = lmi_bert_qa_logits(m, e->hidden, B, T, e->logits, e->logits + N);
        if (s != LM_OK) {
            return s;
        }
        for (i = 0; i < N; i++) {
            e->qa2[2 * i] = e->logits[i];
            e->qa2[2 * i + 1] = e->logits[N + i];
        }
        l = lmi_qa_loss(th, NULL, e->qa2, bt->start_positions, bt->end_positions, B, T, 1.0);
        cnt = B;
        lmi_batch_scatter(bt, f, e->logits, qa_start);
        lmi_batch_scatter(bt, f, e->logits + N, qa_end);
        break;
    case LM_TASK_MASKED_LM:
        for (i = 0; i < N; i++) {
            if (bt->token_labels[i] != LMI_IGNORE_INDEX) {
                e->mlm_rows[n_mlm] = i;
                e->mlm_labels[n_mlm++] = bt->token_labels[i];
            }
        }
        if (n_mlm == 0) {
            break;
        }
        if (!grow_floats(&e->logits, &e->logits_cap, n_mlm * V)) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for the logits of %zu masked tokens",
                             n_mlm);
        }
        s = lmi_bert_mlm_logits(m, e->hidden, e->mlm_rows, n_mlm, e->logits);
        if (s == LM_OK) {
            s = lmi_cross_entropy_loss(th, &l, &cnt, NULL, e->logits, e->mlm_labels, n_mlm, V,
                                       LMI_IGNORE_INDEX, 1.0);
        }
        break;
    default:
        return lmi_error(LM_ERR_STATE, "no task to evaluate");
    }
    if (s == LM_OK) {
        *sum += l * (double)cnt;
        *count += (double)cnt;
    }
    return s;
}

static void free_bufs(eval_bufs *e) {
    lmi_free_aligned(e->hidden);
    lmi_free(e->pooled);
    lmi_free(e->logits);
    lmi_free(e->qa2);
    lmi_free(e->mlm_rows);
    lmi_free(e->mlm_labels);
}

/* Checks that the model scores the task and agrees with the data's labels. */
static lm_status check_model(const lmi_bert *m, int task, const lmi_dataset *ds) {
    if (m->head != lmi_task_head(task)) {
        return lmi_error(LM_ERR_STATE, "the model's head is %s: it does not score %s",
                         lmi_bert_head_name(m->head), lmi_task_name(task));
    }
    if ((task == LM_TASK_CLASSIFICATION || task == LM_TASK_TOKEN_CLASSIFICATION) &&
        (size_t)m->cfg.num_labels != ds->labels.n) {
        return lmi_error(LM_ERR_STATE, "%s: %zu labels, the model has %lld", ds->name,
                         ds->labels.n, (long long)m->cfg.num_labels);
    }
    if (task == LM_TASK_REGRESSION && m->cfg.num_labels != 1) {
        return lmi_error(LM_ERR_STATE, "regression needs a model with one label, not %lld",
                         (long long)m->cfg.num_labels);
    }
    if (task == LM_TASK_CLASSIFICATION && m->cfg.problem_type == LM_PROBLEM_MULTI_LABEL) {
        return lmi_error(LM_ERR_UNSUPPORTED, "multi-label models are not scored by lm_evaluate");
    }
    return LM_OK;
}

static lm_status make_json(const lmi_bert *m, int task, const lmi_dataset *ds,
                           const lm_metrics *r, const size_t *confusion, char **json_out) {
    lmi_buf b = LMI_BUF_INIT;
    size_t i, j, k = ds->labels.n;
    lmi_buf_printf(&b, "{\"task\":");
    jb_str(&b, lmi_task_name(task));
    lmi_buf_printf(&b, ",\"examples\":%lld", (long long)r->examples);
    jb_num(&b, "loss", r->loss);
    switch (task) {
    case LM_TASK_CLASSIFICATION:
        jb_num(&b, "accuracy", r->accuracy);
        jb_num(&b, "f1", r->f1);
        if (k == 2) {
            jb_num(&b, "f1_binary", r->f1_binary);
        }
        lmi_buf_printf(&b, ",\"labels\":[");
        for (i = 0; i < k; i++) {
            lmi_buf_printf(&b, i ? "," : "");
            jb_str(&b, lmi_bert_config_label(&m->cfg, (int64_t)i));
        }
        lmi_buf_printf(&b, "],\"confusion\":[");
        for (i = 0; i < k; i++) {
            lmi_buf_printf(&b, i ? ",[" : "[");
            for (j = 0; j < k; j++) {
                lmi_buf_printf(&b, j ? ",%zu" : "%zu", confusion[i * k + j]);
            }
            lmi_buf_printf(&b, "]");
        }
        lmi_buf_printf(&b, "]");
        break;
    case LM_TASK_REGRESSION:
        jb_num(&b, "pearson", r->pearson);
        jb_num(&b, "spearman", r->spearman);
        jb_num(&b, "mse", r->mse);
        break;
    case LM_TASK_TOKEN_CLASSIFICATION:
        jb_num(&b, "precision", r->precision);
        jb_num(&b, "recall", r->recall);
        jb_num(&b, "f1", r->f1);
        jb_num(&b, "accuracy", r->accuracy);
        break;
    case LM_TASK_QUESTION_ANSWERING:
        jb_num(&b, "exact_match", r->exact_match);
        jb_num(&b, "f1", r->f1);
        break;
    default:
        jb_num(&b, "perplexity", r->perplexity);
        break;
    }
    jb_num(&b, "eval_s", r->eval_s);
    lmi_buf_printf(&b, "}");
    if (b.failed) {
        lmi_free(b.p);
        return lmi_error(LM_ERR_NOMEM, "out of memory for the metrics");
    }
    *json_out = b.p;
    return LM_OK;
}

lm_status lmi_evaluate(const lmi_bert *m, const lm_tokenizer_t *tok, int task,
                       const lmi_dataset *ds, const lmi_features *f, size_t batch_size,
                       double mlm_probability, uint64_t seed, lm_metrics *out, char **json_out) {
    const size_t C = (size_t)m->cfg.hidden_size, NL = (size_t)m->cfg.num_labels;
    const size_t k = ds->labels.n;
    const uint64_t t0 = lmi_time_ns();
    lmi_batcher_options bo;
    lmi_batcher *bat = NULL;
    lmi_batch bt;
    eval_bufs e;
    lm_metrics r;
    int32_t *cls_pred = NULL, *tok_pred = NULL, *gold = NULL;
    double *reg_pred = NULL, *reg_gold = NULL, sum = 0.0, count = 0.0;
    float *qa_start = NULL, *qa_end = NULL;
    size_t *confusion = NULL, cells, need;
    lmi_span *spans = NULL;
    lm_status s;
    if (json_out != NULL) {
        *json_out = NULL;
    }
    memset(&e, 0, sizeof e);
    lmi_metrics_clear(&r, task);
    s = check_model(m, task, ds);
    if (s != LM_OK) {
        return s;
    }
    lmi_batcher_options_init(&bo);
    bo.batch_size = batch_size;
    bo.order = LMI_ORDER_LENGTH;
    bo.seed = seed;
    bo.mlm_probability = (float)mlm_probability;
    s = lmi_batcher_create(f, tok, &bo, &bat);
    if (s != LM_OK) {
        return s;
    }
    cells = batch_size * (f->max_len ? f->max_len : 1);
    need = task == LM_TASK_CLASSIFICATION || task == LM_TASK_REGRESSION ? batch_size * NL
           : task == LM_TASK_TOKEN_CLASSIFICATION                        ? cells * NL
           : task == LM_TASK_QUESTION_ANSWERING                          ? 2 * cells
                                                                         : 0;
    e.hidden = lmi_malloc_aligned(cells * C * sizeof(float), LM_ALIGN);
    e.pooled = lmi_malloc_array(batch_size * C, sizeof(float));
    e.qa2 = lmi_malloc_array(2 * cells, sizeof(float));
    e.mlm_rows = lmi_malloc_array(cells, sizeof(size_t));
    e.mlm_labels = lmi_malloc_array(cells, sizeof(int32_t));
    if (task == LM_TASK_CLASSIFICATION) {
        cls_pred = lmi_malloc_array(f->n, sizeof *cls_pred);
        confusion = lmi_calloc(k > 0 ? k * k : 1, sizeof *confusion);
    } else if (task == LM_TASK_REGRESSION) {
        reg_pred = lmi_malloc_array(f->n, sizeof *reg_pred);
        reg_gold = lmi_malloc_array(f->n, sizeof *reg_gold);
    } else if (task == LM_TASK_TOKEN_CLASSIFICATION) {
        tok_pred = lmi_calloc(f->total ? f->total : 1, sizeof *tok_pred);
    } else if (task == LM_TASK_QUESTION_ANSWERING) {
        qa_start = lmi_calloc(f->total ? f->total : 1, sizeof *qa_start);
        qa_end = lmi_calloc(f->total ? f->total : 1, sizeof *qa_end);
        spans = lmi_malloc_array(ds->n ? ds->n : 1, sizeof *spans);
    }
    if (e.hidden == NULL || e.pooled == NULL || e.qa2 == NULL || e.mlm_rows == NULL ||
        e.mlm_labels == NULL || !grow_floats(&e.logits, &e.logits_cap, need ? need : 1) ||
        (task == LM_TASK_CLASSIFICATION && (cls_pred == NULL || confusion == NULL)) ||
        (task == LM_TASK_REGRESSION && (reg_pred == NULL || reg_gold == NULL)) ||
        (task == LM_TASK_TOKEN_CLASSIFICATION && tok_pred == NULL) ||
        (task == LM_TASK_QUESTION_ANSWERING &&
         (qa_start == NULL || qa_end == NULL || spans == NULL))) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for the evaluation of %zu rows", f->n);
        goto done;
    }
    while (s == LM_OK && lmi_batcher_next(bat, &bt)) {
        s = eval_batch(m, task, f, &bt, &e, &sum, &count, cls_pred, reg_pred, tok_pred,
                       qa_start, qa_end);
    }
    if (s != LM_OK) {
        goto done;
    }
    r.num_labels = task == LM_TASK_CLASSIFICATION || task == LM_TASK_TOKEN_CLASSIFICATION
                       ? (int32_t)NL
                       : 0;
    r.loss = count > 0 ? sum / count : NAN;
    r.examples = (int64_t)f->n;
    switch (task) {
    case LM_TASK_CLASSIFICATION:
        r.accuracy = lmi_metric_accuracy(cls_pred, f->labels, f->n);
        s = lmi_metric_f1_macro(cls_pred, f->labels, f->n, k, &r.f1);
        if (k == 2) {
            r.f1_binary = lmi_metric_f1_binary(cls_pred, f->labels, f->n, 1);
        }
        lmi_metric_confusion(cls_pred, f->labels, f->n, k, confusion);
        r.main = r.accuracy;
        break;
    case LM_TASK_REGRESSION: {
        size_t i;
        double se = 0.0;
        for (i = 0; i < f->n; i++) {
            reg_gold[i] = f->values[i];
            se += (reg_pred[i] - reg_gold[i]) * (reg_pred[i] - reg_gold[i]);
        }
        r.pearson = lmi_metric_pearson(reg_pred, reg_gold, f->n);
        s = lmi_metric_spearman(reg_pred, reg_gold, f->n, &r.spearman);
        r.mse = f->n ? se / (double)f->n : NAN;
        r.main = r.pearson;
        break;
    }
    case LM_TASK_TOKEN_CLASSIFICATION: {
        lmi_seqeval sq;
        s = lmi_metric_seqeval(f->token_labels, tok_pred, f->start, f->n,
                               (const char *const *)ds->labels.names, ds->labels.n, &sq);
        r.precision = sq.precision;
        r.recall = sq.recall;
        r.f1 = sq.f1;
        r.accuracy = sq.accuracy;
        r.main = r.f1;
        break;
    }
    case LM_TASK_QUESTION_ANSWERING:
        s = lmi_qa_postprocess(ds, f, qa_start, qa_end, 20, 30, spans);
        if (s == LM_OK) {
            s = lmi_qa_evaluate(ds, spans, &r.exact_match, &r.f1);
        }
        r.examples = (int64_t)ds->n;
        r.main = r.f1;
        break;
    default:
        r.perplexity = count > 0 ? lmi_metric_perplexity(sum / count) : NAN;
        r.examples = (int64_t)count;
        r.main = r.perplexity;
        break;
    }
    r.eval_s = lmi_time_since(t0);
    if (s == LM_OK && json_out != NULL) {
        s = make_json(m, task, ds, &r, confusion, json_out);
    }
    if (s == LM_OK && out != NULL) {
        *out = r;
    }
done:
    (void)gold;
    lmi_batcher_free(bat);
    free_bufs(&e);
    lmi_free(cls_pred);
    lmi_free(tok_pred);
    lmi_free(reg_pred);
    lmi_free(reg_gold);
    lmi_free(qa_start);
    lmi_free(qa_end);
    lmi_free(spans);
    lmi_free(confusion);
    return s;
}
