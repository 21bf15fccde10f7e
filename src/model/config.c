/* BERT config.json: transformers' BertConfig defaults, validating parser, writer, label maps. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json.h"

static void free_labels(char **labels, int64_t n) {
    int64_t i;
    if (labels == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        lmi_free(labels[i]);
    }
    lmi_free(labels);
}

void lmi_bert_config_free(lmi_bert_config *c) {
    if (c == NULL) {
        return;
    }
    free_labels(c->id2label, c->num_labels);
    c->id2label = NULL;
    lmi_free(c->architecture);
    c->architecture = NULL;
    lmi_free(c->hidden_act_name);
    c->hidden_act_name = NULL;
}

/* A new array of n labels (names[i] or "LABEL_i"); NULL on allocation failure. */
static char **make_labels(int64_t n, const char *const *names) {
    char **labels = lmi_calloc((size_t)(n > 0 ? n : 1), sizeof *labels);
    int64_t i;
    if (labels == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (names != NULL) {
            labels[i] = lmi_strdup(names[i]);
        } else {
            char buf[32];
            snprintf(buf, sizeof buf, "LABEL_%lld", (long long)i);
            labels[i] = lmi_strdup(buf);
        }
        if (labels[i] == NULL) {
            free_labels(labels, i);
            return NULL;
        }
    }
    return labels;
}

static void set_defaults_no_alloc(lmi_bert_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 30522;
    c->hidden_size = 768;
    c->num_hidden_layers = 12;
    c->num_attention_heads = 12;
    c->intermediate_size = 3072;
    c->max_position_embeddings = 512;
    c->type_vocab_size = 2;
    c->pad_token_id = 0;
    c->num_labels = 0; /* no labels allocated yet */
    c->hidden_act = LM_ACT_GELU;
    c->hidden_dropout_prob = 0.1;
    c->attention_probs_dropout_prob = 0.1;
    c->layer_norm_eps = 1e-12;
    c->initializer_range = 0.02;
    c->classifier_dropout = -1.0;
    c->problem_type = LM_PROBLEM_AUTO;
    c->tie_word_embeddings = 1;
}

lm_status lmi_bert_config_default(lmi_bert_config *c) {
    if (c == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_bert_config_default: NULL config");
    }
    set_defaults_no_alloc(c);
    c->id2label = make_labels(2, NULL);
    if (c->id2label == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for the default labels");
    }
    c->num_labels = 2;
    return LM_OK;
}

lm_status lmi_bert_config_set_labels(lmi_bert_config *c, int64_t n, const char *const *names) {
    char **labels;
    int64_t i;
    if (c == NULL || n < 1 || n > LM_CONFIG_MAX_LABELS) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                        "lmi_bert_config_set_labels: need a config and 1..%lld labels",
                        (long long)LM_CONFIG_MAX_LABELS);
    }
    if (names != NULL) {
        for (i = 0; i < n; i++) {
            if (names[i] == NULL) {
                return lmi_error(LM_ERR_INVALID_ARGUMENT,
                                "lmi_bert_config_set_labels: label %lld is NULL", (long long)i);
            }
        }
    }
    labels = make_labels(n, names);
    if (labels == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for %lld labels", (long long)n);
    }
    free_labels(c->id2label, c->num_labels);
    c->id2label = labels;
    c->num_labels = n;
    return LM_OK;
}

const char *lmi_bert_config_label(const lmi_bert_config *c, int64_t i) {
    if (c == NULL || c->id2label == NULL || i < 0 || i >= c->num_labels) {
        return NULL;
    }
    return c->id2label[i];
}

