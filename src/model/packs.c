/* The model's inference cache (see lmi_bert_packs_get in bert.h): every encoder Linear weight
 * packed for liblm's GEMM once, on the first forward, in one block; Q, K and V as one [3C, C]
 * weight with their biases side by side. Once packed, the pages of the file map under the packed
 * weights are dropped from memory, so a loaded model holds its Linear weights once (packed), not
 * twice. The block is freed when the weights change (trainer) and made again on the next use. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/profile.h"
#include "model/bert.h"
#include "tensor/qgemm.h"

struct lmi_bert_cache {
    pthread_mutex_t lock;
    _Atomic(lmi_bert_packs *) packs; /* NULL until made */
};

lm_status lmi_bert_cache_new(lmi_bert *m) {
    lmi_bert_cache *c = lmi_calloc(1, sizeof *c);
    if (c == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory for a model");
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        lmi_free(c);
        return lmi_error(LM_ERR_NOMEM, "cannot create a lock for a model");
    }
    atomic_init(&c->packs, NULL);
    m->cache = c;
    return LM_OK;
}

static void packs_free(lmi_bert_packs *p, size_t L) {
    size_t l, i;
    if (p == NULL) {
        return;
    }
    for (l = 0; l < L; l++) {
        for (i = 0; i < 4; i++) {
            lmi_q8_weight_free(p->layers[l].q8[i]);
        }
    }
    lmi_free_aligned(p->block);
    lmi_free(p);
}

void lmi_bert_cache_free(lmi_bert *m) {
    if (m->cache != NULL) {
        packs_free(atomic_load(&m->cache->packs), (size_t)m->cfg.num_hidden_layers);
        pthread_mutex_destroy(&m->cache->lock);
        lmi_free(m->cache);
        m->cache = NULL;
    }
}

static size_t up16(size_t floats) {
    return (floats + 15) & ~(size_t)15;
}

/* The four products of a layer: the parts of each weight, N and K. */
typedef struct layer_weights {
    lmi_gemm_part parts[4][3];
    size_t nparts[4], n[4], k[4];
} layer_weights;

static void weights_of(const lmi_bert *m, size_t l, layer_weights *w) {
    const lmi_bert_layer *y = &m->w.layers[l];
    const size_t C = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    size_t i;
    memset(w, 0, sizeof *w);
    w->parts[0][0].w = y->q_w;
    w->parts[0][1].w = y->k_w;
    w->parts[0][2].w = y->v_w;
    w->parts[0][0].rows = w->parts[0][1].rows = w->parts[0][2].rows = C;
    w->nparts[0] = 3;
    w->parts[1][0].w = y->ao_w;
    w->parts[1][0].rows = C;
    w->parts[2][0].w = y->i_w;
    w->parts[2][0].rows = I;
    w->parts[3][0].w = y->o_w;
    w->parts[3][0].rows = C;
    w->nparts[1] = w->nparts[2] = w->nparts[3] = 1;
    for (i = 0; i < 4; i++) {
        w->n[i] = i == 0 ? 3 * C : i == 2 ? I : C;
        w->k[i] = i == 3 ? I : C;
    }
}

/* Packs the stacked parts a slice of 256 rows at a time, dropping each slice's pages of the file
 * map once it is packed: the weight's float values and its pack are never both in memory
 * beyond one slice (peak RSS). */
static void pack_releasing(const lmi_bert *m, lmi_gemm_packed *p, float *mem,
                           const lmi_gemm_part *parts, size_t nparts, size_t K, int threads) {
    size_t n = 0, i, r0, nr, step;
    for (i = 0; i < nparts; i++) {
        n += parts[i].rows;
    }
    lmi_gemm_pack_shape_to(p, mem, n, K);
    nr = lmi_gemm_pack_panel_width(p);
    step = (256 + nr - 1) / nr * nr;
    for (r0 = 0; r0 < n; r0 += step) {
        const size_t r1 = r0 + step < n ? r0 + step : n;
        size_t base = 0;
        lmi_gemm_repack_weights_panels(p, parts, nparts, K, r0 / nr, (r1 + nr - 1) / nr,
                                       threads);
        for (i = 0; i < nparts; i++) { /* the slice's rows of each part */
            const size_t lo = r0 > base ? r0 - base : 0;
            const size_t hi = r1 - base < parts[i].rows ? r1 - base : parts[i].rows;
            if (r1 > base && lo < hi) {
                lmi_safetensors_release(m->st, parts[i].w + lo * K, (hi - lo) * K * sizeof(float));
            }
            base += parts[i].rows;
        }
    }
}

static const float *copy_small(float **at, const float *x, size_t n) {
    float *c = *at;
    memcpy(c, x, n * sizeof(float));
    *at += up16(n);
    return c;
}

/* Drops the file's pages under every tensor of layer l (all copied or packed by now): reads of
 * the small tensors next to the weights (the kernel maps up to 64 KiB around a page it reads
 * in) mapped some of the weights' pages back. */
