/* Extractive question answering: the rows of transformers' run_qa (prepare_train_features and
 * prepare_validation_features in one: windows over the context, answer token positions and the
 * context offsets of every token) and postprocess_qa_predictions (logits back to a text span). */
#include "features_impl.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/utf8.h"
#include "metrics.h"
#include "text/tokenizer.h"

/* Python's str.lstrip(): the byte length of the leading whitespace. */
static size_t py_lstrip(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t k = lmi_utf8_decode(s + i, len - i, &cp);
        if (k == 0 || !lmi_py_isspace(cp)) {
            break;
        }
        i += k;
    }
    return i;
}

/* One window: offsets of context tokens, and the answer's start/end token. */
static void fill_window(lmi_features *f, const lm_encoding_t *w, size_t base, const lmi_answer *ans) {
    size_t i, n = w->n;
    long ts = -1, te = -1;
    int32_t sp = 0, ep = 0;
    for (i = 0; i < n; i++) {
        if (w->seq_ids[i] == 1) {
            f->offsets[2 * (base + i)] = (int32_t)w->byte_offsets[2 * i];
            f->offsets[2 * (base + i) + 1] = (int32_t)w->byte_offsets[2 * i + 1];
            if (ts < 0) {
                ts = (long)i;
            }
            te = (long)i;
        } else {
            f->offsets[2 * (base + i)] = -1;
            f->offsets[2 * (base + i) + 1] = -1;
        }
    }
    if (ans != NULL && ts >= 0 && w->byte_offsets[2 * ts] <= ans->start &&
        w->byte_offsets[2 * te + 1] >= ans->end) {
        long a = ts, b = te;
        /* run_qa: move past every token that starts at or before the answer, then back one; and
         * from the end, before every token that ends at or after it, then forward one */
        while (a <= te && w->byte_offsets[2 * a] <= ans->start) {
            a++;
        }
        while (b >= ts && w->byte_offsets[2 * b + 1] >= ans->end) {
            b--;
        }
        sp = (int32_t)(a - 1);
        ep = (int32_t)(b + 1);
    }
    f->start_positions[f->n - 1] = sp;
    f->end_positions[f->n - 1] = ep;
}

lm_status lmi_features_build_qa(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                                const lmi_feature_options *o, lmi_features *f) {
    lm_encode_options eo;
    size_t x;
    lm_status st = LM_OK;
    lmi_encode_options_init(&eo);
    eo.max_length = o->max_length;
    eo.truncation = LM_TRUNCATE_ONLY_SECOND;
    eo.stride = o->doc_stride;
    eo.return_overflowing = 1;
    for (x = 0; x < ds->n && st == LM_OK; x++) {
        const lmi_example *e = &ds->examples[x];
        const lmi_answer *ans = e->count > 0 ? &ds->answers[e->first] : NULL;
        size_t skip = py_lstrip(e->text, e->text_len);
        lm_encoding_t *enc = NULL;
        size_t w;
        st = lmi_tokenizer_encode_pair(tok, e->text + skip, e->text_len - skip, e->pair, e->pair_len,
                                      &eo, &enc);
        if (st != LM_OK) {
            char where[300];
            lmi_features_where(ds, x, where, sizeof where);
            return lmi_error_prefix(st, "%s (max_length %zu, doc_stride %zu)", where,
                                   o->max_length, o->doc_stride);
        }
        for (w = 0; w <= enc->n_overflow && st == LM_OK; w++) {
            const lm_encoding_t *win = w == 0 ? enc : enc->overflow[w - 1];
            size_t base = 0;
            if ((st = lmi_features_add_encoding(f, win, x)) == LM_OK) {
                base = f->start[f->n - 1];
                fill_window(f, win, base, ans);
            }
        }
        lmi_encoding_free(enc);
    }
    return st;
}

/* ---- post-processing ---- */

