/* Evaluation metrics as their reference implementations compute them (scikit-learn, scipy,
 * seqeval, SQuAD's evaluate-v1.1.py, run_mlm). Pure: see metrics.h. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/utf8.h"

/* ---- classification ---- */

double lmi_metric_accuracy(const int32_t *pred, const int32_t *gold, size_t n) {
    size_t i, ok = 0;
    if (n == 0) {
        return 0.0;
    }
    for (i = 0; i < n; i++) {
        ok += pred[i] == gold[i];
    }
    return (double)ok / (double)n;
}

void lmi_metric_confusion(const int32_t *pred, const int32_t *gold, size_t n, size_t k,
                          size_t *matrix) {
    size_t i;
    memset(matrix, 0, k * k * sizeof *matrix);
    for (i = 0; i < n; i++) {
        if (pred[i] >= 0 && gold[i] >= 0 && (size_t)pred[i] < k && (size_t)gold[i] < k) {
            matrix[(size_t)gold[i] * k + (size_t)pred[i]]++;
        }
    }
}

static double f1_of(size_t tp, size_t fp, size_t fn) {
    size_t d = 2 * tp + fp + fn;
    return d == 0 ? 0.0 : 2.0 * (double)tp / (double)d;
}

double lmi_metric_f1_binary(const int32_t *pred, const int32_t *gold, size_t n, int32_t positive) {
    size_t i, tp = 0, fp = 0, fn = 0;
    for (i = 0; i < n; i++) {
        int p = pred[i] == positive, g = gold[i] == positive;
        tp += p && g;
        fp += p && !g;
        fn += !p && g;
    }
    return f1_of(tp, fp, fn);
}

lm_status lmi_metric_f1_macro(const int32_t *pred, const int32_t *gold, size_t n, size_t k,
                              double *out) {
    size_t *c, i, used = 0;
    double sum = 0.0;
    *out = 0.0;
    if (k == 0) {
        return LM_OK;
    }
    c = lmi_calloc(k, 3 * sizeof *c); /* tp, fp, fn per class */
    if (c == NULL) {
        return lmi_error(LM_ERR_NOMEM, "metrics: out of memory for %zu classes", k);
    }
    for (i = 0; i < n; i++) {
        int pin = pred[i] >= 0 && (size_t)pred[i] < k, gin = gold[i] >= 0 && (size_t)gold[i] < k;
        if (pin && gin && pred[i] == gold[i]) {
            c[3 * (size_t)pred[i]]++;
            continue;
        }
        if (pin) {
            c[3 * (size_t)pred[i] + 1]++;
        }
        if (gin) {
            c[3 * (size_t)gold[i] + 2]++;
        }
    }
    for (i = 0; i < k; i++) {
        if (c[3 * i] + c[3 * i + 1] + c[3 * i + 2] > 0) {
            sum += f1_of(c[3 * i], c[3 * i + 1], c[3 * i + 2]);
            used++;
        }
    }
    lmi_free(c);
    *out = used ? sum / (double)used : 0.0;
    return LM_OK;
}

/* ---- regression ---- */

double lmi_metric_pearson(const double *x, const double *y, size_t n) {
    double mx = 0, my = 0, ax = 0, ay = 0, nx = 0, ny = 0, r = 0;
    size_t i;
    if (n < 2) {
        return NAN;
    }
    for (i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    /* scipy scales by the largest deviation before the norm (no premature overflow) */
    for (i = 0; i < n; i++) {
        ax = fmax(ax, fabs(x[i] - mx));
        ay = fmax(ay, fabs(y[i] - my));
    }
    if (!(ax > 0) || !(ay > 0)) {
        return NAN;
    }
    for (i = 0; i < n; i++) {
        double a = (x[i] - mx) / ax, b = (y[i] - my) / ay;
        nx += a * a;
        ny += b * b;
    }
    nx = ax * sqrt(nx);
    ny = ay * sqrt(ny);
    for (i = 0; i < n; i++) {
        r += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
    }
    if (isnan(r)) {
        return r;
    }
    return r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
}

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->v < b->v) {
        return -1;
    }
    if (a->v > b->v) {
        return 1;
    }
    return a->i < b->i ? -1 : (a->i > b->i);
}

