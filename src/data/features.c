/* Features: a data set tokenized into model inputs (rows of ids, type ids and labels) as
 * transformers' run_glue, run_ner, run_qa and run_mlm make them. See features.h. The QA rows and
 * the post-processing are in qa.c. */
#include "features_impl.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "text/tokenizer.h"

#define ENCODE_CHUNK 1024

void lmi_feature_options_init(lmi_feature_options *o) {
    memset(o, 0, sizeof *o);
}

void lmi_features_free(lmi_features *f) {
    if (f == NULL) {
        return;
    }
    lmi_free(f->start);
    lmi_free(f->ids);
    lmi_free(f->type_ids);
    lmi_free(f->special);
    lmi_free(f->token_labels);
    lmi_free(f->word_ids);
    lmi_free(f->offsets);
    lmi_free(f->labels);
    lmi_free(f->values);
    lmi_free(f->start_positions);
    lmi_free(f->end_positions);
    lmi_free(f->example);
    lmi_free(f);
}

static int grow_array(void **p, size_t count, size_t size) {
    void *q = lmi_realloc_array(*p, count, size);
    if (q == NULL) {
        return 0;
    }
    *p = q;
    return 1;
}

lm_status lmi_features_add_row(lmi_features *f, size_t n, size_t example, size_t *base) {
    int need_tokens = f->total + n > f->cap_tokens;
    int need_rows = f->n + 1 >= f->cap_rows;
    if (n > INT32_MAX || f->total > ((size_t)-1) / 4 - n) {
        return lmi_error(LM_ERR_RANGE, "features: too many tokens");
    }
    if (need_tokens) {
        size_t cap = f->cap_tokens ? f->cap_tokens : 4096;
        while (cap < f->total + n) {
            cap *= 2;
        }
        if (!grow_array((void **)&f->ids, cap, sizeof *f->ids) ||
            !grow_array((void **)&f->type_ids, cap, sizeof *f->type_ids) ||
            !grow_array((void **)&f->special, cap, sizeof *f->special) ||
            (f->task == LMI_TASK_TOKENS &&
             (!grow_array((void **)&f->token_labels, cap, sizeof *f->token_labels) ||
              !grow_array((void **)&f->word_ids, cap, sizeof *f->word_ids))) ||
            (f->task == LMI_TASK_QA && !grow_array((void **)&f->offsets, 2 * cap, sizeof *f->offsets))) {
            return lmi_error(LM_ERR_NOMEM, "features: out of memory for %zu tokens", cap);
        }
        f->cap_tokens = cap;
    }
    if (need_rows) {
        size_t cap = f->cap_rows ? f->cap_rows * 2 : 256;
        if (!grow_array((void **)&f->start, cap + 1, sizeof *f->start) ||
            !grow_array((void **)&f->example, cap, sizeof *f->example) ||
            (f->task == LMI_TASK_CLASSIFICATION &&
             !grow_array((void **)&f->labels, cap, sizeof *f->labels)) ||
            (f->task == LMI_TASK_REGRESSION &&
             !grow_array((void **)&f->values, cap, sizeof *f->values)) ||
            (f->task == LMI_TASK_QA &&
             (!grow_array((void **)&f->start_positions, cap, sizeof *f->start_positions) ||
              !grow_array((void **)&f->end_positions, cap, sizeof *f->end_positions)))) {
            return lmi_error(LM_ERR_NOMEM, "features: out of memory for %zu rows", cap);
        }
        f->cap_rows = cap;
    }
    *base = f->total;
    f->start[f->n] = f->total;
    f->example[f->n] = example;
    f->n++;
    f->total += n;
    f->start[f->n] = f->total;
    if (n > f->max_len) {
        f->max_len = n;
    }
    return LM_OK;
}