/* The k best tokens of logits[0..n) (by value, ties: the later token first) into top. */
static size_t top_k(const float *logits, size_t n, size_t k, size_t *top) {
    size_t m = 0, i;
    for (i = 0; i < n; i++) {
        size_t j;
        if (m == k && !(logits[i] > logits[top[m - 1]] || logits[i] == logits[top[m - 1]])) {
            continue;
        }
        /* ties go before earlier tokens: i is the latest so far */
        j = m < k ? m++ : m - 1;
        while (j > 0 && (logits[i] > logits[top[j - 1]] || logits[i] == logits[top[j - 1]])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
    }
    return m;
}

lm_status lmi_qa_postprocess(const lmi_dataset *ds, const lmi_features *f,
                             const float *start_logits, const float *end_logits, size_t n_best,
                             size_t max_answer_length, lmi_span *answers) {
    size_t *ts, *te;
    float *best;
    size_t r, x;
    if (ds == NULL || f == NULL || start_logits == NULL || end_logits == NULL || answers == NULL ||
        f->task != LMI_TASK_QA || n_best == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "qa postprocess: NULL argument, n_best 0 or not "
                        "QA features");
    }
    for (r = 0; r < f->n; r++) {
        if (f->example[r] >= ds->n) {
            return lmi_error(LM_ERR_INVALID_ARGUMENT, "qa postprocess: the features are not from "
                            "this dataset");
        }
    }
    ts = lmi_malloc_array(2 * n_best, sizeof *ts);
    best = lmi_malloc_array(ds->n ? ds->n : 1, sizeof *best);
    if (ts == NULL || best == NULL) {
        lmi_free(ts);
        lmi_free(best);
        return lmi_error(LM_ERR_NOMEM, "qa postprocess: out of memory");
    }
    te = ts + n_best;
    for (x = 0; x < ds->n; x++) {
        answers[x].start = answers[x].end = -1;
    }
    for (r = 0; r < f->n; r++) {
        size_t base = f->start[r], n = lmi_features_len(f, r);
        const int32_t *off = f->offsets + 2 * base;
        size_t ns = top_k(start_logits + base, n, n_best, ts);
        size_t ne = top_k(end_logits + base, n, n_best, te);
        size_t a, b;
        x = f->example[r];
        for (a = 0; a < ns; a++) {
            size_t s = ts[a];
            if (off[2 * s] < 0) {
                continue;
            }
            for (b = 0; b < ne; b++) {
                size_t e = te[b];
                float score;
                if (off[2 * e] < 0 || e < s || e - s + 1 > max_answer_length) {
                    continue;
                }
                score = start_logits[base + s] + end_logits[base + e];
                if (answers[x].start < 0 || score > best[x]) {
                    best[x] = score;
                    answers[x].start = off[2 * s];
                    answers[x].end = off[2 * e + 1];
                }
            }
        }
    }
    lmi_free(ts);
    lmi_free(best);
    return LM_OK;
}

lm_status lmi_qa_evaluate(const lmi_dataset *ds, const lmi_span *answers, double *em, double *f1) {
    const char **golds = NULL;
    size_t *lens = NULL, x, counted = 0, most = 0;
    double sum_em = 0, sum_f1 = 0;
    lm_status st = LM_OK;
    if (ds == NULL || answers == NULL || em == NULL || f1 == NULL || ds->task != LMI_TASK_QA) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "qa evaluate: NULL argument or not a QA dataset");
    }
    for (x = 0; x < ds->n; x++) {
        most = ds->examples[x].count > most ? ds->examples[x].count : most;
    }
    golds = lmi_malloc_array(most + 1, sizeof *golds);
    lens = lmi_malloc_array(most + 1, sizeof *lens);
    if (golds == NULL || lens == NULL) {
        st = lmi_error(LM_ERR_NOMEM, "qa evaluate: out of memory");
    }
    for (x = 0; x < ds->n && st == LM_OK; x++) {
        const lmi_example *e = &ds->examples[x];
        const char *pred = "empty";
        size_t plen = 5, k;
        double a, b;
        if (e->count == 0) {
            continue;
        }
        if (answers[x].start >= 0 && answers[x].start <= answers[x].end &&
            (size_t)answers[x].end <= e->pair_len) {
            pred = e->pair + answers[x].start;
            plen = (size_t)(answers[x].end - answers[x].start);
        }
        for (k = 0; k < e->count; k++) {
            golds[k] = ds->answers[e->first + k].text;
            lens[k] = ds->answers[e->first + k].len;
        }
        if ((st = lmi_metric_squad(pred, plen, golds, lens, e->count, &a, &b)) == LM_OK) {
            sum_em += a;
            sum_f1 += b;
            counted++;
        }
    }
    lmi_free(golds);
    lmi_free(lens);
    *em = counted ? 100.0 * sum_em / (double)counted : 0.0;
    *f1 = counted ? 100.0 * sum_f1 / (double)counted : 0.0;
    return st;
}
