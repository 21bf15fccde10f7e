/* Token classification, as transformers' token-classification pipeline with ignore_labels ["O"]:
 * a softmax per token over the labels, then
 *  - none: one result per non-special token (its best label);
 *  - simple: adjacent tokens of the same entity type grouped (a "B-" tag starts a new group, "I-"
 *    and bare tags continue one), score the mean of the tokens' scores;
 *  - first / average / max: tokens first grouped into words (a token whose text differs in length
 *    from the characters it covers, like "##ing", continues a word; [UNK] never does), a word takes
 *    the label of its first token, of its averaged scores, or of its best-scoring token; then the
 *    words grouped as in simple.
 * Groups are named by their first member's label without its prefix ("B-PER" -> "PER"); results of
 * that type "O" are left out, as are tokens labelled "O" without aggregation. */
#include "pipeline/pipeline.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "pipeline/common.h"

/* What the grouping needs of each label. */
typedef struct label_info {
    int begins;     /* "B-" prefix */
    size_t tag;     /* the lowest label id with the same tag (name without B-/I-) */
    int32_t group;  /* the id that names a group starting with this label */
    int is_o;       /* the name is "O" */
    int type_is_o;  /* the name without its prefix (up to the first '-') is "O" */
} label_info;

static const char *tag_of(const char *name) {
    return strncmp(name, "B-", 2) == 0 || strncmp(name, "I-", 2) == 0 ? name + 2 : name;
}

static const char *type_of(const char *name) {
    const char *d = strchr(name, '-');
    return d != NULL ? d + 1 : name;
}

static int32_t find_label(const lmi_bert_config *c, const char *prefix, const char *type) {
    int64_t l;
    size_t pl = strlen(prefix);
    for (l = 0; l < c->num_labels; l++) {
        const char *name = lmi_bert_config_label(c, l);
        if (strncmp(name, prefix, pl) == 0 && strcmp(name + pl, type) == 0) {
            return (int32_t)l;
        }
    }
    return -1;
}

static void label_table(const lmi_bert_config *c, label_info *info) {
    size_t l, k;
    for (l = 0; l < (size_t)c->num_labels; l++) {
        const char *name = lmi_bert_config_label(c, (int64_t)l);
        const char *type = type_of(name);
        int32_t g;
        info[l].begins = strncmp(name, "B-", 2) == 0;
        info[l].tag = l;
        for (k = 0; k < l; k++) {
            if (strcmp(tag_of(lmi_bert_config_label(c, (int64_t)k)), tag_of(name)) == 0) {
                info[l].tag = k;
                break;
            }
        }
        g = find_label(c, "B-", type);
        g = g >= 0 ? g : find_label(c, "I-", type);
        g = g >= 0 ? g : find_label(c, "", type);
        info[l].group = g >= 0 ? g : (int32_t)l;
        info[l].is_o = strcmp(name, "O") == 0;
        info[l].type_is_o = strcmp(type, "O") == 0;
    }
}

/* One token, word or entity on its way through the aggregation. */
typedef struct item {
    int32_t label;
    float score;
    int32_t token;
    size_t c0, c1, b0, b1;
} item;

typedef struct tag_job {
    const lmi_pipe *p;
    lm_encoding_t *const *encs;
    const size_t *first; /* [n] each text's first token row in probs */
    size_t NL;
    float *logits;       /* [batch * T, NL] */
    float *probs;        /* [tokens, NL] */
} tag_job;

static lm_status tag_batch(void *user, const lmi_pipe_batch *b) {
    const tag_job *j = user;
    size_t r, t;
    lm_status s = lmi_bert_token_logits(j->p->m, b->hidden, b->B * b->T, j->logits);
    for (r = 0; r < b->B && s == LM_OK; r++) {
        const lm_encoding_t *e = j->encs[b->rows[r]];
        for (t = 0; t < e->n; t++) {
            lmi_pipe_softmax(j->logits + (r * b->T + t) * j->NL, j->NL,
                             j->probs + (j->first[b->rows[r]] + t) * j->NL);
        }
    }
    return s;
}

