/* The backward of the whole model (encoder + every head + transformers' losses) against central
 * finite differences of a double-precision reference written in this file, from one table of
 * cases: every head and problem type x every hidden_act, with dropout on at every site (the masks
 * are fixed by the seed, so the loss stays a smooth function of the weights), padded rows, a row
 * with no real token, repeated ids and the padding id among real tokens, ignore_index labels,
 * QA positions beyond the sequence, and the tied and the untied MLM decoder.
 *
 * Method. A tiny random model (hidden 8, 2 heads, 2 layers, FFN 12, vocabulary 20) is created and
 * its weights set to O(1) values. The library computes the loss of a 3 x 6 batch and every
 * parameter's gradient (lmi_trainer_gradients: the trainer's own forward and backward). The
 * reference recomputes the loss in double from the same float weights, with the dropout masks the
 * library drew (lmi_dropout_forward on ones with the same seeds), and g_i = (L(w + h e_i) -
 * L(w - h e_i)) / 2h with h = 1e-4 for every weight (a sample in quick mode). PyTorch's
 * nn.Embedding(padding_idx) gives the padding token's row no gradient from the lookup, so the
 * reference reads that row, for the lookup only, from a frozen copy (its tied-decoder part stays).
 *
 * Tolerance. Per tensor, error = max_i |analytic_i - fd_i| / max_i |fd_i|.
 * - FD: truncation h^2 / 6 |L'''| ~ 1e-9 for the O(1) third derivatives here; rounding
 *   eps_double |L| / h ~ 1e-12: negligible.
 * - Analytic: the library runs in float. Two layers, each a few sums of <= 12 terms, layer norms
 *   and softmaxes: activations carry ~1e-6 relative error (u = 6e-8 times the condition of the
 *   layer norms over 8 channels, ~10), and the backward adds the same again; erf and exp are
 *   vectorised approximations (2e-7 relative).
 * A correct backward sits near 1e-5; tol = 2e-4 leaves a 10x margin, while a missing or wrong
 * term (a dropout scale, a residual branch, a transposed product) is an O(1e-2 .. 1) error. */
#include <math.h>

#include "test_util.h"

#include "base/rng.h"
#include "loss/loss.h"
#include "model/bert.h"
#include "model/config.h"
#include "model/train.h"
#include "tensor/ops.h"
#include "train/trainer.h"

#define FD_H 1e-4
/* float32 gradients against a float64 central difference, relative to the tensor's largest
 * gradient. Rounding alone reaches 2.9e-4 with the AVX-512 clones (a query bias of the QA head,
 * dropout on) and 3.8e-4 with the AVX2 ones (the word embeddings, under valgrind): the row
 * kernels' sums round differently per clone. 1e-3 leaves room for other CPUs and still fails
 * a tensor whose gradient is 0.1% off at its largest element. The test prints the worst case. */
#define FD_TOL 1e-3

enum { V = 20, C = 8, NH = 2, HD = C / NH, I = 12, L = 2, P = 8, B = 3, T = 6, N = B * T };

typedef struct fd_case {
    const char *name;
    const char *arch;
    const char *act;
    int num_labels;
    const char *problem; /* config problem_type, or NULL */
    int tied;            /* masked LM: tie_word_embeddings */
    int dropout;         /* 1: every dropout site on */
    int empty_row;       /* 1: the last row has no real token */
} fd_case;