/* scipy.stats.rankdata(method="average"): 1-based ranks, ties share their mean rank. */
static void rank_average(const double *v, size_t n, ranked *tmp, double *ranks) {
    size_t i = 0;
    for (i = 0; i < n; i++) {
        tmp[i].v = v[i];
        tmp[i].i = i;
    }
    qsort(tmp, n, sizeof *tmp, cmp_ranked);
    i = 0;
    while (i < n) {
        size_t j = i + 1, k;
        double r;
        while (j < n && tmp[j].v == tmp[i].v) {
            j++;
        }
        r = ((double)(i + 1) + (double)j) / 2.0;
        for (k = i; k < j; k++) {
            ranks[tmp[k].i] = r;
        }
        i = j;
    }
}

lm_status lmi_metric_spearman(const double *x, const double *y, size_t n, double *out) {
    ranked *tmp;
    double *rx;
    size_t i;
    *out = NAN;
    for (i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) {
            return LM_OK;
        }
    }
    if (n < 2) {
        return LM_OK;
    }
    tmp = lmi_malloc_array(n, sizeof *tmp);
    rx = lmi_malloc_array(n, 2 * sizeof *rx);
    if (tmp == NULL || rx == NULL) {
        lmi_free(tmp);
        lmi_free(rx);
        return lmi_error(LM_ERR_NOMEM, "metrics: out of memory for %zu values", n);
    }
    rank_average(x, n, tmp, rx);
    rank_average(y, n, tmp, rx + n);
    *out = lmi_metric_pearson(rx, rx + n, n);
    lmi_free(tmp);
    lmi_free(rx);
    return LM_OK;
}

double lmi_metric_perplexity(double mean_ce) {
    double p = exp(mean_ce);
    return isfinite(p) || isnan(p) ? p : INFINITY;
}

/* ---- seqeval ---- */

typedef struct tag_info {
    uint32_t tag;      /* the first code point of the label */
    const char *type;  /* the type: after the first '-' of the rest, or the rest; "_" if empty */
    size_t type_len;
} tag_info;

typedef struct chunk {
    size_t start, end;
    int32_t label; /* a label carrying the chunk's type */
} chunk;

static int same_type(const tag_info *a, const tag_info *b) {
    if (a == NULL || b == NULL) {
        return a == b; /* NULL: the initial '' type */
    }
    return a->type_len == b->type_len && memcmp(a->type, b->type, a->type_len) == 0;
}

static int end_of_chunk(uint32_t pt, uint32_t t, const tag_info *ptype, const tag_info *type) {
    if (pt == 'E' || pt == 'S') {
        return 1;
    }
    if ((pt == 'B' || pt == 'I') && (t == 'B' || t == 'S' || t == 'O')) {
        return 1;
    }
    return pt != 'O' && pt != '.' && !same_type(ptype, type);
}

static int start_of_chunk(uint32_t pt, uint32_t t, const tag_info *ptype, const tag_info *type) {
    if (t == 'B' || t == 'S') {
        return 1;
    }
    if ((pt == 'E' || pt == 'S' || pt == 'O') && (t == 'E' || t == 'I')) {
        return 1;
    }
    return t != 'O' && t != '.' && !same_type(ptype, type);
}

