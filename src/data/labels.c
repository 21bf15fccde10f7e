/* Labels: the id <-> text map (transformers' id2label / label2id) and the step that turns the
 * label cells a reader collected into class ids (a map built in sorted or first-seen order, or
 * the training map applied to dev data) or regression targets. */
#include "loader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void lmi_label_map_clear(lmi_label_map *m) {
    size_t i;
    if (m == NULL) {
        return;
    }
    for (i = 0; m->names != NULL && i < m->n; i++) {
        lmi_free(m->names[i]);
    }
    lmi_free(m->names);
    lmi_free(m->slots);
    memset(m, 0, sizeof *m);
}

int32_t lmi_label_map_find(const lmi_label_map *m, const char *s, size_t len) {
    size_t mask, i;
    if (m == NULL || m->n_slots == 0) {
        return -1;
    }
    mask = m->n_slots - 1;
    for (i = (size_t)hash_bytes(s, len) & mask; m->slots[i] != 0; i = (i + 1) & mask) {
        const char *name = m->names[m->slots[i] - 1];
        if (strlen(name) == len && memcmp(name, s, len) == 0) {
            return (int32_t)(m->slots[i] - 1);
        }
    }
    return -1;
}

const char *lmi_label_map_name(const lmi_label_map *m, int32_t id) {
    if (m == NULL || id < 0 || (size_t)id >= m->n) {
        return NULL;
    }
    return m->names[id];
}

lm_status lmi_label_map_init(lmi_label_map *m, const char *const *names, size_t n) {
    size_t i, slots = 16;
    memset(m, 0, sizeof *m);
    if (n > INT32_MAX / 4 || (n > 0 && names == NULL)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "label map: %zu labels", n);
    }
    while (slots < 2 * n) {
        slots *= 2;
    }
    m->names = lmi_calloc(n ? n : 1, sizeof *m->names);
    m->slots = lmi_calloc(slots, sizeof *m->slots);
    if (m->names == NULL || m->slots == NULL) {
        lmi_label_map_clear(m);
        return lmi_error(LM_ERR_NOMEM, "label map: out of memory for %zu labels", n);
    }
    m->n_slots = slots;
    for (i = 0; i < n; i++) {
        size_t len, k;
        if (names[i] == NULL || names[i][0] == '\0') {
            lmi_label_map_clear(m);
            return lmi_error(LM_ERR_INVALID_ARGUMENT, "label map: label %zu is empty", i);
        }
        len = strlen(names[i]);
        if (lmi_label_map_find(m, names[i], len) >= 0) {
            lmi_label_map_clear(m);
            return lmi_error(LM_ERR_INVALID_ARGUMENT, "label map: label \"%.100s\" appears twice",
                            names[i]);
        }
        if ((m->names[i] = lmi_strdup(names[i])) == NULL) {
            lmi_label_map_clear(m);
            return lmi_error(LM_ERR_NOMEM, "label map: out of memory");
        }
        m->n = i + 1;
        for (k = (size_t)hash_bytes(names[i], len) & (slots - 1); m->slots[k] != 0;
             k = (k + 1) & (slots - 1)) {
        }
        m->slots[k] = i + 1;
    }
    m->n = n;
    return LM_OK;
}

lm_status lmi_label_map_copy(lmi_label_map *dst, const lmi_label_map *src) {
    return lmi_label_map_init(dst, (const char *const *)src->names, src->n);
}

/* ---- label cells ---- */

lm_status lmi_cells_push(lmi_label_cells *c, const char *text, size_t len, size_t line,
                         size_t target) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        const char **t = lmi_realloc_array(c->text, cap, sizeof *t);
        size_t *l, *ln, *tg;
        if (t == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for %zu labels", cap);
        }
        c->text = t;
        l = lmi_realloc_array(c->len, cap, sizeof *l);
        if (l == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for %zu labels", cap);
        }
        c->len = l;
        ln = lmi_realloc_array(c->line, cap, sizeof *ln);
        if (ln == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for %zu labels", cap);
        }
        c->line = ln;
        tg = lmi_realloc_array(c->target, cap, sizeof *tg);
        if (tg == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for %zu labels", cap);
        }
        c->target = tg;
        c->cap = cap;
    }
    c->text[c->n] = text;
    c->len[c->n] = len;
    c->line[c->n] = line;
    c->target[c->n] = target;
    c->n++;
    return LM_OK;
}

void lmi_cells_free(lmi_label_cells *c) {
    lmi_free(c->text);
    lmi_free(c->len);
    lmi_free(c->line);
    lmi_free(c->target);
    memset(c, 0, sizeof *c);
}

/* ---- numbers ---- */

int lmi_label_is_integer(const char *s, size_t len) {
    size_t i = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        i = 1;
    }
    if (i == len) {
        return 0;
    }
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

