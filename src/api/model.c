/* Public model API (lm/model.h): argument checks, options, handle lifetimes, and the forward
 * entry points that combine the encoder with a head. The work is in src/model/bert.c. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <omp.h>
#include <string.h>

#include "base/alloc.h"
#include "api/handle.h"
#include "api/symver.h"
#include "base/error.h"
#include "base/file.h"
#include "base/options.h"
#include "lm.h"
#include "model/bert.h"
#include "model/config.h"
#include "tensor/blas.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"
#include "tensor/qgemm.h"
#include "text/tokenizer.h"
#include "train/fit.h"

lmi_bert *lmi_model_bert(const lm_model_t *model) {
    return model->bert;
}

/* The library's defaults in its own full-size struct. */
static void default_options(lm_model_options *opts) {
    memset(opts, 0, sizeof *opts); /* every 0.2 field defaults to 0 / NULL */
    opts->struct_size = sizeof *opts;
    opts->threads = 0;
    opts->head = LM_HEAD_AUTO;
}

LMI_SYMVER(lmi_api_model_options_init, "lm_model_options_init@@lm_0.2");
LM_API lm_status lmi_api_model_options_init(lm_model_options *opts, size_t struct_size) {
    lm_model_options d;
    default_options(&d);
    return lmi_options_init_caller(opts, struct_size, &d, sizeof d, "lm_model_options_init");
}

/* Says once per process, through the log callback, when the products run on the BLAS (the
 * reference path, LM_MATMUL=blas) and the BLAS runs a slow kernel on this CPU (Debian's OpenBLAS
 * 0.3.21 misdetects recent CPUs), and how to select the fast one. liblm's own kernels, the
 * default, need no setting. */
static void warn_slow_blas_once(void) {
    static int warned; /* set once, with an atomic exchange */
    const char *suggest = lmi_matmul_blas() ? lmi_blas_suggested_coretype() : NULL;
    if (suggest != NULL && __atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED) == 0) {
        lmi_log(LM_LOG_WARN,
                "BLAS kernel %s is a slow path on this CPU (products up to 5x slower): set "
                "OPENBLAS_CORETYPE=%s in the environment before the program starts",
                lmi_blas_kernel(), suggest);
    }
}

static lm_status read_options(const lm_model_options *opts, lm_model_options *o, int *threads) {
    lm_status s;
    default_options(o);
    s = lmi_options_read(o, sizeof *o, opts, offsetof(lm_model_options, head) + sizeof o->head,
                         "lm_model_options"); /* 0.1 callers end after `head` */
    if (s != LM_OK) {
        return s;
    }
    if (o->threads < 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_options.threads is %d (0 or more)",
                        o->threads);
    }
    if (o->head < LM_HEAD_AUTO || o->head > LM_HEAD_MASKED_LM) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_options.head is %d (not an lm_head)",
                        o->head);
    }
    if (o->num_labels < 0 || o->num_labels > 65536) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_options.num_labels is %d (0 to 65536)",
                         (int)o->num_labels);
    }
    if (o->problem_type < LM_PROBLEM_AUTO || o->problem_type > LM_PROBLEM_REGRESSION) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_model_options.problem_type is %d (not an lm_problem_type)",
                         (int)o->problem_type);
    }
    if (o->label_names != NULL && o->num_labels == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_model_options.label_names needs num_labels (their count)");
    }
    if (o->reserved0 != 0 || o->reserved1 != 0 || (o->no_tokenizer != 0 && o->no_tokenizer != 1) ||
        (o->int8 != 0 && o->int8 != 1)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_options: no_tokenizer and int8 must "
                                                  "be 0 or 1, reserved0 and reserved1 0");
    }
    *threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    *threads = *threads > 0 ? *threads : 1;
    lmi_blas_set_threads(1); /* one thread pool: OpenMP runs the BLAS per block (ops.c) */
    warn_slow_blas_once();
    return LM_OK;
}

/* Packs (or, int8, quantises) the weights for inference now, at load, rather than at the first
 * forward: a failure is the load's (LM_ERR_NOMEM), and the file's pages under the packed weights
 * leave memory at once. Frees b on failure. */
static lm_status prepare(lmi_bert *b, int32_t int8) {
    lm_status s;
    b->int8 = int8;
    if (lmi_bert_packs_get(b, &s) == NULL) {
        lmi_bert_free(b);
        return s;
    }
    return LM_OK;
}