/* get_entities over the sequences (each followed by an 'O'), skipping ignored tokens. */
static lm_status entities(const int32_t *labels, const int32_t *gold, const size_t *start,
                          size_t n_seq, const tag_info *info, size_t n_names, chunk **out,
                          size_t *n_out) {
    static const tag_info o_info = {'O', "_", 1};
    uint32_t pt = 'O';
    const tag_info *ptype = NULL;
    int32_t plabel = -1;
    size_t pos = 0, begin = 0, s, n = 0, cap = 0;
    chunk *c = NULL;
    for (s = 0; s < n_seq; s++) {
        size_t i;
        for (i = start[s]; i <= start[s + 1]; i++) {
            const tag_info *ti;
            int32_t lab = -1;
            if (i < start[s + 1]) {
                if (gold[i] == -100) {
                    continue;
                }
                lab = labels[i];
                if (lab < 0 || (size_t)lab >= n_names) {
                    lmi_free(c);
                    return lmi_error(LM_ERR_RANGE, "seqeval: label id %d at token %zu is not one of "
                                    "the %zu labels", (int)lab, i, n_names);
                }
                ti = &info[lab];
            } else {
                ti = &o_info; /* the 'O' after each sequence */
            }
            if (end_of_chunk(pt, ti->tag, ptype, ti)) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    chunk *p = lmi_realloc_array(c, nc, sizeof *p);
                    if (p == NULL) {
                        lmi_free(c);
                        return lmi_error(LM_ERR_NOMEM, "seqeval: out of memory");
                    }
                    c = p;
                    cap = nc;
                }
                c[n].start = begin;
                c[n].end = pos - 1;
                c[n].label = plabel;
                n++;
            }
            if (start_of_chunk(pt, ti->tag, ptype, ti)) {
                begin = pos;
            }
            pt = ti->tag;
            ptype = ti;
            plabel = lab;
            pos++;
        }
    }
    *out = c;
    *n_out = n;
    return LM_OK;
}

static const tag_info *chunk_type(const chunk *c, const tag_info *info) {
    static const tag_info o_info = {'O', "_", 1};
    return c->label >= 0 ? &info[c->label] : &o_info;
}

lm_status lmi_metric_seqeval(const int32_t *gold, const int32_t *pred, const size_t *start,
                             size_t n_seq, const char *const *names, size_t n_names,
                             lmi_seqeval *out) {
    tag_info *info;
    chunk *ct = NULL, *cp = NULL;
    size_t nt = 0, np = 0, i, j, s, correct = 0, tokens = 0, same = 0;
    lm_status st;
    memset(out, 0, sizeof *out);
    info = lmi_malloc_array(n_names ? n_names : 1, sizeof *info);
    if (info == NULL) {
        return lmi_error(LM_ERR_NOMEM, "seqeval: out of memory");
    }
    for (i = 0; i < n_names; i++) {
        const char *nm = names[i];
        size_t len = strlen(nm), k = 0;
        const char *rest, *dash;
        uint32_t cp0 = 0;
        if (len > 0 && (k = lmi_utf8_decode(nm, len, &cp0)) == 0) {
            k = 1;
            cp0 = (unsigned char)nm[0];
        }
        info[i].tag = cp0;
        rest = nm + k;
        dash = memchr(rest, '-', len - k);
        info[i].type = dash ? dash + 1 : rest;
        info[i].type_len = (size_t)(nm + len - info[i].type);
        if (info[i].type_len == 0) {
            info[i].type = "_";
            info[i].type_len = 1;
        }
    }
    for (s = 0; s < n_seq; s++) {
        for (i = start[s]; i < start[s + 1]; i++) {
            if (gold[i] != -100) {
                tokens++;
                same += gold[i] == pred[i];
            }
        }
    }
    st = entities(gold, gold, start, n_seq, info, n_names, &ct, &nt);
    if (st == LM_OK) {
        st = entities(pred, gold, start, n_seq, info, n_names, &cp, &np);
    }
    if (st == LM_OK) {
        /* entities of one list do not overlap: merge by start */
        i = j = 0;
        while (i < nt && j < np) {
            if (ct[i].start < cp[j].start) {
                i++;
            } else if (ct[i].start > cp[j].start) {
                j++;
            } else {
                correct += ct[i].end == cp[j].end &&
                           same_type(chunk_type(&ct[i], info), chunk_type(&cp[j], info));
                i++;
                j++;
            }
        }
        out->n_true = nt;
        out->n_pred = np;
        out->n_correct = correct;
        out->n_tokens = tokens;
        out->precision = np ? (double)correct / (double)np : 0.0;
        out->recall = nt ? (double)correct / (double)nt : 0.0;
        out->f1 = out->precision + out->recall > 0
                      ? 2.0 * out->precision * out->recall / (out->precision + out->recall)
                      : 0.0;
        out->accuracy = tokens ? (double)same / (double)tokens : 0.0;
    }
    lmi_free(ct);
    lmi_free(cp);
    lmi_free(info);
    return st;
}

