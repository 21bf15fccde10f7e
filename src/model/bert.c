/* The BERT encoder and heads: parameter table, loading (zero-copy F32 or converted once),
 * seeded creation, saving, and the forward pass built from the tensor ops. */
#define _POSIX_C_SOURCE 200809L
#include "model/bert.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json.h"
#include "base/rng.h"
#include "model/train.h"
#include "tensor/blas.h"
#include "tensor/guard.h"
#include "tensor/ops.h"

#define LM_ALIGN 64

static const char *const head_names[LM_BERT_HEAD_COUNT] = {
    "auto", "base", "sequence-classification", "token-classification", "question-answering",
    "masked-lm"};
static const char *const head_archs[LM_BERT_HEAD_COUNT] = {
    "BertModel", "BertModel", "BertForSequenceClassification", "BertForTokenClassification",
    "BertForQuestionAnswering", "BertForMaskedLM"};

const char *lmi_bert_head_name(int head) {
    return head >= 0 && head < LM_BERT_HEAD_COUNT ? head_names[head] : "?";
}

const char *lmi_bert_head_architecture(int head) {
    return head >= 0 && head < LM_BERT_HEAD_COUNT ? head_archs[head] : "BertModel";
}

int lmi_bert_head_from_architecture(const char *a) {
    if (a == NULL) {
        return LM_BERT_HEAD_BASE;
    }
    if (strcmp(a, "BertForSequenceClassification") == 0) {
        return LM_BERT_HEAD_SEQ_CLASS;
    }
    if (strcmp(a, "BertForTokenClassification") == 0) {
        return LM_BERT_HEAD_TOKEN_CLASS;
    }
    if (strcmp(a, "BertForQuestionAnswering") == 0) {
        return LM_BERT_HEAD_QA;
    }
    if (strcmp(a, "BertForMaskedLM") == 0 || strcmp(a, "BertForPreTraining") == 0) {
        return LM_BERT_HEAD_MLM;
    }
    return LM_BERT_HEAD_BASE;
}

/* ---- parameter table ---- */

typedef struct spec_builder {
    lmi_bert_param *p;
    size_t n;
    lmi_bert_weights *w;
    long L;
} spec_builder;

static void add(spec_builder *b, const float **slot, int encoder, int optional, int init,
                int64_t d0, int64_t d1, const char *fmt, long layer) {
    lmi_bert_param *q = &b->p[b->n++];
    const uintptr_t at = (uintptr_t)slot, lay = (uintptr_t)b->w->layers;
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, fmt, layer);
    if (at >= lay && at < lay + (uintptr_t)b->L * sizeof(lmi_bert_layer)) {
        q->layer = (long)((at - lay) / sizeof(lmi_bert_layer));
        q->field = (size_t)((at - lay) % sizeof(lmi_bert_layer));
    } else {
        q->layer = -1;
        q->field = (size_t)(at - (uintptr_t)b->w);
    }
    /* transformers' Trainer: no weight decay for biases and LayerNorm weights */
    q->decay = strstr(q->name, "bias") == NULL && strstr(q->name, "LayerNorm") == NULL;
    q->encoder = encoder;
    q->optional = optional;
    q->init = init;
    q->ndim = d1 > 0 ? 2 : 1;
    q->shape[0] = d0;
    q->shape[1] = d1 > 0 ? d1 : 0;
    q->numel = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
    q->slot = slot;
}

enum { INIT_NORMAL = 0, INIT_ONES = 1, INIT_ZEROS = 2 };