/* Copies an encoding's tokens into a new row. */
lm_status lmi_features_add_encoding(lmi_features *f, const lm_encoding_t *e, size_t example) {
    size_t base, i;
    lm_status st = lmi_features_add_row(f, e->n, example, &base);
    if (st != LM_OK) {
        return st;
    }
    memcpy(f->ids + base, e->ids, e->n * sizeof *f->ids);
    memcpy(f->type_ids + base, e->type_ids, e->n * sizeof *f->type_ids);
    for (i = 0; i < e->n; i++) {
        f->special[base + i] = (uint8_t)(e->special_mask[i] != 0);
    }
    return LM_OK;
}

/* Where an example comes from, for messages. */
void lmi_features_where(const lmi_dataset *ds, size_t i, char *out, size_t cap) {
    const lmi_example *e = &ds->examples[i];
    if (e->id != NULL) {
        snprintf(out, cap, "%s: question \"%.60s\"", ds->name, e->id);
    } else {
        snprintf(out, cap, "%s:%zu", ds->name, e->line);
    }
}

/* ---- sequence classification / regression / plain rows ---- */

static lm_status build_sequences(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                                 const lmi_feature_options *o, lmi_features *f) {
    lm_encode_options eo;
    lm_encoding_t *encs[ENCODE_CHUNK];
    const char *texts[ENCODE_CHUNK], *pairs[ENCODE_CHUNK];
    size_t lens[ENCODE_CHUNK], pair_lens[ENCODE_CHUNK];
    size_t at;
    lm_status st = LM_OK;
    lmi_encode_options_init(&eo);
    eo.max_length = o->max_length;
    eo.truncation = LM_TRUNCATE_LONGEST_FIRST;
    for (at = 0; at < ds->n && st == LM_OK; at += ENCODE_CHUNK) {
        size_t n = ds->n - at < ENCODE_CHUNK ? ds->n - at : ENCODE_CHUNK;
        size_t i;
        int any_pair = 0;
        for (i = 0; i < n; i++) {
            const lmi_example *e = &ds->examples[at + i];
            texts[i] = e->text;
            lens[i] = e->text_len;
            pairs[i] = e->pair ? e->pair : "";
            pair_lens[i] = e->pair_len;
            any_pair = any_pair || e->pair != NULL;
        }
        st = lmi_tokenizer_encode_batch(tok, n, texts, lens, any_pair ? pairs : NULL,
                                       any_pair ? pair_lens : NULL, &eo, o->threads, encs, NULL);
        if (st != LM_OK) {
            char where[300];
            size_t bad = 0;
            while (bad < n && encs[bad] != NULL) {
                bad++;
            }
            lmi_features_where(ds, at + (bad < n ? bad : 0), where, sizeof where);
            lmi_error_prefix(st, "%s", where);
        }
        for (i = 0; i < n; i++) {
            if (st == LM_OK) {
                const lmi_example *e = &ds->examples[at + i];
                st = lmi_features_add_encoding(f, encs[i], at + i);
                if (st == LM_OK && f->labels != NULL) {
                    f->labels[f->n - 1] = e->label;
                }
                if (st == LM_OK && f->values != NULL) {
                    f->values[f->n - 1] = e->value;
                }
            }
            lmi_encoding_free(encs[i]);
        }
    }
    return st;
}

/* ---- token classification (run_ner's tokenize_and_align_labels) ---- */

/* For label_all_tokens: the id of the I- tag for each B- tag (itself otherwise), as run_ner. */
static lm_status b_to_i(const lmi_label_map *m, int32_t **out) {
    size_t i;
    int32_t *map = lmi_malloc_array(m->n ? m->n : 1, sizeof *map);
    if (map == NULL) {
        return lmi_error(LM_ERR_NOMEM, "features: out of memory");
    }
    for (i = 0; i < m->n; i++) {
        const char *name = m->names[i];
        map[i] = (int32_t)i;
        if (name[0] == 'B' && name[1] == '-') {
            size_t len = strlen(name);
            char *tmp = lmi_strdup(name);
            if (tmp == NULL) {
                lmi_free(map);
                return lmi_error(LM_ERR_NOMEM, "features: out of memory");
            }
            tmp[0] = 'I';
            {
                int32_t id = lmi_label_map_find(m, tmp, len);
                if (id >= 0) {
                    map[i] = id;
                }
            }
            lmi_free(tmp);
        }
    }
    *out = map;
    return LM_OK;
}

