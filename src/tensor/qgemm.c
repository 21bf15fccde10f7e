/* int8 products for inference (see qgemm.h): weight quantisation and packing, activation
 * quantisation per row, the tiling and threading, the float epilogue, and three integer
 * micro-kernels chosen once from cpuid:
 *   avx512-vnni  12 rows x 32 columns, vpdpbusd (u8 x s8, four products per int32 lane);
 *   avx2         4 rows x 16 columns, vpmaddubsw + vpmaddwd; the weights keep 7 bits
 *                (|q| <= 63) so that a pair of products never saturates int16 (as ONNX
 *                Runtime's reduce_range does on CPUs without VNNI);
 *   generic      C loops with the 8-bit weights of the VNNI kernel.
 * A packed weight holds panels of NR columns, each [K/4][NR][4] int8 (four consecutive k per
 * column, the layout vpdpbusd reads), zero past N and past K. Every kernel computes exact int32
 * sums, and the epilogue is one formula in plain C, so a row's result depends on nothing but
 * the row and the weight (and which quantisation the CPU's kernel uses). */
#include "tensor/qgemm.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "tensor/mathf.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LM_Q8_X86 1
#include <immintrin.h>
#endif

#define Q8_MR_MAX 12
#define Q8_NR_MAX 32
#define Q8_PAR_MIN 100000.0 /* multiply-adds below which one thread runs the product */

/* acc[r][j] (r < mr, j < NR, row stride NR) = sum over k of a[r][k] b[k][j], kp4 groups of four
 * k: a rows of lda bytes (uint8), b one packed panel. */
typedef void (*q8_kernel_fn)(size_t kp4, const uint8_t *a, size_t lda, const int8_t *b,
                             int32_t *acc, size_t mr);

typedef struct q8_kernel {
    const char *name;
    size_t mr, nr;
    int qmax; /* weights in [-qmax, qmax] */
    q8_kernel_fn fn;
} q8_kernel;

struct lmi_q8_weight {
    const q8_kernel *kern;
    size_t n, k, kp, panels; /* kp: K rounded up to 4 */
    int8_t *data;            /* panels x [kp / 4][nr][4] */
    float *scale;            /* [panels nr] per output channel (0 past n) */
    int32_t *sum;            /* [panels nr] sum over k of the quantised weights */
};

/* ---- kernels ---- */

static void kernel_generic(size_t kp4, const uint8_t *a, size_t lda, const int8_t *b,
                           int32_t *acc, size_t mr) {
    size_t r, j, g;
    for (r = 0; r < mr; r++) {
        int32_t s[16];
        const uint8_t *ar = a + r * lda;
        memset(s, 0, sizeof s);
        for (g = 0; g < kp4; g++) {
            const int8_t *bg = b + g * 16 * 4;
            const uint8_t *ag = ar + 4 * g;
            for (j = 0; j < 16; j++) {
                s[j] += ag[0] * bg[4 * j] + ag[1] * bg[4 * j + 1] + ag[2] * bg[4 * j + 2] +
                        ag[3] * bg[4 * j + 3];
            }
        }
        memcpy(acc + r * 16, s, sizeof s);
    }
}

static const q8_kernel generic_kernel = {"generic-q8", 4, 16, 127, kernel_generic};

#ifdef LM_Q8_X86

__attribute__((target("avx2"))) static void kernel_avx2(size_t kp4, const uint8_t *a,
                                                         size_t lda, const int8_t *b,
                                                         int32_t *acc, size_t mr) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i c[4][2];
    size_t r, g;
    for (r = 0; r < 4; r++) {
        c[r][0] = c[r][1] = _mm256_setzero_si256();
    }
    for (g = 0; g < kp4; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + g * 64));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + g * 64 + 32));
        for (r = 0; r < mr; r++) {
            int32_t word;
            __m256i x;
            memcpy(&word, a + r * lda + 4 * g, 4);
            x = _mm256_set1_epi32(word);
            c[r][0] = _mm256_add_epi32(c[r][0],
                                       _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
            c[r][1] = _mm256_add_epi32(c[r][1],
                                       _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
        }
    }
    for (r = 0; r < mr; r++) {
        _mm256_storeu_si256((__m256i *)(acc + r * 16), c[r][0]);
        _mm256_storeu_si256((__m256i *)(acc + r * 16 + 8), c[r][1]);
    }
}