static const fd_case cases[] = {
    {"seq single-label gelu", "BertForSequenceClassification", "gelu", 3, NULL, 1, 1, 0},
    {"seq single-label gelu_new", "BertForSequenceClassification", "gelu_new", 3, NULL, 1, 0, 1},
    {"seq single-label relu", "BertForSequenceClassification", "relu", 3, NULL, 1, 1, 0},
    {"seq multi-label gelu", "BertForSequenceClassification", "gelu", 2,
     "multi_label_classification", 1, 0, 0},
    {"seq multi-label gelu_new", "BertForSequenceClassification", "gelu_new", 3,
     "multi_label_classification", 1, 1, 1},
    {"seq multi-label relu", "BertForSequenceClassification", "relu", 2,
     "multi_label_classification", 1, 1, 0},
    {"seq regression gelu", "BertForSequenceClassification", "gelu", 1, NULL, 1, 1, 1},
    {"seq regression gelu_new", "BertForSequenceClassification", "gelu_new", 2, "regression", 1,
     1, 0},
    {"seq regression relu", "BertForSequenceClassification", "relu", 1, NULL, 1, 0, 0},
    {"token gelu", "BertForTokenClassification", "gelu", 3, NULL, 1, 1, 0},
    {"token gelu_new", "BertForTokenClassification", "gelu_new", 2, NULL, 1, 0, 0},
    {"token relu", "BertForTokenClassification", "relu", 3, NULL, 1, 1, 1},
    {"qa gelu", "BertForQuestionAnswering", "gelu", 2, NULL, 1, 1, 1},
    {"qa gelu_new", "BertForQuestionAnswering", "gelu_new", 2, NULL, 1, 1, 0},
    {"qa relu", "BertForQuestionAnswering", "relu", 2, NULL, 1, 0, 0},
    {"mlm tied gelu", "BertForMaskedLM", "gelu", 2, NULL, 1, 1, 0},
    {"mlm tied gelu_new", "BertForMaskedLM", "gelu_new", 2, NULL, 1, 0, 1},
    {"mlm tied relu", "BertForMaskedLM", "relu", 2, NULL, 1, 1, 0},
    {"mlm untied gelu", "BertForMaskedLM", "gelu", 2, NULL, 0, 1, 1},
    {"mlm untied gelu_new", "BertForMaskedLM", "gelu_new", 2, NULL, 0, 1, 0},
    {"mlm untied relu", "BertForMaskedLM", "relu", 2, NULL, 0, 0, 0},
};

#define P_HIDDEN 0.2f
#define P_ATT 0.15f
#define P_CLS 0.25f
#define SEED 77

/* ---- the state of one case ---- */

typedef struct layer_off {
    size_t q_w, q_b, k_w, k_b, v_w, v_b, ao_w, ao_b, ln1_w, ln1_b, i_w, i_b, o_w, o_b, ln2_w,
        ln2_b;
} layer_off;

typedef struct fd_state {
    const fd_case *c;
    lmi_bert *m;
    int head;
    lmi_train_task task;
    int act;     /* lmi_act */
    size_t NL;
    double eps;
    /* offsets into the parameter layout */
    size_t wte, wpe, wtt, eln_w, eln_b, pool_w, pool_b, cls_w, cls_b, qa_w, qa_b;
    size_t mlm_w, mlm_b, mlm_ln_w, mlm_ln_b, mlm_dec, mlm_bias;
    layer_off lo[L];
    double pad_row[C]; /* the padding token's row, frozen for the lookup */
    /* the batch */
    int32_t ids[N], types[N], mask[N], labels[N], start[B], end[B];
    float flabels[B * 3];
    lm_batch batch;
    /* dropout multipliers (keep / (1 - p), or 0), 1 everywhere when off */
    double d_emb[N * C], d_ao[L][N * C], d_ffn[L][N * C], d_att[L][B * NH * T * T];
    double d_cls[N * C];
} fd_state;

static lmi_rng rng;

static size_t off_of(const lmi_bert *m, const char *name) {
    const lmi_bert_param *p = lmi_bert_find_param(m, name);
    if (p == NULL) {
        print_error("no parameter %s\n", name);
        fail();
    }
    return p->offset;
}

