/* Extractive question answering, as transformers' question-answering pipeline (its last version,
 * 4.57, with a fast tokenizer; transformers 5 removed it):
 *  - [CLS] question [SEP] context [SEP], only the context truncated: a long context becomes
 *    overlapping windows of max_length tokens sharing doc_stride context tokens;
 *  - per window, start and end logits of tokens outside the context (except [CLS]) set to -10000,
 *    a softmax over the window each, the empty answer's score start[0] * end[0] (the smallest over
 *    the windows counts), then [CLS] zeroed;
 *  - span score start[s] * end[e] for s <= e < s + max_answer_len, both in the context; the best
 *    2 * top_k + 10 spans of each window, widened to whole words (align_to_words), answers with the
 *    same text (case-insensitive) merged by adding their scores (within and across windows);
 *  - the empty answer added when handle_impossible_answer, then the top_k best.
 * Deviations: the question keeps at most max_question_length tokens (the pipeline's fast path
 * keeps all); the default doc_stride is lowered when a long question leaves less room (the
 * pipeline's tokenizer refuses); spans of score 0 are never answers (the pipeline may list them
 * when a window has fewer than 2 * top_k + 10 spans): missing answers are score 0, start -1. */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "pipeline/common.h"
#include "text/unicode.h"

typedef struct qa_logits_job {
    const lmi_pipe *p;
    lm_encoding_t *const *wins;
    float *const *start; /* [windows] -> [len] */
    float *const *end;
    float *tmp;          /* [2, batch, T] */
} qa_logits_job;

static lm_status qa_batch(void *user, const lmi_pipe_batch *b) {
    const qa_logits_job *j = user;
    float *s = j->tmp, *e = j->tmp + b->B * b->T;
    size_t r;
    lm_status st = lmi_bert_qa_logits(j->p->m, b->hidden, b->B, b->T, s, e);
    for (r = 0; r < b->B && st == LM_OK; r++) {
        size_t w = b->rows[r];
        memcpy(j->start[w], s + r * b->T, j->wins[w]->n * sizeof(float));
        memcpy(j->end[w], e + r * b->T, j->wins[w]->n * sizeof(float));
    }
    return st;
}

/* ---- answers of one question ---- */

typedef struct span {
    float score;
    size_t s, e;
} span;

typedef struct answer {
    double score;
    size_t c0, c1, b0, b1; /* characters, bytes of the context */
    size_t order;          /* insertion order: ties keep it */
} answer;

/* Lower-cased code points of a byte range, one at a time (Python's str.lower()). */
typedef struct lower_iter {
    const unsigned char *s;
    size_t pos, end, n, i;
    uint32_t buf[LM_TEXT_NORM_MAX];
} lower_iter;

static int lower_next(lower_iter *it, uint32_t *cp) {
    while (it->i == it->n) {
        uint32_t c;
        int valid;
        if (it->pos >= it->end) {
            return 0;
        }
        it->pos += lmi_text_decode(it->s + it->pos, it->end - it->pos, &c, &valid);
        it->n = lmi_text_normalize_char(valid ? c : 0xFFFD, 0, 1, it->buf);
        it->i = 0;
    }
    *cp = it->buf[it->i++];
    return 1;
}

static int same_text(const char *ctx, const answer *a, size_t b0, size_t b1) {
    lower_iter x = {(const unsigned char *)ctx, a->b0, a->b1, 0, 0, {0}};
    lower_iter y = {(const unsigned char *)ctx, b0, b1, 0, 0, {0}};
    for (;;) {
        uint32_t cx, cy;
        int hx = lower_next(&x, &cx), hy = lower_next(&y, &cy);
        if (!hx || !hy) {
            return hx == hy;
        }
        if (cx != cy) {
            return 0;
        }
    }
}

