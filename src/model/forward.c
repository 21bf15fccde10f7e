/* The BERT forward pass shared by inference and training: the activation layout (one layer's
 * buffers reused, or every layer's kept; see model/train.h) and the encoder built from the tensor
 * ops, with transformers' dropout sites.
 *
 * Every Linear is one product over all the rows of the batch on liblm's GEMM (tensor/gemm.h),
 * whose result for a row does not depend on the rows beside it: a sequence gets the same bits
 * alone or in any batch. Inference multiplies by the model's packs (made once, model/packs.c)
 * and works on the real tokens only: they are gathered one sequence after the other at the
 * embeddings (the padding after a sequence's last real token is skipped unless asked for), the
 * attention runs per sequence over them, and the rows go back to [B, T, C] at the end. The
 * bias, the activation and the residual add are fused into the products there. Training gathers
 * the rows the same way (each sequence up to its last real token, or further when the head reads
 * more rows: lmi_bert_acts.need), keeps every layer's activations, packs each weight per product
 * into the workspace, and puts the last hidden state back to [B, T] for the heads. */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/profile.h"
#include "model/bert.h"
#include "model/train.h"
#include "tensor/gemm.h"
#include "tensor/guard.h"
#include "tensor/ops.h"
#include "tensor/qgemm.h"

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

static size_t max3(size_t a, size_t b, size_t c) {
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* Floats to pack the largest of the layer's weights (Q|K|V, intermediate, output), and at least
 * one panel of 64 columns for every reduction length of the heads' products (lmi_ops_ctx.wbuf):
 * C, I, the vocabulary, the labels. */
static size_t wpack_floats(const lmi_bert *m) {
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t R = max3(max3(C, I, (size_t)m->cfg.vocab_size), (size_t)m->cfg.num_labels, 384);
    return max3(max3(lmi_gemm_pack_floats(3 * C, C), lmi_gemm_pack_floats(I, C),
                     lmi_gemm_pack_floats(C, I)),
                lmi_gemm_pack_floats(64, R), 16);
}

size_t lmi_bert_acts_layout(const lmi_bert *m, lmi_bert_acts *a, void *base, size_t B, size_t T,
                            int keep, int dropout, int threads, float *hidden, int packed) {
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
    a->rows = N;
    a->keep = keep;
    a->seqs = carve(&c, B * sizeof(lmi_att_seq));
    a->pos = carve(&c, N * sizeof(int32_t));
    a->layers = carve(&c, nviews * sizeof(lmi_bert_layer_acts));
    a->wpack_floats = packed ? 0 : wpack_floats(m);
    a->wpack = packed ? NULL : carve_f(&c, a->wpack_floats); /* a weight packed per product */
    if (!keep) { /* inference: the caller's hidden state, updated in place */
        lmi_bert_layer_acts v;
        memset(&v, 0, sizeof v);
        a->emb = a->h0 = a->hidden = hidden;
        a->ids = carve(&c, N * sizeof(int32_t));
        a->types = carve(&c, N * sizeof(int32_t));
        v.qkv = carve_f(&c, N * 3 * C);
        v.ctx = carve_f(&c, N * C);
        v.pre = carve_f(&c, N * I);
        a->q8_scratch = m->int8 ? carve(&c, lmi_q8_scratch_bytes(N, C > I ? C : I)) : NULL;
        a->att_scratch = carve_f(&c, lmi_attention_infer_scratch_floats(T, C / NH, threads));
        if (a->layers != NULL) {
            a->layers[0] = v;
        }
        return c.off;
    }
    a->ids = carve(&c, N * sizeof(int32_t));
    a->types = carve(&c, N * sizeof(int32_t));
    a->need = carve(&c, B * sizeof(size_t));
    a->row_keys = carve(&c, N * sizeof(size_t));
    if (a->need != NULL) {
        memset(a->need, 0, B * sizeof(size_t));
    }
    a->qkv_b = carve_f(&c, 3 * C);
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
        a->att_scratch = carve_f(&f, lmi_attention_scratch_floats(T, C / NH, threads));
        a->dx = carve_f(&b, N * C);
        a->ds = carve_f(&b, N * C);
        a->dt = carve_f(&b, N * C);
        a->S = carve_f(&b, N * C);
        a->D = carve_f(&b, N * I);
        a->P = carve_f(&b, N * I);
        a->d3 = carve_f(&b, N * 3 * C);
        a->att_bscratch = carve_f(&b, lmi_attention_backward_scratch_floats(T, C / NH, threads));
        c.off = f.off > b.off ? f.off : b.off;
    }
    return c.off;
}