static int32_t argmax(const float *x, size_t n) {
    size_t i, best = 0;
    for (i = 1; i < n; i++) {
        best = x[i] > x[best] ? i : best;
    }
    return (int32_t)best;
}

/* Appends the groups of items[0..count) (simple grouping) to out; returns the new count. */
static size_t group(const label_info *info, const item *items, size_t count, lm_entity *out,
                    size_t n_out, int32_t text) {
    size_t i = 0;
    while (i < count) {
        size_t k = i + 1;
        double sum = items[i].score;
        lm_entity *g;
        while (k < count && info[items[k].label].tag == info[items[k - 1].label].tag &&
               !info[items[k].label].begins) {
            sum += items[k].score;
            k++;
        }
        if (!info[items[i].label].type_is_o) {
            g = &out[n_out++];
            g->text = text;
            g->label = info[items[i].label].group;
            g->score = (float)(sum / (double)(k - i));
            g->token = -1;
            g->start = (int64_t)items[i].c0;
            g->end = (int64_t)items[k - 1].c1;
            g->byte_start = (int64_t)items[i].b0;
            g->byte_end = (int64_t)items[k - 1].b1;
        }
        i = k;
    }
    return n_out;
}

/* The results of one text, appended to out[n_out..]; returns the new count. items, avg: scratch
 * for the text's tokens and one score vector. */
static size_t tag_text(const lmi_pipe *p, const label_info *info, int agg, const lm_encoding_t *e,
                       const float *probs, size_t NL, int32_t text, item *items, double *avg,
                       lm_entity *out, size_t n_out) {
    const int32_t unk = p->tok.special[LM_SPECIAL_UNK];
    size_t t, l, count = 0;
    for (t = 0; t < e->n; t++) {
        const float *pr = probs + t * NL;
        const size_t c0 = e->offsets[2 * t], c1 = e->offsets[2 * t + 1];
        int subword;
        if (e->special_mask[t]) {
            continue;
        }
        if (agg == LM_AGGREGATE_NONE || agg == LM_AGGREGATE_SIMPLE) {
            item *it = &items[count++];
            it->label = argmax(pr, NL);
            it->score = pr[it->label];
            it->token = (int32_t)t;
            it->c0 = c0;
            it->c1 = c1;
            it->b0 = e->byte_offsets[2 * t];
            it->b1 = e->byte_offsets[2 * t + 1];
            continue;
        }
        /* words: is_subword = len(token text) != len(text[start:end]), never for [UNK] */
        {
            const char *piece = lmi_tokenizer_id_to_token(&p->tok, e->ids[t]);
            subword = e->ids[t] != unk && piece != NULL &&
                      lmi_pipe_chars(piece, strlen(piece)) != c1 - c0;
        }
        if (!subword || count == 0) { /* a new word */
            item *it = &items[count++];
            it->label = argmax(pr, NL);
            it->score = pr[it->label];
            it->token = 1; /* tokens in the word */
            it->c0 = c0;
            it->b0 = e->byte_offsets[2 * t];
            for (l = 0; l < NL; l++) {
                avg[(count - 1) * NL + l] = pr[l];
            }
        } else {
            item *it = &items[count - 1];
            int32_t best = argmax(pr, NL);
            if (agg == LM_AGGREGATE_MAX && pr[best] > it->score) {
                it->label = best;
                it->score = pr[best];
            }
            it->token++;
            for (l = 0; l < NL; l++) {
                avg[(count - 1) * NL + l] += pr[l];
            }
        }
        items[count - 1].c1 = c1;
        items[count - 1].b1 = e->byte_offsets[2 * t + 1];
    }
    if (agg == LM_AGGREGATE_AVERAGE) {
        for (t = 0; t < count; t++) {
            double *a = avg + t * NL;
            size_t best = 0;
            for (l = 0; l < NL; l++) {
                a[l] /= (double)items[t].token;
                best = a[l] > a[best] ? l : best;
            }
            items[t].label = (int32_t)best;
            items[t].score = (float)a[best];
        }
    }
    if (agg != LM_AGGREGATE_NONE) {
        return group(info, items, count, out, n_out, text);
    }
    for (t = 0; t < count; t++) {
        lm_entity *x;
        if (info[items[t].label].is_o) {
            continue;
        }
        x = &out[n_out++];
        x->text = text;
        x->label = items[t].label;
        x->score = items[t].score;
        x->token = items[t].token;
        x->start = (int64_t)items[t].c0;
        x->end = (int64_t)items[t].c1;
        x->byte_start = (int64_t)items[t].b0;
        x->byte_end = (int64_t)items[t].b1;
    }
    return n_out;
}

