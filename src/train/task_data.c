/* The task of a fine-tuning run and its data: which task a model's head or a training file
 * means, reading a data file for a task (with the checks that the file holds what the task
 * needs), and the features with the run's lengths. See fit.h. */
#include <string.h>

#include "base/error.h"
#include "train/fit.h"

int lmi_task_head(int task) {
    switch (task) {
    case LM_TASK_CLASSIFICATION:
    case LM_TASK_REGRESSION:
        return LM_BERT_HEAD_SEQ_CLASS;
    case LM_TASK_TOKEN_CLASSIFICATION:
        return LM_BERT_HEAD_TOKEN_CLASS;
    case LM_TASK_QUESTION_ANSWERING:
        return LM_BERT_HEAD_QA;
    case LM_TASK_MASKED_LM:
        return LM_BERT_HEAD_MLM;
    default:
        return LM_BERT_HEAD_BASE;
    }
}

const char *lmi_task_name(int task) {
    switch (task) {
    case LM_TASK_CLASSIFICATION:
        return "classification";
    case LM_TASK_REGRESSION:
        return "regression";
    case LM_TASK_TOKEN_CLASSIFICATION:
        return "token-classification";
    case LM_TASK_QUESTION_ANSWERING:
        return "question-answering";
    case LM_TASK_MASKED_LM:
        return "masked-lm";
    default:
        return "auto";
    }
}

int lmi_task_of_model(const lmi_bert_config *cfg, int head) {
    switch (head) {
    case LM_BERT_HEAD_SEQ_CLASS:
        if (cfg->problem_type == LM_PROBLEM_REGRESSION ||
            (cfg->problem_type == LM_PROBLEM_AUTO && cfg->num_labels == 1)) {
            return LM_TASK_REGRESSION;
        }
        return LM_TASK_CLASSIFICATION;
    case LM_BERT_HEAD_TOKEN_CLASS:
        return LM_TASK_TOKEN_CLASSIFICATION;
    case LM_BERT_HEAD_QA:
        return LM_TASK_QUESTION_ANSWERING;
    case LM_BERT_HEAD_MLM:
        return LM_TASK_MASKED_LM;
    default:
        return LM_TASK_AUTO;
    }
}

int lmi_task_of_file(const char *path) {
    switch (lmi_format_from_path(path)) {
    case LMI_FORMAT_CONLL:
        return LM_TASK_TOKEN_CLASSIFICATION;
    case LMI_FORMAT_SQUAD:
        return LM_TASK_QUESTION_ANSWERING;
    case LMI_FORMAT_TEXT:
        return LM_TASK_MASKED_LM;
    case LMI_FORMAT_TSV:
    case LMI_FORMAT_CSV:
    case LMI_FORMAT_JSONL:
        return LM_TASK_CLASSIFICATION;
    default:
        return LM_TASK_AUTO;
    }
}

/* Longest line of a training or dev file: far above any sentence a model reads in 512 tokens,
 * far below what would make a bad file (one line of a binary, a file without newlines) slow. */
#define LMI_DATA_MAX_LINE ((size_t)1 << 20)

