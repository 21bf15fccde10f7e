/* Delimited data files: TSV (split at tabs, no quoting, as GLUE's files), CSV (RFC 4180: fields
 * in double quotes may hold commas, newlines and "" for a quote; a quote inside an unquoted field
 * is kept as text, as Python's csv does) and JSON Lines (one object a line, columns are keys).
 * Column choice by name or index, header detection, label cells handed to labels.c. */
#include "loader.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/json.h"

/* The fields of one record: spans into `data` (unescaped bytes, NUL after each field). */
typedef struct fields {
    char *data;
    size_t used, cap;
    size_t *off, *len;
    size_t n, fcap;
} fields;

static void fields_free(fields *f) {
    lmi_free(f->data);
    lmi_free(f->off);
    lmi_free(f->len);
    memset(f, 0, sizeof *f);
}

static lm_status fields_add_bytes(fields *f, const char *s, size_t n) {
    if (f->cap - f->used < n + 1) {
        size_t cap = f->cap ? f->cap : 256;
        char *p;
        while (cap - f->used < n + 1) {
            cap *= 2;
        }
        p = lmi_realloc(f->data, cap);
        if (p == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for a record");
        }
        f->data = p;
        f->cap = cap;
    }
    memcpy(f->data + f->used, s, n);
    f->used += n;
    return LM_OK;
}

static lm_status fields_begin(fields *f) {
    if (f->n == f->fcap) {
        size_t cap = f->fcap ? f->fcap * 2 : 16;
        size_t *o = lmi_realloc_array(f->off, cap, sizeof *o);
        size_t *l;
        if (o == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for a record");
        }
        f->off = o;
        l = lmi_realloc_array(f->len, cap, sizeof *l);
        if (l == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for a record");
        }
        f->len = l;
        f->fcap = cap;
    }
    f->off[f->n] = f->used;
    f->len[f->n] = 0;
    f->n++;
    return LM_OK;
}

static lm_status fields_end(fields *f) {
    lm_status st = fields_add_bytes(f, "", 0);
    if (st != LM_OK) {
        return st;
    }
    f->len[f->n - 1] = f->used - f->off[f->n - 1];
    f->data[f->used++] = '\0';
    return LM_OK;
}

static const char *field(const fields *f, size_t i) { return f->data + f->off[i]; }

static lm_status split_tsv(lmi_reader *r, fields *f) {
    size_t i = 0;
    lm_status st;
    f->n = 0;
    f->used = 0;
    for (;;) {
        const char *tab = memchr(r->buf + i, '\t', r->len - i);
        size_t end = tab ? (size_t)(tab - r->buf) : r->len;
        if ((st = fields_begin(f)) != LM_OK || (st = fields_add_bytes(f, r->buf + i, end - i)) != LM_OK ||
            (st = fields_end(f)) != LM_OK) {
            return st;
        }
        if (tab == NULL) {
            return LM_OK;
        }
        i = end + 1;
    }
}

/* CSV record from r->buf, reading more lines while a quoted field is open. */
static lm_status split_csv(lmi_reader *r, fields *f) {
    size_t i = 0;
    lm_status st;
    f->n = 0;
    f->used = 0;
    for (;;) {
        if ((st = fields_begin(f)) != LM_OK) {
            return st;
        }
        if (i < r->len && r->buf[i] == '"') {
            i++;
            for (;;) {
                const char *q = memchr(r->buf + i, '"', r->len - i);
                if (q == NULL) {
                    int got;
                    if ((st = fields_add_bytes(f, r->buf + i, r->len - i)) != LM_OK) {
                        return st;
                    }
                    i = r->len;
                    if ((st = lmi_reader_next(r, 1, &got)) != LM_OK) {
                        return st;
                    }
                    if (!got) {
                        return lmi_reader_error(r, LM_ERR_FORMAT, "a quoted field is never closed "
                                               "(the file ends inside it)");
                    }
                    if ((st = fields_add_bytes(f, "\n", 1)) != LM_OK) {
                        return st;
                    }
                    i++; /* the "\n" the reader put between the lines */
                    continue;
                }
                if ((st = fields_add_bytes(f, r->buf + i, (size_t)(q - (r->buf + i)))) != LM_OK) {
                    return st;
                }
                i = (size_t)(q - r->buf) + 1;
                if (i < r->len && r->buf[i] == '"') {
                    if ((st = fields_add_bytes(f, "\"", 1)) != LM_OK) {
                        return st;
                    }
                    i++;
                    continue;
                }
                break;
            }
            if (i < r->len && r->buf[i] != ',') {
                return lmi_reader_error(r, LM_ERR_FORMAT, "unexpected character '%c' after the "
                                       "closing quote of field %zu (a quote inside a quoted field "
                                       "is written \"\")", r->buf[i], f->n);
            }
        } else {
            const char *comma = memchr(r->buf + i, ',', r->len - i);
            size_t end = comma ? (size_t)(comma - r->buf) : r->len;
            if ((st = fields_add_bytes(f, r->buf + i, end - i)) != LM_OK) {
                return st;
            }
            i = end;
        }
        if ((st = fields_end(f)) != LM_OK) {
            return st;
        }
        if (i >= r->len) {
            return LM_OK;
        }
        i++; /* the comma */
    }
}

