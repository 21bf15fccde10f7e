/* Internal (data, private to src/data/): what the format readers share: the dataset's string
 * pool and growing arrays, label cells collected while reading and their resolution into class
 * ids or regression targets, and the readers themselves. */
#ifndef LM_DATA_LOADER_H
#define LM_DATA_LOADER_H

#include "dataset.h"
#include "reader.h"

/* A label as read (text in the pool) and where it goes: examples[target] or words[target]. */
typedef struct lmi_label_cells {
    const char **text;
    size_t *len;
    size_t *line;
    size_t *target;
    size_t n, cap;
} lmi_label_cells;

lm_status lmi_cells_push(lmi_label_cells *c, const char *text, size_t len, size_t line,
                         size_t target);
void lmi_cells_free(lmi_label_cells *c);

/* Turns the cells into class ids (ds->labels built or copied from o->labels) or, for
 * example-level labels, regression values; sets ds->task. per_word: targets are words. */
lm_status lmi_labels_resolve(lmi_dataset *ds, const lmi_label_cells *c, int per_word,
                             const lmi_load_options *o);

/* 1 when s is a decimal integer / a plain decimal number (no hex, inf, nan, spaces). */
int lmi_label_is_integer(const char *s, size_t len);
int lmi_label_is_number(const char *s, size_t len);

/* A NUL-terminated copy of s[0..n) in the dataset's pool; NULL on allocation failure. */
char *lmi_pool_strndup(lmi_dataset *ds, const char *s, size_t n);

/* A new example (zeroed, label -1, line set) at the end of ds->examples; NULL on failure. */
lmi_example *lmi_dataset_push(lmi_dataset *ds, size_t line);
lm_status lmi_dataset_push_word(lmi_dataset *ds, const char *s, size_t len);
lm_status lmi_dataset_push_answer(lmi_dataset *ds, const lmi_answer *a);

/* The readers: fill ds (created by the caller with name and format set). */
lm_status lmi_read_delimited(lmi_dataset *ds, lmi_reader *r, const lmi_load_options *o);
lm_status lmi_read_conll(lmi_dataset *ds, lmi_reader *r, const lmi_load_options *o);
lm_status lmi_read_text(lmi_dataset *ds, lmi_reader *r, const lmi_load_options *o);
lm_status lmi_read_squad(lmi_dataset *ds, const char *data, size_t len, const lmi_load_options *o);

#endif