/* Fills m->params for m->cfg and m->head; `pooler`: 1 include it. */
static lm_status build_params(lmi_bert *m, int pooler) {
    const lmi_bert_config *c = &m->cfg;
    const int64_t C = c->hidden_size, I = c->intermediate_size, V = c->vocab_size;
    const long L = (long)c->num_hidden_layers;
    size_t cap = 5 + 16 * (size_t)L + 2 + 8;
    spec_builder b;
    long l;
    lmi_bert_weights *w = &m->w;
    w->layers = lmi_calloc((size_t)L, sizeof *w->layers);
    b.p = lmi_calloc(cap, sizeof *b.p);
    if (w->layers == NULL || b.p == NULL) {
        lmi_free(w->layers);
        lmi_free(b.p);
        w->layers = NULL;
        return lmi_error(LM_ERR_NOMEM, "out of memory for the parameter table (%ld layers)", L);
    }
    b.n = 0;
    b.w = w;
    b.L = L;
    add(&b, &w->wte, 1, 0, INIT_NORMAL, V, C, "embeddings.word_embeddings.weight", 0);
    add(&b, &w->wpe, 1, 0, INIT_NORMAL, c->max_position_embeddings, C,
        "embeddings.position_embeddings.weight", 0);
    add(&b, &w->wtt, 1, 0, INIT_NORMAL, c->type_vocab_size, C,
        "embeddings.token_type_embeddings.weight", 0);
    add(&b, &w->emb_ln_w, 1, 0, INIT_ONES, C, 0, "embeddings.LayerNorm.weight", 0);
    add(&b, &w->emb_ln_b, 1, 0, INIT_ZEROS, C, 0, "embeddings.LayerNorm.bias", 0);
    for (l = 0; l < L; l++) {
        lmi_bert_layer *y = &w->layers[l];
        add(&b, &y->q_w, 1, 0, INIT_NORMAL, C, C, "encoder.layer.%ld.attention.self.query.weight", l);
        add(&b, &y->q_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.attention.self.query.bias", l);
        add(&b, &y->k_w, 1, 0, INIT_NORMAL, C, C, "encoder.layer.%ld.attention.self.key.weight", l);
        add(&b, &y->k_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.attention.self.key.bias", l);
        add(&b, &y->v_w, 1, 0, INIT_NORMAL, C, C, "encoder.layer.%ld.attention.self.value.weight", l);
        add(&b, &y->v_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.attention.self.value.bias", l);
        add(&b, &y->ao_w, 1, 0, INIT_NORMAL, C, C, "encoder.layer.%ld.attention.output.dense.weight", l);
        add(&b, &y->ao_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.attention.output.dense.bias", l);
        add(&b, &y->ln1_w, 1, 0, INIT_ONES, C, 0, "encoder.layer.%ld.attention.output.LayerNorm.weight", l);
        add(&b, &y->ln1_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.attention.output.LayerNorm.bias", l);
        add(&b, &y->i_w, 1, 0, INIT_NORMAL, I, C, "encoder.layer.%ld.intermediate.dense.weight", l);
        add(&b, &y->i_b, 1, 0, INIT_ZEROS, I, 0, "encoder.layer.%ld.intermediate.dense.bias", l);
        add(&b, &y->o_w, 1, 0, INIT_NORMAL, C, I, "encoder.layer.%ld.output.dense.weight", l);
        add(&b, &y->o_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.output.dense.bias", l);
        add(&b, &y->ln2_w, 1, 0, INIT_ONES, C, 0, "encoder.layer.%ld.output.LayerNorm.weight", l);
        add(&b, &y->ln2_b, 1, 0, INIT_ZEROS, C, 0, "encoder.layer.%ld.output.LayerNorm.bias", l);
    }
    if (pooler) {
        add(&b, &w->pool_w, 1, m->head != LM_BERT_HEAD_SEQ_CLASS, INIT_NORMAL, C, C,
            "pooler.dense.weight", 0);
        add(&b, &w->pool_b, 1, m->head != LM_BERT_HEAD_SEQ_CLASS, INIT_ZEROS, C, 0,
            "pooler.dense.bias", 0);
    }
    switch (m->head) {
    case LM_BERT_HEAD_SEQ_CLASS:
    case LM_BERT_HEAD_TOKEN_CLASS:
        add(&b, &w->cls_w, 0, 0, INIT_NORMAL, c->num_labels, C, "classifier.weight", 0);
        add(&b, &w->cls_b, 0, 0, INIT_ZEROS, c->num_labels, 0, "classifier.bias", 0);
        break;
    case LM_BERT_HEAD_QA:
        add(&b, &w->qa_w, 0, 0, INIT_NORMAL, 2, C, "qa_outputs.weight", 0);
        add(&b, &w->qa_b, 0, 0, INIT_ZEROS, 2, 0, "qa_outputs.bias", 0);
        break;
    case LM_BERT_HEAD_MLM:
        add(&b, &w->mlm_w, 0, 0, INIT_NORMAL, C, C, "cls.predictions.transform.dense.weight", 0);
        add(&b, &w->mlm_b, 0, 0, INIT_ZEROS, C, 0, "cls.predictions.transform.dense.bias", 0);
        add(&b, &w->mlm_ln_w, 0, 0, INIT_ONES, C, 0, "cls.predictions.transform.LayerNorm.weight", 0);
        add(&b, &w->mlm_ln_b, 0, 0, INIT_ZEROS, C, 0, "cls.predictions.transform.LayerNorm.bias", 0);
        /* tied (the default): the word embeddings, whatever the file holds, and the bias
         * cls.predictions.bias, as transformers; untied: the decoder's own weight and bias
         * (transformers 5 then leaves cls.predictions.bias unused) */
        if (c->tie_word_embeddings) {
            add(&b, &w->mlm_bias, 0, 0, INIT_ZEROS, V, 0, "cls.predictions.bias", 0);
        } else {
            add(&b, &w->mlm_bias, 0, 0, INIT_ZEROS, V, 0, "cls.predictions.decoder.bias", 0);
            add(&b, &w->mlm_dec_w, 0, 0, INIT_NORMAL, V, C, "cls.predictions.decoder.weight", 0);
        }
        break;
    default:
        break;
    }
    m->params = b.p;
    m->nparams = b.n;
    { /* the parameter layout: every tensor on a 64-byte boundary */
        size_t i, off = 0;
        for (i = 0; i < b.n; i++) {
            b.p[i].offset = off;
            off += (b.p[i].numel + 15) & ~(size_t)15;
        }
        m->slab_floats = off;
    }
    return LM_OK;
}

/* ---- lifetime ---- */

void lmi_bert_free(lmi_bert *m) {
    if (m == NULL) {
        return;
    }
    lmi_bert_cache_free(m);
    lmi_bert_config_free(&m->cfg);
    lmi_free(m->w.layers);
    lmi_free(m->params);
    lmi_safetensors_close(m->st);
    lmi_free_aligned(m->slab);
    lmi_free(m->source_dir);
    lmi_free(m->unused);
    lmi_free(m->unused_names);
    lmi_free(m);
}

static lm_status new_model(const lmi_bert_config *cfg, int head, int threads, lmi_bert **out) {
    lmi_bert *m = lmi_calloc(1, sizeof *m);
    lm_status s;
    *out = NULL;
    if (m == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for a model");
    }
    s = lmi_bert_config_copy(&m->cfg, cfg);
    if (s != LM_OK) {
        lmi_free(m);
        return s;
    }
    s = lmi_bert_cache_new(m);
    if (s != LM_OK) {
        lmi_bert_config_free(&m->cfg);
        lmi_free(m);
        return s;
    }
    m->head = head == LM_BERT_HEAD_AUTO ? lmi_bert_head_from_architecture(cfg->architecture) : head;
    m->threads = threads > 0 ? threads : 1; /* the OpenMP team of every op, BLAS included */
    m->pooling = 1;
    m->normalize = 0;
    m->max_seq_length = m->cfg.max_position_embeddings;
    if (m->head == LM_BERT_HEAD_QA && m->cfg.num_labels != 2) {
        s = lmi_error(LM_ERR_FORMAT, "config.json: a question-answering head needs num_labels 2, "
                                    "not %lld", (long long)m->cfg.num_labels);
        lmi_bert_free(m);
        return s;
    }
    *out = m;
    return LM_OK;
}

/* The storage of parameter i, or NULL when it has none of its own: absent, or the tied MLM
 * decoder (the word embeddings under a second name). */
static const float *own_storage(const lmi_bert *m, size_t i) {
    const float *x = *m->params[i].slot;
    return m->params[i].slot == &m->w.mlm_dec_w && x == m->w.wte ? NULL : x;
}

uint64_t lmi_bert_parameter_count(const lmi_bert *m) {
    uint64_t n = 0;
    size_t i;
    for (i = 0; i < m->nparams; i++) {
        if (own_storage(m, i) != NULL) {
            n += m->params[i].numel;
        }
    }
    return n;
}

uint64_t lmi_bert_nan_count(const lmi_bert *m) {
    uint64_t n = 0;
    size_t i;
    for (i = 0; i < m->nparams; i++) {
        const float *x = own_storage(m, i);
        size_t j;
        if (x == NULL) {
            continue;
        }
        for (j = 0; j < m->params[i].numel; j++) {
            n += isnan(x[j]) ? 1 : 0;
        }
    }
    return n;
}

/* Initialises parameter i as transformers' BertPreTrainedModel._init_weights does: Linear and
 * Embedding weights normal(0, initializer_range) (the padding token's embedding row zero), biases
 * zero, LayerNorm weight one. Its own generator, seeded from (seed, i): independent of threads;
 * Box-Muller gives two deviates per pair of uniforms. */
static void init_param(lmi_bert *m, size_t i, uint64_t seed) {
    lmi_bert_param *p = &m->params[i];
    float *x = (float *)(uintptr_t)*p->slot;
    size_t j;
    lmi_rng rng;
    lmi_rng_seed(&rng, seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)));
    for (j = 0; j < p->numel; j++) {
        if (p->init == INIT_ONES || p->init == INIT_ZEROS) {
            x[j] = p->init == INIT_ONES ? 1.0f : 0.0f;
        } else {
            double u1 = 1.0 - lmi_rng_uniform_double(&rng), u2 = lmi_rng_uniform_double(&rng);
            double r = sqrt(-2.0 * log(u1)) * m->cfg.initializer_range, a = 6.283185307179586 * u2;
            x[j] = (float)(r * cos(a));
            if (j + 1 < p->numel) {
                x[++j] = (float)(r * sin(a));
            }
        }
    }
    if (p->slot == &m->w.wte && m->cfg.pad_token_id >= 0 && m->cfg.pad_token_id < m->cfg.vocab_size) {
        memset(x + (size_t)m->cfg.pad_token_id * (size_t)m->cfg.hidden_size, 0,
               (size_t)m->cfg.hidden_size * sizeof(float)); /* padding_idx row, as nn.Embedding */
    }
}

/* ---- create ---- */

lm_status lmi_bert_create(const lmi_bert_config *cfg, int head, int threads, uint64_t seed,
                         lmi_bert **out) {
    lmi_bert *m;
    lm_status s;
    long i;
    s = new_model(cfg, head, threads, &m);
    if (s != LM_OK) {
        *out = NULL;
        return s;
    }
    s = build_params(m, m->head == LM_BERT_HEAD_BASE || m->head == LM_BERT_HEAD_SEQ_CLASS);
    if (s != LM_OK) {
        lmi_bert_free(m);
        *out = NULL;
        return s;
    }
    m->slab = lmi_malloc_aligned(m->slab_floats * sizeof(float), LM_ALIGN);
    if (m->slab == NULL) {
        const size_t n = m->slab_floats;
        lmi_bert_free(m);
        *out = NULL;
        return lmi_error(LM_ERR_NOMEM, "out of memory for %zu parameters", n);
    }
    memset(m->slab, 0, m->slab_floats * sizeof(float)); /* the padding too */
    for (i = 0; i < (long)m->nparams; i++) { /* the parameter layout: trainable as it is */
        *m->params[i].slot = m->slab + m->params[i].offset;
    }
    m->trainable = 1;
    /* Each tensor has its own generator, seeded from (seed, its index), so the weights do not
     * depend on the thread count. */
    threads = lmi_plan_threads(threads); /* fewer when their stacks do not fit (guard.h) */
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (i = 0; i < (long)m->nparams; i++) {
        init_param(m, (size_t)i, seed);
    }
    if (m->head == LM_BERT_HEAD_MLM && m->cfg.tie_word_embeddings) {
        m->w.mlm_dec_w = m->w.wte;
    }
    *out = m;
    return LM_OK;
}

/* ---- training layout ---- */

/* The views of lmi_bert_grads sit where the weights sit in lmi_bert_weights. */
_Static_assert(sizeof(lmi_bert_layer) == sizeof(lmi_bert_layer_grads), "layer views differ");
_Static_assert(offsetof(lmi_bert_weights, layers) == offsetof(lmi_bert_grads, layers),
               "model views differ");

lm_status lmi_bert_make_trainable(lmi_bert *m) {
    float *slab;
    char *names = NULL;
    size_t i, len = 0;
    lmi_bert_packs_drop(m); /* the weights are about to change */
    if (m->trainable) {
        return LM_OK;
    }
    slab = lmi_malloc_aligned(m->slab_floats * sizeof(float), LM_ALIGN);
    if (slab == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for %zu trainable parameters",
                         m->slab_floats);
    }
    if (m->st != NULL && m->n_unused > 0) { /* the names point into the map about to close */
        for (i = 0; i < m->n_unused; i++) {
            len += strlen(m->unused[i]) + 1;
        }
        names = lmi_malloc(len);
        if (names == NULL) {
            lmi_free_aligned(slab);
            return lmi_error(LM_ERR_NOMEM, "out of memory");
        }
        for (i = 0, len = 0; i < m->n_unused; i++) {
            size_t n = strlen(m->unused[i]) + 1;
            memcpy(names + len, m->unused[i], n);
            m->unused[i] = names + len;
            len += n;
        }
        lmi_free(m->unused_names);
        m->unused_names = names;
    }
    memset(slab, 0, m->slab_floats * sizeof(float));
    for (i = 0; i < m->nparams; i++) {
        const lmi_bert_param *p = &m->params[i];
        if (*p->slot != NULL) {
            memcpy(slab + p->offset, *p->slot, p->numel * sizeof(float));
            *p->slot = slab + p->offset;
        }
    }
    if (m->head == LM_BERT_HEAD_MLM && m->cfg.tie_word_embeddings) {
        m->w.mlm_dec_w = m->w.wte;
    }
    lmi_free_aligned(m->slab);
    lmi_safetensors_close(m->st); /* nothing points into the map any more */
    m->st = NULL;
    m->slab = slab;
    m->trainable = 1;
    return LM_OK;
}

void lmi_bert_views(const lmi_bert *m, float *slab, lmi_bert_grads *g) {
    lmi_bert_layer_grads *layers = g->layers;
    size_t i;
    memset(g, 0, sizeof *g);
    memset(layers, 0, (size_t)m->cfg.num_hidden_layers * sizeof *layers);
    g->layers = layers;
    for (i = 0; i < m->nparams; i++) {
        const lmi_bert_param *p = &m->params[i];
        char *base = p->layer < 0 ? (char *)g : (char *)&layers[p->layer];
        if (*p->slot != NULL) {
            *(float **)(void *)(base + p->field) = slab + p->offset;
        }
    }
    if (m->w.mlm_dec_w != NULL && m->w.mlm_dec_w == m->w.wte) {
        g->mlm_dec_w = g->wte; /* the tied decoder: one entry, two names */
    }
}

const lmi_bert_param *lmi_bert_find_param(const lmi_bert *m, const char *name) {
    size_t i;
    if (strncmp(name, "bert.", 5) == 0) {
        name += 5;
    }
    for (i = 0; i < m->nparams; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            return &m->params[i];
        }
    }
    return NULL;
}

/* ---- load ---- */

static const lmi_st_tensor *find_tensor(const lmi_safetensors *st, const lmi_bert_param *p) {
    char name[LM_BERT_NAME_MAX + 8];
    const lmi_st_tensor *t;
    if (p->encoder) {
        snprintf(name, sizeof name, "bert.%s", p->name);
        t = lmi_safetensors_find(st, name);
        if (t != NULL) {
            return t;
        }
    }
    t = lmi_safetensors_find(st, p->name);
    if (t == NULL && p->slot != NULL && strcmp(p->name, "cls.predictions.bias") == 0) {
        t = lmi_safetensors_find(st, "cls.predictions.decoder.bias");
    }
    if (t == NULL && p->slot != NULL && strcmp(p->name, "cls.predictions.decoder.bias") == 0) {
        t = lmi_safetensors_find(st, "cls.predictions.bias"); /* one bias for both (4.x) */
    }
    if (t == NULL) { /* original BERT checkpoints name LayerNorm weight/bias gamma/beta */
        size_t n = strlen(p->name);
        const char *suffix = n > 17 && strcmp(p->name + n - 17, ".LayerNorm.weight") == 0 ? "gamma"
                             : n > 15 && strcmp(p->name + n - 15, ".LayerNorm.bias") == 0 ? "beta"
                                                                                        : NULL;
        if (suffix != NULL) {
            size_t stem = n - (suffix[0] == 'g' ? 6 : 4); /* keeps "...LayerNorm." */
            snprintf(name, sizeof name, "%s%.*s%s", p->encoder ? "bert." : "", (int)stem, p->name,
                     suffix);
            t = lmi_safetensors_find(st, name);
            if (t == NULL && p->encoder) {
                t = lmi_safetensors_find(st, name + 5);
            }
        }
    }
    return t;
}

/* Reads sentence-transformers' modules.json / <pooling>/config.json for embedding defaults. */
static lm_status read_pooling_defaults(lmi_bert *m, const char *dir) {
    char *path = lmi_path_join(dir, "modules.json");
    cJSON *mods = NULL, *item;
    lm_status s;
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    if (!lmi_file_exists(path)) {
        lmi_free(path);
        return LM_OK;
    }
    s = lmi_json_parse_file(path, 1 << 20, &mods);
    lmi_free(path);
    if (s != LM_OK) {
        return s;
    }
    cJSON_ArrayForEach(item, mods) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(item, "path");
        if (!cJSON_IsString(type)) {
            continue;
        }
        if (strstr(type->valuestring, "Normalize") != NULL) {
            m->normalize = 1;
        } else if (strstr(type->valuestring, "Pooling") != NULL && cJSON_IsString(sub)) {
            char *pdir = lmi_path_join(dir, sub->valuestring);
            char *pcfg = pdir != NULL ? lmi_path_join(pdir, "config.json") : NULL;
            cJSON *pc = NULL;
            lmi_free(pdir);
            if (pcfg == NULL) {
                cJSON_Delete(mods);
                return lmi_error(LM_ERR_NOMEM, "out of memory");
            }
            if (lmi_file_exists(pcfg)) {
                int cls = 0, mean = 0;
                s = lmi_json_parse_file(pcfg, 1 << 20, &pc);
                if (s == LM_OK) {
                    if (lmi_json_get_bool(pc, "pooling_mode_cls_token", pcfg, &cls) == LM_OK && cls) {
                        m->pooling = 2;
                    }
                    if (lmi_json_get_bool(pc, "pooling_mode_mean_tokens", pcfg, &mean) == LM_OK &&
                        mean) {
                        m->pooling = 1;
                    }
                }
                cJSON_Delete(pc);
            }
            lmi_free(pcfg);
            if (s != LM_OK) {
                cJSON_Delete(mods);
                return s;
            }
        }
    }
    cJSON_Delete(mods);
    return LM_OK;
}

/* A tensor that a checkpoint without this head lacks: the head's own, or the pooler. */
static int is_head_param(const lmi_bert *m, const lmi_bert_param *p) {
    return !p->encoder || p->slot == &m->w.pool_w || p->slot == &m->w.pool_b;
}

/* Tensors of the file that no parameter took ("*position_ids" buffers are ignored, as
 * transformers does): listed in m->unused and reported in the log. */
static lm_status note_unused(lmi_bert *m, const lmi_st_tensor *const *found, const char *st_path) {
    size_t n = lmi_safetensors_count(m->st), i, k;
    for (i = 0; i < n; i++) {
        const lmi_st_tensor *t = lmi_safetensors_at(m->st, i);
        size_t len = strlen(t->name);
        int used = len >= 12 && strcmp(t->name + len - 12, "position_ids") == 0;
        /* an untied decoder's checkpoint also holds the bias transformers 5 leaves unused */
        used = used || (m->head == LM_BERT_HEAD_MLM && !m->cfg.tie_word_embeddings &&
                        strcmp(t->name, "cls.predictions.bias") == 0);
        for (k = 0; !used && k < m->nparams; k++) {
            used = found[k] == t;
        }
        if (!used) {
            if (m->unused == NULL) {
                m->unused = lmi_calloc(n, sizeof *m->unused);
                if (m->unused == NULL) {
                    return lmi_error(LM_ERR_NOMEM, "out of memory");
                }
            }
            m->unused[m->n_unused++] = t->name;
        }
    }
    if (m->n_unused > 0) {
        lmi_log(LM_LOG_WARN,
                "%s: %zu tensor%s not used by this %s model with %lld layers (first: '%s'); "
                "config.json may describe a different model than the weights",
                st_path, m->n_unused, m->n_unused == 1 ? " is" : "s are",
                lmi_bert_head_name(m->head), (long long)m->cfg.num_hidden_layers, m->unused[0]);
    }
    return LM_OK;
}

/* Points every parameter at its tensor (F32 aligned: in place) or at a slab slot (converted, or
 * initialised fresh when `fresh` allows it for a head tensor the file lacks). */
static lm_status load_weights(lmi_bert *m, const char *st_path, const lmi_fresh_head *fresh) {
    size_t i, total = 0, off = 0, n_fresh = 0;
    char a[80], b[80];
    lm_status s = lmi_safetensors_open(st_path, &m->st);
    const lmi_st_tensor **found;
    unsigned char *init;
    if (s != LM_OK) {
        return s;
    }
    found = lmi_calloc(m->nparams, sizeof *found + 1);
    if (found == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    init = (unsigned char *)(found + m->nparams);
    for (i = 0; i < m->nparams; i++) {
        lmi_bert_param *p = &m->params[i];
        const lmi_st_tensor *t = find_tensor(m->st, p);
        size_t d;
        int same;
        if (t == NULL) {
            if (fresh != NULL && is_head_param(m, p) && !p->optional) {
                init[i] = 1; /* a head the checkpoint lacks */
                total += (p->numel + 15) & ~(size_t)15;
                n_fresh++;
                continue;
            }
            if (p->optional) {
                continue;
            }
            lmi_free(found);
            return lmi_error(LM_ERR_NOT_FOUND, "%s: tensor '%s%s' is missing (needed by the %s head)",
                            st_path, p->encoder && m->head != LM_BERT_HEAD_BASE ? "bert." : "",
                            p->name, lmi_bert_head_name(m->head));
        }
        same = t->ndim == p->ndim;
        for (d = 0; same && d < p->ndim; d++) {
            same = t->shape[d] == p->shape[d];
        }
        if (!same) {
            lmi_shape_text(a, sizeof a, t->ndim, t->shape);
            lmi_shape_text(b, sizeof b, p->ndim, p->shape);
            lmi_free(found);
            return lmi_error(LM_ERR_SHAPE,
                            "%s: tensor '%s' has shape %s but config.json implies %s",
                            st_path, t->name, a, b);
        }
        if (t->dtype != LM_DTYPE_F32 && t->dtype != LM_DTYPE_F16 && t->dtype != LM_DTYPE_BF16) {
            lmi_free(found);
            return lmi_error(LM_ERR_UNSUPPORTED,
                            "%s: tensor '%s' has dtype %s (F32, F16 or BF16 expected)", st_path,
                            t->name, lmi_dtype_name(t->dtype));
        }
        found[i] = t;
        if (t->dtype == LM_DTYPE_F32 && lmi_st_tensor_is_aligned(t)) {
            *p->slot = (const float *)t->data; /* zero copy */
        } else {
            total += (t->numel + 15) & ~(size_t)15;
        }
    }
    if (total > 0) {
        m->slab = lmi_malloc_aligned(total * sizeof(float), LM_ALIGN);
        if (m->slab == NULL) {
            lmi_free(found);
            return lmi_error(LM_ERR_NOMEM, "out of memory converting %zu weights", total);
        }
        for (i = 0; i < m->nparams; i++) {
            if ((found[i] != NULL || init[i]) && *m->params[i].slot == NULL) {
                float *x = m->slab + off;
                off += (m->params[i].numel + 15) & ~(size_t)15;
                *m->params[i].slot = x;
                if (init[i]) {
                    init_param(m, i, fresh->seed);
                } else if ((s = lmi_tensor_to_f32(found[i], x)) != LM_OK) {
                    lmi_free(found);
                    return s;
                }
            }
        }
    }
    s = note_unused(m, found, st_path);
    lmi_free(found);
    if (m->head == LM_BERT_HEAD_MLM && m->w.mlm_dec_w == NULL) {
        m->w.mlm_dec_w = m->w.wte; /* tied */
    }
    if (s == LM_OK && n_fresh > 0) {
        m->fresh_head = 1;
        lmi_log(LM_LOG_INFO,
                "%s: no %s head in this checkpoint: %zu tensors initialised fresh (seed %llu, "
                "%lld labels); train the model before using its predictions",
                st_path, lmi_bert_head_name(m->head), n_fresh, (unsigned long long)fresh->seed,
                (long long)m->cfg.num_labels);
    }
    return s;
}

lm_status lmi_bert_load(const char *dir, int head, int threads, const lmi_fresh_head *fresh,
                        lmi_bert **out) {
    lmi_bert_config cfg;
    lmi_bert *m = NULL;
    char *cfg_path = lmi_path_join(dir, "config.json");
    char *st_path = lmi_path_join(dir, "model.safetensors");
    lm_status s;
    *out = NULL;
    memset(&cfg, 0, sizeof cfg);
    if (cfg_path == NULL || st_path == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory");
        goto done;
    }
    s = lmi_bert_config_load(cfg_path, &cfg);
    if (s != LM_OK) {
        goto done;
    }
    if (!lmi_file_exists(st_path)) {
        char *bin = lmi_path_join(dir, "pytorch_model.bin");
        int has_bin = bin != NULL && lmi_file_exists(bin);
        lmi_free(bin);
        s = lmi_error(has_bin ? LM_ERR_UNSUPPORTED : LM_ERR_NOT_FOUND,
                     has_bin ? "%s: only pytorch_model.bin here; liblm reads model.safetensors "
                               "(convert it with the safetensors package)"
                             : "%s: no model.safetensors in this folder",
                     dir);
        goto done;
    }
    if (head != LM_BERT_HEAD_AUTO && fresh != NULL) { /* labels of a head made at load */
        if (fresh->num_labels > 0 || fresh->label_names != NULL) {
            s = lmi_bert_config_set_labels(&cfg, fresh->num_labels > 0 ? fresh->num_labels
                                                                       : cfg.num_labels,
                                           fresh->label_names);
            if (s != LM_OK) {
                goto done;
            }
        }
        if (fresh->problem_type != LM_PROBLEM_AUTO) {
            cfg.problem_type = (lmi_problem)fresh->problem_type;
        }
    }
    s = new_model(&cfg, head, threads, &m);
    if (s != LM_OK) {
        goto done;
    }
    s = build_params(m, 1);
    if (s == LM_OK) {
        s = load_weights(m, st_path, head != LM_BERT_HEAD_AUTO ? fresh : NULL);
    }
    if (s == LM_OK) {
        s = read_pooling_defaults(m, dir);
    }
    if (s == LM_OK) {
        s = lmi_bert_read_max_length(m, dir);
    }
    if (s == LM_OK) {
        m->source_dir = lmi_strdup(dir);
        if (m->source_dir == NULL) {
            s = lmi_error(LM_ERR_NOMEM, "out of memory");
        }
    }
    if (s == LM_OK && m->w.pool_w == NULL) {
        m->w.pool_b = NULL; /* a pooler is all or nothing */
    }
    if (s == LM_OK && m->w.pool_w != NULL && m->w.pool_b == NULL) {
        s = lmi_error(LM_ERR_NOT_FOUND, "%s: tensor 'pooler.dense.bias' is missing", st_path);
    }
    if (s != LM_OK) {
        lmi_bert_free(m);
        m = NULL;
    }
done:
    lmi_bert_config_free(&cfg);
    lmi_free(cfg_path);
    lmi_free(st_path);
    *out = m;
    return s;
}

/* ---- save ---- */

lm_status lmi_bert_save(const lmi_bert *m, const char *dir) {
    lmi_bert_config cfg;
    lmi_st_write *ws = NULL;
    char (*names)[LM_BERT_NAME_MAX + 8] = NULL;
    char *json = NULL, *path = NULL;
    size_t i, n = 0;
    lm_status s;
    memset(&cfg, 0, sizeof cfg);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        return lmi_error(lmi_status_from_errno(e), "cannot create folder %s: %s", dir, strerror(e));
    }
    s = lmi_bert_config_copy(&cfg, &m->cfg);
    if (s != LM_OK) {
        return s;
    }
    lmi_free(cfg.architecture);
    cfg.architecture = lmi_strdup(lmi_bert_head_architecture(m->head));
    ws = lmi_calloc(m->nparams, sizeof *ws);
    names = lmi_calloc(m->nparams, sizeof *names);
    if (cfg.architecture == NULL || ws == NULL || names == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory saving a model");
        goto done;
    }
    s = lmi_bert_config_to_json(&cfg, &json);
    if (s != LM_OK) {
        goto done;
    }
    for (i = 0; i < m->nparams; i++) {
        const lmi_bert_param *p = &m->params[i];
        const float *x = own_storage(m, i);
        if (x == NULL) {
            continue;
        }
        snprintf(names[n], sizeof names[n], "%s%s",
                 p->encoder && m->head != LM_BERT_HEAD_BASE ? "bert." : "", p->name);
        ws[n].name = names[n];
        ws[n].dtype = LM_DTYPE_F32;
        ws[n].ndim = p->ndim;
        ws[n].shape[0] = p->shape[0];
        ws[n].shape[1] = p->shape[1];
        ws[n].data = x;
        n++;
    }
    path = lmi_path_join(dir, "model.safetensors");
    if (path == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory");
        goto done;
    }
    {
        static const char *const meta[] = {"format", "pt", NULL};
        s = lmi_safetensors_write(path, ws, n, meta);
    }
    if (s != LM_OK) {
        goto done;
    }
    lmi_free(path);
    path = lmi_path_join(dir, "config.json");
    if (path == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory");
        goto done;
    }
    s = lmi_file_write_atomic(path, json, strlen(json));
done:
    lmi_bert_config_free(&cfg);
    lmi_free(json);
    lmi_free(path);
    lmi_free(ws);
    lmi_free(names);
    return s;
}

/* ---- forward ---- */

lm_status lmi_bert_check_inputs(const lmi_bert *m, const int32_t *ids, const int32_t *type_ids,
                               const int32_t *mask, size_t B, size_t T) {
    size_t i;
    if ((int64_t)T > m->cfg.max_position_embeddings) {
        return lmi_error(LM_ERR_RANGE, "sequence length %zu exceeds max_position_embeddings %lld",
                        T, (long long)m->cfg.max_position_embeddings);
    }
    for (i = 0; i < B * T; i++) {
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size) {
            return lmi_error(LM_ERR_RANGE, "token id %ld at row %zu, position %zu is outside the "
                                          "vocabulary [0, %lld)",
                            (long)ids[i], i / T, i % T, (long long)m->cfg.vocab_size);
        }
        if (type_ids != NULL && (type_ids[i] < 0 || type_ids[i] >= m->cfg.type_vocab_size)) {
            return lmi_error(LM_ERR_RANGE, "token type id %ld at row %zu, position %zu is outside "
                                          "[0, %lld)",
                            (long)type_ids[i], i / T, i % T, (long long)m->cfg.type_vocab_size);
        }
        if (mask != NULL && mask[i] != 0 && mask[i] != 1) {
            return lmi_error(LM_ERR_RANGE, "attention mask value %ld at row %zu, position %zu is "
                                          "not 0 or 1",
                            (long)mask[i], i / T, i % T);
        }
    }
    return LM_OK;
}