static lm_status build_tokens(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                              const lmi_feature_options *o, lmi_features *f) {
    lmi_token_list list = {NULL, 0, 0};
    int32_t cls = lmi_tokenizer_special_id(tok, LM_SPECIAL_CLS);
    int32_t sep = lmi_tokenizer_special_id(tok, LM_SPECIAL_SEP);
    int32_t *bi = NULL;
    size_t x;
    lm_status st = LM_OK;
    if (cls < 0 || sep < 0) {
        return lmi_error(LM_ERR_UNSUPPORTED, "features: the vocabulary has no [CLS] or [SEP]");
    }
    if (o->max_length < 2) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "features: max_length %zu leaves no room for "
                        "[CLS] and [SEP]", o->max_length);
    }
    if (o->label_all_tokens && (st = b_to_i(&ds->labels, &bi)) != LM_OK) {
        return st;
    }
    for (x = 0; x < ds->n && st == LM_OK; x++) {
        const lmi_example *e = &ds->examples[x];
        size_t w, n, base, i;
        int32_t prev = -1;
        list.n = 0;
        for (w = 0; w < e->count && st == LM_OK; w++) {
            const lmi_word *word = &ds->words[e->first + w];
            size_t before = list.n;
            st = lmi_text_tokenize(tok, word->text, word->len, &list);
            for (i = before; i < list.n; i++) {
                list.t[i].word = (int32_t)w;
            }
        }
        if (st != LM_OK) {
            char where[300];
            lmi_features_where(ds, x, where, sizeof where);
            lmi_error_prefix(st, "%s", where);
            break;
        }
        n = list.n < o->max_length - 2 ? list.n : o->max_length - 2;
        if ((st = lmi_features_add_row(f, n + 2, x, &base)) != LM_OK) {
            break;
        }
        for (i = 0; i < n + 2; i++) {
            int32_t id, word, label = LMI_IGNORE_INDEX;
            if (i == 0 || i == n + 1) {
                id = i == 0 ? cls : sep;
                word = -1;
            } else {
                const lmi_token *t = &list.t[i - 1];
                int32_t wl = ds->words[e->first + (size_t)t->word].label;
                id = t->id;
                word = t->word;
                if (wl >= 0) {
                    if (word != prev) {
                        label = wl;
                    } else if (bi != NULL) {
                        label = bi[wl];
                    }
                }
            }
            f->ids[base + i] = id;
            f->type_ids[base + i] = 0;
            f->special[base + i] = (uint8_t)(word < 0);
            f->word_ids[base + i] = word;
            f->token_labels[base + i] = label;
            prev = word;
        }
    }
    lmi_free(list.t);
    lmi_free(bi);
    return st;
}

/* ---- masked LM (run_mlm) ---- */