lm_status lmi_bert_config_copy(lmi_bert_config *dst, const lmi_bert_config *src) {
    lmi_bert_config tmp;
    if (dst == NULL || src == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_bert_config_copy: NULL argument");
    }
    tmp = *src;
    tmp.id2label = NULL;
    tmp.architecture = NULL;
    tmp.hidden_act_name = NULL;
    if (src->id2label != NULL) {
        tmp.id2label = make_labels(src->num_labels, (const char *const *)src->id2label);
    }
    if (src->architecture != NULL) {
        tmp.architecture = lmi_strdup(src->architecture);
    }
    if (src->hidden_act_name != NULL) {
        tmp.hidden_act_name = lmi_strdup(src->hidden_act_name);
    }
    if ((src->id2label != NULL && tmp.id2label == NULL) ||
        (src->architecture != NULL && tmp.architecture == NULL) ||
        (src->hidden_act_name != NULL && tmp.hidden_act_name == NULL)) {
        if (tmp.id2label == NULL) {
            tmp.num_labels = 0;
        }
        lmi_bert_config_free(&tmp);
        memset(dst, 0, sizeof *dst);
        return lmi_error(LM_ERR_NOMEM, "out of memory copying a model configuration");
    }
    *dst = tmp;
    return LM_OK;
}

static int act_from_name(const char *name, lmi_act *out) {
    if (strcmp(name, "gelu") == 0) {
        *out = LM_ACT_GELU;
    } else if (strcmp(name, "gelu_new") == 0 || strcmp(name, "gelu_pytorch_tanh") == 0) {
        *out = LM_ACT_GELU_TANH;
    } else if (strcmp(name, "relu") == 0) {
        *out = LM_ACT_RELU;
    } else {
        return 0;
    }
    return 1;
}

static const char *act_name(const lmi_bert_config *c) {
    if (c->hidden_act_name != NULL) {
        return c->hidden_act_name;
    }
    switch (c->hidden_act) {
    case LM_ACT_GELU_TANH:
        return "gelu_new";
    case LM_ACT_RELU:
        return "relu";
    default:
        return "gelu";
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

lm_status lmi_bert_config_validate(const lmi_bert_config *c, const char *what) {
    int64_t i;
    if (c == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_bert_config_validate: NULL config");
    }
    if (what == NULL) {
        what = "model configuration";
    }
#define LM_CHECK_RANGE(field, lo, hi)                                                            \
    if (c->field < (lo) || c->field > (hi)) {                                                    \
        return lmi_error(LM_ERR_FORMAT, "%s: \"" #field "\" is %lld, outside [%lld, %lld]", what,  \
                        (long long)c->field, (long long)(lo), (long long)(hi));                  \
    }
    LM_CHECK_RANGE(vocab_size, 1, LM_CONFIG_MAX_VOCAB)
    LM_CHECK_RANGE(hidden_size, 1, LM_CONFIG_MAX_DIM)
    LM_CHECK_RANGE(num_hidden_layers, 1, LM_CONFIG_MAX_LAYERS)
    LM_CHECK_RANGE(num_attention_heads, 1, LM_CONFIG_MAX_DIM)
    LM_CHECK_RANGE(intermediate_size, 1, LM_CONFIG_MAX_DIM)
    LM_CHECK_RANGE(max_position_embeddings, 1, LM_CONFIG_MAX_DIM)
    LM_CHECK_RANGE(type_vocab_size, 1, LM_CONFIG_MAX_VOCAB)
    LM_CHECK_RANGE(pad_token_id, 0, c->vocab_size - 1)
    LM_CHECK_RANGE(num_labels, 1, LM_CONFIG_MAX_LABELS)
#undef LM_CHECK_RANGE
    if (c->hidden_size % c->num_attention_heads != 0) {
        return lmi_error(LM_ERR_UNSUPPORTED,
                        "%s: \"hidden_size\" %lld is not a multiple of \"num_attention_heads\" %lld",
                        what, (long long)c->hidden_size, (long long)c->num_attention_heads);
    }
    if ((int)c->hidden_act < LM_ACT_GELU || c->hidden_act > LM_ACT_RELU) {
        return lmi_error(LM_ERR_UNSUPPORTED, "%s: \"hidden_act\" value %d is unknown", what,
                        (int)c->hidden_act);
    }
    if (!(c->hidden_dropout_prob >= 0 && c->hidden_dropout_prob < 1)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"hidden_dropout_prob\" %g is outside [0, 1)", what,
                        c->hidden_dropout_prob);
    }
    if (!(c->attention_probs_dropout_prob >= 0 && c->attention_probs_dropout_prob < 1)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"attention_probs_dropout_prob\" %g is outside [0, 1)",
                        what, c->attention_probs_dropout_prob);
    }
    if (!(c->classifier_dropout == -1.0 ||
          (c->classifier_dropout >= 0 && c->classifier_dropout < 1))) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"classifier_dropout\" %g is outside [0, 1)", what,
                        c->classifier_dropout);
    }
    if (!(c->layer_norm_eps > 0 && isfinite(c->layer_norm_eps))) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"layer_norm_eps\" %g must be positive", what,
                        c->layer_norm_eps);
    }
    if (!(c->initializer_range >= 0 && isfinite(c->initializer_range))) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"initializer_range\" %g must be non-negative", what,
                        c->initializer_range);
    }
    if ((int)c->problem_type < LM_PROBLEM_AUTO || c->problem_type > LM_PROBLEM_REGRESSION) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"problem_type\" value %d is unknown", what,
                        (int)c->problem_type);
    }
    if (c->id2label == NULL) {
        return lmi_error(LM_ERR_FORMAT, "%s: no label names", what);
    }
    for (i = 0; i < c->num_labels; i++) {
        if (c->id2label[i] == NULL) {
            return lmi_error(LM_ERR_FORMAT, "%s: label %lld has no name", what, (long long)i);
        }
    }
    /* Label names must be unique, or label2id could not be the inverse of id2label. */
    if (c->num_labels > 1) {
        const char **sorted = lmi_malloc_array((size_t)c->num_labels, sizeof *sorted);
        lm_status s = LM_OK;
        if (sorted == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory checking labels", what);
        }
        memcpy(sorted, c->id2label, (size_t)c->num_labels * sizeof *sorted);
        qsort(sorted, (size_t)c->num_labels, sizeof *sorted, cmp_str);
        for (i = 1; i < c->num_labels; i++) {
            if (strcmp(sorted[i - 1], sorted[i]) == 0) {
                s = lmi_error(LM_ERR_FORMAT, "%s: label \"%.40s\" is used for two ids", what,
                             sorted[i]);
                break;
            }
        }
        lmi_free((void *)sorted);
        return s;
    }
    return LM_OK;
}