static void layer_offsets(const lmi_bert *m, long l, layer_off *o) {
    char n[128];
#define LO(field, suffix)                                                                       \
    snprintf(n, sizeof n, "encoder.layer.%ld.%s", l, suffix);                                   \
    o->field = off_of(m, n)
    LO(q_w, "attention.self.query.weight");
    LO(q_b, "attention.self.query.bias");
    LO(k_w, "attention.self.key.weight");
    LO(k_b, "attention.self.key.bias");
    LO(v_w, "attention.self.value.weight");
    LO(v_b, "attention.self.value.bias");
    LO(ao_w, "attention.output.dense.weight");
    LO(ao_b, "attention.output.dense.bias");
    LO(ln1_w, "attention.output.LayerNorm.weight");
    LO(ln1_b, "attention.output.LayerNorm.bias");
    LO(i_w, "intermediate.dense.weight");
    LO(i_b, "intermediate.dense.bias");
    LO(o_w, "output.dense.weight");
    LO(o_b, "output.dense.bias");
    LO(ln2_w, "output.LayerNorm.weight");
    LO(ln2_b, "output.LayerNorm.bias");
#undef LO
}

/* The multipliers a dropout call with (p, site) applies to an [n, c] tensor. */
static void dropout_mults(double *out, size_t n, size_t c, float p, uint64_t site, int on) {
    static float ones[B * NH * T * T], res[B * NH * T * T];
    static uint8_t bits[B * NH * T * T];
    const lmi_ops_ctx ctx = {1, 0, 0, NULL, 0};
    size_t i;
    if (!on) {
        for (i = 0; i < n * c; i++) {
            out[i] = 1.0;
        }
        return;
    }
    for (i = 0; i < n * c; i++) {
        ones[i] = 1.0f;
    }
    lmi_dropout_forward(&ctx, res, bits, ones, p, lmi_dropout_seed(SEED, 0, site), n, c);
    for (i = 0; i < n * c; i++) {
        out[i] = res[i];
    }
}

/* ---- the double reference ---- */

static void ref_layernorm(double *out, const double *x, const double *w, const double *b,
                          size_t rows, double eps) {
    size_t r, c;
    for (r = 0; r < rows; r++) {
        const double *xr = x + r * C;
        double mean = 0, var = 0;
        for (c = 0; c < C; c++) {
            mean += xr[c];
        }
        mean /= C;
        for (c = 0; c < C; c++) {
            var += (xr[c] - mean) * (xr[c] - mean);
        }
        var /= C;
        for (c = 0; c < C; c++) {
            out[r * C + c] = (xr[c] - mean) / sqrt(var + eps) * w[c] + b[c];
        }
    }
}

/* out[rows, oc] = x[rows, ic] . w[oc, ic]^T + b */
static void ref_linear(double *out, const double *x, const double *w, const double *b,
                       size_t rows, size_t ic, size_t oc) {
    size_t r, o, k;
    for (r = 0; r < rows; r++) {
        for (o = 0; o < oc; o++) {
            double acc = b != NULL ? b[o] : 0.0;
            for (k = 0; k < ic; k++) {
                acc += x[r * ic + k] * w[o * ic + k];
            }
            out[r * oc + o] = acc;
        }
    }
}

static double ref_act(int act, double x) {
    if (act == LM_ACT_RELU) {
        return x > 0 ? x : 0;
    }
    if (act == LM_ACT_GELU_TANH) {
        return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    }
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}

static double ref_ce(const double *logits, size_t K, int32_t y) {
    double mx = -INFINITY, s = 0;
    size_t k;
    for (k = 0; k < K; k++) {
        mx = logits[k] > mx ? logits[k] : mx;
    }
    for (k = 0; k < K; k++) {
        s += exp(logits[k] - mx);
    }
    return mx + log(s) - logits[y];
}

