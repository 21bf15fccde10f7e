/* Fill-mask, as transformers' fill-mask pipeline: for every [MASK] token of every text (after
 * truncation), the softmax over the vocabulary of the masked-LM logits and its top_k tokens, best
 * first. A text without a mask is refused, as the pipeline refuses it. */
#include "pipeline/pipeline.h"

#include "base/alloc.h"
#include "base/error.h"
#include "pipeline/common.h"

#define CHUNK 64 /* mask rows per masked-LM head call */

typedef struct mask_job {
    const lmi_pipe *p;
    lm_encoding_t *const *encs;
    int32_t mask_id;
    size_t V, k;
    const size_t *first; /* [n] index of each text's first mask among all masks */
    size_t *rows;        /* [CHUNK] rows of the batch's hidden state */
    size_t *slot;        /* [CHUNK] their mask numbers */
    float *logits;       /* [CHUNK, V] */
    float *probs;        /* [V] */
    int32_t *idx;        /* [k] */
    lm_token_score *out; /* [masks, k] */
} mask_job;

static lm_status flush(const mask_job *j, const float *hidden, size_t count) {
    size_t r, l;
    lm_status s = lmi_bert_mlm_logits(j->p->m, hidden, j->rows, count, j->logits);
    for (r = 0; r < count && s == LM_OK; r++) {
        lm_token_score *o = j->out + j->slot[r] * j->k;
        lmi_pipe_softmax(j->logits + r * j->V, j->V, j->probs);
        s = lmi_pipe_rank(j->probs, j->V, j->k, j->idx);
        for (l = 0; l < j->k && s == LM_OK; l++) {
            o[l].token_id = j->idx[l];
            o[l].score = j->probs[j->idx[l]];
        }
    }
    return s;
}

static lm_status mask_batch(void *user, const lmi_pipe_batch *b) {
    const mask_job *j = user;
    size_t r, t, count = 0;
    lm_status s = LM_OK;
    for (r = 0; r < b->B && s == LM_OK; r++) {
        const lm_encoding_t *e = j->encs[b->rows[r]];
        size_t which = j->first[b->rows[r]];
        for (t = 0; t < e->n && s == LM_OK; t++) {
            if (e->ids[t] != j->mask_id) {
                continue;
            }
            j->rows[count] = r * b->T + t;
            j->slot[count++] = which++;
            if (count == CHUNK) {
                s = flush(j, b->hidden, count);
                count = 0;
            }
        }
    }
    return s == LM_OK && count > 0 ? flush(j, b->hidden, count) : s;
}

lm_status lmi_pipe_fill_mask(const lmi_bert *m, const lm_tokenizer_t *tok,
                             const lm_text_options *o, size_t n, const char *const *texts,
                             const size_t *lens, lm_token_score *out, size_t capacity,
                             size_t *n_out, int32_t *masks_per_text) {
    lmi_pipe p;
    mask_job job;
    lm_encoding_t **encs = NULL;
    size_t *first = NULL;
    size_t i, t, masks = 0, need;
    lm_status s = lmi_pipe_init(&p, m, tok, o, LM_BERT_HEAD_MLM, 0);
    if (n_out != NULL) {
        *n_out = 0;
    }
    if (s != LM_OK) {
        return s;
    }
    if (o->top_k < -1) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_text_options.top_k is %d (-1 or more)",
                         (int)o->top_k);
    }
    job.mask_id = tok->special[LM_SPECIAL_MASK];
    if (job.mask_id < 0) {
        return lmi_error(LM_ERR_STATE, "the tokenizer has no [MASK] token");
    }
    job.p = &p;
    job.V = (size_t)m->cfg.vocab_size;
    job.k = o->top_k == 0 ? 5 : o->top_k < 0 ? job.V : (size_t)o->top_k;
    job.k = job.k < job.V ? job.k : job.V;
    job.out = out;
    job.rows = NULL;
    job.logits = NULL;
    job.idx = NULL;
    if (n == 0) {
        return LM_OK;
    }
    encs = lmi_calloc(n, sizeof *encs);
    first = lmi_malloc_array(n, sizeof *first);
    if (encs == NULL || first == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for %zu texts", n);
        goto done;
    }
    s = lmi_pipe_encode(&p, n, texts, lens, NULL, NULL, encs);
    for (i = 0; i < n && s == LM_OK; i++) {
        size_t count = 0;
        for (t = 0; t < encs[i]->n; t++) {
            count += encs[i]->ids[t] == job.mask_id;
        }
        if (count == 0) {
            s = encs[i]->n >= p.max_length
                    ? lmi_error(LM_ERR_INVALID_ARGUMENT,
                                "text %zu has no [MASK] token in its first %zu tokens", i,
                                p.max_length)
                    : lmi_error(LM_ERR_INVALID_ARGUMENT, "text %zu has no [MASK] token", i);
        }
        first[i] = masks;
        masks += count;
        if (masks_per_text != NULL) {
            masks_per_text[i] = (int32_t)count;
        }
    }
    if (s != LM_OK) {
        goto done;
    }
    if (!lmi_size_mul(masks, job.k, &need)) {
        s = lmi_error(LM_ERR_RANGE, "%zu masks are too many", masks);
        goto done;
    }
    if (n_out != NULL) {
        *n_out = need;
    }
    if (capacity < need) {
        s = lmi_pipe_too_small(need, capacity, "lm_token_score entries");
        goto done;
    }
    job.encs = encs;
    job.first = first;
    job.rows = lmi_malloc_array(2 * CHUNK, sizeof *job.rows);
    job.logits = lmi_malloc_array((CHUNK + 1) * job.V, sizeof(float));
    job.idx = lmi_malloc_array(job.k, sizeof *job.idx);
    if (job.rows == NULL || job.logits == NULL || job.idx == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory for the masked-LM scores");
        goto done;
    }
    job.slot = job.rows + CHUNK;
    job.probs = job.logits + CHUNK * job.V;
    s = lmi_pipe_run(&p, encs, n, mask_batch, &job);
done:
    lmi_free(job.idx);
    lmi_free(job.logits);
    lmi_free(job.rows);
    lmi_free(first);
    lmi_pipe_free_encodings(encs, n);
    lmi_free(encs);
    return s;
}