static lm_status wrap(lmi_bert *b, lm_tokenizer_t *tok, lm_model_t **out) {
    lm_model_t *m = lmi_calloc(1, sizeof *m);
    if (m == NULL) {
        lmi_bert_free(b);
        lmi_tokenizer_free(tok);
        return lmi_error(LM_ERR_NOMEM, "out of memory for a model handle");
    }
    m->bert = b;
    m->tok = tok;
    *out = m;
    return LM_OK;
}

/* The folder's tokenizer: none is fine (NULL, logged), a broken one is an error. */
static lm_status load_tokenizer(const char *dir, lm_tokenizer_t **tok) {
    lm_status s = lmi_tokenizer_load_dir(dir, NULL, tok);
    if (s == LM_ERR_NOT_FOUND) {
        lmi_log(LM_LOG_INFO, "%s: no tokenizer files; the model runs on token ids only", dir);
        lmi_clear_error();
        *tok = NULL;
        return LM_OK;
    }
    return s != LM_OK ? lmi_error_prefix(s, "%s: the tokenizer", dir) : LM_OK;
}

lm_status lm_model_load(const char *dir, const lm_model_options *opts, lm_model_t **out) {
    lm_model_options o;
    lmi_bert *b = NULL;
    lm_tokenizer_t *tok = NULL;
    int threads = 1;
    lm_status s;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_load: out is NULL");
    }
    *out = NULL;
    if (dir == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_load: dir is NULL");
    }
    s = read_options(opts, &o, &threads);
    if (s == LM_OK) {
        lmi_fresh_head fresh;
        fresh.num_labels = o.num_labels;
        fresh.label_names = o.label_names;
        fresh.problem_type = o.problem_type; /* lm_problem_type and lmi_problem share values */
        fresh.seed = o.seed;
        s = lmi_bert_load(dir, o.head, threads, &fresh, &b);
    }
    if (s == LM_OK) {
        s = prepare(b, o.int8);
        b = s == LM_OK ? b : NULL;
    }
    if (s == LM_OK && !o.no_tokenizer) {
        s = load_tokenizer(dir, &tok);
        if (s != LM_OK) {
            lmi_bert_free(b);
        }
    }
    return s != LM_OK ? s : wrap(b, tok, out);
}

lm_status lm_model_create(const char *config_json, size_t len, uint64_t seed,
                          const lm_model_options *opts, lm_model_t **out) {
    lm_model_options o;
    lmi_bert_config cfg;
    lmi_bert *b = NULL;
    int threads = 1;
    lm_status s;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_create: out is NULL");
    }
    *out = NULL;
    if (config_json == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_create: config_json is NULL");
    }
    s = read_options(opts, &o, &threads);
    if (s != LM_OK) {
        return s;
    }
    memset(&cfg, 0, sizeof cfg);
    s = lmi_bert_config_parse(config_json, len, "config", &cfg);
    if (s == LM_OK) {
        s = lmi_bert_create(&cfg, o.head, threads, seed, &b);
    }
    if (s == LM_OK) {
        s = prepare(b, o.int8);
        b = s == LM_OK ? b : NULL;
    }
    lmi_bert_config_free(&cfg);
    return s != LM_OK ? s : wrap(b, NULL, out);
}

lm_status lm_model_save(const lm_model_t *model, const char *dir) {
    if (model == NULL || dir == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_save: %s is NULL",
                        model == NULL ? "model" : "dir");
    }
    return lmi_model_dir_save(model->bert, model->tok, dir);
}

const lm_tokenizer_t *lm_model_tokenizer(const lm_model_t *model) {
    return model != NULL ? model->tok : NULL;
}

void lm_model_free(lm_model_t *model) {
    if (model != NULL) {
        lmi_bert_free(model->bert);
        lmi_tokenizer_free(model->tok);
        lmi_free(model);
    }
}

