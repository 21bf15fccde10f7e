/* Data sets: creation, the string pool, growing arrays, the format dispatch and the plain-text
 * reader. The format readers are delimited.c, conll.c and squad.c; labels are labels.c. */
#include "loader.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"

struct lmi_pool_block {
    lmi_pool_block *next;
    size_t used, cap;
    char data[];
};

#define POOL_BLOCK (256 * 1024)

void lmi_load_options_init(lmi_load_options *o) {
    memset(o, 0, sizeof *o);
    o->format = LMI_FORMAT_AUTO;
    o->text.index = LMI_COLUMN_AUTO;
    o->pair.index = LMI_COLUMN_AUTO;
    o->label.index = LMI_COLUMN_AUTO;
    o->token.index = LMI_COLUMN_AUTO;
    o->tag.index = LMI_COLUMN_AUTO;
    o->header = -1;
    o->label_kind = LMI_LABELS_AUTO;
    o->label_order = LMI_LABEL_ORDER_SORTED;
    o->max_labels = 1000;
    o->max_line_bytes = (size_t)16 << 20;
    o->max_file_bytes = (size_t)1 << 30;
}

char *lmi_pool_strndup(lmi_dataset *ds, const char *s, size_t n) {
    lmi_pool_block *b = ds->pool;
    char *p;
    if (n >= ((size_t)-1) / 2) {
        return NULL;
    }
    if (b == NULL || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > POOL_BLOCK ? n + 1 : POOL_BLOCK;
        b = lmi_malloc(sizeof *b + cap);
        if (b == NULL) {
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        b->next = ds->pool;
        ds->pool = b;
    }
    p = b->data + b->used;
    if (n > 0) {
        memcpy(p, s, n);
    }
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

/* Grows *arr (elements of `size`) so that index n fits. */
static int grow(void **arr, size_t *cap, size_t n, size_t size) {
    if (n < *cap) {
        return 1;
    } else {
        size_t c = *cap ? *cap * 2 : 64;
        void *p = lmi_realloc_array(*arr, c, size);
        if (p == NULL) {
            return 0;
        }
        *arr = p;
        *cap = c;
        return 1;
    }
}

lmi_example *lmi_dataset_push(lmi_dataset *ds, size_t line) {
    lmi_example *e;
    if (!grow((void **)&ds->examples, &ds->cap, ds->n, sizeof *ds->examples)) {
        return NULL;
    }
    e = &ds->examples[ds->n++];
    memset(e, 0, sizeof *e);
    e->label = -1;
    e->line = line;
    return e;
}

lm_status lmi_dataset_push_word(lmi_dataset *ds, const char *s, size_t len) {
    lmi_word *w;
    const char *copy;
    if (!grow((void **)&ds->words, &ds->words_cap, ds->n_words, sizeof *ds->words) ||
        (copy = lmi_pool_strndup(ds, s, len)) == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for %zu words", ds->name, ds->n_words);
    }
    w = &ds->words[ds->n_words++];
    w->text = copy;
    w->len = len;
    w->label = -1;
    return LM_OK;
}

lm_status lmi_dataset_push_answer(lmi_dataset *ds, const lmi_answer *a) {
    if (!grow((void **)&ds->answers, &ds->answers_cap, ds->n_answers, sizeof *ds->answers)) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory for %zu answers", ds->name,
                        ds->n_answers);
    }
    ds->answers[ds->n_answers++] = *a;
    return LM_OK;
}

void lmi_dataset_free(lmi_dataset *ds) {
    lmi_pool_block *b;
    if (ds == NULL) {
        return;
    }
    b = ds->pool;
    while (b != NULL) {
        lmi_pool_block *next = b->next;
        lmi_free(b);
        b = next;
    }
    lmi_label_map_clear(&ds->labels);
    lmi_free(ds->examples);
    lmi_free(ds->words);
    lmi_free(ds->answers);
    lmi_free(ds->name);
    lmi_free(ds);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    size_t i;
    if (n < m) {
        return 0;
    }
    for (i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != suffix[i]) {
            return 0;
        }
    }
    return 1;
}

lmi_format lmi_format_from_path(const char *path) {
    static const struct {
        const char *ext;
        lmi_format f;
    } table[] = {{".tsv", LMI_FORMAT_TSV},     {".csv", LMI_FORMAT_CSV},
                 {".jsonl", LMI_FORMAT_JSONL}, {".ndjson", LMI_FORMAT_JSONL},
                 {".conll", LMI_FORMAT_CONLL}, {".conllu", LMI_FORMAT_CONLL},
                 {".bio", LMI_FORMAT_CONLL},   {".iob", LMI_FORMAT_CONLL},
                 {".json", LMI_FORMAT_SQUAD},  {".txt", LMI_FORMAT_TEXT},
                 {".text", LMI_FORMAT_TEXT}};
    size_t i;
    if (path == NULL) {
        return LMI_FORMAT_AUTO;
    }
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (ends_with(path, table[i].ext)) {
            return table[i].f;
        }
    }
    return LMI_FORMAT_AUTO;
}