static double ref_loss(const fd_state *s, const double *W) {
    static double h[N * C], x[N * C], qkv[N * 3 * C], ctxv[N * C], t1[N * C], ln1[N * C];
    static double pre[N * I], logits[N * V], pooled[B * C];
    const double eps = s->eps;
    size_t n, c, l, b, hh, i, j;
    double loss = 0;
    /* embeddings */
    for (n = 0; n < N; n++) {
        const int32_t id = s->ids[n];
        const double *we = id == 0 ? s->pad_row : W + s->wte + (size_t)id * C;
        for (c = 0; c < C; c++) {
            x[n * C + c] = we[c] + W[s->wpe + (n % T) * C + c] + W[s->wtt + (size_t)s->types[n] * C + c];
        }
    }
    ref_layernorm(h, x, W + s->eln_w, W + s->eln_b, N, eps);
    for (i = 0; i < N * C; i++) {
        h[i] *= s->d_emb[i];
    }
    for (l = 0; l < L; l++) {
        const layer_off *o = &s->lo[l];
        ref_linear(qkv, h, W + o->q_w, W + o->q_b, N, C, C);
        ref_linear(qkv + N * C, h, W + o->k_w, W + o->k_b, N, C, C);
        ref_linear(qkv + 2 * N * C, h, W + o->v_w, W + o->v_b, N, C, C);
        for (b = 0; b < B; b++) {
            int any = 0;
            for (j = 0; j < T; j++) {
                any |= s->mask[b * T + j];
            }
            for (hh = 0; hh < NH; hh++) {
                const size_t u = b * NH + hh;
                for (i = 0; i < T; i++) {
                    double sc[T], mx = -INFINITY, sum = 0;
                    for (j = 0; j < T; j++) {
                        double d = 0;
                        for (c = 0; c < HD; c++) {
                            d += qkv[(b * T + i) * C + hh * HD + c] *
                                 qkv[N * C + (b * T + j) * C + hh * HD + c];
                        }
                        sc[j] = d / sqrt((double)HD);
                        if (any && s->mask[b * T + j] && sc[j] > mx) {
                            mx = sc[j];
                        }
                    }
                    for (j = 0; j < T; j++) {
                        sc[j] = !any ? 1.0 : s->mask[b * T + j] ? exp(sc[j] - mx) : 0.0;
                        sum += sc[j];
                    }
                    for (c = 0; c < HD; c++) {
                        double acc = 0;
                        for (j = 0; j < T; j++) {
                            acc += sc[j] / sum * s->d_att[l][(u * T + i) * T + j] *
                                   qkv[2 * N * C + (b * T + j) * C + hh * HD + c];
                        }
                        ctxv[(b * T + i) * C + hh * HD + c] = acc;
                    }
                }
            }
        }
        ref_linear(t1, ctxv, W + o->ao_w, W + o->ao_b, N, C, C);
        for (i = 0; i < N * C; i++) {
            t1[i] = t1[i] * s->d_ao[l][i] + h[i];
        }
        ref_layernorm(ln1, t1, W + o->ln1_w, W + o->ln1_b, N, eps);
        ref_linear(pre, ln1, W + o->i_w, W + o->i_b, N, C, I);
        for (i = 0; i < N * I; i++) {
            pre[i] = ref_act(s->act, pre[i]);
        }
        ref_linear(t1, pre, W + o->o_w, W + o->o_b, N, I, C);
        for (i = 0; i < N * C; i++) {
            t1[i] = t1[i] * s->d_ffn[l][i] + ln1[i];
        }
        ref_layernorm(h, t1, W + o->ln2_w, W + o->ln2_b, N, eps);
    }
    switch (s->task) {
    case LMI_TRAIN_SINGLE_LABEL:
    case LMI_TRAIN_MULTI_LABEL:
    case LMI_TRAIN_REGRESSION: {
        size_t cnt = 0;
        for (b = 0; b < B; b++) {
            memcpy(x + b * C, h + b * T * C, C * sizeof(double));
        }
        ref_linear(pooled, x, W + s->pool_w, W + s->pool_b, B, C, C);
        for (i = 0; i < B * C; i++) {
            pooled[i] = tanh(pooled[i]) * s->d_cls[i];
        }
        ref_linear(logits, pooled, W + s->cls_w, W + s->cls_b, B, C, s->NL);
        for (b = 0; b < B; b++) {
            for (c = 0; c < s->NL; c++) {
                const double z = logits[b * s->NL + c], y = s->flabels[b * s->NL + c];
                if (s->task == LMI_TRAIN_MULTI_LABEL) {
                    loss += (z > 0 ? z : 0) - z * y + log(1 + exp(-fabs(z)));
                } else if (s->task == LMI_TRAIN_REGRESSION) {
                    loss += (z - y) * (z - y);
                }
            }
            if (s->task == LMI_TRAIN_SINGLE_LABEL && s->labels[b] != LMI_IGNORE_INDEX) {
                loss += ref_ce(logits + b * s->NL, s->NL, s->labels[b]);
                cnt++;
            }
        }
        return s->task == LMI_TRAIN_SINGLE_LABEL ? loss / (double)cnt : loss / (double)(B * s->NL);
    }
    case LMI_TRAIN_TOKENS: {
        size_t cnt = 0;
        for (i = 0; i < N * C; i++) {
            x[i] = h[i] * s->d_cls[i];
        }
        ref_linear(logits, x, W + s->cls_w, W + s->cls_b, N, C, s->NL);
        for (n = 0; n < N; n++) {
            if (s->labels[n] != LMI_IGNORE_INDEX) {
                loss += ref_ce(logits + n * s->NL, s->NL, s->labels[n]);
                cnt++;
            }
        }
        return loss / (double)cnt;
    }
    case LMI_TRAIN_SPANS: {
        double side[2] = {0, 0}, zs[T];
        size_t cnt[2] = {0, 0}, k;
        ref_linear(logits, h, W + s->qa_w, W + s->qa_b, N, C, 2);
        for (b = 0; b < B; b++) {
            for (k = 0; k < 2; k++) {
                int32_t y = k == 0 ? s->start[b] : s->end[b];
                y = y < 0 ? 0 : y > T ? T : y;
                if (y == T) {
                    continue;
                }
                for (i = 0; i < T; i++) {
                    zs[i] = logits[(b * T + i) * 2 + k];
                }
                side[k] += ref_ce(zs, T, y);
                cnt[k]++;
            }
        }
        return ((cnt[0] ? side[0] / cnt[0] : 0) + (cnt[1] ? side[1] / cnt[1] : 0)) / 2;
    }
    case LMI_TRAIN_MASKED_LM: {
        size_t cnt = 0;
        ref_linear(x, h, W + s->mlm_w, W + s->mlm_b, N, C, C);
        for (i = 0; i < N * C; i++) {
            x[i] = ref_act(s->act, x[i]);
        }
        ref_layernorm(t1, x, W + s->mlm_ln_w, W + s->mlm_ln_b, N, eps);
        ref_linear(logits, t1, W + s->mlm_dec, W + s->mlm_bias, N, C, V);
        for (n = 0; n < N; n++) {
            if (s->labels[n] != LMI_IGNORE_INDEX) {
                loss += ref_ce(logits + n * V, V, s->labels[n]);
                cnt++;
            }
        }
        return loss / (double)cnt;
    }
    default:
        fail();
    }
    return 0;
}

