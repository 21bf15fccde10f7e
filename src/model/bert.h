/* Internal: the BERT encoder and its heads. A model is a configuration, a head kind, a parameter
 * table (Hugging Face names, shapes, pointers) and the storage behind it: a read-only map of
 * model.safetensors for F32 tensors read in place, plus one owned slab for converted (F16/BF16,
 * unaligned) or freshly initialised tensors. A loaded model is read-only: forward calls allocate
 * their own scratch, so many threads may run them at once.
 *
 * Training (lmi_bert_make_trainable) moves every parameter into one owned, writable F32 slab laid
 * out by the parameter table (param->offset, each tensor starting on a 64-byte boundary); the
 * gradients and optimizer moments are slabs of the same layout, seen through lmi_bert_grads (the
 * same fields as lmi_bert_weights, writable), so an optimizer is one flat loop. The tied MLM
 * decoder has no entry of its own: it is the word-embedding entry under a second name, so its
 * gradient lands there. */
#ifndef LM_MODEL_BERT_H
#define LM_MODEL_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "model/config.h"
#include "safetensors/safetensors.h"
#include "tensor/gemm.h"

/* Head kinds (the values of the public lm_head enum). */
enum {
    LM_BERT_HEAD_AUTO = 0,
    LM_BERT_HEAD_BASE = 1,
    LM_BERT_HEAD_SEQ_CLASS = 2,
    LM_BERT_HEAD_TOKEN_CLASS = 3,
    LM_BERT_HEAD_QA = 4,
    LM_BERT_HEAD_MLM = 5,
    LM_BERT_HEAD_COUNT = 6
};

/* The fields of one encoder layer, with T the element type (const float for the weights, float
 * for their gradients): one list, so both structs have the same layout. */
#define LMI_BERT_LAYER_FIELDS(T)                                                                  \
    T *q_w, *q_b, *k_w, *k_b, *v_w, *v_b; /* attention.self.{query,key,value}: [C, C], [C] */     \
    T *ao_w, *ao_b;                       /* attention.output.dense: [C, C], [C] */               \
    T *ln1_w, *ln1_b;                     /* attention.output.LayerNorm: [C], [C] */              \
    T *i_w, *i_b;                         /* intermediate.dense: [I, C], [I] */                   \
    T *o_w, *o_b;                         /* output.dense: [C, I], [C] */                         \
    T *ln2_w, *ln2_b;                     /* output.LayerNorm: [C], [C] */

/* The model-level fields (everything but the layers), likewise. */
#define LMI_BERT_TOP_FIELDS(T)                                                                    \
    T *wte, *wpe, *wtt;      /* word [V, C], position [P, C], token type [TV, C] */               \
    T *emb_ln_w, *emb_ln_b;  /* embeddings.LayerNorm [C] */                                       \
    T *pool_w, *pool_b;      /* pooler.dense [C, C], [C]; NULL when absent */                     \
    T *cls_w, *cls_b;        /* classifier [NL, C], [NL] (sequence/token heads) */                \
    T *qa_w, *qa_b;          /* qa_outputs [2, C], [2] */                                         \
    T *mlm_w, *mlm_b;        /* cls.predictions.transform.dense [C, C], [C] */                    \
    T *mlm_ln_w, *mlm_ln_b;  /* cls.predictions.transform.LayerNorm [C] */                        \
    T *mlm_dec_w;            /* decoder [V, C]: the word embeddings when tied */                  \
    T *mlm_bias;             /* decoder bias [V]: cls.predictions.bias (tied), \
                                cls.predictions.decoder.bias (untied) */

typedef struct lmi_bert_layer {
    LMI_BERT_LAYER_FIELDS(const float)
} lmi_bert_layer;

typedef struct lmi_bert_weights {
    LMI_BERT_TOP_FIELDS(const float)
    lmi_bert_layer *layers; /* [L] */
} lmi_bert_weights;

/* Gradients (or any slab of the parameter layout) as views: the fields of lmi_bert_weights. */
typedef struct lmi_bert_layer_grads {
    LMI_BERT_LAYER_FIELDS(float)
} lmi_bert_layer_grads;

typedef struct lmi_bert_grads {
    LMI_BERT_TOP_FIELDS(float)
    lmi_bert_layer_grads *layers; /* [L], owned by whoever fills the views */
} lmi_bert_grads;

#define LM_BERT_NAME_MAX 96

typedef struct lmi_bert_param {
    char name[LM_BERT_NAME_MAX]; /* Hugging Face name without the "bert." prefix */
    int encoder;                 /* 1: an encoder tensor ("bert." prefix in head checkpoints) */
    int optional;                /* 1: may be absent (pooler, untied decoder) */
    size_t ndim;
    int64_t shape[2];
    size_t numel;
    const float **slot;          /* where the data pointer goes in lmi_bert_weights */
    int init;                    /* 0: normal(0, range); 1: ones; 2: zeros */
    long layer;                  /* the slot's layer, or -1 for a model-level field */
    size_t field;                /* byte offset of the slot in lmi_bert_weights (layer -1) or in
                                    lmi_bert_layer: the same in lmi_bert_grads / _layer_grads */
    size_t offset;               /* first float in a slab of the parameter layout */
    int decay;                   /* 1: weight decay applies (not a bias, not a LayerNorm) */
} lmi_bert_param;