/* Parses a decimal id key of id2label ("0", "17"); returns 1 and stores it, or 0. */
static int parse_id_key(const char *s, int64_t *out) {
    int64_t v = 0;
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > LM_CONFIG_MAX_LABELS) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 1;
}

/* Reads id2label / label2id / num_labels into c (which has no labels yet). */
static lm_status parse_labels(const cJSON *root, const char *what, lmi_bert_config *c) {
    const cJSON *id2 = cJSON_GetObjectItemCaseSensitive(root, "id2label");
    const cJSON *l2i = cJSON_GetObjectItemCaseSensitive(root, "label2id");
    const cJSON *e;
    int64_t num = 0;
    int have_num;
    int64_t n;
    char **labels;
    lm_status s;

    if (cJSON_IsNull(id2)) {
        id2 = NULL;
    }
    if (cJSON_IsNull(l2i)) {
        l2i = NULL;
    }
    if (id2 != NULL && !cJSON_IsObject(id2)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"id2label\" must be an object", what);
    }
    if (l2i != NULL && !cJSON_IsObject(l2i)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"label2id\" must be an object", what);
    }
    s = lmi_json_get_int(root, "num_labels", what, 1, LM_CONFIG_MAX_LABELS, &num);
    if (s != LM_OK && s != LM_ERR_NOT_FOUND) {
        return s;
    }
    have_num = s == LM_OK;
    if (id2 != NULL) {
        n = cJSON_GetArraySize(id2);
    } else if (l2i != NULL) {
        n = cJSON_GetArraySize(l2i);
    } else {
        n = have_num ? num : 2;
    }
    if (n < 1 || n > LM_CONFIG_MAX_LABELS) {
        return lmi_error(LM_ERR_FORMAT, "%s: %lld labels (need 1..%lld)", what, (long long)n,
                        (long long)LM_CONFIG_MAX_LABELS);
    }
    if (have_num && num != n) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"num_labels\" is %lld but \"%s\" has %lld entries",
                        what, (long long)num, id2 != NULL ? "id2label" : "label2id",
                        (long long)n);
    }
    if (id2 != NULL && l2i != NULL && cJSON_GetArraySize(l2i) != n) {
        return lmi_error(LM_ERR_FORMAT,
                        "%s: \"id2label\" has %lld entries but \"label2id\" has %d", what,
                        (long long)n, cJSON_GetArraySize(l2i));
    }
    labels = lmi_calloc((size_t)n, sizeof *labels);
    if (labels == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for %lld labels", what, (long long)n);
    }
    c->id2label = labels;
    c->num_labels = n; /* from here, lmi_bert_config_free releases what was filled */
    if (id2 != NULL) {
        cJSON_ArrayForEach(e, id2) {
            int64_t id;
            if (!parse_id_key(e->string, &id) || id >= n) {
                return lmi_error(LM_ERR_FORMAT,
                                "%s: \"id2label\" key \"%.40s\" is not an id in 0..%lld", what,
                                e->string, (long long)(n - 1));
            }
            if (!cJSON_IsString(e) || e->valuestring == NULL) {
                return lmi_error(LM_ERR_FORMAT, "%s: \"id2label\" value for \"%s\" is not a string",
                                what, e->string);
            }
            if (labels[id] != NULL) {
                return lmi_error(LM_ERR_FORMAT, "%s: \"id2label\" has id %lld twice", what,
                                (long long)id);
            }
            labels[id] = lmi_strdup(e->valuestring);
            if (labels[id] == NULL) {
                return lmi_error(LM_ERR_NOMEM, "%s: out of memory for labels", what);
            }
        }
    } else if (l2i != NULL) {
        cJSON_ArrayForEach(e, l2i) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            int64_t id;
            if (!(v >= 0 && v < (double)n && v == floor(v))) {
                return lmi_error(LM_ERR_FORMAT,
                                "%s: \"label2id\" value for \"%.40s\" is not an id in 0..%lld",
                                what, e->string, (long long)(n - 1));
            }
            id = (int64_t)v;
            if (labels[id] != NULL) {
                return lmi_error(LM_ERR_FORMAT, "%s: \"label2id\" maps two labels to id %lld",
                                what, (long long)id);
            }
            labels[id] = lmi_strdup(e->string);
            if (labels[id] == NULL) {
                return lmi_error(LM_ERR_NOMEM, "%s: out of memory for labels", what);
            }
        }
    } else {
        int64_t i;
        for (i = 0; i < n; i++) {
            char buf[32];
            snprintf(buf, sizeof buf, "LABEL_%lld", (long long)i);
            labels[i] = lmi_strdup(buf);
            if (labels[i] == NULL) {
                return lmi_error(LM_ERR_NOMEM, "%s: out of memory for labels", what);
            }
        }
    }
    /* label2id must be the exact inverse of id2label: n entries (checked above), each mapping
     * labels[v] to v, every id once. O(n), for the fuzzer's sake. */
    if (id2 != NULL && l2i != NULL) {
        unsigned char *seen = lmi_calloc((size_t)n, 1);
        if (seen == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory checking labels", what);
        }
        cJSON_ArrayForEach(e, l2i) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            int64_t id;
            if (!(v >= 0 && v < (double)n && v == floor(v)) ||
                strcmp(labels[(int64_t)v], e->string) != 0 || seen[(int64_t)v]) {
                lmi_free(seen);
                return lmi_error(LM_ERR_FORMAT,
                                "%s: \"label2id\" maps \"%.40s\" differently from \"id2label\"",
                                what, e->string);
            }
            id = (int64_t)v;
            seen[id] = 1;
        }
        lmi_free(seen);
    }
    return LM_OK;
}

