/* The BERT forward pass shared by inference and training: the activation layout (one layer's
 * buffers reused, or every layer's kept; see model/train.h) and the encoder built from the tensor
 * ops, with transformers' dropout sites. */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "model/bert.h"
#include "model/train.h"
#include "tensor/guard.h"
#include "tensor/ops.h"

#define LM_ALIGN 64

/* Hands out 64-byte aligned pieces of one block; with base NULL it only counts. */
typedef struct carver {
    char *base;
    size_t off;
} carver;

static void *carve(carver *c, size_t bytes) {
    void *p = c->base != NULL ? c->base + c->off : NULL;
    c->off += (bytes + LM_ALIGN - 1) & ~(size_t)(LM_ALIGN - 1);
    return p;
}

static float *carve_f(carver *c, size_t n) {
    return carve(c, n * sizeof(float));
}

size_t lmi_bert_acts_layout(const lmi_bert *m, lmi_bert_acts *a, void *base, size_t B, size_t T,
                            int keep, int dropout, int threads, float *hidden) {
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t NH = (size_t)m->cfg.num_attention_heads, N = B * T;
    const size_t L = (size_t)m->cfg.num_hidden_layers;
    const size_t mb = dropout ? lmi_dropout_mask_bytes(N, C) : 0;
    carver c;
    size_t l, nviews = keep ? L : 1;
    c.base = base;
    c.off = 0;
    memset(a, 0, sizeof *a);
    a->B = B;
    a->T = T;
    a->N = N;
    a->keep = keep;
    a->exact = 1;
    a->spans = carve(&c, 2 * B * sizeof(lmi_row_span));
    a->pos = carve(&c, N * sizeof(int32_t));
    a->layers = carve(&c, nviews * sizeof(lmi_bert_layer_acts));
    if (!keep) { /* inference: the caller's hidden state, updated in place */
        lmi_bert_layer_acts v;
        memset(&v, 0, sizeof v);
        a->emb = a->h0 = a->hidden = hidden;
        v.qkv = carve_f(&c, N * 3 * C);
        v.ctx = carve_f(&c, N * C);
        v.pre = carve_f(&c, N * I);
        a->tmp = carve_f(&c, N * C);
        a->att_scratch = carve_f(&c, lmi_attention_scratch_floats(T, threads));
        if (a->layers != NULL) {
            a->layers[0] = v;
        }
        return c.off;
    }
    a->zeros = carve(&c, N * sizeof(int32_t));
    a->emb = carve_f(&c, N * C);
    a->emb_mean = carve_f(&c, N);
    a->emb_rstd = carve_f(&c, N);
    a->h0 = carve_f(&c, N * C);
    a->drop_emb = mb ? carve(&c, mb) : NULL;
    a->hidden = carve_f(&c, N * C);
    for (l = 0; l < L; l++) {
        lmi_bert_layer_acts v;
        v.qkv = carve_f(&c, N * 3 * C);
        v.att = carve_f(&c, B * NH * T * T);
        v.ctx = carve_f(&c, N * C);
        v.sum1 = carve_f(&c, N * C);
        v.mean1 = carve_f(&c, N);
        v.rstd1 = carve_f(&c, N);
        v.pre = carve_f(&c, N * I);
        v.sum2 = carve_f(&c, N * C);
        v.mean2 = carve_f(&c, N);
        v.rstd2 = carve_f(&c, N);
        v.drop_ao = mb ? carve(&c, mb) : NULL;
        v.drop_ffn = mb ? carve(&c, mb) : NULL;
        if (a->layers != NULL) {
            a->layers[l] = v;
        }
    }
    { /* one scratch region: the forward's buffers, then the backward's over the same bytes */
        carver f = c, b = c;
        a->tmp = carve_f(&f, N * C);
        a->ln1 = carve_f(&f, N * C);
        a->post = carve_f(&f, N * I);
        a->x[0] = carve_f(&f, N * C);
        a->x[1] = carve_f(&f, N * C);
        a->att_scratch = carve_f(&f, lmi_attention_scratch_floats(T, threads));
        a->dx = carve_f(&b, N * C);
        a->ds = carve_f(&b, N * C);
        a->dt = carve_f(&b, N * C);
        a->S = carve_f(&b, N * C);
        a->D = carve_f(&b, N * I);
        a->P = carve_f(&b, N * I);
        a->d3 = carve_f(&b, N * 3 * C);
        a->att_bscratch = carve_f(&b, lmi_attention_backward_scratch_floats(T, threads));
        c.off = f.off > b.off ? f.off : b.off;
    }
    return c.off;
}