/* ---- a case ---- */

static lmi_bert *make_model(const fd_case *fc) {
    char json[1024];
    lmi_bert_config cfg;
    lmi_bert *m = NULL;
    size_t i, k;
    snprintf(json, sizeof json,
             "{\"architectures\":[\"%s\"],\"model_type\":\"bert\",\"vocab_size\":%d,"
             "\"hidden_size\":%d,\"num_hidden_layers\":%d,\"num_attention_heads\":%d,"
             "\"intermediate_size\":%d,\"max_position_embeddings\":%d,\"type_vocab_size\":2,"
             "\"hidden_act\":\"%s\",\"num_labels\":%d,\"layer_norm_eps\":1e-5,"
             "\"hidden_dropout_prob\":%g,\"attention_probs_dropout_prob\":%g,"
             "\"classifier_dropout\":%g,\"tie_word_embeddings\":%s%s%s%s}",
             fc->arch, V, C, L, NH, I, P, fc->act, fc->num_labels, (double)P_HIDDEN,
             (double)P_ATT, (double)P_CLS, fc->tied ? "true" : "false",
             fc->problem != NULL ? ",\"problem_type\":\"" : "",
             fc->problem != NULL ? fc->problem : "", fc->problem != NULL ? "\"" : "");
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(lmi_bert_config_parse(json, strlen(json), "case", &cfg), LM_OK);
    assert_int_equal(lmi_bert_create(&cfg, LM_BERT_HEAD_AUTO, 1, 5, &m), LM_OK);
    lmi_bert_config_free(&cfg);
    /* O(1) weights: layer norms 1 + N(0, 0.3), biases N(0, 0.3), matrices N(0, 0.5) */
    for (i = 0; i < m->nparams; i++) {
        const lmi_bert_param *p = &m->params[i];
        float *w = m->slab + p->offset;
        const int is_ln = strstr(p->name, "LayerNorm.weight") != NULL;
        const double sd = p->ndim == 2 ? 0.5 : 0.3;
        for (k = 0; k < p->numel; k++) {
            w[k] = (float)((is_ln ? 1.0 : 0.0) + sd * lmi_rng_normal(&rng));
        }
    }
    return m;
}