/* The rows of the forward: the tokens of each sequence up to its last real one (all T when
 * pad_rows, or when it has no real token; in training at least a->need[b], the rows the head
 * reads), one sequence after the other, with their ids and type ids gathered (type 0 when none
 * are given); returns the row count. */
static size_t plan_rows(lmi_bert_acts *a, const int32_t **ids, const int32_t **type_ids,
                        const int32_t *mask, int pad_rows) {
    const size_t T = a->T;
    size_t b, t, at = 0;
    for (b = 0; b < a->B; b++) {
        const int32_t *mrow = mask != NULL ? mask + b * T : NULL;
        lmi_att_seq *s = &a->seqs[b];
        size_t kend = T;
        if (mrow != NULL) {
            while (kend > 0 && mrow[kend - 1] == 0) {
                kend--;
            }
        }
        s->mask = mrow;
        s->keys = kend > 0 ? kend : T; /* no real key: uniform over all T (lmi_att_seq) */
        s->rows = pad_rows || kend == 0 ? T : kend;
        if (a->keep && a->need != NULL && a->need[b] > s->rows) {
            s->rows = a->need[b] < T ? a->need[b] : T;
        }
        s->start = at;
        for (t = 0; t < s->rows; t++) {
            a->pos[s->start + t] = (int32_t)t;
            if (a->row_keys != NULL) {
                a->row_keys[s->start + t] = b * T + t;
            }
        }
        memcpy(a->ids + at, *ids + b * T, s->rows * sizeof(int32_t));
        if (*type_ids != NULL) {
            memcpy(a->types + at, *type_ids + b * T, s->rows * sizeof(int32_t));
        } else {
            memset(a->types + at, 0, s->rows * sizeof(int32_t));
        }
        at += s->rows;
    }
    *ids = a->ids;
    *type_ids = a->types;
    a->rows = at;
    return at;
}

static lmi_gemm_epilogue_fn act_row(lmi_act act) {
    switch (act) {
    case LM_ACT_GELU_TANH:
        return lmi_gelu_tanh_row;
    case LM_ACT_RELU:
        return lmi_relu_row;
    default:
        return lmi_gelu_row;
    }
}

/* The tensor ops' kind of a config's hidden_act. */
static lmi_ops_act ops_act(lmi_act act) {
    return act == LM_ACT_GELU_TANH ? LMI_OPS_GELU_TANH
           : act == LM_ACT_RELU    ? LMI_OPS_RELU
                                   : LMI_OPS_GELU;
}

void lmi_bert_act_forward(const lmi_ops_ctx *ctx, lmi_act act, float *out, const float *x,
                          size_t n) {
    lmi_act_forward(ctx, ops_act(act), out, x, n);
}

void lmi_bert_act_backward(const lmi_ops_ctx *ctx, lmi_act act, float *dx, const float *dout,
                           const float *x, size_t n, int accumulate) {
    lmi_act_backward(ctx, ops_act(act), dx, dout, x, n, accumulate);
}

/* Dropout in place with the mask kept, when p > 0; row n draws as row keys[n] of [B, T]. */
static void drop(const lmi_ops_ctx *ctx, float *x, uint8_t *bits, float p, const lmi_bert_dropout *d,
                 uint64_t site, size_t N, size_t C, const size_t *keys) {
    if (d != NULL && p > 0.0f) {
        lmi_dropout_forward_keyed(ctx, x, bits, x, p, lmi_dropout_seed(d->seed, d->step, site),
                                  N, C, keys);
    }
}

/* One Linear of the encoder: out[M, ldo] (+)= in[M, K] . W^T + bias, then ep, with W the parts
 * stacked: multiplied by the layer's pack (f32) or its int8 weight when the model has them, else
 * packed now into a->wpack. */
static void linear(const lmi_ops_ctx *ctx, const lmi_bert_acts *a, float *out, size_t ldo,
                   const float *in, size_t M, const lmi_gemm_packed *pack,
                   const lmi_q8_weight *q8, const lmi_gemm_part *parts, size_t nparts, size_t K,
                   const float *bias, int accumulate, lmi_gemm_epilogue_fn ep) {
    lmi_gemm_packed local;
    if (q8 != NULL) {
        lmi_q8_forward(out, ldo, in, K, q8, bias, M, accumulate, ep, a->q8_scratch, ctx->threads);
        return;
    }
    if (pack == NULL || pack->data == NULL) {
        lmi_gemm_pack_weights_to(&local, a->wpack, parts, nparts, K, K, ctx->threads);
        pack = &local;
    }
    lmi_gemm_forward_ep(out, ldo, in, K, pack, bias, M, accumulate, ep, ctx->threads);
}