/* Plain text: one example a line, the whole line (blank lines skipped or refused). */
lm_status lmi_read_text(lmi_dataset *ds, lmi_reader *r, const lmi_load_options *o) {
    ds->task = LMI_TASK_TEXT;
    for (;;) {
        int got;
        lmi_example *e;
        lm_status st = lmi_reader_next(r, 0, &got);
        size_t i;
        int blank = 1;
        if (st != LM_OK) {
            return st;
        }
        if (!got) {
            return LM_OK;
        }
        for (i = 0; i < r->len && blank; i++) {
            char c = r->buf[i];
            blank = c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
        }
        if (blank) {
            if (o->empty_line_error) {
                return lmi_reader_error(r, LM_ERR_FORMAT, "blank line");
            }
            continue;
        }
        if ((e = lmi_dataset_push(ds, r->line)) == NULL ||
            (e->text = lmi_pool_strndup(ds, r->buf, r->len)) == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory at line %zu", ds->name, r->line);
        }
        e->text_len = r->len;
    }
}

static lm_status check_options(const lmi_load_options *o) {
    if ((unsigned)o->format > LMI_FORMAT_TEXT || (unsigned)o->label_kind > LMI_LABELS_REGRESSION ||
        (unsigned)o->label_order > LMI_LABEL_ORDER_FIRST_SEEN || o->header < -1 || o->header > 1) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_load_options: unknown format, label kind, "
                        "label order or header mode");
    }
    if (o->max_line_bytes == 0 || o->max_labels == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lmi_load_options: max_line_bytes and "
                        "max_labels must be positive");
    }
    return LM_OK;
}

static lm_status load(const char *path, const char *data, size_t len, const char *name,
                      const lmi_load_options *opts, lmi_dataset **out) {
    lmi_load_options o;
    lmi_dataset *ds;
    lm_status st;
    if (out == NULL || (path == NULL && name == NULL) || (path == NULL && data == NULL && len > 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "dataset: NULL argument");
    }
    *out = NULL;
    if (opts != NULL) {
        o = *opts;
    } else {
        lmi_load_options_init(&o);
    }
    if ((st = check_options(&o)) != LM_OK) {
        return st;
    }
    if (o.format == LMI_FORMAT_AUTO) {
        o.format = lmi_format_from_path(path ? path : name);
        if (o.format == LMI_FORMAT_AUTO) {
            return lmi_error(LM_ERR_INVALID_ARGUMENT,
                            "%s: cannot tell the format from the file name (use .tsv, .csv, "
                            ".jsonl, .conll, .json for SQuAD or .txt, or name the format)",
                            path ? path : name);
        }
    }
    ds = lmi_calloc(1, sizeof *ds);
    if (ds == NULL || (ds->name = lmi_strdup(path ? path : name)) == NULL) {
        lmi_free(ds);
        return lmi_error(LM_ERR_NOMEM, "dataset: out of memory");
    }
    ds->format = o.format;
    if (o.format == LMI_FORMAT_SQUAD) {
        char *buf = NULL;
        size_t n = len;
        if (path != NULL) {
            if ((st = lmi_file_read_all(path, o.max_file_bytes, &buf, &n)) == LM_OK) {
                st = lmi_read_squad(ds, buf, n, &o);
            }
            lmi_free(buf);
        } else if (len > o.max_file_bytes) {
            st = lmi_error(LM_ERR_RANGE, "%s is %zu bytes, more than the limit of %zu", name, len,
                          o.max_file_bytes);
        } else {
            st = lmi_read_squad(ds, data, len, &o);
        }
    } else {
        lmi_reader r;
        if (path != NULL) {
            st = lmi_reader_open_file(&r, path, o.max_line_bytes);
        } else {
            lmi_reader_open_memory(&r, data, len, ds->name, o.max_line_bytes);
            st = LM_OK;
        }
        if (st == LM_OK) {
            r.name = ds->name;
            switch (o.format) {
            case LMI_FORMAT_CONLL:
                st = lmi_read_conll(ds, &r, &o);
                break;
            case LMI_FORMAT_TEXT:
                st = lmi_read_text(ds, &r, &o);
                break;
            default:
                st = lmi_read_delimited(ds, &r, &o);
                break;
            }
            lmi_reader_close(&r);
        }
    }
    if (st == LM_OK && ds->n == 0) {
        st = lmi_error(LM_ERR_FORMAT, "%s: no examples in the file", ds->name);
    }
    if (st != LM_OK) {
        lmi_dataset_free(ds);
        return st;
    }
    *out = ds;
    return LM_OK;
}

lm_status lmi_dataset_load(const char *path, const lmi_load_options *opts, lmi_dataset **out) {
    if (path == NULL) {
        if (out != NULL) {
            *out = NULL;
        }
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "dataset: path is NULL");
    }
    return load(path, NULL, 0, NULL, opts, out);
}

lm_status lmi_dataset_load_memory(const char *data, size_t len, const char *name,
                                  const lmi_load_options *opts, lmi_dataset **out) {
    return load(NULL, data, len, name ? name : "<memory>", opts, out);
}