/* ---- column names and choice ---- */

static int name_in(const char *s, const char *const *list) {
    size_t i;
    for (i = 0; list[i] != NULL; i++) {
        const char *a = s, *b = list[i];
        while (*a && *b && ((*a | 0x20) == *b)) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0') {
            return 1;
        }
    }
    return 0;
}

static const char *const label_names[] = {"label", "labels", "score", "gold_label", NULL};
static const char *const id_names[] = {"idx", "index", "id", "guid", NULL};
static const char *const text_names[] = {"sentence", "sentence1", "sentence2", "text", "question",
                                          "premise", "hypothesis", "text_a", "text_b", NULL};

/* [A-Za-z_][A-Za-z0-9_.-]{0,63} */
static int looks_like_name(const char *s, size_t n) {
    size_t i;
    if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                              s[0] == '_')) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

typedef struct layout {
    const char **names; /* [ncols] or NULL without a header */
    size_t ncols;
    int text, pair, label; /* resolved indexes, -1 none */
} layout;

static lm_status find_named(const char *file, const layout *L, const char *name, const char *role,
                            int *out) {
    size_t i;
    if (L->names == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: the %s column \"%s\" is asked for by name but "
                        "the file has no header", file, role, name);
    }
    for (i = 0; i < L->ncols; i++) {
        if (strcmp(L->names[i], name) == 0) {
            *out = (int)i;
            return LM_OK;
        }
    }
    return lmi_error(LM_ERR_FORMAT, "%s: no column named \"%s\" (the %s column)", file, name, role);
}

static lm_status choose(const char *file, const lmi_column *c, const layout *L, const char *role,
                        int *out) {
    if (c->name != NULL) {
        return find_named(file, L, c->name, role, out);
    }
    if (c->index == LMI_COLUMN_NONE) {
        *out = -1;
        return LM_OK;
    }
    if (c->index < 0 || (size_t)c->index >= L->ncols) {
        return lmi_error(LM_ERR_FORMAT, "%s: the %s column %d does not exist (the first row has %zu "
                        "columns)", file, role, c->index, L->ncols);
    }
    *out = c->index;
    return LM_OK;
}

static int is_id_or_label(const layout *L, size_t i) {
    return (int)i == L->label || (L->names != NULL && name_in(L->names[i], id_names));
}

/* Resolves the three columns (AUTO rules in dataset.h). jsonl: no positional label guess. */
static lm_status resolve_columns(const char *file, const lmi_load_options *o, layout *L,
                                 int jsonl) {
    lm_status st;
    size_t i;
    L->text = L->pair = L->label = -1;
    if (o->label.name != NULL || o->label.index != LMI_COLUMN_AUTO) {
        if ((st = choose(file, &o->label, L, "label", &L->label)) != LM_OK) {
            return st;
        }
    } else {
        for (i = 0; L->names != NULL && i < L->ncols && L->label < 0; i++) {
            if (name_in(L->names[i], label_names)) {
                L->label = (int)i;
            }
        }
        if (L->label < 0 && !jsonl && L->ncols >= 2) {
            L->label = (int)L->ncols - 1;
        }
    }
    if (o->text.name != NULL || o->text.index != LMI_COLUMN_AUTO) {
        if ((st = choose(file, &o->text, L, "text", &L->text)) != LM_OK) {
            return st;
        }
    }
    if (o->pair.name != NULL || o->pair.index != LMI_COLUMN_AUTO) {
        if ((st = choose(file, &o->pair, L, "pair", &L->pair)) != LM_OK) {
            return st;
        }
    } else if (o->text.name == NULL && o->text.index == LMI_COLUMN_AUTO) {
        /* both automatic */
        int s1 = -1, s2 = -1;
        for (i = 0; L->names != NULL && i < L->ncols; i++) {
            if (strcmp(L->names[i], "sentence1") == 0) {
                s1 = (int)i;
            } else if (strcmp(L->names[i], "sentence2") == 0) {
                s2 = (int)i;
            }
        }
        if (s1 >= 0 && s2 >= 0 && s1 != L->label && s2 != L->label) {
            L->text = s1;
            L->pair = s2;
        } else if (L->names == NULL) {
            L->text = 0;
            L->pair = L->ncols >= 3 ? 1 : -1;
        } else {
            for (i = 0; i < L->ncols; i++) {
                if (!is_id_or_label(L, i)) {
                    if (L->text < 0) {
                        L->text = (int)i;
                    } else if (L->pair < 0) {
                        L->pair = (int)i;
                    }
                }
            }
        }
    }
    if (L->text < 0) { /* text AUTO with an explicit pair, or nothing found */
        for (i = 0; i < L->ncols && L->text < 0; i++) {
            if (!is_id_or_label(L, i) && (int)i != L->pair) {
                L->text = (int)i;
            }
        }
    }
    if (L->text < 0) {
        return lmi_error(LM_ERR_FORMAT, "%s: no column is left for the text (%zu columns)", file,
                        L->ncols);
    }
    if (L->text == L->pair || L->text == L->label || (L->pair >= 0 && L->pair == L->label)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: the text, pair and label columns must differ "
                        "(text %d, pair %d, label %d)", file, L->text, L->pair, L->label);
    }
    return LM_OK;
}