static void release_layer(const lmi_bert *m, size_t l) {
    size_t i;
    for (i = 0; i < m->nparams && m->st != NULL; i++) {
        const lmi_bert_param *p = &m->params[i];
        if (p->layer == (long)l && *p->slot != NULL) {
            lmi_safetensors_release(m->st, *p->slot, p->numel * sizeof(float));
        }
    }
}

static lmi_bert_packs *packs_make(const lmi_bert *m) {
    const size_t L = (size_t)m->cfg.num_hidden_layers, C = (size_t)m->cfg.hidden_size;
    const int threads = m->threads;
    lmi_bert_packs *p = lmi_calloc(1, sizeof *p);
    size_t l, i, floats = up16(L * sizeof(lmi_bert_layer_packs) / sizeof(float) + 1);
    float *at;
    if (p == NULL) {
        return NULL;
    }
    p->int8 = m->int8;
    for (l = 0; l < L; l++) { /* the block: layer table, then per layer biases and packs */
        layer_weights w;
        weights_of(m, l, &w);
        floats += up16(3 * C) + 6 * up16(C) + up16((size_t)m->cfg.intermediate_size);
        for (i = 0; i < 4 && !p->int8; i++) {
            floats += up16(lmi_gemm_pack_floats(w.n[i], w.k[i]));
        }
    }
    p->block = lmi_malloc_aligned(floats * sizeof(float), 64);
    if (p->block == NULL) {
        lmi_free(p);
        return NULL;
    }
    p->layers = p->block;
    memset(p->layers, 0, L * sizeof *p->layers);
    at = (float *)p->block + up16(L * sizeof(lmi_bert_layer_packs) / sizeof(float) + 1);
    for (l = 0; l < L; l++) {
        const lmi_bert_layer *y = &m->w.layers[l];
        lmi_bert_layer_packs *lp = &p->layers[l];
        lmi_gemm_packed *fp[4];
        layer_weights w;
        float *b = at;
        weights_of(m, l, &w);
        memcpy(b, y->q_b, C * sizeof(float));
        memcpy(b + C, y->k_b, C * sizeof(float));
        memcpy(b + 2 * C, y->v_b, C * sizeof(float));
        lp->qkv_b = b;
        at += up16(3 * C);
        lp->ao_b = copy_small(&at, y->ao_b, C);
        lp->ln1_w = copy_small(&at, y->ln1_w, C);
        lp->ln1_b = copy_small(&at, y->ln1_b, C);
        lp->i_b = copy_small(&at, y->i_b, (size_t)m->cfg.intermediate_size);
        lp->o_b = copy_small(&at, y->o_b, C);
        lp->ln2_w = copy_small(&at, y->ln2_w, C);
        lp->ln2_b = copy_small(&at, y->ln2_b, C);
        fp[0] = &lp->qkv;
        fp[1] = &lp->ao;
        fp[2] = &lp->in;
        fp[3] = &lp->out;
        for (i = 0; i < 4; i++) {
            size_t k;
            if (p->int8) {
                if (lmi_q8_weight_make(&lp->q8[i], w.parts[i], w.nparts[i], w.k[i], w.k[i],
                                       threads) != LM_OK) {
                    packs_free(p, L);
                    return NULL;
                }
                for (k = 0; k < w.nparts[i]; k++) { /* not read again here */
                    lmi_safetensors_release(m->st, w.parts[i][k].w,
                                            w.parts[i][k].rows * w.k[i] * sizeof(float));
                }
            } else {
                pack_releasing(m, fp[i], at, w.parts[i], w.nparts[i], w.k[i], threads);
                at += up16(lmi_gemm_pack_floats(w.n[i], w.k[i]));
            }
        }
        release_layer(m, l);
    }
    return p;
}

const lmi_bert_packs *lmi_bert_packs_get(const lmi_bert *m, lm_status *status) {
    lmi_bert_cache *c = m->cache;
    lmi_bert_packs *p = atomic_load_explicit(&c->packs, memory_order_acquire);
    *status = LM_OK;
    if (p != NULL) {
        return p;
    }
    pthread_mutex_lock(&c->lock);
    p = atomic_load_explicit(&c->packs, memory_order_acquire);
    if (p == NULL) {
        LMI_PROF(LMI_PROF_PACK, -1, 0, p = packs_make(m));
        atomic_store_explicit(&c->packs, p, memory_order_release);
    }
    pthread_mutex_unlock(&c->lock);
    if (p == NULL) {
        *status = lmi_error(LM_ERR_NOMEM, "out of memory packing the weights of a %lld-layer "
                                          "model",
                            (long long)m->cfg.num_hidden_layers);
    }
    return p;
}

void lmi_bert_packs_drop(const lmi_bert *m) {
    lmi_bert_cache *c = m->cache;
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    packs_free(atomic_exchange(&c->packs, NULL), (size_t)m->cfg.num_hidden_layers);
    pthread_mutex_unlock(&c->lock);
}