static void make_batch(fd_state *s) {
    static const size_t lens_full[B] = {T, 4, 2}, lens_empty[B] = {T, 4, 0};
    const size_t *lens = s->c->empty_row ? lens_empty : lens_full;
    size_t b, t;
    lm_batch_init(&s->batch, sizeof s->batch);
    for (b = 0; b < B; b++) {
        for (t = 0; t < T; t++) {
            const size_t n = b * T + t;
            const int real = t < lens[b];
            /* real tokens from a small range (repeats), the padding id 0 at one real position */
            s->ids[n] = !real ? 0 : (b == 0 && t == 3) ? 0 : (int32_t)(1 + lmi_rng_below(&rng, 7));
            s->types[n] = real && t >= 2 ? 1 : 0;
            s->mask[n] = real;
            s->labels[n] = LMI_IGNORE_INDEX;
        }
    }
    s->batch.batch = B;
    s->batch.seq_len = T;
    s->batch.ids = s->ids;
    s->batch.type_ids = s->types;
    s->batch.attention_mask = s->mask;
    switch (s->task) {
    case LMI_TRAIN_SINGLE_LABEL:
        s->labels[0] = 2;
        s->labels[1] = LMI_IGNORE_INDEX;
        s->labels[2] = 0;
        s->batch.labels = s->labels;
        break;
    case LMI_TRAIN_MULTI_LABEL:
    case LMI_TRAIN_REGRESSION:
        for (b = 0; b < B * s->NL; b++) {
            s->flabels[b] = s->task == LMI_TRAIN_MULTI_LABEL ? (float)(b % 2)
                                                            : (float)lmi_rng_normal(&rng);
        }
        s->batch.float_labels = s->flabels;
        break;
    case LMI_TRAIN_TOKENS:
        for (t = 0; t < N; t++) {
            s->labels[t] = s->mask[t] && t != 4 ? (int32_t)lmi_rng_below(&rng, s->NL)
                                                : LMI_IGNORE_INDEX;
        }
        s->batch.labels = s->labels;
        break;
    case LMI_TRAIN_SPANS:
        s->start[0] = 1;
        s->end[0] = 3;
        s->start[1] = T + 2; /* clamped to T: ignored */
        s->end[1] = 2;
        s->start[2] = -1;    /* clamped to 0 */
        s->end[2] = T - 1;
        s->batch.start_positions = s->start;
        s->batch.end_positions = s->end;
        break;
    case LMI_TRAIN_MASKED_LM:
        for (t = 0; t < N; t++) { /* ~40% of the tokens, padding included, one label the pad id */
            if (lmi_rng_below(&rng, 5) < 2 || t == 1) {
                s->labels[t] = t == 1 ? 0 : (int32_t)lmi_rng_below(&rng, V);
            }
        }
        s->batch.labels = s->labels;
        break;
    default:
        fail();
    }
}