lm_head lm_model_head(const lm_model_t *model) {
    return (lm_head)model->bert->head;
}
size_t lm_model_hidden_size(const lm_model_t *model) {
    return (size_t)model->bert->cfg.hidden_size;
}
size_t lm_model_num_layers(const lm_model_t *model) {
    return (size_t)model->bert->cfg.num_hidden_layers;
}
size_t lm_model_num_heads(const lm_model_t *model) {
    return (size_t)model->bert->cfg.num_attention_heads;
}
size_t lm_model_vocab_size(const lm_model_t *model) {
    return (size_t)model->bert->cfg.vocab_size;
}
size_t lm_model_type_vocab_size(const lm_model_t *model) {
    return (size_t)model->bert->cfg.type_vocab_size;
}
size_t lm_model_max_length(const lm_model_t *model) {
    return (size_t)model->bert->cfg.max_position_embeddings;
}
size_t lm_model_text_max_length(const lm_model_t *model) {
    const lmi_bert *b = model->bert;
    return (size_t)(b->max_seq_length > 0 ? b->max_seq_length : b->cfg.max_position_embeddings);
}
size_t lm_model_num_labels(const lm_model_t *model) {
    return (size_t)model->bert->cfg.num_labels;
}
const char *lm_model_label_name(const lm_model_t *model, size_t id) {
    if (id >= (size_t)model->bert->cfg.num_labels) {
        return NULL;
    }
    return lmi_bert_config_label(&model->bert->cfg, (int64_t)id);
}
uint64_t lm_model_parameter_count(const lm_model_t *model) {
    return lmi_bert_parameter_count(model->bert);
}
uint64_t lm_model_nan_count(const lm_model_t *model) {
    return lmi_bert_nan_count(model->bert);
}
int lm_model_has_pooler(const lm_model_t *model) {
    return model->bert->w.pool_w != NULL;
}
int lm_model_has_fresh_head(const lm_model_t *model) {
    return model->bert->fresh_head;
}
int32_t lm_model_problem_type(const lm_model_t *model) {
    const lmi_bert_config *c = &model->bert->cfg;
    if (c->problem_type != LM_PROBLEM_AUTO) {
        return (int32_t)c->problem_type;
    }
    return c->num_labels == 1 ? LM_PROBLEM_REGRESSION : LM_PROBLEM_SINGLE_LABEL;
}
size_t lm_model_unused_tensor_count(const lm_model_t *model) {
    return model->bert->n_unused;
}
const char *lm_model_unused_tensor_name(const lm_model_t *model, size_t i) {
    return i < model->bert->n_unused ? model->bert->unused[i] : NULL;
}
void lm_model_embedding_defaults(const lm_model_t *model, int *pooling, int *normalize) {
    if (pooling != NULL) {
        *pooling = model->bert->pooling;
    }
    if (normalize != NULL) {
        *normalize = model->bert->normalize;
    }
}
lm_status lm_model_config_json(const lm_model_t *model, char **json_out) {
    if (json_out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_config_json: json_out is NULL");
    }
    *json_out = NULL;
    if (model == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_config_json: model is NULL");
    }
    return lmi_bert_config_to_json(&model->bert->cfg, json_out);
}

/* ---- forward ---- */

/* Checks the common arguments and runs the encoder into a new hidden buffer (lmi_free_aligned). */
static lm_status encode(const char *fn, const lm_model_t *model, const int32_t *ids,
                        const int32_t *type_ids, const int32_t *mask, size_t batch,
                        size_t seq_len, const void *out1, int pad_rows, float **hidden_out) {
    size_t n, C;
    float *hidden;
    lm_status s;
    *hidden_out = NULL;
    if (model == NULL || ids == NULL || out1 == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                        model == NULL ? "model" : ids == NULL ? "ids" : "the output buffer");
    }
    if (batch == 0 || seq_len == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: batch (%zu) and seq_len (%zu) must be > 0",
                        fn, batch, seq_len);
    }
    C = (size_t)model->bert->cfg.hidden_size;
    if (!lmi_size_mul(batch, seq_len, &n) || !lmi_size_mul(n, C * sizeof(float), &n)) {
        return lmi_error(LM_ERR_RANGE, "%s: batch %zu x seq_len %zu is too large", fn, batch,
                        seq_len);
    }
    s = lmi_bert_check_inputs(model->bert, ids, type_ids, mask, batch, seq_len);
    if (s != LM_OK) {
        return lmi_error_prefix(s, "%s", fn);
    }
    hidden = lmi_malloc_aligned(n, 64);
    if (hidden == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for %zu x %zu hidden states", fn, batch,
                        seq_len);
    }
    s = lmi_bert_encode(model->bert, ids, type_ids, mask, batch, seq_len, hidden, pad_rows);
    if (s != LM_OK) {
        lmi_free_aligned(hidden);
        return s;
    }
    *hidden_out = hidden;
    return LM_OK;
}