lm_status lmi_task_data_load(const char *path, int *task, int task_fixed,
                             const lmi_label_map *labels, int64_t max_examples,
                             lmi_dataset **out) {
    lmi_load_options lo;
    lmi_dataset *ds = NULL;
    lmi_format fmt = lmi_format_from_path(path);
    lm_status s;
    *out = NULL;
    lmi_load_options_init(&lo);
    lo.max_line_bytes = LMI_DATA_MAX_LINE;
    lo.empty_line_error = 1;
    switch (*task) {
    case LM_TASK_CLASSIFICATION:
        lo.label_kind = task_fixed ? LMI_LABELS_CLASS : LMI_LABELS_AUTO;
        lo.labels = labels;
        break;
    case LM_TASK_REGRESSION:
        lo.label_kind = LMI_LABELS_REGRESSION;
        break;
    case LM_TASK_TOKEN_CLASSIFICATION:
        lo.format = LMI_FORMAT_CONLL;
        lo.labels = labels;
        break;
    case LM_TASK_QUESTION_ANSWERING:
        lo.format = LMI_FORMAT_SQUAD;
        break;
    case LM_TASK_MASKED_LM:
        /* the text column only (a labelled file's labels are not text), lines as documents */
        lo.format = fmt == LMI_FORMAT_AUTO ? LMI_FORMAT_TEXT : fmt;
        lo.label.index = LMI_COLUMN_NONE;
        lo.pair.index = LMI_COLUMN_NONE;
        lo.empty_line_error = 0; /* run_mlm drops empty lines */
        break;
    default:
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: no task to read it for", path);
    }
    if (lo.format == LMI_FORMAT_AUTO && fmt == LMI_FORMAT_AUTO) {
        return lmi_error(LM_ERR_FORMAT,
                         "%s: unknown data format (name the file .tsv, .csv, .jsonl, .conll, "
                         ".json for SQuAD or .txt)",
                         path);
    }
    s = lmi_dataset_load(path, &lo, &ds);
    if (s != LM_OK) {
        return s;
    }
    switch (*task) {
    case LM_TASK_CLASSIFICATION:
        if (ds->task == LMI_TASK_REGRESSION && !task_fixed && labels == NULL) {
            *task = LM_TASK_REGRESSION;
        } else if (ds->task != LMI_TASK_CLASSIFICATION) {
            s = lmi_error(LM_ERR_FORMAT, "%s: no class labels for classification (a %s file; "
                                         "the label column is named label, labels, score or "
                                         "gold_label, or is the last column)",
                          path, ds->task == LMI_TASK_REGRESSION ? "regression" : "text");
        }
        break;
    case LM_TASK_REGRESSION:
        if (ds->task != LMI_TASK_REGRESSION) {
            s = lmi_error(LM_ERR_FORMAT, "%s: no numeric labels for regression", path);
        }
        break;
    case LM_TASK_TOKEN_CLASSIFICATION:
        if (ds->task != LMI_TASK_TOKENS || ds->labels.n == 0) {
            s = lmi_error(LM_ERR_FORMAT, "%s: no tag column for token classification (CoNLL: "
                                         "a word and its tag a line)",
                          path);
        }
        break;
    case LM_TASK_QUESTION_ANSWERING:
        if (ds->task != LMI_TASK_QA) {
            s = lmi_error(LM_ERR_FORMAT, "%s: not SQuAD JSON", path);
        }
        break;
    default:
        break;
    }
    if (s == LM_OK && ds->n == 0) {
        s = lmi_error(LM_ERR_FORMAT, "%s: no examples", path);
    }
    if (s != LM_OK) {
        lmi_dataset_free(ds);
        return s;
    }
    if (max_examples > 0 && (uint64_t)max_examples < ds->n) {
        ds->n = (size_t)max_examples; /* the rest stays in the pool, unused */
    }
    *out = ds;
    return LM_OK;
}

lm_status lmi_task_lengths(int task, int32_t max_length, int32_t doc_stride,
                           const lmi_bert_config *cfg, size_t *len_out, size_t *stride_out) {
    const size_t positions = (size_t)cfg->max_position_embeddings;
    size_t len = (size_t)max_length, stride = (size_t)doc_stride;
    if (max_length < 0 || doc_stride < 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "max_length %d / doc_stride %d: 0 or more",
                         (int)max_length, (int)doc_stride);
    }
    if (len == 0) {
        len = task == LM_TASK_QUESTION_ANSWERING ? 384 : 128;
        len = len < positions ? len : positions;
    } else if (len > positions) {
        return lmi_error(LM_ERR_RANGE, "max_length %zu is above the model's %zu positions", len,
                         positions);
    }
    if (len < 3) {
        return lmi_error(LM_ERR_RANGE, "max_length %zu leaves no room for a token between the "
                                       "special tokens", len);
    }
    if (stride == 0) {
        stride = len / 3 < 128 ? len / 3 : 128;
        stride = stride > 0 ? stride : 1;
    }
    *len_out = len;
    *stride_out = stride;
    return LM_OK;
}

lm_status lmi_task_features(const lmi_dataset *ds, const lm_tokenizer_t *tok, int task,
                            size_t max_length, size_t doc_stride, int mlm_pack, int threads,
                            lmi_features **out) {
    lmi_feature_options fo;
    lmi_feature_options_init(&fo);
    fo.max_length = max_length;
    fo.doc_stride = doc_stride;
    fo.mlm = task == LM_TASK_MASKED_LM;
    fo.mlm_group = fo.mlm && mlm_pack;
    fo.threads = threads;
    return lmi_features_build(ds, tok, &fo, out);
}