static int blank(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f') {
            return 0;
        }
    }
    return 1;
}

/* ---- JSON Lines ---- */

/* The value of key `name` as text into f (strings as they are, numbers and booleans printed). */
static lm_status json_cell(const lmi_reader *r, const cJSON *obj, const char *name, const char *role,
                           int number_ok, fields *f) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    char tmp[64];
    const char *s;
    lm_status st;
    if (v == NULL) {
        return lmi_reader_error(r, LM_ERR_FORMAT, "no key \"%.60s\" (the %s column)", name, role);
    }
    if (cJSON_IsString(v)) {
        s = v->valuestring;
    } else if (number_ok && cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -1e15 && d < 1e15) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)d);
        } else {
            snprintf(tmp, sizeof tmp, "%.17g", d);
        }
        s = tmp;
    } else if (number_ok && cJSON_IsBool(v)) {
        s = cJSON_IsTrue(v) ? "true" : "false";
    } else {
        return lmi_reader_error(r, LM_ERR_FORMAT, "key \"%.60s\" (the %s column) is not a %s", name,
                               role, number_ok ? "string or number" : "string");
    }
    if ((st = fields_begin(f)) != LM_OK || (st = fields_add_bytes(f, s, strlen(s))) != LM_OK) {
        return st;
    }
    return fields_end(f);
}

/* Parses one JSON Lines record; names/ncols set from the first object when L->names is NULL. */
static lm_status parse_jsonl(lmi_reader *r, cJSON **obj) {
    char what[300];
    lm_status st;
    snprintf(what, sizeof what, "%s:%zu", r->name, r->line);
    if ((st = lmi_json_parse(r->buf, r->len, what, obj)) != LM_OK) {
        return st;
    }
    if (!cJSON_IsObject(*obj)) {
        cJSON_Delete(*obj);
        *obj = NULL;
        return lmi_reader_error(r, LM_ERR_FORMAT, "not a JSON object");
    }
    return LM_OK;
}

/* ---- the reader ---- */

typedef struct state {
    lmi_dataset *ds;
    lmi_reader *r;
    const lmi_load_options *o;
    lmi_format format;
    fields f;
    layout L;
    char **names_store; /* header or key names (owned copies) */
    lmi_label_cells cells;
    size_t first_line;
} state;

static lm_status read_record(state *s, int *got) {
    lm_status st;
    for (;;) {
        if ((st = lmi_reader_next(s->r, 0, got)) != LM_OK || !*got) {
            return st;
        }
        if (blank(s->r->buf, s->r->len)) {
            if (s->o->empty_line_error) {
                return lmi_reader_error(s->r, LM_ERR_FORMAT, "blank line");
            }
            continue;
        }
        if (s->format == LMI_FORMAT_TSV) {
            return split_tsv(s->r, &s->f);
        }
        if (s->format == LMI_FORMAT_CSV) {
            return split_csv(s->r, &s->f);
        }
        return LM_OK; /* JSON Lines: parsed by the caller */
    }
}