static lm_status get_prob(const cJSON *root, const char *key, const char *what, double *out) {
    lm_status s = lmi_json_get_double(root, key, what, out);
    return s == LM_ERR_NOT_FOUND ? LM_OK : s;
}

/* A setting transformers knows but liblm supports only with one string value. Absent is fine. */
static lm_status require_string(const cJSON *root, const char *key, const char *only,
                                const char *what) {
    const char *str;
    lm_status s = lmi_json_get_string(root, key, what, &str);
    if (s == LM_OK && strcmp(str, only) != 0) {
        return lmi_error(LM_ERR_UNSUPPORTED, "%s: \"%s\" is \"%.40s\"; only \"%s\" is supported",
                        what, key, str, only);
    }
    return s == LM_ERR_NOT_FOUND ? LM_OK : s;
}

/* A flag that liblm supports only when false or absent. */
static lm_status require_not_true(const cJSON *root, const char *key, const char *what) {
    int flag;
    lm_status s = lmi_json_get_bool(root, key, what, &flag);
    if (s == LM_OK && flag) {
        return lmi_error(LM_ERR_UNSUPPORTED, "%s: \"%s\" true is not supported", what, key);
    }
    return s == LM_ERR_NOT_FOUND ? LM_OK : s;
}

static lm_status parse_root(const cJSON *root, const char *what, lmi_bert_config *c) {
    const char *str;
    const cJSON *item;
    lm_status s;

    if (!cJSON_IsObject(root)) {
        return lmi_error(LM_ERR_FORMAT, "%s: not a JSON object", what);
    }
    if ((s = require_string(root, "model_type", "bert", what)) != LM_OK ||
        (s = require_string(root, "position_embedding_type", "absolute", what)) != LM_OK ||
        (s = require_not_true(root, "is_decoder", what)) != LM_OK ||
        (s = require_not_true(root, "add_cross_attention", what)) != LM_OK) {
        return s;
    }
    {
        int64_t chunk = 0;
        s = lmi_json_get_int(root, "chunk_size_feed_forward", what, INT64_MIN / 2, INT64_MAX / 2,
                            &chunk);
        if (s == LM_OK && chunk != 0) {
            return lmi_error(LM_ERR_UNSUPPORTED,
                            "%s: \"chunk_size_feed_forward\" %lld is not supported (only 0)", what,
                            (long long)chunk);
        }
        if (s != LM_OK && s != LM_ERR_NOT_FOUND) {
            return s;
        }
    }
    s = lmi_json_get_bool(root, "tie_word_embeddings", what, &c->tie_word_embeddings);
    if (s != LM_OK && s != LM_ERR_NOT_FOUND) {
        return s;
    }
    s = lmi_json_get_string(root, "hidden_act", what, &str);
    if (s == LM_OK) {
        if (!act_from_name(str, &c->hidden_act)) {
            return lmi_error(LM_ERR_UNSUPPORTED, "%s: \"hidden_act\" \"%.40s\" is not supported "
                            "(gelu, gelu_new, gelu_pytorch_tanh, relu)", what, str);
        }
        c->hidden_act_name = lmi_strdup(str);
        if (c->hidden_act_name == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
        }
    } else if (s != LM_ERR_NOT_FOUND) {
        return s;
    }

#define LM_GET_INT(field, lo, hi)                                                                \
    s = lmi_json_get_int(root, #field, what, lo, hi, &c->field);                                  \
    if (s != LM_OK && s != LM_ERR_NOT_FOUND) {                                                   \
        return s;                                                                                \
    }
    LM_GET_INT(vocab_size, 1, LM_CONFIG_MAX_VOCAB)
    LM_GET_INT(hidden_size, 1, LM_CONFIG_MAX_DIM)
    LM_GET_INT(num_hidden_layers, 1, LM_CONFIG_MAX_LAYERS)
    LM_GET_INT(num_attention_heads, 1, LM_CONFIG_MAX_DIM)
    LM_GET_INT(intermediate_size, 1, LM_CONFIG_MAX_DIM)
    LM_GET_INT(max_position_embeddings, 1, LM_CONFIG_MAX_DIM)
    LM_GET_INT(type_vocab_size, 1, LM_CONFIG_MAX_VOCAB)
    LM_GET_INT(pad_token_id, 0, LM_CONFIG_MAX_VOCAB)
#undef LM_GET_INT

    s = get_prob(root, "hidden_dropout_prob", what, &c->hidden_dropout_prob);
    if (s == LM_OK) {
        s = get_prob(root, "attention_probs_dropout_prob", what, &c->attention_probs_dropout_prob);
    }
    if (s == LM_OK) {
        s = get_prob(root, "layer_norm_eps", what, &c->layer_norm_eps);
    }
    if (s == LM_OK) {
        s = get_prob(root, "initializer_range", what, &c->initializer_range);
    }
    if (s == LM_OK) {
        s = get_prob(root, "classifier_dropout", what, &c->classifier_dropout);
    }
    if (s != LM_OK) {
        return s;
    }

    s = lmi_json_get_string(root, "problem_type", what, &str);
    if (s == LM_OK) {
        if (strcmp(str, "single_label_classification") == 0) {
            c->problem_type = LM_PROBLEM_SINGLE_LABEL;
        } else if (strcmp(str, "multi_label_classification") == 0) {
            c->problem_type = LM_PROBLEM_MULTI_LABEL;
        } else if (strcmp(str, "regression") == 0) {
            c->problem_type = LM_PROBLEM_REGRESSION;
        } else {
            return lmi_error(LM_ERR_UNSUPPORTED, "%s: \"problem_type\" \"%.40s\" is unknown", what,
                            str);
        }
    } else if (s != LM_ERR_NOT_FOUND) {
        return s;
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    if (item != NULL && !cJSON_IsNull(item)) {
        const cJSON *first;
        if (!cJSON_IsArray(item)) {
            return lmi_error(LM_ERR_FORMAT, "%s: \"architectures\" must be a list of strings",
                            what);
        }
        first = cJSON_GetArrayItem(item, 0);
        if (first != NULL) {
            if (!cJSON_IsString(first) || first->valuestring == NULL) {
                return lmi_error(LM_ERR_FORMAT, "%s: \"architectures\" must be a list of strings",
                                what);
            }
            c->architecture = lmi_strdup(first->valuestring);
            if (c->architecture == NULL) {
                return lmi_error(LM_ERR_NOMEM, "%s: out of memory", what);
            }
        }
    }

    s = parse_labels(root, what, c);
    if (s != LM_OK) {
        return s;
    }
    return lmi_bert_config_validate(c, what);
}

lm_status lmi_bert_config_parse(const char *json, size_t len, const char *what,
                               lmi_bert_config *out) {
    cJSON *root = NULL;
    lm_status s;
    if (out == NULL || (json == NULL && len != 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_bert_config_parse: NULL argument");
    }
    set_defaults_no_alloc(out);
    if (what == NULL) {
        what = "config.json";
    }
    s = lmi_json_parse(json != NULL ? json : "", len, what, &root);
    if (s != LM_OK) {
        return s;
    }
    s = parse_root(root, what, out);
    cJSON_Delete(root);
    if (s != LM_OK) {
        lmi_bert_config_free(out);
        set_defaults_no_alloc(out);
    }
    return s;
}

lm_status lmi_bert_config_load(const char *path, lmi_bert_config *out) {
    char *text = NULL;
    size_t len = 0;
    lm_status s;
    if (out == NULL || path == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_bert_config_load: NULL argument");
    }
    set_defaults_no_alloc(out);
    s = lmi_file_read_all(path, LM_CONFIG_MAX_FILE, &text, &len);
    if (s != LM_OK) {
        return s;
    }
    s = lmi_bert_config_parse(text, len, path, out);
    lmi_free(text);
    return s;
}

static const char *problem_name(lmi_problem p) {
    switch (p) {
    case LM_PROBLEM_SINGLE_LABEL:
        return "single_label_classification";
    case LM_PROBLEM_MULTI_LABEL:
        return "multi_label_classification";
    case LM_PROBLEM_REGRESSION:
        return "regression";
    default:
        return NULL;
    }
}

/* Adds the fields to obj; returns 0 when cJSON ran out of memory. */
static int build_json(const lmi_bert_config *c, cJSON *obj) {
    cJSON *arr;
    cJSON *id2;
    cJSON *l2i;
    int64_t i;
    int ok = 1;
    if (c->architecture != NULL) {
        arr = cJSON_AddArrayToObject(obj, "architectures");
        ok = ok && arr != NULL && cJSON_AddItemToArray(arr, cJSON_CreateString(c->architecture));
    }
    ok = ok && cJSON_AddNumberToObject(obj, "attention_probs_dropout_prob",
                                       c->attention_probs_dropout_prob) != NULL;
    if (c->classifier_dropout >= 0) {
        ok = ok && cJSON_AddNumberToObject(obj, "classifier_dropout", c->classifier_dropout);
    } else {
        ok = ok && cJSON_AddNullToObject(obj, "classifier_dropout") != NULL;
    }
    ok = ok && cJSON_AddStringToObject(obj, "hidden_act", act_name(c)) != NULL;
    ok = ok && cJSON_AddNumberToObject(obj, "hidden_dropout_prob", c->hidden_dropout_prob);
    ok = ok && cJSON_AddNumberToObject(obj, "hidden_size", (double)c->hidden_size);
    id2 = ok ? cJSON_AddObjectToObject(obj, "id2label") : NULL;
    ok = ok && id2 != NULL;
    for (i = 0; ok && i < c->num_labels; i++) {
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)i);
        ok = cJSON_AddStringToObject(id2, key, c->id2label[i]) != NULL;
    }
    ok = ok && cJSON_AddNumberToObject(obj, "initializer_range", c->initializer_range);
    ok = ok && cJSON_AddNumberToObject(obj, "intermediate_size", (double)c->intermediate_size);
    l2i = ok ? cJSON_AddObjectToObject(obj, "label2id") : NULL;
    ok = ok && l2i != NULL;
    for (i = 0; ok && i < c->num_labels; i++) {
        ok = cJSON_AddNumberToObject(l2i, c->id2label[i], (double)i) != NULL;
    }
    ok = ok && cJSON_AddNumberToObject(obj, "layer_norm_eps", c->layer_norm_eps);
    ok = ok && cJSON_AddNumberToObject(obj, "max_position_embeddings",
                                       (double)c->max_position_embeddings);
    ok = ok && cJSON_AddStringToObject(obj, "model_type", "bert");
    ok = ok && cJSON_AddNumberToObject(obj, "num_attention_heads", (double)c->num_attention_heads);
    ok = ok && cJSON_AddNumberToObject(obj, "num_hidden_layers", (double)c->num_hidden_layers);
    ok = ok && cJSON_AddNumberToObject(obj, "pad_token_id", (double)c->pad_token_id);
    ok = ok && cJSON_AddStringToObject(obj, "position_embedding_type", "absolute");
    if (problem_name(c->problem_type) != NULL) {
        ok = ok && cJSON_AddStringToObject(obj, "problem_type", problem_name(c->problem_type));
    }
    ok = ok && cJSON_AddBoolToObject(obj, "tie_word_embeddings", c->tie_word_embeddings != 0);
    ok = ok && cJSON_AddNumberToObject(obj, "type_vocab_size", (double)c->type_vocab_size);
    ok = ok && cJSON_AddTrueToObject(obj, "use_cache");
    ok = ok && cJSON_AddNumberToObject(obj, "vocab_size", (double)c->vocab_size);
    return ok;
}

lm_status lmi_bert_config_to_json(const lmi_bert_config *c, char **json_out) {
    cJSON *obj;
    char *text;
    lm_status s;
    if (json_out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_bert_config_to_json: NULL argument");
    }
    *json_out = NULL;
    s = lmi_bert_config_validate(c, "model configuration");
    if (s != LM_OK) {
        return s;
    }
    obj = cJSON_CreateObject();
    if (obj == NULL || !build_json(c, obj)) {
        cJSON_Delete(obj);
        return lmi_error(LM_ERR_NOMEM, "out of memory writing config.json");
    }
    text = cJSON_Print(obj);
    cJSON_Delete(obj);
    if (text == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory writing config.json");
    }
    {
        size_t n = strlen(text);
        *json_out = lmi_malloc(n + 2);
        if (*json_out != NULL) {
            memcpy(*json_out, text, n);
            (*json_out)[n] = '\n';
            (*json_out)[n + 1] = '\0';
        }
    }
    cJSON_free(text);
    if (*json_out == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory writing config.json");
    }
    return LM_OK;
}