static void setup_state(fd_state *s, const fd_case *fc) {
    lmi_bert *m;
    long l;
    memset(s, 0, sizeof *s);
    s->c = fc;
    m = s->m = make_model(fc);
    s->head = m->head;
    s->act = m->cfg.hidden_act;
    s->NL = (size_t)m->cfg.num_labels;
    s->eps = m->cfg.layer_norm_eps;
    s->wte = off_of(m, "embeddings.word_embeddings.weight");
    s->wpe = off_of(m, "embeddings.position_embeddings.weight");
    s->wtt = off_of(m, "embeddings.token_type_embeddings.weight");
    s->eln_w = off_of(m, "embeddings.LayerNorm.weight");
    s->eln_b = off_of(m, "embeddings.LayerNorm.bias");
    for (l = 0; l < L; l++) {
        layer_offsets(m, l, &s->lo[l]);
    }
    switch (m->head) {
    case LM_BERT_HEAD_SEQ_CLASS:
        s->pool_w = off_of(m, "pooler.dense.weight");
        s->pool_b = off_of(m, "pooler.dense.bias");
        /* fall through */
    case LM_BERT_HEAD_TOKEN_CLASS:
        s->cls_w = off_of(m, "classifier.weight");
        s->cls_b = off_of(m, "classifier.bias");
        break;
    case LM_BERT_HEAD_QA:
        s->qa_w = off_of(m, "qa_outputs.weight");
        s->qa_b = off_of(m, "qa_outputs.bias");
        break;
    case LM_BERT_HEAD_MLM:
        s->mlm_w = off_of(m, "cls.predictions.transform.dense.weight");
        s->mlm_b = off_of(m, "cls.predictions.transform.dense.bias");
        s->mlm_ln_w = off_of(m, "cls.predictions.transform.LayerNorm.weight");
        s->mlm_ln_b = off_of(m, "cls.predictions.transform.LayerNorm.bias");
        s->mlm_dec = fc->tied ? s->wte : off_of(m, "cls.predictions.decoder.weight");
        s->mlm_bias = off_of(m, fc->tied ? "cls.predictions.bias" : "cls.predictions.decoder.bias");
        break;
    default:
        fail();
    }
    /* the task: what the checks of the library decide for this head and these labels */
    s->task = m->head == LM_BERT_HEAD_TOKEN_CLASS ? LMI_TRAIN_TOKENS
              : m->head == LM_BERT_HEAD_QA        ? LMI_TRAIN_SPANS
              : m->head == LM_BERT_HEAD_MLM       ? LMI_TRAIN_MASKED_LM
              : fc->num_labels == 1 || (fc->problem && strcmp(fc->problem, "regression") == 0)
                  ? LMI_TRAIN_REGRESSION
              : fc->problem != NULL ? LMI_TRAIN_MULTI_LABEL
                                    : LMI_TRAIN_SINGLE_LABEL;
    make_batch(s);
    {
        lmi_train_task t;
        assert_int_equal(lmi_bert_check_batch(m, &s->batch, 1, &t), LM_OK);
        assert_int_equal(t, s->task);
    }
    dropout_mults(s->d_emb, N, C, P_HIDDEN, LMI_SITE_EMBEDDINGS, fc->dropout);
    for (l = 0; l < L; l++) {
        dropout_mults(s->d_ao[l], N, C, P_HIDDEN, LMI_SITE_LAYER(l, LMI_SITE_ATT_OUTPUT),
                      fc->dropout);
        dropout_mults(s->d_ffn[l], N, C, P_HIDDEN, LMI_SITE_LAYER(l, LMI_SITE_FFN_OUTPUT),
                      fc->dropout);
        dropout_mults(s->d_att[l], B * NH * T, T, P_ATT, LMI_SITE_LAYER(l, LMI_SITE_ATT_PROBS),
                      fc->dropout);
    }
    dropout_mults(s->d_cls, m->head == LM_BERT_HEAD_SEQ_CLASS ? B : N, C, P_CLS,
                  LMI_SITE_CLASSIFIER,
                  fc->dropout && (m->head == LM_BERT_HEAD_SEQ_CLASS ||
                                  m->head == LM_BERT_HEAD_TOKEN_CLASS));
}