lm_status lm_model_hidden_states(const lm_model_t *model, const int32_t *ids,
                                 const int32_t *type_ids, const int32_t *mask, size_t batch,
                                 size_t seq_len, float *hidden, float *pooled) {
    float *h;
    lm_status s;
    if (pooled != NULL && model != NULL && model->bert->w.pool_w == NULL) {
        return lmi_error(LM_ERR_STATE, "lm_model_hidden_states: this model has no pooler");
    }
    s = encode("lm_model_hidden_states", model, ids, type_ids, mask, batch, seq_len, hidden, 1,
               &h);
    if (s != LM_OK) {
        return s;
    }
    memcpy(hidden, h, batch * seq_len * (size_t)model->bert->cfg.hidden_size * sizeof(float));
    if (pooled != NULL) {
        s = lmi_bert_pool(model->bert, h, batch, seq_len, pooled);
    }
    lmi_free_aligned(h);
    return s;
}

lm_status lm_model_embed(const lm_model_t *model, const int32_t *ids, const int32_t *type_ids,
                         const int32_t *mask, size_t batch, size_t seq_len, int pooling,
                         int normalize, float *embeddings) {
    float *h;
    lm_status s;
    if (pooling < LM_POOLING_DEFAULT || pooling > LM_POOLING_CLS || normalize < -1 ||
        normalize > 1) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                        "lm_model_embed: pooling %d / normalize %d out of range", pooling,
                        normalize);
    }
    s = encode("lm_model_embed", model, ids, type_ids, mask, batch, seq_len, embeddings, 0, &h);
    if (s != LM_OK) {
        return s;
    }
    lmi_bert_sentence_embedding(model->bert, h, mask, batch, seq_len,
                               pooling == LM_POOLING_DEFAULT ? model->bert->pooling : pooling,
                               normalize < 0 ? model->bert->normalize : normalize, embeddings);
    lmi_free_aligned(h);
    return LM_OK;
}

static lm_status need_head(const lm_model_t *model, int head, const char *fn) {
    if (model != NULL && model->bert->head != head) {
        return lmi_error(LM_ERR_STATE, "%s: the model's head is %s, not %s", fn,
                        lmi_bert_head_name(model->bert->head), lmi_bert_head_name(head));
    }
    return LM_OK;
}

lm_status lm_model_classify(const lm_model_t *model, const int32_t *ids, const int32_t *type_ids,
                            const int32_t *mask, size_t batch, size_t seq_len, float *logits) {
    float *h, *pooled;
    lm_status s = need_head(model, LM_BERT_HEAD_SEQ_CLASS, "lm_model_classify");
    if (s == LM_OK) {
        s = encode("lm_model_classify", model, ids, type_ids, mask, batch, seq_len, logits, 0,
                   &h);
    }
    if (s != LM_OK) {
        return s;
    }
    pooled = lmi_malloc_array(batch * (size_t)model->bert->cfg.hidden_size, sizeof(float));
    if (pooled == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "lm_model_classify: out of memory");
    } else {
        s = lmi_bert_pool(model->bert, h, batch, seq_len, pooled);
        if (s == LM_OK) {
            s = lmi_bert_seq_logits(model->bert, pooled, batch, logits);
        }
    }
    lmi_free(pooled);
    lmi_free_aligned(h);
    return s;
}

lm_status lm_model_token_logits(const lm_model_t *model, const int32_t *ids,
                                const int32_t *type_ids, const int32_t *mask, size_t batch,
                                size_t seq_len, float *logits) {
    float *h;
    lm_status s = need_head(model, LM_BERT_HEAD_TOKEN_CLASS, "lm_model_token_logits");
    if (s == LM_OK) {
        s = encode("lm_model_token_logits", model, ids, type_ids, mask, batch, seq_len, logits,
                   1, &h);
    }
    if (s != LM_OK) {
        return s;
    }
    s = lmi_bert_token_logits(model->bert, h, batch * seq_len, logits);
    lmi_free_aligned(h);
    return s;
}