/* Embeddings of the rows: word + position + token type, then the layer norm into out. */
static void embeddings(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a, float *out,
                       float *mean, float *rstd, const int32_t *ids, const int32_t *type_ids,
                       size_t R) {
    const size_t C = (size_t)m->cfg.hidden_size;
    lmi_embedding_forward(ctx, a->emb, ids, m->w.wte, R, C, 0);
    lmi_embedding_forward(ctx, a->emb, a->pos, m->w.wpe, R, C, 1);
    lmi_embedding_forward(ctx, a->emb, type_ids, m->w.wtt, R, C, 1);
    lmi_layernorm_forward(ctx, out, mean, rstd, a->emb, m->w.emb_ln_w, m->w.emb_ln_b, R, C,
                          (float)m->cfg.layer_norm_eps);
}

/* The attention's multiply-adds times 2 over the gathered sequences (the profile's FLOPs). */
static double attention_flops(const lmi_bert_acts *a, size_t C) {
    double f = 0;
    size_t b;
    for (b = 0; b < a->B; b++) {
        f += 4.0 * (double)a->seqs[b].rows * (double)a->seqs[b].keys * (double)C;
    }
    return f;
}

/* The inference layers over the gathered rows, in place in a->hidden (see the file comment). */
static void infer_layers(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                         const lmi_bert_packs *packs) {
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t NH = (size_t)m->cfg.num_attention_heads, R = a->rows;
    const size_t L = (size_t)m->cfg.num_hidden_layers;
    const float eps = (float)m->cfg.layer_norm_eps;
    const lmi_bert_layer_acts *v = &a->layers[0];
    const lmi_gemm_epilogue_fn ep = act_row(m->cfg.hidden_act);
    const double fl = 2.0 * (double)R * (double)C;
    const double att_flops = attention_flops(a, C);
    float *h = a->hidden;
    size_t l;
    for (l = 0; l < L; l++) {
        const lmi_bert_layer *y = &m->w.layers[l];
        const lmi_bert_layer_packs *p = packs != NULL ? &packs->layers[l] : NULL;
        const float *bqkv = p != NULL ? p->qkv_b : a->qkv_b;
        lmi_gemm_part parts[3];
        parts[0].w = y->q_w;
        parts[1].w = y->k_w;
        parts[2].w = y->v_w;
        parts[0].rows = parts[1].rows = parts[2].rows = C;
        if (p == NULL) { /* the biases side by side (no packs) */
            memcpy(a->qkv_b, y->q_b, C * sizeof(float));
            memcpy(a->qkv_b + C, y->k_b, C * sizeof(float));
            memcpy(a->qkv_b + 2 * C, y->v_b, C * sizeof(float));
        }
        LMI_PROF(LMI_PROF_QKV, l, fl * 3.0 * (double)C,
                 linear(ctx, a, v->qkv, 3 * C, h, R, p ? &p->qkv : NULL, p ? p->q8[0] : NULL,
                        parts, 3, C, bqkv, 0, NULL));
        LMI_PROF(LMI_PROF_ATTENTION, l, att_flops,
                 lmi_attention_infer(ctx, v->ctx, C, v->qkv, 3 * C, a->seqs, a->B, C, NH,
                                     a->att_scratch, a->T));
        /* h = LN1(h + ctx . Wao^T + b): the product adds into the residual */
        parts[0].w = y->ao_w;
        LMI_PROF(LMI_PROF_ATT_OUT, l, fl * (double)C,
                 linear(ctx, a, h, C, v->ctx, R, p ? &p->ao : NULL, p ? p->q8[1] : NULL, parts,
                        1, C, p ? p->ao_b : y->ao_b, 1, NULL));
        LMI_PROF(LMI_PROF_LAYERNORM, l, 0,
                 lmi_layernorm_forward(ctx, h, NULL, NULL, h, p ? p->ln1_w : y->ln1_w,
                                       p ? p->ln1_b : y->ln1_b, R, C, eps));
        parts[0].w = y->i_w;
        parts[0].rows = I;
        LMI_PROF(LMI_PROF_FFN_IN, l, fl * (double)I,
                 linear(ctx, a, v->pre, I, h, R, p ? &p->in : NULL, p ? p->q8[2] : NULL, parts, 1,
                        C, p ? p->i_b : y->i_b, 0, ep));
        parts[0].w = y->o_w;
        parts[0].rows = C;
        LMI_PROF(LMI_PROF_FFN_OUT, l, fl * (double)I,
                 linear(ctx, a, h, C, v->pre, R, p ? &p->out : NULL, p ? p->q8[3] : NULL, parts, 1,
                        I, p ? p->o_b : y->o_b, 1, NULL));
        LMI_PROF(LMI_PROF_LAYERNORM, l, 0,
                 lmi_layernorm_forward(ctx, h, NULL, NULL, h, p ? p->ln2_w : y->ln2_w,
                                       p ? p->ln2_b : y->ln2_b, R, C, eps));
    }
}

