/* Internal (data): training and evaluation data sets read from files, and their label maps.
 *
 * One call reads a file into an lmi_dataset: lmi_dataset_load(path, opts, &ds). The format comes
 * from opts->format or the file name (.tsv, .csv, .jsonl/.ndjson, .conll, .json = SQuAD, .txt =
 * plain text). What the data set holds depends on its task:
 *
 *   task                 from                              per example
 *   CLASSIFICATION       TSV/CSV/JSONL with a label column  text (+ pair), label = class id
 *   REGRESSION           same, float labels                 text (+ pair), value
 *   TEXT                 same without a label column;       text (+ pair)
 *                        plain text (one line a document)
 *   TOKENS               CoNLL                              words[first .. first+count), each
 *                                                           with a class id (tag), or -1
 *   QA                   SQuAD v1.1 JSON                    text = question, pair = context, id,
 *                                                           answers[first .. first+count)
 *
 * Errors: every reader stops at the first bad record and returns its status with a sentence
 * "file:line: what is wrong" in lm_last_error() (SQuAD, which has no useful lines: "file:
 * data[3].paragraphs[0].qas[2]: ..."). LM_ERR_FORMAT for structure (missing or extra columns,
 * an unterminated quote, a bad label), LM_ERR_UTF8 for invalid UTF-8, LM_ERR_RANGE for a line
 * over max_line_bytes, a file over max_file_bytes or too many distinct labels, file errors as
 * lm_status, LM_ERR_NOMEM. Nothing is returned on failure (*out NULL, nothing leaks).
 *
 * Ownership: the dataset owns every string it points to (one pool); a label map passed in
 * opts->labels is copied, never kept. Free with lmi_dataset_free. A loaded dataset is read-only:
 * many threads may read it.
 *
 * Typical use by a trainer (features.h, batch.h, metrics.h):
 *
 *   lmi_dataset_load("train.tsv", &lo, &train);            // builds train->labels
 *   lo.labels = &train->labels;                             // the same map for dev
 *   lmi_dataset_load("dev.tsv", &lo, &dev);
 *   lmi_bert_config_set_labels(&cfg, train->labels.n,       // id2label / label2id
 *                              (const char *const *)train->labels.names);
 *   lmi_features_build(train, tok, &fo, &ftrain);           // tokenized rows
 *   lmi_batcher_create(ftrain, tok, &bo, &batcher);
 *   for (epoch = start_epoch; ...; epoch++) {
 *       lmi_batcher_seek(batcher, epoch, epoch == start_epoch ? start_batch : 0);
 *       while (lmi_batcher_next(batcher, &batch)) { ... forward / backward on batch ... }
 *   }
 *   // evaluation: SEQUENTIAL (or LENGTH) order, predictions put back by batch.rows, then
 *   // lmi_metric_accuracy / _f1_* / _pearson / _seqeval, or lmi_qa_postprocess + lmi_metric_squad
 *
 * Labels follow Hugging Face's examples: run_glue and run_ner sort the training file's distinct
 * labels (numerically when every label of a delimited file is an integer, as pandas reads such a
 * column as int64; else, and always for CoNLL tags, by code point) and number them from 0; dev and test files are read with the training map (opts->labels), where an unknown label is
 * an error naming its line. A label column whose values are all numbers with some non-integer
 * (STS-B's "3.800") is regression, as run_glue decides from the column's float dtype. */
#ifndef LM_DATA_DATASET_H
#define LM_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"

/* ---- label maps ---- */

/* id <-> label text. names[i] is the label of id i (transformers' id2label); find() is label2id. */
typedef struct lmi_label_map {
    size_t n;
    char **names;     /* [n] NUL-terminated, owned */
    size_t *slots;    /* hash table of ids + 1 (0 = empty), [n_slots]; owned */
    size_t n_slots;
} lmi_label_map;

/* Builds a map from n names in the given order (e.g. a model's id2label). Duplicate or empty
 * names are LM_ERR_INVALID_ARGUMENT. Free with lmi_label_map_clear. */
lm_status lmi_label_map_init(lmi_label_map *m, const char *const *names, size_t n);
/* Copies src into dst (dst uninitialised). */
lm_status lmi_label_map_copy(lmi_label_map *dst, const lmi_label_map *src);
void lmi_label_map_clear(lmi_label_map *m);
/* The id of a label, or -1. */
int32_t lmi_label_map_find(const lmi_label_map *m, const char *s, size_t len);
/* The text of an id, or NULL when out of range. */
const char *lmi_label_map_name(const lmi_label_map *m, int32_t id);

/* ---- the data set ---- */

typedef enum lmi_task {
    LMI_TASK_TEXT = 0,           /* texts without labels (prediction input, masked LM) */
    LMI_TASK_CLASSIFICATION = 1, /* one class id per example */
    LMI_TASK_REGRESSION = 2,     /* one float per example */
    LMI_TASK_TOKENS = 3,         /* one class id per word (named entities) */
    LMI_TASK_QA = 4              /* extractive question answering */
} lmi_task;

typedef enum lmi_format {
    LMI_FORMAT_AUTO = 0, /* from the file name's extension */
    LMI_FORMAT_TSV,      /* tab-separated, no quoting (GLUE's files) */
    LMI_FORMAT_CSV,      /* comma-separated, RFC 4180 quoting */
    LMI_FORMAT_JSONL,    /* one JSON object a line; columns are keys */
    LMI_FORMAT_CONLL,    /* token and tag columns, blank line between sentences */
    LMI_FORMAT_SQUAD,    /* SQuAD v1.1 JSON */
    LMI_FORMAT_TEXT      /* one document a line */
} lmi_format;