lm_status lm_model_qa_logits(const lm_model_t *model, const int32_t *ids, const int32_t *type_ids,
                             const int32_t *mask, size_t batch, size_t seq_len,
                             float *start_logits, float *end_logits) {
    float *h;
    lm_status s = need_head(model, LM_BERT_HEAD_QA, "lm_model_qa_logits");
    if (s == LM_OK && end_logits == NULL) {
        s = lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_model_qa_logits: end_logits is NULL");
    }
    if (s == LM_OK) {
        s = encode("lm_model_qa_logits", model, ids, type_ids, mask, batch, seq_len,
                   start_logits, 1, &h);
    }
    if (s != LM_OK) {
        return s;
    }
    s = lmi_bert_qa_logits(model->bert, h, batch, seq_len, start_logits, end_logits);
    lmi_free_aligned(h);
    return s;
}

lm_status lm_model_mlm_logits(const lm_model_t *model, const int32_t *ids,
                              const int32_t *type_ids, const int32_t *mask, size_t batch,
                              size_t seq_len, const size_t *positions, size_t n_positions,
                              float *logits) {
    float *h;
    size_t i;
    lm_status s = need_head(model, LM_BERT_HEAD_MLM, "lm_model_mlm_logits");
    for (i = 0; s == LM_OK && positions != NULL && i < n_positions; i++) {
        if (positions[i] >= batch * seq_len) {
            s = lmi_error(LM_ERR_RANGE, "lm_model_mlm_logits: position %zu (index %zu) is outside "
                                       "the %zu x %zu batch",
                         positions[i], i, batch, seq_len);
        }
    }
    if (s == LM_OK) {
        s = encode("lm_model_mlm_logits", model, ids, type_ids, mask, batch, seq_len, logits, 1,
                   &h);
    }
    if (s != LM_OK) {
        return s;
    }
    s = lmi_bert_mlm_logits(model->bert, h, positions,
                           positions != NULL ? n_positions : batch * seq_len, logits);
    lmi_free_aligned(h);
    return s;
}

lm_status lm_qa_best_span(const float *start_logits, const float *end_logits,
                          const int32_t *allowed, size_t seq_len, size_t max_answer_len,
                          size_t *start, size_t *end, float *score) {
    double best = -INFINITY, smax = -INFINITY, emax = -INFINITY, ssum = 0, esum = 0;
    size_t i, j, bi = 0, bj = 0;
    int found = 0;
    if (start_logits == NULL || end_logits == NULL || start == NULL || end == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_qa_best_span: NULL argument");
    }
    for (i = 0; i < seq_len; i++) {
        if (allowed != NULL && !allowed[i]) {
            continue;
        }
        smax = start_logits[i] > smax ? start_logits[i] : smax;
        emax = end_logits[i] > emax ? end_logits[i] : emax;
    }
    for (i = 0; i < seq_len; i++) {
        if (allowed != NULL && !allowed[i]) {
            continue;
        }
        ssum += exp(start_logits[i] - smax);
        esum += exp(end_logits[i] - emax);
        for (j = i; j < seq_len && (max_answer_len == 0 || j < i + max_answer_len); j++) {
            double v;
            if (allowed != NULL && !allowed[j]) {
                continue;
            }
            v = (double)start_logits[i] + end_logits[j];
            if (!found || v > best) {
                best = v;
                bi = i;
                bj = j;
                found = 1;
            }
        }
    }
    if (!found) {
        return lmi_error(LM_ERR_NOT_FOUND, "lm_qa_best_span: no token may hold an answer");
    }
    *start = bi;
    *end = bj;
    if (score != NULL) {
        *score = (float)(exp(start_logits[bi] - smax) / ssum * exp(end_logits[bj] - emax) / esum);
    }
    return LM_OK;
}

/* ---- BLAS queries ---- */

const char *lm_blas_kernel(void) { return lmi_blas_kernel(); }

int lm_blas_threads(void) { return lmi_blas_threads(); }

const char *lm_blas_suggested_coretype(void) { return lmi_blas_suggested_coretype(); }

const char *lm_blas_info(void) { return lmi_blas_info(); }

const char *lm_kernel_info(void) {
    static _Thread_local char buf[160];
    snprintf(buf, sizeof buf, "gemm %s, int8 %s%s", lmi_gemm_kernel_name(), lmi_q8_kernel_name(),
             lmi_matmul_blas() ? ", heads and training on the BLAS (LM_MATMUL=blas)" : "");
    return buf;
}