/* The gathered rows back to [B, T, C] (in place, last sequence first), zero rows for the
 * padding that was skipped. */
static void scatter_rows(lmi_bert_acts *a, size_t C) {
    size_t b = a->B;
    while (b-- > 0) {
        const lmi_att_seq *s = &a->seqs[b];
        float *dst = a->hidden + b * a->T * C;
        if (s->start != b * a->T) {
            memmove(dst, a->hidden + s->start * C, s->rows * C * sizeof(float));
        }
        memset(dst + s->rows * C, 0, (a->T - s->rows) * C * sizeof(float));
    }
}

void lmi_bert_forward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                      const int32_t *ids, const int32_t *type_ids, const int32_t *mask,
                      const lmi_bert_dropout *d) {
    lmi_bert_forward_rows(m, ctx, a, ids, type_ids, mask, d, NULL, 0);
}

void lmi_bert_forward_rows(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                           const int32_t *ids, const int32_t *type_ids, const int32_t *mask,
                           const lmi_bert_dropout *d, const lmi_bert_packs *packs, int pad_rows) {
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t NH = (size_t)m->cfg.num_attention_heads, N = a->N;
    const size_t L = (size_t)m->cfg.num_hidden_layers;
    const float eps = (float)m->cfg.layer_norm_eps;
    const float p_hidden = d != NULL ? d->hidden : 0.0f, p_att = d != NULL ? d->att : 0.0f;
    double att_flops;
    float *in;
    size_t l, R;
    if (N == 0) {
        return;
    }
    R = plan_rows(a, &ids, &type_ids, mask, pad_rows);
    LMI_PROF(LMI_PROF_EMBED, -1, 0,
             embeddings(m, ctx, a, a->h0, a->emb_mean, a->emb_rstd, ids, type_ids, R));
    if (!a->keep) {
        infer_layers(m, ctx, a, packs);
        LMI_PROF(LMI_PROF_OUTPUT, -1, 0, scatter_rows(a, C));
        return;
    }
    /* training: the gathered rows, every layer's activations kept; the last hidden state goes
     * back to [B, T] at the end */
    LMI_PROF(LMI_PROF_DROPOUT, -1, 0,
             drop(ctx, a->h0, a->drop_emb, p_hidden, d, LMI_SITE_EMBEDDINGS, R, C, a->row_keys));
    in = a->h0;
    att_flops = attention_flops(a, C);
    for (l = 0; l < L; l++) {
        const lmi_bert_layer *y = &m->w.layers[l];
        const lmi_bert_layer_acts *v = &a->layers[l];
        const double fl = 2.0 * (double)R * (double)C;
        float *out = l + 1 == L ? a->hidden : a->x[l % 2];
        lmi_gemm_part parts[3];
        parts[0].w = y->q_w;
        parts[1].w = y->k_w;
        parts[2].w = y->v_w;
        parts[0].rows = parts[1].rows = parts[2].rows = C;
        memcpy(a->qkv_b, y->q_b, C * sizeof(float));
        memcpy(a->qkv_b + C, y->k_b, C * sizeof(float));
        memcpy(a->qkv_b + 2 * C, y->v_b, C * sizeof(float));
        LMI_PROF(LMI_PROF_QKV, l, fl * 3.0 * (double)C,
                 linear(ctx, a, v->qkv, 3 * C, in, R, NULL, NULL, parts, 3, C, a->qkv_b, 0,
                        NULL));
        LMI_PROF(LMI_PROF_ATTENTION, l, att_flops,
                 lmi_attention_forward(
                     ctx, v->ctx, v->att, v->qkv, 3 * C, a->seqs, a->B, a->att_scratch, a->T,
                     C, NH, p_att,
                     p_att > 0.0f
                         ? lmi_dropout_seed(d->seed, d->step, LMI_SITE_LAYER(l, LMI_SITE_ATT_PROBS))
                         : 0));
        parts[0].w = y->ao_w;
        LMI_PROF(LMI_PROF_ATT_OUT, l, fl * (double)C,
                 linear(ctx, a, a->tmp, C, v->ctx, R, NULL, NULL, parts, 1, C, y->ao_b, 0, NULL));
        LMI_PROF(LMI_PROF_DROPOUT, l, 0,
                 drop(ctx, a->tmp, v->drop_ao, p_hidden, d, LMI_SITE_LAYER(l, LMI_SITE_ATT_OUTPUT),
                      R, C, a->row_keys));
        LMI_PROF(LMI_PROF_LAYERNORM, l, 0,
                 lmi_residual_layernorm_keep_forward(ctx, a->ln1, v->sum1, v->mean1, v->rstd1,
                                                     a->tmp, in, y->ln1_w, y->ln1_b, R, C, eps));
        parts[0].w = y->i_w;
        parts[0].rows = I;
        LMI_PROF(LMI_PROF_FFN_IN, l, fl * (double)I,
                 linear(ctx, a, v->pre, I, a->ln1, R, NULL, NULL, parts, 1, C, y->i_b, 0, NULL));
        LMI_PROF(LMI_PROF_ACT, l, 0,
                 lmi_bert_act_forward(ctx, m->cfg.hidden_act, a->post, v->pre, R * I));
        parts[0].w = y->o_w;
        parts[0].rows = C;
        LMI_PROF(LMI_PROF_FFN_OUT, l, fl * (double)I,
                 linear(ctx, a, a->tmp, C, a->post, R, NULL, NULL, parts, 1, I, y->o_b, 0, NULL));
        LMI_PROF(LMI_PROF_DROPOUT, l, 0,
                 drop(ctx, a->tmp, v->drop_ffn, p_hidden, d,
                      LMI_SITE_LAYER(l, LMI_SITE_FFN_OUTPUT), R, C, a->row_keys));
        LMI_PROF(LMI_PROF_LAYERNORM, l, 0,
                 lmi_residual_layernorm_keep_forward(ctx, out, v->sum2, v->mean2, v->rstd2, a->tmp,
                                                     a->ln1, y->ln2_w, y->ln2_b, R, C, eps));
        in = out;
    }
    if (L == 0) {
        memcpy(a->hidden, a->h0, R * C * sizeof(float));
    }
    LMI_PROF(LMI_PROF_OUTPUT, -1, 0, scatter_rows(a, C));
}

