/* The backward pass of the BERT encoder (see model/train.h): layer by layer from the gradient of
 * the last hidden state down to the embedding tables, from the activations the training layout
 * kept; layer-norm and GELU outputs are recomputed. Gradients are added into the views. */
#include <string.h>

#include "model/bert.h"
#include "model/train.h"
#include "tensor/ops.h"

/* out[N, C] = (inp - mean) rstd weight + bias: a layer norm's output from its kept statistics,
 * with the last formula of the forward (the same values, bit for bit). */
static void layernorm_apply(const lmi_ops_ctx *ctx, float *out, const float *inp,
                            const float *mean, const float *rstd, const float *weight,
                            const float *bias, size_t N, size_t C) {
    long n;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) if (N * C >= 16384)
    for (n = 0; n < (long)N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        const float m = mean[n], s = rstd[n];
        size_t c;
        for (c = 0; c < C; c++) {
            o[c] = (x[c] - m) * s * weight[c] + bias[c];
        }
    }
}

static void zero(float *x, size_t n) {
    memset(x, 0, n * sizeof(float));
}

/* The gradient before a dropout from the one after it: into buf when the forward dropped, else
 * dout itself. */
static const float *undrop(const lmi_ops_ctx *ctx, float *buf, const float *dout,
                           const uint8_t *bits, float p, size_t N, size_t C) {
    if (bits == NULL || !(p > 0.0f)) {
        return dout;
    }
    lmi_dropout_backward_set(ctx, buf, dout, bits, p, N, C);
    return buf;
}

/* The gradient of the last hidden state, dx [B, T, C], onto the forward's rows (in place, first
 * sequence first: a sequence's rows never start after its place in [B, T]). */
static void gather_rows(const lmi_bert_acts *a, float *dx, size_t C) {
    size_t b;
    for (b = 0; b < a->B; b++) {
        const lmi_att_seq *s = &a->seqs[b];
        if (s->start != b * a->T) {
            memmove(dx + s->start * C, dx + b * a->T * C, s->rows * C * sizeof(float));
        }
    }
}

void lmi_bert_backward(const lmi_bert *m, const lmi_ops_ctx *ctx, lmi_bert_acts *a,
                       const lmi_bert_grads *g, const lmi_bert_dropout *d) {
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    const size_t NH = (size_t)m->cfg.num_attention_heads, N = a->rows;
    const size_t L = (size_t)m->cfg.num_hidden_layers;
    const int64_t pad = m->cfg.pad_token_id;
    const float p_hidden = d != NULL ? d->hidden : 0.0f, p_att = d != NULL ? d->att : 0.0f;
    const lmi_act act = m->cfg.hidden_act;
    float *dx = a->dx; /* gradient of the current layer's output, then of its input */
    const float *dt;
    size_t l;
    if (N == 0) {
        return;
    }
    gather_rows(a, dx, C);
    for (l = L; l-- > 0;) {
        const lmi_bert_layer *y = &m->w.layers[l];
        const lmi_bert_layer_grads *gy = &g->layers[l];
        const lmi_bert_layer_acts *v = &a->layers[l];
        const float *in;
        size_t k;
        /* recomputed: the LN1 output (FFN input) and the activation output (FFN output's input) */
        layernorm_apply(ctx, a->S, v->sum1, v->mean1, v->rstd1, y->ln1_w, y->ln1_b, N, C);
        lmi_bert_act_forward(ctx, act, a->P, v->pre, N * I);
        /* out = LN2(dropout(ffn) + ln1): ds = d(sum2), the gradient of ln1 by the residual */
        zero(a->ds, N * C);
        lmi_layernorm_backward(ctx, a->ds, gy->ln2_w, gy->ln2_b, dx, v->sum2, v->mean2, v->rstd2,
                               y->ln2_w, N, C);
        dt = undrop(ctx, a->dt, a->ds, v->drop_ffn, p_hidden, N, C);
        /* ffn = o(act(i(ln1))) */
        lmi_matmul_backward_set(ctx, a->D, gy->o_w, gy->o_b, dt, C, a->P, y->o_w, N, I, C);
        lmi_bert_act_backward(ctx, act, a->P, a->D, v->pre, N * I, 0);
        lmi_matmul_backward(ctx, a->ds, gy->i_w, gy->i_b, a->P, I, a->S, y->i_w, N, C, I);
        /* ln1 = LN1(dropout(ao) + in): dx = d(sum1), the gradient of in by the residual */
        zero(dx, N * C);
        lmi_layernorm_backward(ctx, dx, gy->ln1_w, gy->ln1_b, a->ds, v->sum1, v->mean1, v->rstd1,
                               y->ln1_w, N, C);
        dt = undrop(ctx, a->dt, dx, v->drop_ao, p_hidden, N, C);
        /* ao = dense(attention(Q, K, V)) */
        lmi_matmul_backward_set(ctx, a->ds, gy->ao_w, gy->ao_b, dt, C, v->ctx, y->ao_w, N, C, C);
        zero(a->d3, N * 3 * C);
        lmi_attention_backward(
            ctx, a->d3, a->ds, v->qkv, 3 * C, v->att, a->seqs, a->B, a->att_bscratch, a->T,
            C, NH, p_att,
            p_att > 0.0f ? lmi_dropout_seed(d->seed, d->step, LMI_SITE_LAYER(l, LMI_SITE_ATT_PROBS))
                         : 0);
        /* Q | K | V = in . W^T: the input is the previous layer's output, recomputed */
        if (l == 0) {
            in = a->h0;
        } else {
            const lmi_bert_layer *py = &m->w.layers[l - 1];
            const lmi_bert_layer_acts *pv = &a->layers[l - 1];
            layernorm_apply(ctx, a->S, pv->sum2, pv->mean2, pv->rstd2, py->ln2_w, py->ln2_b, N, C);
            in = a->S;
        }
        {
            const float *const w3[3] = {y->q_w, y->k_w, y->v_w};
            float *const gw3[3] = {gy->q_w, gy->k_w, gy->v_w};
            float *const gb3[3] = {gy->q_b, gy->k_b, gy->v_b};
            for (k = 0; k < 3; k++) {
                lmi_matmul_backward(ctx, dx, gw3[k], gb3[k], a->d3 + k * C, 3 * C, in, w3[k], N,
                                    C, C);
            }
        }
    }
    /* embeddings: h0 = dropout(LN(word + position + type)) */
    dt = undrop(ctx, a->dt, dx, a->drop_emb, p_hidden, N, C);
    zero(a->ds, N * C);
    lmi_layernorm_backward(ctx, a->ds, g->emb_ln_w, g->emb_ln_b, dt, a->emb, a->emb_mean,
                           a->emb_rstd, m->w.emb_ln_w, N, C);
    if (pad >= 0 && pad < m->cfg.vocab_size) { /* padding_idx: the lookup adds nothing there */
        float *row = g->wte + (size_t)pad * C;
        memcpy(a->dt, row, C * sizeof(float));
        lmi_embedding_backward(ctx, g->wte, a->ids, a->ds, N, C);
        memcpy(row, a->dt, C * sizeof(float));
    } else {
        lmi_embedding_backward(ctx, g->wte, a->ids, a->ds, N, C);
    }
    lmi_embedding_backward(ctx, g->wpe, a->pos, a->ds, N, C);
    lmi_embedding_backward(ctx, g->wtt, a->types, a->ds, N, C);
}
