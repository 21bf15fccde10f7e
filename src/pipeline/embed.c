/* Sentence embeddings of texts, as sentence-transformers' `encode`: truncation to the model's
 * max_seq_length, the folder's pooling (mean over the attention mask, or [CLS]) and optional L2
 * normalisation, rows in the caller's order. */
#include "pipeline/pipeline.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "pipeline/common.h"

typedef struct embed_job {
    const lmi_pipe *p;
    int pooling, normalize;
    float *tmp; /* [batch, C] */
    float *out; /* [n, C] */
} embed_job;

static lm_status embed_batch(void *user, const lmi_pipe_batch *b) {
    const embed_job *j = user;
    const size_t C = j->p->C;
    size_t r;
    lmi_bert_sentence_embedding(j->p->m, b->hidden, b->mask, b->B, b->T, j->pooling, j->normalize,
                                j->tmp);
    for (r = 0; r < b->B; r++) {
        memcpy(j->out + b->rows[r] * C, j->tmp + r * C, C * sizeof(float));
    }
    return LM_OK;
}

lm_status lmi_pipe_embed(const lmi_bert *m, const lm_tokenizer_t *tok, const lm_text_options *o,
                         size_t n, const char *const *texts, const size_t *lens, float *out,
                         size_t capacity) {
    lmi_pipe p;
    embed_job job;
    lm_encoding_t **encs = NULL;
    size_t need;
    lm_status s = lmi_pipe_init(&p, m, tok, o, LM_BERT_HEAD_AUTO, 0);
    if (s != LM_OK) {
        return s;
    }
    if (o->pooling < LM_POOLING_DEFAULT || o->pooling > LM_POOLING_CLS) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_text_options.pooling is %d (an lm_pooling)",
                         (int)o->pooling);
    }
    if (o->normalize < -1 || o->normalize > 1) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_text_options.normalize is %d (-1, 0 or 1)",
                         (int)o->normalize);
    }
    if (!lmi_size_mul(n, p.C, &need)) {
        return lmi_error(LM_ERR_RANGE, "%zu texts are too many", n);
    }
    if (capacity < need) {
        return lmi_pipe_too_small(need, capacity, "floats");
    }
    if (n == 0) {
        return LM_OK;
    }
    job.p = &p;
    job.pooling = o->pooling == LM_POOLING_DEFAULT ? m->pooling : o->pooling;
    job.normalize = o->normalize < 0 ? m->normalize : o->normalize;
    job.out = out;
    job.tmp = lmi_malloc_array((n < p.batch ? n : p.batch) * p.C, sizeof(float));
    encs = lmi_calloc(n, sizeof *encs);
    if (job.tmp == NULL || encs == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for %zu texts", n);
    }
    if (s == LM_OK) {
        s = lmi_pipe_encode(&p, n, texts, lens, NULL, NULL, encs);
    }
    if (s == LM_OK) {
        s = lmi_pipe_run(&p, encs, n, embed_batch, &job);
    }
    lmi_pipe_free_encodings(encs, n);
    lmi_free(encs);
    lmi_free(job.tmp);
    return s;
}