/* One encoder layer's Linear weights packed for liblm's GEMM (tensor/gemm.h), with Q, K and V as
 * one [3C, C] weight; or, for an int8 model, quantised (tensor/qgemm.h). */
typedef struct lmi_bert_layer_packs {
    lmi_gemm_packed qkv, ao, in, out;
    struct lmi_q8_weight *q8[4]; /* qkv, ao, in, out quantised (int8 models), else NULL */
    const float *qkv_b;          /* [3C] the Q | K | V biases side by side */
    /* copies of the layer's small tensors, so that inference reads no page of the file map
     * (each read there would map back 64 KiB of the packed weights around it) */
    const float *ao_b, *ln1_w, *ln1_b, *i_b, *o_b, *ln2_w, *ln2_b;
} lmi_bert_layer_packs;

typedef struct lmi_bert_packs {
    void *block;                  /* every pack and bias of the model: one allocation */
    lmi_bert_layer_packs *layers; /* [L], in the block */
    int int8;                     /* 1: the q8 weights, 0: the f32 packs */
} lmi_bert_packs;

/* What a model makes for inference on first use and keeps (src/model/packs.c): the packs, made
 * once under the lock, read by any number of forwards at once after that. */
typedef struct lmi_bert_cache lmi_bert_cache;

typedef struct lmi_bert {
    lmi_bert_config cfg;
    int head;                    /* LM_BERT_HEAD_* (never AUTO) */
    int threads;                 /* OpenMP threads of the non-BLAS loops */
    lmi_bert_weights w;
    lmi_bert_param *params;
    size_t nparams;
    size_t slab_floats;          /* floats of a slab of the parameter layout (padding included) */
    lmi_safetensors *st;          /* NULL for created and trainable models */
    float *slab;                 /* owned storage (lmi_malloc_aligned), or NULL; for a trainable
                                    model every parameter, at its offset */
    int trainable;               /* 1: every parameter lives in `slab` at its offset (writable) */
    int trainer_attached;        /* 1: a trainer is using the model */
    int pooling;                 /* embedding defaults: 1 mean, 2 cls */
    int normalize;
    char *source_dir;            /* folder it was loaded from, owned, or NULL */
    const char **unused;         /* names of tensors in the file that no parameter uses (pointing
                                    into st, or into unused_names once st is closed), owned array,
                                    or NULL */
    char *unused_names;          /* owned copies of those names after st is closed, or NULL */
    size_t n_unused;
    int fresh_head;              /* 1: the head's weights were initialised at load (not in file) */
    int64_t max_seq_length;      /* default tokens per input of the text pipelines, special tokens
                                    included (lmi_bert_read_max_length); <= max_position_embeddings */
    int int8;                    /* 1: inference on int8 weights (lm_model_options.int8) */
    lmi_bert_cache *cache;       /* owned; see lmi_bert_packs_get */
} lmi_bert;

/* The model's packs, made on the first call (lazily, once, under a lock; later calls only read a
 * pointer): every encoder Linear weight packed for the GEMM (int8 models: quantised), after
 * which the pages of the file map under the packed weights are dropped from memory (they read
 * back from the file when something needs the f32 values again: saving, training). NULL with
 * *status LM_ERR_NOMEM (and the error text) when they cannot be made; the next call tries
 * again. (src/model/packs.c) */
const lmi_bert_packs *lmi_bert_packs_get(const lmi_bert *m, lm_status *status);
/* Frees the packs (the weights changed: a trainer step, or the model became trainable); the next
 * inference makes them again. Not while a forward runs on the model. */
void lmi_bert_packs_drop(const lmi_bert *m);
/* The cache's lifetime (new_model / lmi_bert_free). */
lm_status lmi_bert_cache_new(lmi_bert *m);
void lmi_bert_cache_free(lmi_bert *m);

/* A head to initialise at load when the checkpoint lacks it (lmi_bert_load). */
typedef struct lmi_fresh_head {
    int64_t num_labels;              /* > 0: this many labels; 0: from label_names or config */
    const char *const *label_names;  /* num_labels names (id2label), or NULL */
    int problem_type;                /* an lmi_problem; LM_PROBLEM_AUTO keeps the config's */
    uint64_t seed;                   /* seed of the fresh weights */
} lmi_fresh_head;

/* The head named by a config's first architecture (BertModel / unknown -> BASE). */
int lmi_bert_head_from_architecture(const char *architecture);
const char *lmi_bert_head_name(int head);
/* transformers' architecture class name for a head, e.g. "BertForMaskedLM". */
const char *lmi_bert_head_architecture(int head);