static int answer_cmp(const void *pa, const void *pb) {
    const answer *a = pa, *b = pb;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The pipeline's (lowered) softmax of one window's logits: tokens that may not hold the answer
 * count as -10000. */
static void masked_softmax(const float *x, const unsigned char *allowed, size_t n, float *out) {
    size_t t;
    for (t = 0; t < n; t++) {
        out[t] = allowed[t] ? x[t] : -10000.0f;
    }
    lmi_pipe_softmax(out, n, out);
}

/* Inserts (score, s, e) into best[0..*have) (best first, ties in (s, e) order), keeping k. */
static void keep_best(span *best, size_t *have, size_t k, float score, size_t s, size_t e) {
    size_t j;
    if (*have == k && !(score > best[k - 1].score)) {
        return;
    }
    j = *have < k ? (*have)++ : k - 1;
    while (j > 0 && score > best[j - 1].score) {
        best[j] = best[j - 1];
        j--;
    }
    best[j].score = score;
    best[j].s = s;
    best[j].e = e;
}

typedef struct qa_settings {
    size_t top_k, max_answer, pre_topk;
    int impossible;
    int32_t cls_id;
} qa_settings;

/* The answers of one question from its windows' logits. scratch: [2 * T + 2 * pre_topk] floats
 * worth, list: room for every candidate plus one. */
static void answer_question(const qa_settings *q, const char *ctx, lm_encoding_t *const *wins,
                            float *const *start, float *const *end, size_t nwin, float *ps,
                            float *pe, unsigned char *allowed, span *best, answer *list,
                            lm_answer *out) {
    double min_null = 1000000.0;
    size_t w, t, i, count = 0;
    for (w = 0; w < nwin; w++) {
        const lm_encoding_t *e = wins[w];
        const size_t n = e->n;
        size_t have = 0;
        for (t = 0; t < n; t++) {
            allowed[t] = e->seq_ids[t] == 1 || e->ids[t] == q->cls_id;
        }
        masked_softmax(start[w], allowed, n, ps);
        masked_softmax(end[w], allowed, n, pe);
        if (q->impossible) {
            double null = (double)(ps[0] * pe[0]);
            min_null = null < min_null ? null : min_null;
        }
        ps[0] = pe[0] = 0.0f;
        for (t = 0; t < n; t++) {
            size_t u;
            if (e->seq_ids[t] != 1) {
                continue;
            }
            for (u = t; u < n && u < t + q->max_answer; u++) {
                float score = ps[t] * pe[u];
                if (e->seq_ids[u] == 1 && score > 0.0f) {
                    keep_best(best, &have, q->pre_topk, score, t, u);
                }
            }
        }
        for (i = 0; i < have; i++) {
            /* align_to_words: the first token of the start's word, the last of the end's */
            const int32_t ws = e->word_ids[best[i].s], we = e->word_ids[best[i].e];
            size_t a = best[i].s, z = best[i].e, k, b0, b1;
            answer *same = NULL;
            for (t = 0; t < n; t++) {
                if (e->seq_ids[t] == 1 && e->word_ids[t] == ws) {
                    a = t;
                    break;
                }
            }
            for (t = n; t-- > 0;) {
                if (e->seq_ids[t] == 1 && e->word_ids[t] == we) {
                    z = t;
                    break;
                }
            }
            b0 = e->byte_offsets[2 * a];
            b1 = e->byte_offsets[2 * z + 1];
            for (k = 0; k < count && same == NULL; k++) {
                if (same_text(ctx, &list[k], b0, b1)) {
                    same = &list[k];
                }
            }
            if (same != NULL) {
                same->score += (double)best[i].score;
                continue;
            }
            list[count].score = (double)best[i].score;
            list[count].c0 = e->offsets[2 * a];
            list[count].c1 = e->offsets[2 * z + 1];
            list[count].b0 = b0;
            list[count].b1 = b1;
            list[count].order = count;
            count++;
        }
    }
    if (q->impossible) {
        memset(&list[count], 0, sizeof list[count]);
        list[count].score = min_null;
        list[count].order = count;
        count++;
    }
    qsort(list, count, sizeof *list, answer_cmp);
    for (i = 0; i < q->top_k; i++) {
        lm_answer *o = &out[i];
        o->reserved = 0;
        if (i < count) {
            o->score = (float)list[i].score;
            o->start = (int64_t)list[i].c0;
            o->end = (int64_t)list[i].c1;
            o->byte_start = (int64_t)list[i].b0;
            o->byte_end = (int64_t)list[i].b1;
        } else {
            o->score = 0.0f;
            o->start = o->end = o->byte_start = o->byte_end = -1;
        }
    }
}

/* ---- the call ---- */

/* Encodes question i: its tokens (at most max_q), then the context's, into windows. */
static lm_status encode_question(const lmi_pipe *p, size_t i, const char *q, size_t ql,
                                 const char *c, size_t cl, size_t max_q, int32_t stride,
                                 lm_encoding_t **out) {
    lmi_token_list lq = {NULL, 0, 0}, lc = {NULL, 0, 0};
    lm_encode_options eo;
    lm_status s;
    if (ql == 0 || cl == 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s %zu is empty",
                         ql == 0 ? "question" : "context", i);
    }
    s = lmi_text_tokenize(&p->tok, q, ql, &lq);
    if (s == LM_OK) {
        s = lmi_text_tokenize(&p->tok, c, cl, &lc);
        if (s != LM_OK) {
            s = lmi_error_prefix(s, "context %zu", i);
        }
    } else {
        s = lmi_error_prefix(s, "question %zu", i);
    }
    if (s == LM_OK) {
        lmi_encode_options_init(&eo);
        lq.n = lq.n < max_q ? lq.n : max_q;
        eo.max_length = p->max_length;
        eo.truncation = LM_TRUNCATE_ONLY_SECOND;
        eo.return_overflowing = 1;
        if (stride > 0) {
            eo.stride = (size_t)stride;
        } else { /* the pipeline's min(max_length / 2, 128), below the room a question leaves */
            size_t room = p->max_length > lq.n + 3 ? p->max_length - lq.n - 3 : 0;
            eo.stride = p->max_length / 2 < 128 ? p->max_length / 2 : 128;
            if (eo.stride >= room && room > 0 && lc.n > room) {
                eo.stride = room - 1;
            }
        }
        s = lmi_encode_token_lists(&p->tok, &lq, &lc, &eo, out);
        if (s != LM_OK) {
            s = lmi_error_prefix(s, "question %zu", i);
        }
    }
    lmi_free(lq.t);
    lmi_free(lc.t);
    return s;
}