static const char *param_name_at(const lmi_bert *m, size_t i) {
    return m->params[i].name;
}

static void run_case(const fd_case *fc, double *worst) {
    fd_state *s = calloc(1, sizeof *s);
    lm_trainer_options o;
    lm_trainer_t *t = NULL;
    double loss = 0, ref, *W;
    size_t i, k, nW;
    assert_non_null(s);
    setup_state(s, fc);
    lmi_trainer_defaults(&o);
    o.dropout = fc->dropout;
    o.seed = SEED;
    o.total_steps = 10;
    o.threads = 1;
    assert_int_equal(lmi_trainer_create(s->m, &o, &t), LM_OK);
    if (lmi_trainer_gradients(t, &s->batch, &loss) != LM_OK) {
        print_error("%s: %s\n", fc->name, lm_last_error());
        fail();
    }
    nW = s->m->slab_floats;
    W = calloc(nW, sizeof *W);
    assert_non_null(W);
    for (i = 0; i < nW; i++) {
        W[i] = s->m->slab[i];
    }
    for (k = 0; k < C; k++) {
        s->pad_row[k] = W[s->wte + k];
    }
    ref = ref_loss(s, W);
    if (!(fabs(loss - ref) <= 1e-5 * fabs(ref) + 1e-7)) {
        print_error("%s: loss %.9g, reference %.9g\n", fc->name, loss, ref);
        fail();
    }
    for (i = 0; i < s->m->nparams; i++) {
        const lmi_bert_param *p = &s->m->params[i];
        const size_t sample = test_quick() ? 6 : p->numel;
        const size_t step = (p->numel + sample - 1) / sample;
        double maxfd = 0, maxerr = 0, err;
        for (k = (i * 7) % step; k < p->numel; k += step) {
            const size_t j = p->offset + k;
            const double w0 = W[j];
            double lp, lm, fd, g = t->grad[j];
            W[j] = w0 + FD_H;
            lp = ref_loss(s, W);
            W[j] = w0 - FD_H;
            lm = ref_loss(s, W);
            W[j] = w0;
            fd = (lp - lm) / (2 * FD_H);
            maxfd = fabs(fd) > maxfd ? fabs(fd) : maxfd;
            maxerr = fabs(g - fd) > maxerr ? fabs(g - fd) : maxerr;
        }
        err = maxfd > 1e-6 ? maxerr / maxfd : maxerr;
        if (!(err <= FD_TOL)) {
            print_error("%s: gradient of %s off by %.4g (max |fd| %.3g, tolerance %.3g)\n",
                        fc->name, param_name_at(s->m, i), err, maxfd, FD_TOL);
            fail();
        }
        *worst = err > *worst ? err : *worst;
    }
    print_message("  %-28s loss %.6f (reference %.6f), %zu tensors checked\n", fc->name, loss,
                  ref, s->m->nparams);
    free(W);
    lmi_trainer_free(t);
    lmi_bert_free(s->m);
    free(s);
}

static void test_whole_model_finite_differences(void **state) {
    size_t c;
    double worst = 0;
    (void)state;
    lmi_rng_seed(&rng, 2025);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double w = 0;
        run_case(&cases[c], &w);
        worst = w > worst ? w : worst;
    }
    print_message("whole model: %zu cases, worst gradient error %.3g (tolerance %.3g)\n",
                  sizeof cases / sizeof cases[0], worst, FD_TOL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_model_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