static const q8_kernel avx2_kernel = {"avx2-q8", 4, 16, 63, kernel_avx2};

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define VNNI_ROW_FMA(i, MR)                                                                       \
    if ((i) < MR) {                                                                               \
        int32_t w_;                                                                               \
        __m512i x_;                                                                               \
        memcpy(&w_, a + (i) * lda + 4 * g, 4);                                                    \
        x_ = _mm512_set1_epi32(w_);                                                               \
        c##i##a = _mm512_dpbusd_epi32(c##i##a, x_, b0);                                           \
        c##i##b = _mm512_dpbusd_epi32(c##i##b, x_, b1);                                           \
    }
#define VNNI_ROW_STORE(i, MR)                                                                     \
    if ((i) < MR) {                                                                               \
        _mm512_storeu_si512((void *)(acc + (i) * 32), c##i##a);                                   \
        _mm512_storeu_si512((void *)(acc + (i) * 32 + 16), c##i##b);                              \
    }

/* The tile body for a constant row count MR (named accumulators stay in registers). */
#define VNNI_TILE(MR)                                                                             \
    VNNI_TARGET static void vnni_rows##MR(size_t kp4, const uint8_t *a, size_t lda,             \
                                          const int8_t *b, int32_t *acc) {                       \
        __m512i c0a = _mm512_setzero_si512(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a;        \
        __m512i c2b = c0a, c3a = c0a, c3b = c0a, c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a;     \
        __m512i c6a = c0a, c6b = c0a, c7a = c0a, c7b = c0a, c8a = c0a, c8b = c0a, c9a = c0a;     \
        __m512i c9b = c0a, c10a = c0a, c10b = c0a, c11a = c0a, c11b = c0a;                       \
        size_t g;                                                                                 \
        for (g = 0; g < kp4; g++) {                                                               \
            const __m512i b0 = _mm512_loadu_si512((const void *)(b + g * 128));                   \
            const __m512i b1 = _mm512_loadu_si512((const void *)(b + g * 128 + 64));              \
            VNNI_ROW_FMA(0, MR) VNNI_ROW_FMA(1, MR) VNNI_ROW_FMA(2, MR) VNNI_ROW_FMA(3, MR)       \
            VNNI_ROW_FMA(4, MR) VNNI_ROW_FMA(5, MR) VNNI_ROW_FMA(6, MR) VNNI_ROW_FMA(7, MR)       \
            VNNI_ROW_FMA(8, MR) VNNI_ROW_FMA(9, MR) VNNI_ROW_FMA(10, MR) VNNI_ROW_FMA(11, MR)     \
        }                                                                                         \
        VNNI_ROW_STORE(0, MR) VNNI_ROW_STORE(1, MR) VNNI_ROW_STORE(2, MR)                         \
        VNNI_ROW_STORE(3, MR) VNNI_ROW_STORE(4, MR) VNNI_ROW_STORE(5, MR)                         \
        VNNI_ROW_STORE(6, MR) VNNI_ROW_STORE(7, MR) VNNI_ROW_STORE(8, MR)                         \
        VNNI_ROW_STORE(9, MR) VNNI_ROW_STORE(10, MR) VNNI_ROW_STORE(11, MR)                       \
    }
VNNI_TILE(1)
VNNI_TILE(2)
VNNI_TILE(3)
VNNI_TILE(4)
VNNI_TILE(5)
VNNI_TILE(6)
VNNI_TILE(7)
VNNI_TILE(8)
VNNI_TILE(9)
VNNI_TILE(10)
VNNI_TILE(11)
VNNI_TILE(12)

static void kernel_vnni(size_t kp4, const uint8_t *a, size_t lda, const int8_t *b, int32_t *acc,
                        size_t mr) {
    typedef void (*fn)(size_t, const uint8_t *, size_t, const int8_t *, int32_t *);
    static const fn rows[13] = {NULL,          vnni_rows1,  vnni_rows2,  vnni_rows3, vnni_rows4,
                                vnni_rows5,    vnni_rows6,  vnni_rows7,  vnni_rows8, vnni_rows9,
                                vnni_rows10,   vnni_rows11, vnni_rows12};
    rows[mr](kp4, a, lda, b, acc);
}

static const q8_kernel vnni_kernel = {"avx512-vnni-12x32", 12, 32, 127, kernel_vnni};

#endif

static _Atomic(const q8_kernel *) q8_selected;

/* 1 when this CPU runs the kernel of that level (GENERIC: the C one, AVX2, AVX512: VNNI). */
static int q8_supported(lmi_gemm_isa isa) {
#ifdef LM_Q8_X86
    __builtin_cpu_init();
    if (isa == LMI_GEMM_AVX2) {
        return __builtin_cpu_supports("avx2");
    }
    if (isa == LMI_GEMM_AVX512) {
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
    }
#endif
    return isa == LMI_GEMM_GENERIC || isa == LMI_GEMM_AUTO;
}

lm_status lmi_q8_set_isa(lmi_gemm_isa isa) {
    const q8_kernel *k = &generic_kernel;
    if (!q8_supported(isa)) {
        return lmi_error(LM_ERR_UNSUPPORTED, "int8: this CPU has no kernel of that level");
    }
#ifdef LM_Q8_X86
    k = isa == LMI_GEMM_AVX512 ? &vnni_kernel : isa == LMI_GEMM_AVX2 ? &avx2_kernel : k;
#endif
    atomic_store_explicit(&q8_selected, isa == LMI_GEMM_AUTO ? NULL : k, memory_order_release);
    return LM_OK;
}

static const q8_kernel *q8_kernel_now(void) {
    const q8_kernel *k = atomic_load_explicit(&q8_selected, memory_order_acquire);
    if (k == NULL) {
        const char *env = getenv("LM_GEMM"); /* avx2 / generic force the smaller kernels */
        k = &generic_kernel;
#ifdef LM_Q8_X86
        if (q8_supported(LMI_GEMM_AVX2) && (env == NULL || strcmp(env, "generic") != 0)) {
            k = &avx2_kernel;
        }
        if (q8_supported(LMI_GEMM_AVX512) &&
            (env == NULL || (strcmp(env, "avx2") != 0 && strcmp(env, "generic") != 0))) {
            k = &vnni_kernel;
        }
#else
        (void)env;
#endif
        atomic_store_explicit(&q8_selected, k, memory_order_release);
    }
    return k;
}

const char *lmi_q8_kernel_name(void) {
    return q8_kernel_now()->name;
}

/* ---- weights ---- */

static size_t min_sz(size_t a, size_t b) {
    return a < b ? a : b;
}

lm_status lmi_q8_weight_make(lmi_q8_weight **out, const lmi_gemm_part *parts, size_t nparts,
                             size_t ldw, size_t K, int threads) {
    const q8_kernel *kern = q8_kernel_now();
    lmi_q8_weight *w;
    size_t N = 0, i, cols;
    long p;
    *out = NULL;
    for (i = 0; i < nparts; i++) {
        N += parts[i].rows;
    }
    w = lmi_calloc(1, sizeof *w);
    if (w == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory quantising a weight");
    }
    w->kern = kern;
    w->n = N;
    w->k = K;
    w->kp = (K + 3) / 4 * 4;
    w->panels = (N + kern->nr - 1) / kern->nr;
    cols = w->panels * kern->nr;
    w->data = lmi_malloc_aligned(cols * w->kp > 0 ? cols * w->kp : 64, 64);
    w->scale = lmi_calloc(cols > 0 ? cols : 1, sizeof(float));
    w->sum = lmi_calloc(cols > 0 ? cols : 1, sizeof(int32_t));
    if (w->data == NULL || w->scale == NULL || w->sum == NULL) {
        lmi_q8_weight_free(w);
        return lmi_error(LM_ERR_NOMEM, "out of memory quantising a %zu x %zu weight", N, K);
    }
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static)
    for (p = 0; p < (long)w->panels; p++) {
        const size_t nr = kern->nr;
        int8_t *dst = w->data + (size_t)p * nr * w->kp;
        size_t j, k;
        memset(dst, 0, nr * w->kp);
        for (j = 0; j < nr; j++) {
            const size_t n = (size_t)p * nr + j;
            size_t row = n, part = 0;
            const float *src;
            float mx = 0.0f, s;
            int32_t sum = 0;
            while (part < nparts && row >= parts[part].rows) {
                row -= parts[part++].rows;
            }
            if (n >= N || part >= nparts) {
                continue;
            }
            src = parts[part].w + row * ldw;
            for (k = 0; k < K; k++) {
                const float v = fabsf(src[k]);
                mx = v > mx ? v : mx;
            }
            s = mx > 0.0f ? mx / (float)kern->qmax : 1.0f;
            for (k = 0; k < K; k++) {
                const long q = lrintf(src[k] / s);
                const long qm = kern->qmax;
                const int8_t v = (int8_t)(q > qm ? qm : q < -qm ? -qm : q);
                dst[(k / 4) * nr * 4 + j * 4 + k % 4] = v;
                sum += v;
            }
            w->scale[n] = s;
            w->sum[n] = sum;
        }
    }
    *out = w;
    return LM_OK;
}

void lmi_q8_weight_free(lmi_q8_weight *w) {
    if (w != NULL) {
        lmi_free_aligned(w->data);
        lmi_free(w->scale);
        lmi_free(w->sum);
        lmi_free(w);
    }
}

size_t lmi_q8_weight_n(const lmi_q8_weight *w) {
    return w->n;
}

size_t lmi_q8_weight_k(const lmi_q8_weight *w) {
    return w->k;
}

/* ---- activations ---- */

/* Scratch: the quantised rows [M][kp] (kp = K rounded up to 64 bytes), then per row its scale
 * (float) and zero point (int32). */
static size_t row_bytes(size_t K) {
    return (K + 63) / 64 * 64;
}

size_t lmi_q8_scratch_bytes(size_t M, size_t K) {
    return M * row_bytes(K) + M * (sizeof(float) + sizeof(int32_t)) + 64;
}

/* q[0..K) = clamp(round(x / s) + z, 0, 255) with the row's range widened to hold 0 (so 0 is
 * exact), s = (max - min) / 255, z = round(-min / s); rounding to nearest even (by the 1.5 2^23
 * trick, which vectorises); the padding up to kp gets z (its weights are 0). */
LM_CLONES static void quantize_row(uint8_t *q, const float *x, size_t K, size_t kp, float *scale,
                                   int32_t *zero) {
    float mn = 0.0f, mx = 0.0f, s, inv, zf;
    size_t k;
#pragma omp simd reduction(min : mn) reduction(max : mx)
    for (k = 0; k < K; k++) {
        mn = x[k] < mn ? x[k] : mn;
        mx = x[k] > mx ? x[k] : mx;
    }
    s = mx > mn ? (mx - mn) / 255.0f : 1.0f;
    inv = 1.0f / s;
    zf = (-mn * inv + 12582912.0f) - 12582912.0f;
    zf = zf < 0.0f ? 0.0f : zf > 255.0f ? 255.0f : zf;
#pragma omp simd
    for (k = 0; k < K; k++) {
        float v = (x[k] * inv + 12582912.0f) - 12582912.0f + zf;
        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
        q[k] = (uint8_t)(int32_t)v;
    }
    for (k = K; k < kp; k++) {
        q[k] = (uint8_t)(int32_t)zf;
    }
    *scale = s;
    *zero = (int32_t)zf;
}

/* ---- the product ---- */

/* out rows of a finished tile: v = (acc - z sum) (sa sw) + bias, added to out or stored. */
LM_CLONES static void epilogue_row(float *o, const int32_t *acc, size_t nn, float sa, int32_t za,
                                   const float *sw, const int32_t *sum, const float *bias,
                                   int accumulate) {
    float v[Q8_NR_MAX];
    size_t j;
#pragma omp simd
    for (j = 0; j < nn; j++) {
        v[j] = (float)(acc[j] - za * sum[j]) * (sa * sw[j]);
    }
    if (bias != NULL) {
#pragma omp simd
        for (j = 0; j < nn; j++) {
            v[j] += bias[j];
        }
    }
    if (accumulate) {
#pragma omp simd
        for (j = 0; j < nn; j++) {
            o[j] += v[j];
        }
    } else {
#pragma omp simd
        for (j = 0; j < nn; j++) {
            o[j] = v[j];
        }
    }
}

void lmi_q8_forward(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                    size_t lda, const lmi_q8_weight *w, const float *bias /* [N] or NULL */,
                    size_t M, int accumulate, lmi_gemm_epilogue_fn ep, void *scratch,
                    int threads) {
    const q8_kernel *kern = w->kern;
    const size_t K = w->k, kp = w->kp, rb = row_bytes(K), mr = kern->mr, nr = kern->nr;
    uint8_t *qa = scratch;
    float *sa = (float *)(qa + M * rb);
    int32_t *za = (int32_t *)(sa + M);
    const size_t tiles = (M + mr - 1) / mr;
    size_t row_blocks, tiles_per_block, chunk, col_chunks;
    long t, tasks;
    int team;
    if (M == 0 || w->n == 0) {
        return;
    }
    team = threads > 1 && (double)M * w->n * K >= Q8_PAR_MIN ? threads : 1;
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
    for (t = 0; t < (long)M; t++) {
        quantize_row(qa + (size_t)t * rb, a + (size_t)t * lda, K, kp, &sa[t], &za[t]);
    }
    /* tasks: blocks of up to 8 tiles of rows by chunks of panels, at least 4 per thread */
    tiles_per_block = tiles < 8 ? tiles : 8;
    row_blocks = (tiles + tiles_per_block - 1) / tiles_per_block;
    col_chunks = row_blocks >= 4 * (size_t)team
                     ? 1
                     : (4 * (size_t)team + row_blocks - 1) / row_blocks;
    col_chunks = min_sz(col_chunks, w->panels);
    chunk = (w->panels + col_chunks - 1) / col_chunks;
    col_chunks = (w->panels + chunk - 1) / chunk;
    tasks = (long)(row_blocks * col_chunks);
#pragma omp parallel for num_threads(team) schedule(dynamic, 1) if (team > 1 && tasks > 1)
    for (t = 0; t < tasks; t++) {
        const size_t i0 = (size_t)t % row_blocks * tiles_per_block * mr;
        const size_t i1 = min_sz(i0 + tiles_per_block * mr, M);
        const size_t p0 = (size_t)t / row_blocks * chunk, p1 = min_sz(p0 + chunk, w->panels);
        int32_t acc[Q8_MR_MAX * Q8_NR_MAX];
        size_t i, p, r;
        for (i = i0; i < i1; i += mr) {
            const size_t mm = min_sz(mr, i1 - i);
            for (p = p0; p < p1; p++) {
                const size_t n0 = p * nr, nn = min_sz(nr, w->n - n0);
                kern->fn(kp / 4, qa + i * rb, rb, w->data + p * nr * kp, acc, mm);
                for (r = 0; r < mm; r++) {
                    float *o = out + (i + r) * ldo + n0;
                    epilogue_row(o, acc + r * nr, nn, sa[i + r], za[i + r], w->scale + n0,
                                 w->sum + n0, bias != NULL ? bias + n0 : NULL, accumulate);
                    if (ep != NULL) {
                        ep(o, nn);
                    }
                }
            }
        }
    }
}