/* ---- SQuAD v1.1 ---- */

int lmi_py_isspace(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static int is_cased(uint32_t cp) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
           utf8proc_tolower((utf8proc_int32_t)cp) != (utf8proc_int32_t)cp ||
           utf8proc_toupper((utf8proc_int32_t)cp) != (utf8proc_int32_t)cp;
}

static int is_case_ignorable(uint32_t cp) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
           c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK || cp == '\'' || cp == '.' ||
           cp == ':' || cp == '^' || cp == '`' || cp == 0xB7 || cp == 0x387 || cp == 0x5F4 ||
           cp == 0x2018 || cp == 0x2019 || cp == 0x2024 || cp == 0x2027 || cp == 0xFE13 ||
           cp == 0xFE52 || cp == 0xFE55 || cp == 0xFF07 || cp == 0xFF0E || cp == 0xFF1A;
}

/* \w of Python's re on str: letters, numbers and '_'. */
static int is_word(uint32_t cp) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return cp == '_' || (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

/* Python's str.lower() of code point cps[i] (Final_Sigma needs the neighbours); out[0..2). */
static size_t py_lower(const uint32_t *cps, size_t n, size_t i, uint32_t out[2]) {
    uint32_t cp = cps[i];
    if (cp == 0x130) {
        out[0] = 'i';
        out[1] = 0x307;
        return 2;
    }
    if (cp == 0x3A3) {
        long j;
        int final = 0;
        for (j = (long)i - 1; j >= 0 && is_case_ignorable(cps[j]); j--) {
        }
        final = j >= 0 && is_cased(cps[j]);
        if (final) {
            size_t k;
            for (k = i + 1; k < n && is_case_ignorable(cps[k]); k++) {
            }
            final = k == n || !is_cased(cps[k]);
        }
        out[0] = final ? 0x3C2 : 0x3C3;
        return 1;
    }
    out[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
    return 1;
}

static int is_ascii_punct(uint32_t cp) {
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
}

/* The length of an article (a / an / the) that stands as a whole word at b[i], or 0. */
static size_t article_at(const uint32_t *b, size_t m, size_t i) {
    static const char *const words[] = {"a", "an", "the"};
    size_t w;
    if (i > 0 && is_word(b[i - 1])) {
        return 0;
    }
    for (w = 0; w < 3; w++) {
        size_t k, n = strlen(words[w]);
        if (i + n > m) {
            continue;
        }
        for (k = 0; k < n && b[i + k] == (uint32_t)words[w][k]; k++) {
        }
        if (k == n && (i + n == m || !is_word(b[i + n]))) {
            return n;
        }
    }
    return 0;
}

lm_status lmi_squad_normalize(const char *s, size_t len, char **out, size_t *out_len) {
    uint32_t *a, *b, *c;
    size_t n = 0, m = 0, i, k = 0, q = 0;
    char *res;
    *out = NULL;
    *out_len = 0;
    if (len > ((size_t)-1) / 64) {
        return lmi_error(LM_ERR_RANGE, "squad: answer of %zu bytes", len);
    }
    a = lmi_malloc_array(len + 1, 5 * sizeof *a); /* a [len+1], b and c [2 (len+1)] */
    res = lmi_malloc_array(len + 1, 8);
    if (a == NULL || res == NULL) {
        lmi_free(a);
        lmi_free(res);
        return lmi_error(LM_ERR_NOMEM, "squad: out of memory");
    }
    b = a + len + 1;
    c = b + 2 * (len + 1);
    /* decode (an invalid byte counts as U+FFFD) */
    for (i = 0; i < len;) {
        uint32_t cp;
        size_t used = lmi_utf8_decode(s + i, len - i, &cp);
        if (used == 0) {
            cp = 0xFFFD;
            used = 1;
        }
        a[n++] = cp;
        i += used;
    }
    /* lower, then remove_punc */
    for (i = 0; i < n; i++) {
        uint32_t lo[2];
        size_t cnt = py_lower(a, n, i, lo), j;
        for (j = 0; j < cnt; j++) {
            if (!is_ascii_punct(lo[j])) {
                b[m++] = lo[j];
            }
        }
    }
    /* remove_articles: re.sub(r"\b(a|an|the)\b", " ", text) */
    for (i = 0; i < m;) {
        size_t w = article_at(b, m, i);
        if (w > 0) {
            c[q++] = ' ';
            i += w;
        } else {
            c[q++] = b[i++];
        }
    }
    /* white_space_fix: " ".join(text.split()) */
    for (i = 0; i < q; i++) {
        char enc[4];
        size_t e;
        if (lmi_py_isspace(c[i])) {
            continue;
        }
        if (k > 0 && lmi_py_isspace(c[i - 1])) {
            res[k++] = ' ';
        }
        e = lmi_utf8_encode(c[i], enc);
        if (e == 0) {
            e = lmi_utf8_encode(0xFFFD, enc);
        }
        memcpy(res + k, enc, e);
        k += e;
    }
    res[k] = '\0';
    lmi_free(a);
    *out = res;
    *out_len = k;
    return LM_OK;
}

typedef struct word {
    const char *s;
    size_t n;
} word;

static int cmp_word(const void *pa, const void *pb) {
    const word *a = pa, *b = pb;
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->s, b->s, n);
    return c != 0 ? c : (a->n < b->n ? -1 : (a->n > b->n));
}

/* Splits a normalized string (single spaces) into sorted words. */
static word *split_sorted(const char *s, size_t len, size_t *n) {
    size_t count = len ? 1 : 0, i, k = 0, start = 0;
    word *w;
    for (i = 0; i < len; i++) {
        count += s[i] == ' ';
    }
    w = lmi_malloc_array(count ? count : 1, sizeof *w);
    if (w == NULL) {
        return NULL;
    }
    for (i = 0; i <= len && len > 0; i++) {
        if (i == len || s[i] == ' ') {
            w[k].s = s + start;
            w[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    qsort(w, k, sizeof *w, cmp_word);
    *n = k;
    return w;
}

static double f1_words(const word *p, size_t np, const word *g, size_t ng) {
    size_t i = 0, j = 0, same = 0;
    double pr, rc;
    while (i < np && j < ng) {
        int c = cmp_word(&p[i], &g[j]);
        if (c == 0) {
            same++;
            i++;
            j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    if (same == 0) {
        return 0.0;
    }
    pr = (double)same / (double)np;
    rc = (double)same / (double)ng;
    return 2.0 * pr * rc / (pr + rc);
}

lm_status lmi_metric_squad(const char *pred, size_t pred_len, const char *const *golds,
                           const size_t *gold_lens, size_t n_gold, double *em, double *f1) {
    char *np = NULL;
    size_t np_len, npw = 0, g;
    word *pw = NULL;
    lm_status st;
    *em = 0.0;
    *f1 = 0.0;
    if ((st = lmi_squad_normalize(pred, pred_len, &np, &np_len)) != LM_OK) {
        return st;
    }
    if ((pw = split_sorted(np, np_len, &npw)) == NULL) {
        lmi_free(np);
        return lmi_error(LM_ERR_NOMEM, "squad: out of memory");
    }
    for (g = 0; g < n_gold; g++) {
        char *ng = NULL;
        size_t ng_len, ngw = 0;
        word *gw;
        double f;
        if ((st = lmi_squad_normalize(golds[g], gold_lens[g], &ng, &ng_len)) != LM_OK) {
            break;
        }
        if ((gw = split_sorted(ng, ng_len, &ngw)) == NULL) {
            lmi_free(ng);
            st = lmi_error(LM_ERR_NOMEM, "squad: out of memory");
            break;
        }
        if (ng_len == np_len && memcmp(ng, np, np_len) == 0) {
            *em = 1.0;
        }
        f = f1_words(pw, npw, gw, ngw);
        if (f > *f1) {
            *f1 = f;
        }
        lmi_free(gw);
        lmi_free(ng);
    }
    lmi_free(pw);
    lmi_free(np);
    return st;
}
