/* CoNLL-style token files: one token a line with its tag in another column, a blank line between
 * sentences, -DOCSTART- lines skipped (CoNLL-2003, WNUT-17). Columns are split at tabs when the
 * line has one, else at runs of spaces. Each sentence becomes one TOKENS example. */
#include "loader.h"

#include <string.h>

#include "base/error.h"

#define MAX_COLUMNS 64

typedef struct span {
    const char *s;
    size_t n;
} span;

static size_t split_columns(const char *s, size_t len, span *cols, size_t max) {
    size_t n = 0, i = 0;
    if (memchr(s, '\t', len) != NULL) {
        for (;;) {
            const char *tab = memchr(s + i, '\t', len - i);
            size_t end = tab ? (size_t)(tab - s) : len;
            if (n < max) {
                cols[n].s = s + i;
                cols[n].n = end - i;
            }
            n++;
            if (tab == NULL) {
                return n;
            }
            i = end + 1;
        }
    }
    while (i < len) {
        size_t start;
        while (i < len && s[i] == ' ') {
            i++;
        }
        if (i == len) {
            break;
        }
        start = i;
        while (i < len && s[i] != ' ') {
            i++;
        }
        if (n < max) {
            cols[n].s = s + start;
            cols[n].n = i - start;
        }
        n++;
    }
    return n;
}

static int blank_line(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f') {
            return 0;
        }
    }
    return 1;
}

static lm_status column_index(const char *file, const lmi_column *c, const char *role, int *out) {
    if (c->name != NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: CoNLL columns have no names; give the %s "
                        "column by index", file, role);
    }
    if (c->index == LMI_COLUMN_NONE || c->index == LMI_COLUMN_AUTO) {
        *out = c->index;
        return LM_OK;
    }
    if (c->index < 0 || c->index >= MAX_COLUMNS) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: the %s column %d is out of range", file, role,
                        c->index);
    }
    *out = c->index;
    return LM_OK;
}

lm_status lmi_read_conll(lmi_dataset *ds, lmi_reader *r, const lmi_load_options *o) {
    lmi_label_cells cells;
    lmi_example *sent = NULL;
    int tok_col, tag_col;
    int decided = 0; /* tag column AUTO: decided on the first token line */
    lm_status st;
    memset(&cells, 0, sizeof cells);
    if ((st = column_index(ds->name, &o->token, "token", &tok_col)) != LM_OK ||
        (st = column_index(ds->name, &o->tag, "tag", &tag_col)) != LM_OK) {
        return st;
    }
    if (tok_col == LMI_COLUMN_NONE) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: a CoNLL file needs a token column", ds->name);
    }
    if (tok_col == LMI_COLUMN_AUTO) {
        tok_col = 0;
    }
    for (;;) {
        span cols[MAX_COLUMNS];
        size_t n;
        int got, tag;
        if ((st = lmi_reader_next(r, 0, &got)) != LM_OK) {
            goto done;
        }
        if (!got || blank_line(r->buf, r->len)) {
            sent = NULL;
            if (!got) {
                break;
            }
            continue;
        }
        n = split_columns(r->buf, r->len, cols, MAX_COLUMNS);
        if (n > MAX_COLUMNS) {
            st = lmi_reader_error(r, LM_ERR_FORMAT, "%zu columns (at most %d)", n, MAX_COLUMNS);
            goto done;
        }
        if ((size_t)tok_col >= n) {
            st = lmi_reader_error(r, LM_ERR_FORMAT, "%zu column%s, no token column %d", n,
                                  n == 1 ? "" : "s", tok_col + 1);
            goto done;
        }
        if (cols[tok_col].n == 10 && memcmp(cols[tok_col].s, "-DOCSTART-", 10) == 0) {
            sent = NULL;
            continue;
        }
        if (!decided) {
            decided = 1;
            if (tag_col == LMI_COLUMN_AUTO) {
                tag_col = n >= 2 ? (int)n - 1 : LMI_COLUMN_NONE;
                if (tag_col == tok_col) {
                    tag_col = LMI_COLUMN_NONE;
                }
            }
        }
        tag = tag_col;
        if (tag >= 0 && (size_t)tag >= n) {
            st = lmi_reader_error(r, LM_ERR_FORMAT, "%zu column%s, no tag column %d", n,
                                  n == 1 ? "" : "s", tag + 1);
            goto done;
        }
        if (cols[tok_col].n == 0) {
            st = lmi_reader_error(r, LM_ERR_FORMAT, "empty token");
            goto done;
        }
        if (sent == NULL) {
            if ((sent = lmi_dataset_push(ds, r->line)) == NULL) {
                st = lmi_error(LM_ERR_NOMEM, "%s: out of memory at line %zu", ds->name, r->line);
                goto done;
            }
            sent->first = ds->n_words;
        }
        if ((st = lmi_dataset_push_word(ds, cols[tok_col].s, cols[tok_col].n)) != LM_OK) {
            goto done;
        }
        sent->count++;
        if (tag >= 0) {
            char *copy = lmi_pool_strndup(ds, cols[tag].s, cols[tag].n);
            if (copy == NULL) {
                st = lmi_error(LM_ERR_NOMEM, "%s: out of memory at line %zu", ds->name, r->line);
                goto done;
            }
            if ((st = lmi_cells_push(&cells, copy, cols[tag].n, r->line, ds->n_words - 1)) != LM_OK) {
                goto done;
            }
        }
    }
    if (tag_col >= 0) {
        st = lmi_labels_resolve(ds, &cells, 1, o);
    } else {
        ds->task = LMI_TASK_TOKENS;
    }
done:
    lmi_cells_free(&cells);
    return st;
}