static lm_status keep_names(state *s, size_t n, const char *const *src) {
    size_t i;
    s->names_store = lmi_calloc(n ? n : 1, sizeof *s->names_store);
    if (s->names_store == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory", s->ds->name);
    }
    for (i = 0; i < n; i++) {
        if ((s->names_store[i] = lmi_pool_strndup(s->ds, src[i], strlen(src[i]))) == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory", s->ds->name);
        }
    }
    s->L.names = (const char **)s->names_store;
    s->L.ncols = n;
    return LM_OK;
}

/* Stores the chosen cells of the current record (fields in s->f, indexed by the layout). */
static lm_status store(state *s, const int idx[3], size_t line) {
    lmi_example *e = lmi_dataset_push(s->ds, line);
    const char *role[3] = {"text", "pair", "label"};
    int k;
    if (e == NULL) {
        return lmi_error(LM_ERR_NOMEM, "%s: out of memory at line %zu", s->ds->name, line);
    }
    for (k = 0; k < 3; k++) {
        char *copy;
        size_t n;
        if (idx[k] < 0) {
            continue;
        }
        n = s->f.len[idx[k]];
        if (n == 0 && k < 2) {
            return lmi_error(LM_ERR_FORMAT, "%s:%zu: empty %s (column %d)", s->ds->name, line,
                            role[k], idx[k]);
        }
        copy = lmi_pool_strndup(s->ds, field(&s->f, (size_t)idx[k]), n);
        if (copy == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory at line %zu", s->ds->name, line);
        }
        if (k == 0) {
            e->text = copy;
            e->text_len = n;
        } else if (k == 1) {
            e->pair = copy;
            e->pair_len = n;
        } else {
            lm_status st = lmi_cells_push(&s->cells, copy, n, line, s->ds->n - 1);
            if (st != LM_OK) {
                return st;
            }
        }
    }
    return LM_OK;
}

/* Whether the first row (example 0), read as data, is in fact a header (dataset.h's rule). */
static int first_row_is_header(const state *s) {
    const lmi_label_cells *c = &s->cells;
    const lmi_example *e0 = &s->ds->examples[0];
    size_t i;
    if (s->L.label < 0 || c->n == 0 || c->target[0] != 0) {
        return 0;
    }
    if (!looks_like_name(c->text[0], c->len[0])) {
        return 0;
    }
    if (s->o->labels != NULL) {
        return lmi_label_map_find(s->o->labels, c->text[0], c->len[0]) < 0;
    }
    if (s->o->label_kind == LMI_LABELS_REGRESSION) {
        return !lmi_label_is_number(c->text[0], c->len[0]);
    }
    if (c->n > 1) {
        int rest_numeric = 1;
        for (i = 1; i < c->n && rest_numeric; i++) {
            rest_numeric = lmi_label_is_number(c->text[i], c->len[i]);
        }
        if (rest_numeric) {
            return 1; /* the label cell is a name among numbers */
        }
        for (i = 1; i < c->n; i++) {
            if (c->len[i] == c->len[0] && memcmp(c->text[i], c->text[0], c->len[0]) == 0) {
                return 0; /* a label value seen again */
            }
        }
        return looks_like_name(e0->text, e0->text_len) &&
               (e0->pair == NULL || looks_like_name(e0->pair, e0->pair_len));
    }
    return 0;
}

static void drop_first_example(state *s) {
    size_t i, k = 0;
    lmi_dataset *ds = s->ds;
    memmove(ds->examples, ds->examples + 1, (ds->n - 1) * sizeof *ds->examples);
    ds->n--;
    for (i = 0; i < s->cells.n; i++) {
        if (s->cells.target[i] == 0) {
            continue;
        }
        s->cells.text[k] = s->cells.text[i];
        s->cells.len[k] = s->cells.len[i];
        s->cells.line[k] = s->cells.line[i];
        s->cells.target[k] = s->cells.target[i] - 1;
        k++;
    }
    s->cells.n = k;
}

static int any_name_given(const lmi_load_options *o) {
    return o->text.name != NULL || o->pair.name != NULL || o->label.name != NULL;
}

static int row_has_known_name(const fields *f) {
    size_t i;
    for (i = 0; i < f->n; i++) {
        if (name_in(field(f, i), label_names) || name_in(field(f, i), text_names)) {
            return 1;
        }
    }
    return 0;
}