lm_status lmi_pipe_tag(const lmi_bert *m, const lm_tokenizer_t *tok, const lm_text_options *o,
                       size_t n, const char *const *texts, const size_t *lens, lm_entity *out,
                       size_t capacity, size_t *n_out) {
    lmi_pipe p;
    tag_job job;
    lm_encoding_t **encs = NULL;
    size_t *first = NULL;
    label_info *info = NULL;
    item *items = NULL;
    lm_entity *all = NULL;
    double *avg = NULL;
    size_t i, tokens = 0, longest = 0, count = 0, batch;
    lm_status s = lmi_pipe_init(&p, m, tok, o, LM_BERT_HEAD_TOKEN_CLASS, 0);
    if (n_out != NULL) {
        *n_out = 0;
    }
    if (s != LM_OK) {
        return s;
    }
    if (o->aggregation < LM_AGGREGATE_NONE || o->aggregation > LM_AGGREGATE_MAX) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_text_options.aggregation is %d (an lm_aggregation)",
                         (int)o->aggregation);
    }
    if (n == 0) {
        return LM_OK;
    }
    job.p = &p;
    job.NL = (size_t)m->cfg.num_labels;
    job.logits = job.probs = NULL;
    encs = lmi_calloc(n, sizeof *encs);
    first = lmi_malloc_array(n, sizeof *first);
    info = lmi_malloc_array(job.NL, sizeof *info);
    if (encs == NULL || first == NULL || info == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for %zu texts", n);
        goto done;
    }
    label_table(&m->cfg, info);
    s = lmi_pipe_encode(&p, n, texts, lens, NULL, NULL, encs);
    if (s != LM_OK) {
        goto done;
    }
    for (i = 0; i < n; i++) {
        first[i] = tokens;
        tokens += encs[i]->n;
        longest = encs[i]->n > longest ? encs[i]->n : longest;
    }
    batch = n < p.batch ? n : p.batch;
    job.encs = encs;
    job.first = first;
    job.logits = lmi_malloc_array((batch * longest + tokens) * job.NL, sizeof(float));
    items = lmi_malloc_array(longest, sizeof *items);
    avg = lmi_malloc_array(longest * job.NL, sizeof *avg);
    all = lmi_malloc_array(tokens, sizeof *all);
    if (job.logits == NULL || items == NULL || avg == NULL || all == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for the scores of %zu tokens", tokens);
        goto done;
    }
    job.probs = job.logits + batch * longest * job.NL;
    s = lmi_pipe_run(&p, encs, n, tag_batch, &job);
    for (i = 0; i < n && s == LM_OK; i++) {
        count = tag_text(&p, info, o->aggregation, encs[i], job.probs + first[i] * job.NL, job.NL,
                         (int32_t)i, items, avg, all, count);
    }
    if (s == LM_OK) {
        if (n_out != NULL) {
            *n_out = count;
        }
        if (capacity < count) {
            s = lmi_pipe_too_small(count, capacity, "lm_entity entries");
        } else if (count > 0) {
            memcpy(out, all, count * sizeof *all);
        }
    }
done:
    lmi_free(all);
    lmi_free(avg);
    lmi_free(items);
    lmi_free(job.logits);
    lmi_free(info);
    lmi_free(first);
    lmi_pipe_free_encodings(encs, n);
    lmi_free(encs);
    return s;
}