int lmi_label_is_number(const char *s, size_t len) {
    size_t i = 0, digits = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        i++;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        digits++;
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            digits++;
        }
    }
    if (digits == 0) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            i++;
        }
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            exp_digits++;
        }
        if (exp_digits == 0) {
            return 0;
        }
    }
    return i == len;
}

/* Compares two integer strings by value (ties: by bytes). */
static int cmp_integer_text(const char *a, size_t na, const char *b, size_t nb) {
    int sa = a[0] == '-', sb = b[0] == '-';
    const char *da = a + (a[0] == '-' || a[0] == '+');
    const char *db = b + (b[0] == '-' || b[0] == '+');
    size_t la = na - (size_t)(da - a), lb = nb - (size_t)(db - b);
    int mag;
    while (la > 1 && *da == '0') {
        da++;
        la--;
    }
    while (lb > 1 && *db == '0') {
        db++;
        lb--;
    }
    if (la == 1 && *da == '0') {
        sa = 0; /* -0 is 0 */
    }
    if (lb == 1 && *db == '0') {
        sb = 0;
    }
    if (sa != sb) {
        return sa ? -1 : 1;
    }
    mag = la != lb ? (la < lb ? -1 : 1) : memcmp(da, db, la);
    if (mag != 0) {
        return sa ? -mag : mag;
    }
    {
        size_t n = na < nb ? na : nb;
        int c = memcmp(a, b, n);
        return c != 0 ? c : (na < nb ? -1 : (na > nb ? 1 : 0));
    }
}

typedef struct sort_item {
    const char *s;
    size_t len;
    int numeric; /* compare as integers (every label of the column is one) */
} sort_item;

static int cmp_items(const void *pa, const void *pb) {
    const sort_item *a = pa, *b = pb;
    if (a->numeric) {
        return cmp_integer_text(a->s, a->len, b->s, b->len);
    } else {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->s, b->s, n);
        return c != 0 ? c : (a->len < b->len ? -1 : (a->len > b->len ? 1 : 0));
    }
}

/* A string of the first few labels of m, for messages. */
static void label_list(const lmi_label_map *m, char *out, size_t cap) {
    size_t i, used = 0;
    out[0] = '\0';
    for (i = 0; i < m->n && i < 8 && used + 1 < cap; i++) {
        int k = snprintf(out + used, cap - used, "%s\"%.40s\"", i ? ", " : "", m->names[i]);
        if (k < 0) {
            break;
        }
        used += (size_t)k;
    }
    if (m->n > 8 && used + 6 < cap) {
        strcat(out, ", ...");
    }
}

static lm_status resolve_regression(lmi_dataset *ds, const lmi_label_cells *c) {
    size_t i;
    for (i = 0; i < c->n; i++) {
        double v;
        char tmp[64];
        if (!lmi_label_is_number(c->text[i], c->len[i]) || c->len[i] >= sizeof tmp) {
            return lmi_error(LM_ERR_FORMAT, "%s:%zu: label \"%.60s\" is not a number (the labels "
                            "are regression targets)", ds->name, c->line[i], c->text[i]);
        }
        memcpy(tmp, c->text[i], c->len[i]);
        tmp[c->len[i]] = '\0';
        v = strtod(tmp, NULL);
        if (!isfinite(v) || fabs(v) > 3.0e38) {
            return lmi_error(LM_ERR_RANGE, "%s:%zu: label %s is out of the float range", ds->name,
                            c->line[i], tmp);
        }
        ds->examples[c->target[i]].value = (float)v;
    }
    ds->task = LMI_TASK_REGRESSION;
    return LM_OK;
}

static void set_label(lmi_dataset *ds, int per_word, size_t target, int32_t id) {
    if (per_word) {
        ds->words[target].label = id;
    } else {
        ds->examples[target].label = id;
    }
}

