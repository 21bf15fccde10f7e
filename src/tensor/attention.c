/* Multi-head self-attention for inference over sequences of any length laid out one after the
 * other (see lmi_attention_infer in ops.h), on liblm's GEMM: per (sequence, head), K and V are
 * packed once into the thread's scratch, then the queries run in tiles of LM_ATT_TILE rows:
 * S = Q K^T for the tile (rows x keys), the masked softmax of each row, O = P V. Only a tile of
 * scores exists at a time, so the scratch is linear in the sequence length, and every output
 * element is computed the same way whatever the tile, the thread or the batch around it. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "tensor/gemm.h"
#include "tensor/ops.h"

#define LM_ATT_TILE 64 /* query rows per tile of scores */

static size_t round64(size_t floats) {
    return (floats + 15) & ~(size_t)15; /* whole 64-byte lines */
}

/* Floats of one thread's scratch: K and V packed, a tile of scores, the key bias. */
static size_t per_thread(size_t keys, size_t hd) {
    return round64(lmi_gemm_pack_floats(keys, hd)) + round64(lmi_gemm_pack_floats(hd, keys)) +
           round64(LM_ATT_TILE * keys) + round64(keys);
}

size_t lmi_attention_infer_scratch_floats(size_t max_keys, size_t hd, int threads) {
    return per_thread(max_keys > 0 ? max_keys : 1, hd) * (size_t)(threads > 0 ? threads : 1);
}

void lmi_attention_infer(const lmi_ops_ctx *ctx, float *out, size_t ldo, const float *qkv,
                         size_t ldqkv, const lmi_att_seq *seqs, size_t nseq, size_t C, size_t NH,
                         float *scratch, size_t max_keys) {
    /* out[rows, ldo] (head h at columns h hd), qkv[rows, ldqkv] = Q | K | V,
     * scratch[threads, per_thread(max_keys, hd)] */
    const size_t hd = C / NH, stride = per_thread(max_keys > 0 ? max_keys : 1, hd);
    const float scale = 1.0f / sqrtf((float)hd);
    const long units = (long)(nseq * NH);
    long u;
#pragma omp parallel for num_threads(ctx->threads) schedule(dynamic, 1) \
    if (ctx->threads > 1 && units > 1)
    for (u = 0; u < units; u++) {
        const lmi_att_seq *sq = &seqs[(size_t)u / NH];
        const size_t h = (size_t)u % NH, keys = sq->keys;
        float *base = scratch + (size_t)omp_get_thread_num() * stride;
        float *kmem = base, *vmem = kmem + round64(lmi_gemm_pack_floats(keys, hd));
        float *S = vmem + round64(lmi_gemm_pack_floats(hd, keys));
        float *bias = S + round64(LM_ATT_TILE * keys);
        const float *q = qkv + sq->start * ldqkv + h * hd, *k = q + C, *v = q + 2 * C;
        lmi_gemm_packed pk, pv;
        size_t r0, j, real = 0;
        if (sq->rows == 0 || keys == 0) {
            continue;
        }
        for (j = 0; j < keys; j++) { /* the padding bias of the keys, when some are padding */
            const int keep = sq->mask == NULL || sq->mask[j] != 0;
            bias[j] = keep ? 0.0f : -INFINITY;
            real += (size_t)keep;
        }
        lmi_gemm_pack_rows_to(&pv, vmem, v, ldqkv, keys, hd, 1);
        if (real > 0) {
            lmi_gemm_pack_weight_to(&pk, kmem, k, ldqkv, keys, hd, 1);
        }
        for (r0 = 0; r0 < sq->rows; r0 += LM_ATT_TILE) {
            const size_t rows = sq->rows - r0 < LM_ATT_TILE ? sq->rows - r0 : LM_ATT_TILE;
            size_t i;
            if (real == 0) { /* every key is padding: uniform weights, as an additive mask gives */
                for (i = 0; i < rows * keys; i++) {
                    S[i] = 1.0f / (float)keys;
                }
            } else {
                lmi_gemm_forward(S, keys, q + r0 * ldqkv, ldqkv, &pk, NULL, rows, 0, 1);
                for (i = 0; i < rows; i++) {
                    lmi_softmax_scaled_row(S + i * keys, bias, scale, keys);
                }
            }
            lmi_gemm_forward(out + (sq->start + r0) * ldo + h * hd, ldo, S, keys, &pv, NULL, rows,
                             0, 1);
        }
    }
}