/* Loads config.json + model.safetensors (+ sentence-transformers pooling defaults) from dir.
 * head: LM_BERT_HEAD_* (AUTO = from config.json). When `head` is given and the checkpoint lacks
 * that head's tensors (a base or embedding checkpoint loaded for classification, ...), they are
 * initialised as transformers does (normal(0, initializer_range), zero biases, unit layer norms)
 * from fresh->seed, with fresh->num_labels / label_names (NULL fresh: the config's labels, seed
 * 0), and the log says so. Missing encoder tensors are always an error. Tensors of the file that
 * no parameter uses are listed in m->unused and reported in the log. On failure *out is NULL. */
lm_status lmi_bert_load(const char *dir, int head, int threads, const lmi_fresh_head *fresh,
                        lmi_bert **out);
/* Sets m->max_seq_length from the folder it was loaded from, as sentence-transformers and
 * transformers take it: sentence_bert_config.json "max_seq_length" when present, else
 * tokenizer_config.json "model_max_length" (transformers writes 1e30 for "no limit"), else (and at
 * most) config.json max_position_embeddings. Values below 3 and unreadable files are ignored (and
 * logged); only LM_ERR_NOMEM is an error. (src/model/limits.c) */
lm_status lmi_bert_read_max_length(lmi_bert *m, const char *dir);
/* A new model from a parsed config (copied) with transformers' initialisation from `seed`. */
lm_status lmi_bert_create(const lmi_bert_config *cfg, int head, int threads, uint64_t seed,
                         lmi_bert **out);
/* Writes dir/config.json and dir/model.safetensors (each atomically). Creates dir when missing
 * (one level). */
lm_status lmi_bert_save(const lmi_bert *m, const char *dir);
void lmi_bert_free(lmi_bert *m);

/* Makes the model trainable: every parameter moves into one owned, writable slab of the
 * parameter layout (m->slab, m->slab_floats floats, parameter i at params[i].offset), copied out
 * of the file map or of the old slab, which are released (the unused-tensor names are copied
 * first). A created model already has that layout: nothing moves. Idempotent. LM_ERR_NOMEM
 * leaves the model as it was. */
lm_status lmi_bert_make_trainable(lmi_bert *m);
/* Fills g with views over `slab`, a slab of the parameter layout (m->slab_floats floats):
 * each field of g points where the same parameter lives in the slab, the tied decoder at the
 * word embeddings; fields of absent tensors are NULL. g->layers must hold L entries. */
void lmi_bert_views(const lmi_bert *m, float *slab, lmi_bert_grads *g);
/* The parameter named `name` (with or without the "bert." prefix), or NULL. */
const lmi_bert_param *lmi_bert_find_param(const lmi_bert *m, const char *name);
/* The model behind a public handle (src/api/model.c). */
lmi_bert *lmi_model_bert(const lm_model_t *model);

uint64_t lmi_bert_parameter_count(const lmi_bert *m);
uint64_t lmi_bert_nan_count(const lmi_bert *m);

/* Checks ids/type ids/mask against the config: LM_ERR_RANGE naming the row and column. */
lm_status lmi_bert_check_inputs(const lmi_bert *m, const int32_t *ids, const int32_t *type_ids,
                               const int32_t *mask, size_t B, size_t T);

/* Encoder: hidden[B, T, C] = last hidden state. ids[B, T], type_ids[B, T] or NULL (zeros),
 * mask[B, T] or NULL (ones). Inputs must have passed lmi_bert_check_inputs. pad_rows: 1 computes
 * the rows of the padding after each sequence's last real token too (what transformers returns
 * there); 0 skips them (their rows are zero): for callers that never read them (pooling,
 * classification, the pipelines). A real token's row is the same either way, bit for bit. */
lm_status lmi_bert_encode(const lmi_bert *m, const int32_t *ids, const int32_t *type_ids,
                         const int32_t *mask, size_t B, size_t T, float *hidden, int pad_rows);

/* Heads over a hidden state hidden[B, T, C]. Each returns LM_ERR_STATE when the model lacks the
 * head's weights, LM_ERR_NOMEM. */
lm_status lmi_bert_pool(const lmi_bert *m, const float *hidden, size_t B, size_t T,
                       float *pooled /* [B, C] */);
void lmi_bert_sentence_embedding(const lmi_bert *m, const float *hidden, const int32_t *mask,
                                size_t B, size_t T, int pooling, int normalize,
                                float *out /* [B, C] */);
lm_status lmi_bert_seq_logits(const lmi_bert *m, const float *pooled, size_t B,
                             float *logits /* [B, NL] */);
lm_status lmi_bert_token_logits(const lmi_bert *m, const float *hidden, size_t N,
                               float *logits /* [N, NL] */);
lm_status lmi_bert_qa_logits(const lmi_bert *m, const float *hidden, size_t B, size_t T,
                            float *start /* [B, T] */, float *end /* [B, T] */);
/* MLM logits for n rows of hidden (rows[i] indexes the B*T rows; rows NULL = rows 0..n-1). */
lm_status lmi_bert_mlm_logits(const lmi_bert *m, const float *hidden, const size_t *rows, size_t n,
                             float *logits /* [n, V] */);

#endif