/* Builds ds->labels from the distinct values of the cells. */
static lm_status build_map(lmi_dataset *ds, const lmi_label_cells *c, const lmi_load_options *o,
                           const char *what, int per_word) {
    lmi_label_map seen; /* first-seen order, names pointing at pool strings via a copy */
    sort_item *items = NULL;
    const char **names = NULL;
    size_t i, n = 0, cap = 0;
    int all_int = !per_word; /* run_ner reads tags as strings: sorted as text */
    lm_status st;
    memset(&seen, 0, sizeof seen);
    /* a growing hash set of distinct values, in first-seen order */
    for (i = 0; i < c->n; i++) {
        size_t mask, k;
        if (seen.n_slots < 2 * (n + 1)) {
            size_t slots = seen.n_slots ? seen.n_slots * 2 : 64;
            size_t *ns = lmi_calloc(slots, sizeof *ns);
            size_t j;
            if (ns == NULL) {
                st = lmi_error(LM_ERR_NOMEM, "%s: out of memory for labels", ds->name);
                goto done;
            }
            for (j = 0; j < n; j++) {
                size_t h = (size_t)hash_bytes(items[j].s, items[j].len) & (slots - 1);
                while (ns[h] != 0) {
                    h = (h + 1) & (slots - 1);
                }
                ns[h] = j + 1;
            }
            lmi_free(seen.slots);
            seen.slots = ns;
            seen.n_slots = slots;
        }
        mask = seen.n_slots - 1;
        for (k = (size_t)hash_bytes(c->text[i], c->len[i]) & mask; seen.slots[k] != 0;
             k = (k + 1) & mask) {
            const sort_item *it = &items[seen.slots[k] - 1];
            if (it->len == c->len[i] && memcmp(it->s, c->text[i], it->len) == 0) {
                break;
            }
        }
        if (seen.slots[k] != 0) {
            continue;
        }
        if (n == o->max_labels) {
            st = lmi_error(LM_ERR_RANGE,
                          "%s:%zu: more than %zu distinct values in the %s: is it really a label "
                          "column? (a numeric target wants regression; max_labels raises the "
                          "limit)", ds->name, c->line[i], o->max_labels, what);
            goto done;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            sort_item *p = lmi_realloc_array(items, nc, sizeof *p);
            if (p == NULL) {
                st = lmi_error(LM_ERR_NOMEM, "%s: out of memory for labels", ds->name);
                goto done;
            }
            items = p;
            cap = nc;
        }
        items[n].s = c->text[i];
        items[n].len = c->len[i];
        all_int = all_int && lmi_label_is_integer(c->text[i], c->len[i]);
        seen.slots[k] = ++n;
    }
    if (o->label_order == LMI_LABEL_ORDER_SORTED && n > 1) {
        for (i = 0; i < n; i++) {
            items[i].numeric = all_int;
        }
        qsort(items, n, sizeof *items, cmp_items);
    }
    names = lmi_malloc_array(n ? n : 1, sizeof *names);
    if (names == NULL) {
        st = lmi_error(LM_ERR_NOMEM, "%s: out of memory for labels", ds->name);
        goto done;
    }
    for (i = 0; i < n; i++) {
        names[i] = items[i].s; /* pool strings: NUL-terminated */
    }
    st = lmi_label_map_init(&ds->labels, names, n);
    if (st == LM_ERR_INVALID_ARGUMENT) {
        st = lmi_error(LM_ERR_FORMAT, "%s: a label is empty", ds->name); /* not reached */
    }
done:
    lmi_free(seen.slots);
    lmi_free(items);
    lmi_free(names);
    return st;
}

lm_status lmi_labels_resolve(lmi_dataset *ds, const lmi_label_cells *c, int per_word,
                             const lmi_load_options *o) {
    const char *what = per_word ? "tag column" : "label column";
    lmi_label_kind kind = o->label_kind;
    size_t i;
    lm_status st;
    for (i = 0; i < c->n; i++) {
        if (c->len[i] == 0) {
            return lmi_error(LM_ERR_FORMAT, "%s:%zu: empty label", ds->name, c->line[i]);
        }
    }
    if (per_word && kind == LMI_LABELS_REGRESSION) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: per-word tags cannot be regression targets",
                        ds->name);
    }
    if (kind == LMI_LABELS_AUTO) {
        int all_num = c->n > 0, any_frac = 0;
        kind = LMI_LABELS_CLASS;
        if (o->labels == NULL && !per_word) {
            for (i = 0; i < c->n && all_num; i++) {
                all_num = lmi_label_is_number(c->text[i], c->len[i]);
                any_frac = any_frac || !lmi_label_is_integer(c->text[i], c->len[i]);
            }
            if (all_num && any_frac) {
                kind = LMI_LABELS_REGRESSION;
            }
        }
    }
    if (kind == LMI_LABELS_REGRESSION) {
        return resolve_regression(ds, c);
    }
    if (o->labels != NULL) {
        if ((st = lmi_label_map_copy(&ds->labels, o->labels)) != LM_OK) {
            return st;
        }
    } else if ((st = build_map(ds, c, o, what, per_word)) != LM_OK) {
        return st;
    }
    for (i = 0; i < c->n; i++) {
        int32_t id = lmi_label_map_find(&ds->labels, c->text[i], c->len[i]);
        if (id < 0) {
            char list[400];
            label_list(&ds->labels, list, sizeof list);
            return lmi_error(LM_ERR_FORMAT, "%s:%zu: label \"%.60s\" is not one of the %zu labels "
                            "of the training data (%s)", ds->name, c->line[i], c->text[i],
                            ds->labels.n, list);
        }
        set_label(ds, per_word, c->target[i], id);
    }
    ds->task = per_word ? LMI_TASK_TOKENS : LMI_TASK_CLASSIFICATION;
    return LM_OK;
}