lm_status lmi_bert_encode(const lmi_bert *m, const int32_t *ids, const int32_t *type_ids,
                          const int32_t *mask, size_t B, size_t T, float *hidden, int pad_rows) {
    /* hidden[B, T, C]: the inference layout over one arena, freed on return (each call owns
     * its scratch, so many threads may encode at once) */
    lmi_ops_ctx ctx; /* planned once the activations are allocated (tensor/guard.h) */
    lmi_bert_acts a;
    const lmi_bert_packs *packs;
    lm_status s;
    size_t bytes;
    void *arena;
    if (B * T == 0) {
        return LM_OK;
    }
    packs = lmi_bert_packs_get(m, &s);
    if (packs == NULL) {
        return s;
    }
    bytes = lmi_bert_acts_layout(m, &a, NULL, B, T, 0, 0, m->threads, hidden, 1);
    arena = lmi_malloc_aligned(bytes, LM_ALIGN);
    if (arena == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for the activations of a %zu x %zu batch",
                         B, T);
    }
    lmi_bert_acts_layout(m, &a, arena, B, T, 0, 0, m->threads, hidden, 1);
    lmi_ops_begin(&ctx, m->threads); /* at most m->threads: the scratch is large enough */
    lmi_bert_forward_rows(m, &ctx, &a, ids, type_ids, mask, NULL, packs, pad_rows);
    lmi_ops_end(&ctx);
    lmi_free_aligned(arena);
    return LM_OK;
}