/* Row spans of the products: with `exact`, each sequence's tokens up to its last real one are
 * one product and its padding another, so a sequence's products are the same whatever else is
 * in the batch; else one product over every row. */
static void make_spans(lmi_bert_acts *a, const int32_t *mask) {
    size_t b, t;
    a->nspans = 0;
    for (b = 0; b < a->B; b++) {
        for (t = 0; t < a->T; t++) {
            a->pos[b * a->T + t] = (int32_t)t;
        }
    }
    if (a->zeros != NULL) {
        memset(a->zeros, 0, a->N * sizeof(int32_t));
    }
    if (!a->exact) {
        a->spans[0].start = 0;
        a->spans[0].count = a->N;
        a->nspans = 1;
        return;
    }
    for (b = 0; b < a->B; b++) {
        size_t len = a->T;
        if (mask != NULL) {
            while (len > 0 && mask[b * a->T + len - 1] == 0) {
                len--;
            }
        }
        if (len > 0) {
            a->spans[a->nspans].start = b * a->T;
            a->spans[a->nspans++].count = len;
        }
        if (len < a->T) {
            a->spans[a->nspans].start = b * a->T + len;
            a->spans[a->nspans++].count = a->T - len;
        }
    }
}

static void activation(const lmi_ops_ctx *ctx, lmi_act act, float *out, const float *x, size_t n) {
    switch (act) {
    case LM_ACT_GELU_TANH:
        lmi_gelu_tanh_forward(ctx, out, x, n);
        break;
    case LM_ACT_RELU:
        lmi_relu_forward(ctx, out, x, n);
        break;
    default:
        lmi_gelu_forward(ctx, out, x, n);
        break;
    }
}

/* Dropout in place with the mask kept, when p > 0. */
static void drop(const lmi_ops_ctx *ctx, float *x, uint8_t *bits, float p, const lmi_bert_dropout *d,
                 uint64_t site, size_t N, size_t C) {
    if (d != NULL && p > 0.0f) {
        lmi_dropout_forward(ctx, x, bits, x, p, lmi_dropout_seed(d->seed, d->step, site), N, C);
    }
}