typedef enum lmi_label_kind {
    LMI_LABELS_AUTO = 0,     /* regression when every label is a number and some not an integer */
    LMI_LABELS_CLASS = 1,    /* class labels (strings or integers) */
    LMI_LABELS_REGRESSION = 2
} lmi_label_kind;

typedef enum lmi_label_order {
    LMI_LABEL_ORDER_SORTED = 0,    /* run_glue / run_ner: sorted (integers numerically) */
    LMI_LABEL_ORDER_FIRST_SEEN = 1 /* in order of first appearance */
} lmi_label_order;

#define LMI_COLUMN_AUTO (-1)  /* choose from the header / the column count (see below) */
#define LMI_COLUMN_NONE (-2)  /* no such column */

/* A column, by name (needs a header, or the JSON Lines key) or by 0-based index. */
typedef struct lmi_column {
    const char *name; /* not NULL: the column's name (the header then is required) */
    int index;        /* used when name is NULL: 0-based index, LMI_COLUMN_AUTO or LMI_COLUMN_NONE */
} lmi_column;

typedef struct lmi_load_options {
    lmi_format format;
    /* Delimited files (TSV, CSV, JSON Lines). AUTO columns: with a header (or JSON keys) the label
     * is the column named label / labels / score / gold_label (else the last column; for JSON
     * Lines none: the file is unlabeled unless a label key is named); the texts
     * are sentence1 + sentence2 when both exist, else the first one or two columns that are neither
     * the label nor an id (idx / index / id / guid). Without a header: text 0, pair 1 when there
     * are three or more columns, label the last column. */
    lmi_column text;
    lmi_column pair;
    lmi_column label;
    /* 1: the first row is a header; 0: there is none; -1 (default) detect: a header when a cell of
     * the first row names the label column (above) or a named column is asked for, or when the
     * first row's label cell looks like a column name ([A-Za-z_][A-Za-z0-9_.-]*) and is not a
     * valid label (not in opts->labels; not a number where all other labels are; a value seen
     * nowhere else in the column while every chosen cell of the row looks like a name). */
    int header;
    /* Blank lines of delimited and text files are skipped (pandas' skip_blank_lines) unless this
     * is 1, then each is an error. CoNLL's blank lines separate sentences. */
    int empty_line_error;
    /* CoNLL: the token and tag columns (AUTO: token 0, tag the last column; tag NONE for
     * unlabeled text). Columns are split at tabs when the line has one, else at runs of spaces.
     * Lines whose token is -DOCSTART- are skipped. */
    lmi_column token;
    lmi_column tag;
    lmi_label_kind label_kind;
    lmi_label_order label_order;
    const lmi_label_map *labels; /* the training map for dev/test files; NULL: build one */
    size_t max_labels;           /* distinct labels allowed (default 1000) */
    size_t max_line_bytes;       /* longest record (default 16 MiB) */
    size_t max_file_bytes;       /* whole-file formats (SQuAD JSON; default 1 GiB) */
} lmi_load_options;

/* Fills o with the defaults above. */
void lmi_load_options_init(lmi_load_options *o);

typedef struct lmi_word {
    const char *text; /* NUL-terminated, in the pool */
    size_t len;
    int32_t label;    /* class id, -1 unlabeled */
} lmi_word;

typedef struct lmi_answer {
    const char *text;   /* NUL-terminated, in the pool */
    size_t len;
    size_t start_char;  /* answer_start as in the file (characters of the context) */
    size_t start;       /* the same position in bytes of the context */
    size_t end;         /* start + the answer's length, in bytes of the context */
} lmi_answer;

typedef struct lmi_example {
    const char *text;   /* first text (QA: the question), NUL-terminated; NULL for TOKENS */
    size_t text_len;
    const char *pair;   /* second text (QA: the context), or NULL */
    size_t pair_len;
    int32_t label;      /* CLASSIFICATION: class id; -1 otherwise */
    float value;        /* REGRESSION: the target; 0 otherwise */
    const char *id;     /* QA: the question's id; NULL otherwise */
    size_t first;       /* TOKENS: first word in ds->words; QA: first answer in ds->answers */
    size_t count;       /* TOKENS: words; QA: answers (0 allowed) */
    size_t line;        /* line of the file where the example starts (QA: 0) */
} lmi_example;

typedef struct lmi_pool_block lmi_pool_block;

typedef struct lmi_dataset {
    lmi_task task;
    lmi_format format;
    char *name;            /* the file name as given (for messages) */
    size_t n;              /* examples */
    lmi_example *examples; /* [n] */
    lmi_word *words;       /* [n_words] TOKENS */
    size_t n_words;
    lmi_answer *answers;   /* [n_answers] QA */
    size_t n_answers;
    lmi_label_map labels;  /* CLASSIFICATION / TOKENS: the map used (built or copied) */
    /* private */
    size_t cap, words_cap, answers_cap;
    lmi_pool_block *pool;
} lmi_dataset;

/* Reads a file. opts may be NULL for the defaults. */
lm_status lmi_dataset_load(const char *path, const lmi_load_options *opts, lmi_dataset **out);

/* Reads data[0..len) (format must not be AUTO); `name` stands for the file in messages. */
lm_status lmi_dataset_load_memory(const char *data, size_t len, const char *name,
                                  const lmi_load_options *opts, lmi_dataset **out);

void lmi_dataset_free(lmi_dataset *ds);

/* The format for a file name (AUTO when the extension is unknown). */
lmi_format lmi_format_from_path(const char *path);

#endif