/* Plans the ops of a head (tensor/guard.h) with room to pack a weight of up to `rows` x K for
 * liblm's GEMM (a chunk of 4096 rows at a time for larger ones). LM_ERR_NOMEM when that room
 * cannot be had; otherwise lmi_ops_end and head_end follow. */
static lm_status head_begin(const lmi_bert *m, lmi_ops_ctx *ctx, size_t rows, size_t K) {
    const size_t floats = lmi_gemm_pack_floats(rows < 4096 ? (rows > 0 ? rows : 1) : 4096, K);
    float *buf = lmi_malloc_aligned((floats > 0 ? floats : 16) * sizeof(float), LM_ALIGN);
    if (buf == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for a %zu x %zu head weight", rows, K);
    }
    lmi_ops_begin(ctx, m->threads);
    ctx->wbuf = buf;
    ctx->wbuf_floats = floats;
    return LM_OK;
}

static void head_end(lmi_ops_ctx *ctx) {
    lmi_ops_end(ctx);
    lmi_free_aligned(ctx->wbuf);
    ctx->wbuf = NULL;
}

lm_status lmi_bert_pool(const lmi_bert *m, const float *hidden, size_t B, size_t T, float *pooled) {
    /* pooled[B, C] = tanh(W hidden[:, 0] + b) */
    const size_t C = (size_t)m->cfg.hidden_size;
    lmi_ops_ctx ctx;
    if (m->w.pool_w == NULL) {
        return lmi_error(LM_ERR_STATE, "this model has no pooler (pooler.dense.* not in its "
                                      "weights)");
    }
    lm_status s = head_begin(m, &ctx, C, C);
    if (s != LM_OK) {
        return s;
    }
    /* the first token of each row (stride T C between rows): one product */
    lmi_gemm_nt_to(pooled, C, hidden, T * C, m->w.pool_w, C, m->w.pool_b, B, C, C, 0, ctx.wbuf,
                   ctx.wbuf_floats, ctx.threads);
    lmi_tanh_forward(&ctx, pooled, pooled, B * C);
    head_end(&ctx);
    return LM_OK;
}