void lmi_bert_forward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                      const int32_t *ids, const int32_t *type_ids, const int32_t *mask,
                      const lmi_bert_dropout *d) {
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t NH = (size_t)m->cfg.num_attention_heads, N = a->N;
    const size_t L = (size_t)m->cfg.num_hidden_layers;
    const float eps = (float)m->cfg.layer_norm_eps;
    const float p_hidden = d != NULL ? d->hidden : 0.0f, p_att = d != NULL ? d->att : 0.0f;
    float *in;
    size_t l, n;
    if (N == 0) {
        return;
    }
    make_spans(a, mask);
    /* embeddings: word + position + token type, LayerNorm, dropout */
    lmi_embedding_forward(ctx, a->emb, ids, m->w.wte, N, C, 0);
    lmi_embedding_forward(ctx, a->emb, a->pos, m->w.wpe, N, C, 1);
    if (type_ids != NULL) {
        lmi_embedding_forward(ctx, a->emb, type_ids, m->w.wtt, N, C, 1);
    } else {
        for (n = 0; n < N; n++) {
            lmi_residual_forward(ctx, a->emb + n * C, a->emb + n * C, m->w.wtt, C);
        }
    }
    lmi_layernorm_forward(ctx, a->h0, a->emb_mean, a->emb_rstd, a->emb, m->w.emb_ln_w,
                          m->w.emb_ln_b, N, C, eps);
    drop(ctx, a->h0, a->drop_emb, p_hidden, d, LMI_SITE_EMBEDDINGS, N, C);
    in = a->h0;
    for (l = 0; l < L; l++) {
        const lmi_bert_layer *y = &m->w.layers[l];
        const lmi_bert_layer_acts *v = &a->layers[a->keep ? l : 0];
        const float *const wqkv[3] = {y->q_w, y->k_w, y->v_w};
        const float *const bqkv[3] = {y->q_b, y->k_b, y->v_b};
        /* inference: everything in place in the hidden state; training: LN1 output and the
         * layer outputs before the last in scratch, the last in a->hidden */
        float *ln1 = a->keep ? a->ln1 : in;
        float *post = a->keep ? a->post : v->pre;
        float *out = !a->keep ? in : l + 1 == L ? a->hidden : a->x[l % 2];
        lmi_matmul_spans_forward(ctx, v->qkv, 3 * C, in, wqkv, bqkv, 3, a->spans, a->nspans, C, C);
        lmi_attention_forward(ctx, v->ctx, v->att, v->qkv, 3 * C, mask, a->att_scratch, a->B, a->T,
                              C, NH, p_att,
                              p_att > 0.0f ? lmi_dropout_seed(d->seed, d->step,
                                                              LMI_SITE_LAYER(l, LMI_SITE_ATT_PROBS))
                                           : 0);
        lmi_matmul_spans_forward(ctx, a->tmp, C, v->ctx, &y->ao_w, &y->ao_b, 1, a->spans,
                                 a->nspans, C, C);
        drop(ctx, a->tmp, v->drop_ao, p_hidden, d, LMI_SITE_LAYER(l, LMI_SITE_ATT_OUTPUT), N, C);
        if (a->keep) {
            lmi_residual_layernorm_keep_forward(ctx, ln1, v->sum1, v->mean1, v->rstd1, a->tmp, in,
                                                y->ln1_w, y->ln1_b, N, C, eps);
        } else {
            lmi_residual_layernorm_forward(ctx, ln1, a->tmp, in, y->ln1_w, y->ln1_b, N, C, eps);
        }
        lmi_matmul_spans_forward(ctx, v->pre, I, ln1, &y->i_w, &y->i_b, 1, a->spans, a->nspans, C,
                                 I);
        activation(ctx, m->cfg.hidden_act, post, v->pre, N * I);
        lmi_matmul_spans_forward(ctx, a->tmp, C, post, &y->o_w, &y->o_b, 1, a->spans, a->nspans,
                                 I, C);
        drop(ctx, a->tmp, v->drop_ffn, p_hidden, d, LMI_SITE_LAYER(l, LMI_SITE_FFN_OUTPUT), N, C);
        if (a->keep) {
            lmi_residual_layernorm_keep_forward(ctx, out, v->sum2, v->mean2, v->rstd2, a->tmp, ln1,
                                                y->ln2_w, y->ln2_b, N, C, eps);
        } else {
            lmi_residual_layernorm_forward(ctx, out, a->tmp, ln1, y->ln2_w, y->ln2_b, N, C, eps);
        }
        in = out;
    }
    if (L == 0 && a->keep) {
        memcpy(a->hidden, a->h0, N * C * sizeof(float));
    }
}

lm_status lmi_bert_encode(const lmi_bert *m, const int32_t *ids, const int32_t *type_ids,
                          const int32_t *mask, size_t B, size_t T, float *hidden) {
    /* hidden[B, T, C]: the inference layout over one arena, freed on return (each call owns
     * its scratch, so many threads may encode at once) */
    lmi_ops_ctx ctx; /* planned once the activations are allocated (tensor/guard.h) */
    lmi_bert_acts a;
    size_t bytes;
    void *arena;
    if (B * T == 0) {
        return LM_OK;
    }
    bytes = lmi_bert_acts_layout(m, &a, NULL, B, T, 0, 0, m->threads, hidden);
    arena = lmi_malloc_aligned(bytes, LM_ALIGN);
    if (arena == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for the activations of a %zu x %zu batch",
                         B, T);
    }
    lmi_bert_acts_layout(m, &a, arena, B, T, 0, 0, m->threads, hidden);
    lmi_ops_begin(&ctx, m->threads); /* at most m->threads: the scratch is large enough */
    lmi_bert_forward(m, &ctx, &a, ids, type_ids, mask, NULL);
    lmi_ops_end(&ctx);
    lmi_free_aligned(arena);
    return LM_OK;
}
