/* Text (and text-pair) classification, as transformers' text-classification pipeline: pooled
 * [CLS] through the classifier, then its function_to_apply (by default: none for regression,
 * sigmoid for multi-label models and models with one output, softmax otherwise) and its top_k
 * ordering (best first, equal scores in label order). */
#include "pipeline/pipeline.h"

#include <math.h>

#include "base/alloc.h"
#include "base/error.h"
#include "pipeline/common.h"

typedef struct classify_job {
    const lmi_pipe *p;
    int fn;           /* LM_SCORE_NONE / SIGMOID / SOFTMAX */
    size_t NL, k;
    float *pooled;    /* [batch, C] */
    float *logits;    /* [batch, NL] */
    float *scores;    /* [NL] */
    int32_t *idx;     /* [k] */
    lm_label_score *out; /* [n, k] */
} classify_job;

/* The pipeline's default function_to_apply for this model's config. */
static int default_function(const lmi_bert *m) {
    if (m->cfg.problem_type == LM_PROBLEM_REGRESSION) {
        return LM_SCORE_NONE;
    }
    if (m->cfg.problem_type == LM_PROBLEM_MULTI_LABEL || m->cfg.num_labels == 1) {
        return LM_SCORE_SIGMOID;
    }
    return LM_SCORE_SOFTMAX;
}

static lm_status classify_batch(void *user, const lmi_pipe_batch *b) {
    const classify_job *j = user;
    size_t r, l;
    lm_status s = lmi_bert_pool(j->p->m, b->hidden, b->B, b->T, j->pooled);
    if (s == LM_OK) {
        s = lmi_bert_seq_logits(j->p->m, j->pooled, b->B, j->logits);
    }
    for (r = 0; r < b->B && s == LM_OK; r++) {
        const float *x = j->logits + r * j->NL;
        lm_label_score *o = j->out + b->rows[r] * j->k;
        if (j->fn == LM_SCORE_SOFTMAX) {
            lmi_pipe_softmax(x, j->NL, j->scores);
        } else {
            for (l = 0; l < j->NL; l++) {
                j->scores[l] = j->fn == LM_SCORE_SIGMOID ? (float)(1.0 / (1.0 + exp(-(double)x[l])))
                                                         : x[l];
            }
        }
        s = lmi_pipe_rank(j->scores, j->NL, j->k, j->idx);
        for (l = 0; l < j->k && s == LM_OK; l++) {
            o[l].label = j->idx[l];
            o[l].score = j->scores[j->idx[l]];
        }
    }
    return s;
}

lm_status lmi_pipe_classify(const lmi_bert *m, const lm_tokenizer_t *tok,
                            const lm_text_options *o, size_t n, const char *const *texts,
                            const size_t *lens, const char *const *pairs, const size_t *pair_lens,
                            lm_label_score *out, size_t capacity, size_t *k_out) {
    lmi_pipe p;
    classify_job job;
    lm_encoding_t **encs = NULL;
    size_t need, batch;
    lm_status s = lmi_pipe_init(&p, m, tok, o, LM_BERT_HEAD_SEQ_CLASS, 0);
    if (s != LM_OK) {
        return s;
    }
    if (o->function_to_apply < LM_SCORE_DEFAULT || o->function_to_apply > LM_SCORE_SOFTMAX) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                         "lm_text_options.function_to_apply is %d (an lm_score_function)",
                         (int)o->function_to_apply);
    }
    if (o->top_k < -1) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_text_options.top_k is %d (-1 or more)",
                         (int)o->top_k);
    }
    job.p = &p;
    job.NL = (size_t)m->cfg.num_labels;
    job.k = o->top_k == 0 ? 1 : o->top_k < 0 ? job.NL : (size_t)o->top_k;
    job.k = job.k < job.NL ? job.k : job.NL;
    job.fn = o->function_to_apply == LM_SCORE_DEFAULT ? default_function(m) : o->function_to_apply;
    job.out = out;
    if (k_out != NULL) {
        *k_out = job.k;
    }
    if (!lmi_size_mul(n, job.k, &need)) {
        return lmi_error(LM_ERR_RANGE, "%zu texts are too many", n);
    }
    if (capacity < need) {
        return lmi_pipe_too_small(need, capacity, "lm_label_score entries");
    }
    if (n == 0) {
        return LM_OK;
    }
    batch = n < p.batch ? n : p.batch;
    job.pooled = lmi_malloc_array(batch * (p.C + job.NL) + job.NL, sizeof(float));
    job.idx = lmi_malloc_array(job.k, sizeof *job.idx);
    encs = lmi_calloc(n, sizeof *encs);
    if (job.pooled == NULL || job.idx == NULL || encs == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for %zu texts", n);
    } else {
        job.logits = job.pooled + batch * p.C;
        job.scores = job.logits + batch * job.NL;
        s = lmi_pipe_encode(&p, n, texts, lens, pairs, pair_lens, encs);
    }
    if (s == LM_OK) {
        s = lmi_pipe_run(&p, encs, n, classify_batch, &job);
    }
    lmi_pipe_free_encodings(encs, n);
    lmi_free(encs);
    lmi_free(job.idx);
    lmi_free(job.pooled);
    return s;
}