void lmi_bert_sentence_embedding(const lmi_bert *m, const float *hidden, const int32_t *mask,
                                size_t B, size_t T, int pooling, int normalize, float *out) {
    /* out[B, C]: mean over unmasked tokens (sentence-transformers clamps the count at 1e-9) or
     * the first token; then optionally divided by max(||x||, 1e-12) (F.normalize). */
    const size_t C = (size_t)m->cfg.hidden_size;
    size_t b, t, c;
    for (b = 0; b < B; b++) {
        float *o = out + b * C;
        if (pooling == 2) {
            memcpy(o, hidden + b * T * C, C * sizeof(float));
        } else {
            float count = 0.0f;
            memset(o, 0, C * sizeof(float));
            for (t = 0; t < T; t++) {
                const float *h = hidden + (b * T + t) * C;
                if (mask != NULL && mask[b * T + t] == 0) {
                    continue;
                }
                count += 1.0f;
                for (c = 0; c < C; c++) {
                    o[c] += h[c];
                }
            }
            count = count < 1e-9f ? 1e-9f : count;
            for (c = 0; c < C; c++) {
                o[c] /= count;
            }
        }
        if (normalize) {
            double ss = 0.0;
            float norm;
            for (c = 0; c < C; c++) {
                ss += (double)o[c] * o[c];
            }
            norm = (float)sqrt(ss);
            norm = norm < 1e-12f ? 1e-12f : norm;
            for (c = 0; c < C; c++) {
                o[c] /= norm;
            }
        }
    }
}

