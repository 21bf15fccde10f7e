/* Internal: the BERT model configuration (Hugging Face transformers' config.json for
 * model_type "bert"): defaults, parsing with validation, writing back in a form transformers loads.
 *
 * Parsing follows transformers' BertConfig / PretrainedConfig:
 *  - absent keys take BertConfig's defaults (lmi_bert_config_default);
 *  - labels: "id2label" ({"0": "NEG", "1": "POS"}, keys are decimal strings 0..n-1),
 *    "label2id" (its inverse) and "num_labels" may each be present; when none is, num_labels is 2
 *    with labels "LABEL_0", "LABEL_1". When two are present they must agree (same count, label2id
 *    the exact inverse of id2label), otherwise LM_ERR_FORMAT naming the fields;
 *  - "problem_type": absent/null -> LM_PROBLEM_AUTO (transformers then infers it from num_labels
 *    and the label dtype), "single_label_classification", "multi_label_classification",
 *    "regression";
 *  - "architectures": the first entry is kept in `architecture` (NULL when absent).
 * Unsupported settings give LM_ERR_UNSUPPORTED with a sentence naming the field: model_type other
 * than "bert" (when present), position_embedding_type other than "absolute", is_decoder true,
 * add_cross_attention true, chunk_size_feed_forward != 0, hidden_act other than "gelu", "gelu_new",
 * "gelu_pytorch_tanh", "relu", hidden_size not divisible by num_attention_heads.
 * Wrong JSON types (a string where a number belongs, 768.5 for a size, ...) give LM_ERR_FORMAT;
 * integers outside their limits (sizes < 1 or above the LM_CONFIG_MAX_* below, num_labels < 1)
 * LM_ERR_RANGE; inconsistent values (pad_token_id >= vocab_size, probabilities outside [0, 1),
 * layer_norm_eps <= 0, duplicate label names) LM_ERR_FORMAT; invalid UTF-8 LM_ERR_UTF8. Every
 * sentence names the input (`what` or the path) and the field. Unknown keys are ignored, as
 * transformers does (e.g. "dtype", "transformers_version", "gradient_checkpointing").
 */
#ifndef LM_MODEL_CONFIG_H
#define LM_MODEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"

/* Limits applied when parsing (larger values are LM_ERR_RANGE naming the field). */
#define LM_CONFIG_MAX_DIM ((int64_t)1 << 20)    /* hidden, intermediate, heads, positions */
#define LM_CONFIG_MAX_VOCAB ((int64_t)1 << 24)  /* vocab_size, type_vocab_size */
#define LM_CONFIG_MAX_LAYERS ((int64_t)1024)
#define LM_CONFIG_MAX_LABELS ((int64_t)1 << 16)
#define LM_CONFIG_MAX_FILE ((size_t)16 << 20)   /* config.json size */

typedef enum lmi_act {
    LM_ACT_GELU,      /* "gelu": exact, x * Phi(x) with erf */
    LM_ACT_GELU_TANH, /* "gelu_new", "gelu_pytorch_tanh": the tanh approximation */
    LM_ACT_RELU       /* "relu" */
} lmi_act;

/* problem_type takes the public lm_problem_type values; LM_PROBLEM_AUTO when config.json has
 * none. */
typedef int32_t lmi_problem;

typedef struct lmi_bert_config {
    int64_t vocab_size;              /* 30522 */
    int64_t hidden_size;             /* 768 */
    int64_t num_hidden_layers;       /* 12 */
    int64_t num_attention_heads;     /* 12 */
    int64_t intermediate_size;       /* 3072 */
    int64_t max_position_embeddings; /* 512 */
    int64_t type_vocab_size;         /* 2 */
    int64_t pad_token_id;            /* 0 */
    int64_t num_labels;              /* 2; always equal to the number of id2label entries */
    lmi_act hidden_act;               /* gelu */
    double hidden_dropout_prob;          /* 0.1 */
    double attention_probs_dropout_prob; /* 0.1 */
    double layer_norm_eps;               /* 1e-12 */
    double initializer_range;            /* 0.02 */
    double classifier_dropout;           /* -1 when null/absent: heads use hidden_dropout_prob */
    lmi_problem problem_type;             /* LM_PROBLEM_AUTO */
    char **id2label;    /* num_labels NUL-terminated strings, owned (lmi_malloc); never NULL after
                           a successful default/parse/copy */
    char *architecture; /* first "architectures" entry, owned, or NULL */
    char *hidden_act_name; /* the spelling read ("gelu_new", ...), owned, or NULL: written back */
    int tie_word_embeddings; /* 1 (default): the MLM decoder weight is the word embedding matrix
                                (files saved by transformers then omit
                                cls.predictions.decoder.weight); 0: stored separately */
} lmi_bert_config;

/* Fills c with transformers' BertConfig defaults (bert-base-uncased sizes, 2 labels
 * "LABEL_0"/"LABEL_1", no architecture). Returns LM_ERR_NOMEM (c then holds no owned memory and
 * may be passed to lmi_bert_config_free). */
lm_status lmi_bert_config_default(lmi_bert_config *c);

/* Parses config.json text json[0..len) (need not be NUL-terminated). `what` names it in errors.
 * On failure *out holds no owned memory (safe to free, or to ignore). */
lm_status lmi_bert_config_parse(const char *json, size_t len, const char *what, lmi_bert_config *out);

/* Reads and parses a config.json file (at most LM_CONFIG_MAX_FILE bytes). */
lm_status lmi_bert_config_load(const char *path, lmi_bert_config *out);

/* Checks the invariants parse enforces (for configs built in code). */
lm_status lmi_bert_config_validate(const lmi_bert_config *c, const char *what);

/* Serialises as a config.json that transformers' AutoConfig/BertConfig loads back to the same
 * values (model_type "bert", architectures, id2label/label2id, problem_type, ...).
 * *json_out is NUL-terminated; free with lmi_free. */
lm_status lmi_bert_config_to_json(const lmi_bert_config *c, char **json_out);

/* Deep copy: dst gets its own strings. On failure dst holds no owned memory. */
lm_status lmi_bert_config_copy(lmi_bert_config *dst, const lmi_bert_config *src);

/* Replaces the labels with n labels: names[i] when names is not NULL, else "LABEL_i". Sets
 * num_labels. On failure c is unchanged. */
lm_status lmi_bert_config_set_labels(lmi_bert_config *c, int64_t n, const char *const *names);

/* The label for id `i`, or NULL when out of range. */
const char *lmi_bert_config_label(const lmi_bert_config *c, int64_t i);

/* Frees the owned strings and sets the pointers to NULL; NULL c is a no-op. */
void lmi_bert_config_free(lmi_bert_config *c);

#endif