static lm_status build_mlm_groups(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                                  const lmi_feature_options *o, lmi_features *f) {
    size_t G = o->mlm_group_lines ? o->mlm_group_lines : 1000;
    size_t L = o->max_length;
    int32_t *ids = NULL, *types = NULL;
    uint8_t *spec = NULL;
    size_t cap = 0, at;
    lm_encode_options eo;
    lm_status st = LM_OK;
    lmi_encode_options_init(&eo);
    for (at = 0; at < ds->n && st == LM_OK; at += G) {
        size_t end = ds->n - at < G ? ds->n : at + G;
        size_t used = 0, i, b;
        for (i = at; i < end && st == LM_OK; i++) {
            lm_encoding_t *e = NULL;
            const lmi_example *ex = &ds->examples[i];
            st = ex->pair ? lmi_tokenizer_encode_pair(tok, ex->text, ex->text_len, ex->pair,
                                                     ex->pair_len, &eo, &e)
                          : lmi_tokenizer_encode(tok, ex->text, ex->text_len, &eo, &e);
            if (st != LM_OK) {
                char where[300];
                lmi_features_where(ds, i, where, sizeof where);
                lmi_error_prefix(st, "%s", where);
                break;
            }
            if (used + e->n > cap) {
                size_t c = cap ? cap : 4096;
                while (c < used + e->n) {
                    c *= 2;
                }
                if (!grow_array((void **)&ids, c, sizeof *ids) ||
                    !grow_array((void **)&types, c, sizeof *types) ||
                    !grow_array((void **)&spec, c, sizeof *spec)) {
                    lmi_encoding_free(e);
                    st = lmi_error(LM_ERR_NOMEM, "features: out of memory for %zu tokens", c);
                    break;
                }
                cap = c;
            }
            memcpy(ids + used, e->ids, e->n * sizeof *ids);
            memcpy(types + used, e->type_ids, e->n * sizeof *types);
            for (b = 0; b < e->n; b++) {
                spec[used + b] = (uint8_t)(e->special_mask[b] != 0);
            }
            used += e->n;
            lmi_encoding_free(e);
        }
        for (b = 0; st == LM_OK && b + L <= used; b += L) {
            size_t base;
            if ((st = lmi_features_add_row(f, L, at, &base)) != LM_OK) {
                break;
            }
            memcpy(f->ids + base, ids + b, L * sizeof *ids);
            memcpy(f->type_ids + base, types + b, L * sizeof *types);
            memcpy(f->special + base, spec + b, L);
        }
    }
    lmi_free(ids);
    lmi_free(types);
    lmi_free(spec);
    return st;
}

lm_status lmi_features_build(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                             const lmi_feature_options *opts, lmi_features **out) {
    lmi_feature_options o;
    lmi_features *f;
    lm_status st;
    if (out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "features: out is NULL");
    }
    *out = NULL;
    if (ds == NULL || tok == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "features: NULL dataset or tokenizer");
    }
    if (opts != NULL) {
        o = *opts;
    } else {
        lmi_feature_options_init(&o);
    }
    if (o.max_length == 0) {
        o.max_length = ds->task == LMI_TASK_QA ? 384
                       : (ds->task == LMI_TASK_TOKENS || (ds->task == LMI_TASK_TEXT && o.mlm)) ? 512
                                                                                               : 128;
    }
    if (o.doc_stride == 0) {
        o.doc_stride = 128;
    }
    if (o.threads < 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "features: threads %d", o.threads);
    }
    if (o.mlm && ds->task != LMI_TASK_TEXT) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "features: masked LM needs a text data set");
    }
    f = lmi_calloc(1, sizeof *f);
    if (f == NULL) {
        return lmi_error(LM_ERR_NOMEM, "features: out of memory");
    }
    f->task = ds->task;
    f->mlm = o.mlm;
    switch (ds->task) {
    case LMI_TASK_TOKENS:
        st = build_tokens(ds, tok, &o, f);
        break;
    case LMI_TASK_QA:
        st = lmi_features_build_qa(ds, tok, &o, f);
        break;
    case LMI_TASK_TEXT:
        if (o.mlm && o.mlm_group) {
            st = build_mlm_groups(ds, tok, &o, f);
            break;
        }
        st = build_sequences(ds, tok, &o, f);
        break;
    default:
        st = build_sequences(ds, tok, &o, f);
        break;
    }
    if (st == LM_OK && f->n == 0) {
        st = lmi_error(LM_ERR_FORMAT, "%s: no rows (the text is shorter than one block of %zu "
                      "tokens)", ds->name, o.max_length);
    }
    if (st != LM_OK) {
        lmi_features_free(f);
        return st;
    }
    *out = f;
    return LM_OK;
}