static lm_status read_jsonl(state *s) {
    lm_status st;
    int got;
    cJSON *obj = NULL;
    const char *role[3] = {"text", "pair", "label"};
    for (;;) {
        int idx[3];
        int k;
        if ((st = read_record(s, &got)) != LM_OK || !got) {
            return st;
        }
        if ((st = parse_jsonl(s->r, &obj)) != LM_OK) {
            return st;
        }
        if (s->L.names == NULL) {
            const cJSON *it;
            const char **keys;
            size_t n = 0;
            cJSON_ArrayForEach(it, obj) {
                n++;
            }
            keys = lmi_malloc_array(n ? n : 1, sizeof *keys);
            if (keys == NULL) {
                cJSON_Delete(obj);
                return lmi_error(LM_ERR_NOMEM, "%s: out of memory", s->ds->name);
            }
            n = 0;
            cJSON_ArrayForEach(it, obj) {
                keys[n++] = it->string;
            }
            st = keep_names(s, n, keys);
            lmi_free(keys);
            if (st == LM_OK) {
                st = resolve_columns(s->ds->name, s->o, &s->L, 1);
            }
            if (st != LM_OK) {
                cJSON_Delete(obj);
                return st;
            }
        }
        idx[0] = s->L.text;
        idx[1] = s->L.pair;
        idx[2] = s->L.label;
        s->f.n = 0;
        s->f.used = 0;
        for (k = 0; k < 3; k++) {
            if (idx[k] < 0) {
                continue;
            }
            if ((st = json_cell(s->r, obj, s->L.names[idx[k]], role[k], k == 2, &s->f)) != LM_OK) {
                cJSON_Delete(obj);
                return st;
            }
            idx[k] = (int)s->f.n - 1;
        }
        cJSON_Delete(obj);
        obj = NULL;
        if ((st = store(s, idx, s->r->line)) != LM_OK) {
            return st;
        }
    }
}

static lm_status read_table(state *s) {
    lm_status st;
    int got;
    int header = s->o->header;
    int pending = 0;
    int idx[3];
    if ((st = read_record(s, &got)) != LM_OK) {
        return st;
    }
    if (!got) {
        return LM_OK;
    }
    s->first_line = s->r->line;
    if (header == -1) {
        if (any_name_given(s->o) || row_has_known_name(&s->f)) {
            header = 1;
        } else {
            pending = 1;
            header = 0;
        }
    }
    if (header == 1) {
        const char **names = lmi_malloc_array(s->f.n, sizeof *names);
        size_t i;
        if (names == NULL) {
            return lmi_error(LM_ERR_NOMEM, "%s: out of memory", s->ds->name);
        }
        for (i = 0; i < s->f.n; i++) {
            names[i] = field(&s->f, i);
        }
        st = keep_names(s, s->f.n, names);
        lmi_free(names);
        if (st != LM_OK) {
            return st;
        }
    } else {
        s->L.names = NULL;
        s->L.ncols = s->f.n;
    }
    if ((st = resolve_columns(s->ds->name, s->o, &s->L, 0)) != LM_OK) {
        return st;
    }
    idx[0] = s->L.text;
    idx[1] = s->L.pair;
    idx[2] = s->L.label;
    if (header == 0 && (st = store(s, idx, s->r->line)) != LM_OK) {
        return st;
    }
    for (;;) {
        if ((st = read_record(s, &got)) != LM_OK) {
            return st;
        }
        if (!got) {
            break;
        }
        if (s->f.n != s->L.ncols) {
            return lmi_reader_error(s->r, LM_ERR_FORMAT, "%zu column%s, expected %zu (as the %s on "
                                   "line %zu)", s->f.n, s->f.n == 1 ? "" : "s", s->L.ncols,
                                   header ? "header" : "first row", s->first_line);
        }
        if ((st = store(s, idx, s->r->line)) != LM_OK) {
            return st;
        }
    }
    if (pending && s->ds->n > 0 && first_row_is_header(s)) {
        drop_first_example(s);
    }
    return LM_OK;
}

lm_status lmi_read_delimited(lmi_dataset *ds, lmi_reader *r, const lmi_load_options *o) {
    state s;
    lm_status st;
    memset(&s, 0, sizeof s);
    s.ds = ds;
    s.r = r;
    s.o = o;
    s.format = ds->format;
    if (s.format == LMI_FORMAT_JSONL) {
        if (o->header == 1) {
            return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: JSON Lines files have no header row",
                            ds->name);
        }
        st = read_jsonl(&s);
    } else {
        st = read_table(&s);
    }
    if (st == LM_OK && s.L.label >= 0) {
        st = lmi_labels_resolve(ds, &s.cells, 0, o);
    } else if (st == LM_OK) {
        ds->task = LMI_TASK_TEXT;
    }
    fields_free(&s.f);
    lmi_free(s.names_store);
    lmi_cells_free(&s.cells);
    return st;
}