/* logits[rows, num_labels] = in[rows, C] . classifier^T + bias, when the model has `head`. */
static lm_status classifier_logits(const lmi_bert *m, int head, const char *head_what,
                                   const float *in, size_t rows, float *logits) {
    lmi_ops_ctx ctx;
    lm_status s;
    if (m->w.cls_w == NULL || m->head != head) {
        return lmi_error(LM_ERR_STATE, "this model has no %s head (it is %s)", head_what,
                        lmi_bert_head_name(m->head));
    }
    s = head_begin(m, &ctx, (size_t)m->cfg.num_labels, (size_t)m->cfg.hidden_size);
    if (s != LM_OK) {
        return s;
    }
    lmi_matmul_forward(&ctx, logits, (size_t)m->cfg.num_labels, in, m->w.cls_w, m->w.cls_b, rows,
                      (size_t)m->cfg.hidden_size, (size_t)m->cfg.num_labels);
    head_end(&ctx);
    return LM_OK;
}

lm_status lmi_bert_seq_logits(const lmi_bert *m, const float *pooled, size_t B, float *logits) {
    return classifier_logits(m, LM_BERT_HEAD_SEQ_CLASS, "sequence-classification", pooled, B,
                             logits);
}

lm_status lmi_bert_token_logits(const lmi_bert *m, const float *hidden, size_t N, float *logits) {
    return classifier_logits(m, LM_BERT_HEAD_TOKEN_CLASS, "token-classification", hidden, N,
                             logits);
}