lm_status lmi_pipe_answer(const lmi_bert *m, const lm_tokenizer_t *tok, const lm_text_options *o,
                          size_t n, const char *const *questions, const size_t *question_lens,
                          const char *const *contexts, const size_t *context_lens,
                          lm_answer *out, size_t capacity) {
    lmi_pipe p;
    qa_settings q;
    qa_logits_job job;
    lm_encoding_t **encs = NULL, **wins = NULL;
    size_t *first = NULL; /* [n + 1] first window of each question */
    float **start = NULL, *logits = NULL, *ps = NULL;
    unsigned char *allowed = NULL;
    span *best = NULL;
    answer *list = NULL;
    size_t i, w, nwin = 0, tokens = 0, need, max_q, most = 0;
    lm_status s = lmi_pipe_init(&p, m, tok, o, LM_BERT_HEAD_QA, 384);
    if (s != LM_OK) {
        return s;
    }
    if (o->top_k < 0 || o->doc_stride < 0 || o->max_answer_length < 0 ||
        o->max_question_length < 0 || (o->handle_impossible_answer & ~1) != 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_text_options: top_k %d, doc_stride %d, max_answer_length %d, "
                         "max_question_length %d must be 0 (default) or more, "
                         "handle_impossible_answer %d 0 or 1",
                         (int)o->top_k, (int)o->doc_stride, (int)o->max_answer_length,
                         (int)o->max_question_length, (int)o->handle_impossible_answer);
    }
    q.top_k = o->top_k > 0 ? (size_t)o->top_k : 1;
    q.max_answer = o->max_answer_length > 0 ? (size_t)o->max_answer_length : 15;
    q.pre_topk = 2 * q.top_k + 10;
    q.impossible = o->handle_impossible_answer;
    q.cls_id = tok->special[LM_SPECIAL_CLS];
    max_q = o->max_question_length > 0 ? (size_t)o->max_question_length : 64;
    if (!lmi_size_mul(n, q.top_k, &need)) {
        return lmi_error(LM_ERR_RANGE, "%zu questions are too many", n);
    }
    if (capacity < need) {
        return lmi_pipe_too_small(need, capacity, "lm_answer entries");
    }
    if (n == 0) {
        return LM_OK;
    }
    encs = lmi_calloc(n, sizeof *encs);
    first = lmi_malloc_array(n + 1, sizeof *first);
    if (encs == NULL || first == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for %zu questions", n);
        goto done;
    }
    for (i = 0; i < n && s == LM_OK; i++) {
        const char *qt, *ct;
        size_t ql, cl;
        s = lmi_pipe_text(questions, question_lens, i, "question", &qt, &ql);
        if (s == LM_OK) {
            s = lmi_pipe_text(contexts, context_lens, i, "context", &ct, &cl);
        }
        if (s == LM_OK) {
            s = encode_question(&p, i, qt, ql, ct, cl, max_q, o->doc_stride, &encs[i]);
        }
        if (s == LM_OK) {
            first[i] = nwin;
            nwin += 1 + encs[i]->n_overflow;
        }
    }
    if (s != LM_OK) {
        goto done;
    }
    first[n] = nwin;
    wins = lmi_malloc_array(nwin, sizeof *wins);
    start = lmi_malloc_array(2 * nwin, sizeof *start);
    if (wins == NULL || start == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for %zu windows", nwin);
        goto done;
    }
    for (i = 0; i < n; i++) {
        for (w = first[i]; w < first[i + 1]; w++) {
            wins[w] = w == first[i] ? encs[i] : encs[i]->overflow[w - first[i] - 1];
            tokens += wins[w]->n;
            most = wins[w]->n > most ? wins[w]->n : most;
        }
    }
    /* logits of every window, then the run's [2, batch, T] scratch, then one window's two
     * softmaxes */
    logits = lmi_malloc_array(2 * tokens + 2 * p.batch * most + 2 * most, sizeof(float));
    allowed = lmi_malloc(most > 0 ? most : 1);
    if (logits == NULL || allowed == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for the logits of %zu windows", nwin);
        goto done;
    }
    tokens = 0;
    for (w = 0; w < nwin; w++) {
        start[w] = logits + tokens;
        start[nwin + w] = logits + tokens + wins[w]->n;
        tokens += 2 * wins[w]->n;
    }
    job.p = &p;
    job.wins = wins;
    job.start = start;
    job.end = start + nwin;
    job.tmp = logits + tokens;
    ps = job.tmp + 2 * p.batch * most;
    s = lmi_pipe_run(&p, wins, nwin, qa_batch, &job);
    if (s != LM_OK) {
        goto done;
    }
    best = lmi_malloc_array(q.pre_topk, sizeof *best);
    for (i = 0, w = 0; i < n; i++) { /* the most windows of one question */
        w = first[i + 1] - first[i] > w ? first[i + 1] - first[i] : w;
    }
    list = lmi_malloc_array(w * q.pre_topk + 1, sizeof *list);
    if (best == NULL || list == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for the answers");
        goto done;
    }
    for (i = 0; i < n; i++) {
        answer_question(&q, contexts[i], wins + first[i], start + first[i], start + nwin + first[i],
                        first[i + 1] - first[i], ps, ps + most, allowed, best, list,
                        out + i * q.top_k);
    }
done:
    lmi_free(list);
    lmi_free(best);
    lmi_free(allowed);
    lmi_free(logits);
    lmi_free(start);
    lmi_free(wins);
    lmi_free(first);
    lmi_pipe_free_encodings(encs, n);
    lmi_free(encs);
    return s;
}