lm_status lmi_bert_qa_logits(const lmi_bert *m, const float *hidden, size_t B, size_t T,
                            float *start, float *end) {
    const size_t C = (size_t)m->cfg.hidden_size;
    size_t i;
    if (m->w.qa_w == NULL) {
        return lmi_error(LM_ERR_STATE, "this model has no question-answering head (it is %s)",
                        lmi_bert_head_name(m->head));
    }
    for (i = 0; i < B * T; i++) {
        const float *h = hidden + i * C;
        double s = m->w.qa_b[0], e = m->w.qa_b[1];
        size_t c;
        for (c = 0; c < C; c++) {
            s += (double)h[c] * m->w.qa_w[c];
            e += (double)h[c] * m->w.qa_w[C + c];
        }
        start[i] = (float)s;
        end[i] = (float)e;
    }
    return LM_OK;
}

lm_status lmi_bert_mlm_logits(const lmi_bert *m, const float *hidden, const size_t *rows, size_t n,
                             float *logits) {
    const size_t C = (size_t)m->cfg.hidden_size, V = (size_t)m->cfg.vocab_size;
    lmi_ops_ctx ctx;
    float *x, *t;
    size_t i;
    if (m->w.mlm_w == NULL) {
        return lmi_error(LM_ERR_STATE, "this model has no masked-LM head (it is %s)",
                        lmi_bert_head_name(m->head));
    }
    if (n == 0) {
        return LM_OK;
    }
    x = lmi_malloc_aligned(2 * n * C * sizeof(float), LM_ALIGN);
    if (x == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for %zu masked-LM rows", n);
    }
    if (head_begin(m, &ctx, V > C ? V : C, C) != LM_OK) {
        lmi_free_aligned(x);
        return LM_ERR_NOMEM;
    }
    t = x + n * C;
    for (i = 0; i < n; i++) {
        memcpy(x + i * C, hidden + (rows != NULL ? rows[i] : i) * C, C * sizeof(float));
    }
    lmi_matmul_forward(&ctx, t, C, x, m->w.mlm_w, m->w.mlm_b, n, C, C);
    lmi_bert_act_forward(&ctx, m->cfg.hidden_act, t, t, n * C);
    lmi_layernorm_forward(&ctx, t, NULL, NULL, t, m->w.mlm_ln_w, m->w.mlm_ln_b, n, C,
                         (float)m->cfg.layer_norm_eps);
    lmi_matmul_forward(&ctx, logits, V, t, m->w.mlm_dec_w, m->w.mlm_bias, n, C, V);
    head_end(&ctx);
    lmi_free_aligned(x);
    return LM_OK;
}
