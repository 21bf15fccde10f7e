/* liblm's GEMM (see gemm.h): the choice of kernel, the packing of the right-hand operand, the cache
 * blocking and the OpenMP split of the work into tasks. The micro-kernels themselves are in
 * gemm_generic.c, gemm_avx2.c and gemm_avx512.c (gemm_kernel.h states their contract).
 *
 * Blocking (BLIS-style, with the right-hand operand packed beforehand): the output is cut into
 * tasks of at most mc rows by `chunk` panels of NR columns, run by an OpenMP team in any order.
 * A task walks K in blocks of kc. For each K block and each MR-row tile of its rows it copies the
 * tile's rows of A (MR x kc, a few KiB on the stack: rows spaced to fall in distinct L1 sets, A
 * transposed there for the weight gradient) and runs them against every NR-wide panel of B in its
 * chunk; the chunk's K block of B (kc x chunk NR, one contiguous run of the pack) and the task's
 * block of the output stay in L2. Whatever the cut, each output element gets the same chain of
 * FMAs over k = 0 .. K-1, so the cut is free to follow the thread count and the shape. */
#include "tensor/gemm.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef LM_GEMM_TUNING
#include <stdio.h>
#endif
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "tensor/gemm_kernel.h"

#define LM_GEMM_ALIGN 64
#if defined(__GNUC__) || defined(__clang__)
#define LM_GEMM_ALIGNED __attribute__((aligned(64)))
#else
#define LM_GEMM_ALIGNED
#endif
/* Products below this many multiply-adds run on one thread (starting a team costs more). */
#define LM_GEMM_PAR_MIN 200000.0

/* ---- kernel selection ---- */

static const lmi_gemm_kernel *kernel_of(lmi_gemm_isa isa) {
    switch (isa) {
#ifdef LM_GEMM_X86
    case LMI_GEMM_AVX512:
        return lmi_gemm_kernel_avx512();
    case LMI_GEMM_AVX2:
        return lmi_gemm_kernel_avx2();
#endif
    default:
        return lmi_gemm_kernel_generic();
    }
}

int lmi_gemm_isa_supported(lmi_gemm_isa isa) {
    switch (isa) {
    case LMI_GEMM_AUTO:
    case LMI_GEMM_GENERIC:
        return 1;
#ifdef LM_GEMM_X86
    case LMI_GEMM_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case LMI_GEMM_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

/* LM_GEMM's choice when it names a kernel this CPU runs, else the best one. */
static lmi_gemm_isa default_isa(void) {
    static const struct {
        const char *name;
        lmi_gemm_isa isa;
    } names[] = {
        {"generic", LMI_GEMM_GENERIC}, {"avx2", LMI_GEMM_AVX2}, {"avx512", LMI_GEMM_AVX512}};
    const char *env = getenv("LM_GEMM");
    size_t i;
    if (env != NULL) {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcmp(env, names[i].name) == 0 && lmi_gemm_isa_supported(names[i].isa)) {
                return names[i].isa;
            }
        }
    }
    if (lmi_gemm_isa_supported(LMI_GEMM_AVX512)) {
        return LMI_GEMM_AVX512;
    }
    if (lmi_gemm_isa_supported(LMI_GEMM_AVX2)) {
        return LMI_GEMM_AVX2;
    }
    return LMI_GEMM_GENERIC;
}

static _Atomic(const lmi_gemm_kernel *) selected; /* NULL until the first use */

static const lmi_gemm_kernel *current_kernel(void) {
    const lmi_gemm_kernel *k = atomic_load_explicit(&selected, memory_order_acquire);
    if (k == NULL) { /* two threads racing here compute the same value */
        k = kernel_of(default_isa());
        atomic_store_explicit(&selected, k, memory_order_release);
    }
    return k;
}

lm_status lmi_gemm_set_isa(lmi_gemm_isa isa) {
    if (isa == LMI_GEMM_AUTO) {
        isa = default_isa();
    }
    if (!lmi_gemm_isa_supported(isa)) {
        return lmi_error(LM_ERR_UNSUPPORTED, "gemm: this CPU cannot run the %s kernel",
                         kernel_of(isa)->name);
    }
    atomic_store_explicit(&selected, kernel_of(isa), memory_order_release);
    return LM_OK;
}

lmi_gemm_isa lmi_gemm_current_isa(void) {
    return (lmi_gemm_isa)current_kernel()->isa;
}

const char *lmi_gemm_kernel_name(void) {
    return current_kernel()->name;
}

/* ---- packing ---- */

static size_t min_size(size_t a, size_t b) {
    return a < b ? a : b;
}

static int team(int threads, double work) {
    return threads > 1 && work >= LM_GEMM_PAR_MIN ? threads : 1;
}

/* K is cut into blocks of equal length (but the last), at most kern->kc: the K loop of the
 * product. The blocks change no bit of the result (each block continues the FMA chain that the
 * previous one stored), only where the data sits. */
static size_t k_block(const lmi_gemm_kernel *kern, size_t K) {
    size_t kc = min_size(kern->kc, LM_GEMM_KC_MAX), blocks = (K + kc - 1) / kc;
#ifdef LM_GEMM_TUNING /* development only: LM_GEMM_TUNE=kc,mc,nc overrides the blocking */
    if (getenv("LM_GEMM_TUNE")) {
        size_t t = 0;
        sscanf(getenv("LM_GEMM_TUNE"), "%zu", &t);
        kc = t > 0 && t <= LM_GEMM_KC_MAX ? t : kc;
        blocks = (K + kc - 1) / kc;
    }
#endif
    return K > 0 ? (K + blocks - 1) / blocks : 0;
}

/* Packed layout: K block [pc, pc + kc) starts at pc panels nr and holds the panels one after the
 * other, each [kc][nr]: Bk[pc + kk][p nr + j] is at data[pc panels nr + p kc nr + kk nr + j], zero
 * for columns past n. So the part of B that one K block of a task reads (kc x its columns) is one
 * contiguous run: no two panels fall in the same cache sets, whatever K is. */
static size_t block_offset(size_t panels, size_t nr, size_t pc, size_t kc, size_t p) {
    return (pc * panels + p * kc) * nr;
}

/* Row `row` of the weight made of `parts` stacked one on another (each [rows, ldw]), or NULL
 * past their end. */
static const float *part_row(const lmi_gemm_part *parts, size_t nparts, size_t ldw, size_t row) {
    size_t i;
    for (i = 0; i < nparts; i++) {
        if (row < parts[i].rows) {
            return parts[i].w + row * ldw;
        }
        row -= parts[i].rows;
    }
    return NULL;
}

/* Panel q of K block [pc, pc + kc) from a weight w[N, ldw] (the parts stacked):
 * dst[kk][j] = w[(q nr + j) ldw + pc + kk]. */
static void pack_weight_panel(float *dst /* [kc][nr] */, const lmi_gemm_part *parts,
                              size_t nparts, size_t ldw, size_t nr, size_t pc, size_t kc,
                              size_t q) {
    size_t j, kk;
    for (j = 0; j < nr; j++) {
        const float *row = part_row(parts, nparts, ldw, q * nr + j);
        if (row != NULL) {
            const float *src = row + pc;
            for (kk = 0; kk < kc; kk++) {
                dst[kk * nr + j] = src[kk];
            }
        } else {
            for (kk = 0; kk < kc; kk++) {
                dst[kk * nr + j] = 0.0f;
            }
        }
    }
}

/* Rows [pc + k0, pc + k1) of K block [pc, pc + kc) from rows b[K, ldb], each row cut into the
 * block's panels: dst[q][kk][j] = b[(pc + kk) ldb + q nr + j], 0 past column N. Row by row, so the
 * source is read in order. */
static void pack_rows_part(float *dst /* the block */, const float *b /* [K, ldb] */, size_t ldb,
                           size_t N, size_t panels, size_t nr, size_t pc, size_t kc, size_t k0,
                           size_t k1) {
    size_t kk, q;
    for (kk = k0; kk < k1; kk++) {
        const float *row = b + (pc + kk) * ldb;
        for (q = 0; q < panels; q++) {
            const size_t j0 = q * nr, nn = min_size(nr, N - j0);
            float *out = dst + (q * kc + kk) * nr;
            memcpy(out, row + j0, nn * sizeof(float));
            if (nn < nr) {
                memset(out + nn, 0, (nr - nn) * sizeof(float));
            }
        }
    }
}

/* Work item t of pack_blocks: one panel of one K block (w), or 16 of its rows (b). */
static void pack_item(float *dst, const float *src, const lmi_gemm_part *parts, size_t nparts,
                      size_t ld, size_t N, size_t panels, size_t nr, size_t kb, size_t pc0,
                      size_t pc1, size_t per_block, size_t t) {
    const size_t pc = pc0 + t / per_block * kb, q = t % per_block;
    const size_t kc = min_size(kb, pc1 - pc);
    float *block = dst + block_offset(panels, nr, pc - pc0, kc, 0);
    if (parts != NULL) {
        pack_weight_panel(block + q * kc * nr, parts, nparts, ld, nr, pc, kc, q);
    } else if (q * 16 < kc) {
        pack_rows_part(block, src, ld, N, panels, nr, pc, kc, q * 16, min_size(q * 16 + 16, kc));
    }
}

/* Packs K blocks [pc0, pc1) (pc0 on a block boundary) of w (the parts stacked, transposed) or of
 * b (src as it is, parts NULL) into dst, which holds block pc0 at its start. Work items: one
 * panel of one block (w), 16 rows of one block (b). */
static void pack_blocks(float *dst, const float *src, const lmi_gemm_part *parts, size_t nparts,
                        size_t ld, size_t N, size_t panels, size_t nr, size_t kb, size_t pc0,
                        size_t pc1, int threads) {
    const size_t blocks = kb > 0 ? (pc1 - pc0 + kb - 1) / kb : 0;
    const size_t per_block = parts != NULL ? panels : (kb + 15) / 16;
    const int nt = team(threads, (double)N * (pc1 - pc0) / 8);
    long t;
    if (nt <= 1) { /* no team at all (the attention packs small operands inside its own) */
        for (t = 0; t < (long)(blocks * per_block); t++) {
            pack_item(dst, src, parts, nparts, ld, N, panels, nr, kb, pc0, pc1, per_block,
                      (size_t)t);
        }
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (t = 0; t < (long)(blocks * per_block); t++) {
        pack_item(dst, src, parts, nparts, ld, N, panels, nr, kb, pc0, pc1, per_block, (size_t)t);
    }
}

/* Fills p's shape for the kernel selected now; its data is set by the caller. */
static void packed_shape(lmi_gemm_packed *p, size_t n, size_t k) {
    const lmi_gemm_kernel *kern = current_kernel();
    p->kern = kern;
    p->n = n;
    p->k = k;
    p->panels = (n + kern->nr - 1) / kern->nr;
    p->kb = k_block(kern, k);
    p->data = NULL;
    p->owned = 0;
}

size_t lmi_gemm_pack_floats(size_t N, size_t K) {
    const lmi_gemm_kernel *kern = current_kernel();
    size_t count, bytes;
    if (!lmi_size_mul((N + kern->nr - 1) / kern->nr * kern->nr, K, &count) ||
        !lmi_size_mul(count, sizeof(float), &bytes)) {
        return 0;
    }
    return count;
}

static lm_status packed_new(lmi_gemm_packed **out, size_t n, size_t k) {
    lmi_gemm_packed *p;
    size_t count = lmi_gemm_pack_floats(n, k), bytes = count * sizeof(float);
    *out = NULL;
    if (count == 0 && n > 0 && k > 0) {
        return lmi_error(LM_ERR_RANGE, "gemm: a %zu x %zu operand is too large to pack", k, n);
    }
    p = lmi_calloc(1, sizeof *p);
    if (p == NULL) {
        return lmi_error(LM_ERR_NOMEM, "gemm: cannot allocate a packed operand");
    }
    packed_shape(p, n, k);
    p->data = lmi_malloc_aligned(bytes > 0 ? bytes : LM_GEMM_ALIGN, LM_GEMM_ALIGN);
    if (p->data == NULL) {
        lmi_free(p);
        return lmi_error(LM_ERR_NOMEM,
                         "gemm: cannot allocate %zu bytes for a packed %zu x %zu operand", bytes,
                         k, n);
    }
    p->owned = 1;
    *out = p;
    return LM_OK;
}

void lmi_gemm_pack_weight_to(lmi_gemm_packed *p, float *mem, const float *w /* [N, ldw] */,
                             size_t ldw, size_t N, size_t K, int threads) {
    packed_shape(p, N, K);
    p->data = mem;
    lmi_gemm_repack_weight(p, w, ldw, threads);
}

void lmi_gemm_pack_shape_to(lmi_gemm_packed *p, float *mem, size_t N, size_t K) {
    packed_shape(p, N, K);
    p->data = mem;
}

void lmi_gemm_pack_rows_to(lmi_gemm_packed *p, float *mem, const float *b /* [K, ldb] */,
                           size_t ldb, size_t K, size_t N, int threads) {
    packed_shape(p, N, K);
    p->data = mem;
    pack_blocks(p->data, b, NULL, 0, ldb, N, p->panels, p->kern->nr, p->kb, 0, K, threads);
}

lm_status lmi_gemm_pack_weight(lmi_gemm_packed **out, const float *w /* [N, ldw] */, size_t ldw,
                               size_t N, size_t K, int threads) {
    lm_status st = packed_new(out, N, K);
    if (st == LM_OK) {
        lmi_gemm_repack_weight(*out, w, ldw, threads);
    }
    return st;
}

lm_status lmi_gemm_pack_rows(lmi_gemm_packed **out, const float *b /* [K, ldb] */, size_t ldb,
                             size_t K, size_t N, int threads) {
    lm_status st = packed_new(out, N, K);
    if (st == LM_OK) {
        const lmi_gemm_packed *p = *out;
        pack_blocks(p->data, b, NULL, 0, ldb, N, p->panels, p->kern->nr, p->kb, 0, K, threads);
    }
    return st;
}

void lmi_gemm_repack_weights(lmi_gemm_packed *p, const lmi_gemm_part *parts, size_t nparts,
                             size_t ldw, int threads) {
    pack_blocks(p->data, NULL, parts, nparts, ldw, p->n, p->panels, p->kern->nr, p->kb, 0, p->k,
                threads);
}

void lmi_gemm_repack_weights_panels(lmi_gemm_packed *p, const lmi_gemm_part *parts,
                                    size_t nparts, size_t ldw, size_t q0, size_t q1,
                                    int threads) {
    const size_t nr = p->kern->nr, kb = p->kb > 0 ? p->kb : 1, blocks = (p->k + kb - 1) / kb;
    const size_t per = q1 > q0 ? q1 - q0 : 0;
    const int nt = team(threads, (double)per * nr * p->k / 8);
    long t;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (t = 0; t < (long)(blocks * per); t++) {
        const size_t pc = (size_t)t / per * kb, q = q0 + (size_t)t % per;
        const size_t kc = min_size(kb, p->k - pc);
        float *block = p->data + block_offset(p->panels, nr, pc, kc, 0);
        pack_weight_panel(block + q * kc * nr, parts, nparts, ldw, nr, pc, kc, q);
    }
}

void lmi_gemm_repack_weight(lmi_gemm_packed *p, const float *w /* [N, ldw] */, size_t ldw,
                            int threads) {
    lmi_gemm_part part;
    part.w = w;
    part.rows = p->n;
    lmi_gemm_repack_weights(p, &part, 1, ldw, threads);
}

void lmi_gemm_pack_weights_to(lmi_gemm_packed *p, float *mem, const lmi_gemm_part *parts,
                              size_t nparts, size_t ldw, size_t K, int threads) {
    size_t i, N = 0;
    for (i = 0; i < nparts; i++) {
        N += parts[i].rows;
    }
    packed_shape(p, N, K);
    p->data = mem;
    lmi_gemm_repack_weights(p, parts, nparts, ldw, threads);
}

void lmi_gemm_packed_free(lmi_gemm_packed *p) {
    if (p != NULL && p->owned) {
        lmi_free_aligned(p->data);
        lmi_free(p);
    }
}

size_t lmi_gemm_packed_n(const lmi_gemm_packed *p) {
    return p->n;
}

size_t lmi_gemm_pack_panel_width(const lmi_gemm_packed *p) {
    return p->kern->nr;
}

size_t lmi_gemm_packed_k(const lmi_gemm_packed *p) {
    return p->k;
}

/* ---- the blocked product ---- */

typedef struct gemm_job {
    const lmi_gemm_kernel *kern;
    float *c; /* [m, ldc] */
    size_t ldc;
    const float *a; /* a_trans ? [K, lda] holding A^T : [m, lda] */
    size_t lda;
    int a_trans;
    const float *bdata; /* packed B from K block bpc0 on (block_offset() layout) */
    size_t bpc0;
    int whole_b; /* bdata holds all K blocks of the run: prefetch the next one */
    size_t n, k, panels, kb; /* B: columns, K, panels of NR columns, K block length */
    const float *bias;       /* [n] or NULL */
    lmi_gemm_epilogue_fn ep; /* applied to each finished tile row, or NULL */
    size_t m;
    int accumulate;
    size_t mc, chunk; /* rows per task, panels per task */
    size_t row_blocks, col_chunks;
} gemm_job;

/* A tile of fewer than NR columns: the same kernel on a copy padded with zero columns. */
static void edge_tile(lmi_gemm_kernel_fn fn, size_t nr, size_t kc, const float *a, size_t lda,
                      const float *b, float *c /* [mm, ldc] */, size_t ldc, size_t mm, size_t nn,
                      const float *bias /* [nn] or NULL */, int load_c) {
    float tile[LM_GEMM_MR_MAX * LM_GEMM_NR_MAX], bt[LM_GEMM_NR_MAX];
    size_t i, j;
    for (i = 0; i < mm; i++) {
        for (j = 0; j < nr; j++) {
            tile[i * nr + j] = load_c && j < nn ? c[i * ldc + j] : 0.0f;
        }
    }
    if (bias != NULL) {
        for (j = 0; j < nr; j++) {
            bt[j] = j < nn ? bias[j] : 0.0f;
        }
    }
    fn(kc, a, lda, b, tile, nr, bias != NULL ? bt : NULL, load_c);
    for (i = 0; i < mm; i++) {
        memcpy(c + i * ldc, tile + i * nr, nn * sizeof(float));
    }
}

/* Copies rows [i, i + mm) of A, columns [pc, pc + kc), into the tile's panel of A, and returns
 * the row stride the kernel reads it with. Row-major A: panel [mm][ld] with ld = kc + 16, rows one
 * cache line apart beyond a multiple of 4 KiB so that they never fall into the same L1 set (in
 * place they do when lda is a multiple of 1 KiB, e.g. 768 or 3072); the rows kernels. Transposed
 * A (the weight gradient, A^T stored): panel [kc][16], each k one 64-byte copy (but at the right
 * edge), read by the rows_t kernels. */
static size_t pack_a(float *panel, const gemm_job *g, size_t i, size_t mm, size_t pc, size_t kc) {
    size_t r, kk;
    if (g->a_trans) { /* A[i + r][pc + kk] = a[(pc + kk) lda + i + r] -> panel[kk 16 + r] */
        const float *src = g->a + pc * g->lda + i;
        if (i + LM_GEMM_MR_MAX <= g->m) {
            for (kk = 0; kk < kc; kk++) {
                memcpy(panel + kk * LM_GEMM_MR_MAX, src + kk * g->lda,
                       LM_GEMM_MR_MAX * sizeof(float));
            }
        } else {
            for (kk = 0; kk < kc; kk++) {
                memcpy(panel + kk * LM_GEMM_MR_MAX, src + kk * g->lda, mm * sizeof(float));
            }
        }
        return LM_GEMM_MR_MAX;
    }
    for (r = 0; r < mm; r++) {
        memcpy(panel + r * (kc + 16), g->a + (i + r) * g->lda + pc, kc * sizeof(float));
    }
    return kc + 16;
}

/* Software prefetch of the rows of A that the next tile will copy (they are mostly in L3 or
 * memory, in short runs the hardware prefetchers do not see coming), spread over the panels the
 * current tile runs: `per_step` cache lines before each panel. */
typedef struct prefetch_a {
    const char *base;   /* first byte of the first run */
    size_t stride;      /* bytes between runs */
    size_t runs, lines; /* runs to fetch, cache lines per run */
    size_t next, total, per_step;
    size_t run, line;   /* where `next` is: next = run lines + line (no division per line) */
} prefetch_a;

static void prefetch_a_init(prefetch_a *f, const gemm_job *g, size_t i, size_t mm, size_t pc,
                            size_t kc, size_t steps) {
    memset(f, 0, sizeof *f);
    if (i >= g->m || mm == 0 || kc == 0) {
        return;
    }
    if (g->a_trans) { /* kc runs of mm floats: a[(pc + kk) lda + i ..] */
        f->base = (const char *)(g->a + pc * g->lda + i);
        f->stride = g->lda * sizeof(float);
        f->runs = kc;
        f->lines = (mm * sizeof(float) + 63) / 64 + 1;
    } else { /* mm runs of kc floats: a[(i + r) lda + pc ..] */
        f->base = (const char *)(g->a + i * g->lda + pc);
        f->stride = g->lda * sizeof(float);
        f->runs = mm;
        f->lines = (kc * sizeof(float) + 63) / 64 + 1;
    }
    f->total = f->runs * f->lines;
    f->per_step = (f->total + steps - 1) / steps;
}

static void prefetch_a_step(prefetch_a *f) {
#if defined(__GNUC__) || defined(__clang__)
    size_t end = min_size(f->next + f->per_step, f->total);
    for (; f->next < end; f->next++) {
        __builtin_prefetch(f->base + f->run * f->stride + f->line * 64, 0, 3);
        if (++f->line == f->lines) {
            f->line = 0;
            f->run++;
        }
    }
#else
    (void)f;
#endif
}

/* Software prefetch into L2 of the task's part of the next K block of B while the current block
 * runs, spread over all its kernel calls: without it the first tile of each K block waits for
 * the block to stream in from L3 (K = 3072: 12 such waits per task). */
typedef struct prefetch_b {
    const char *base;
    size_t lines, next, per_step;
} prefetch_b;

static void prefetch_b_init(prefetch_b *f, const gemm_job *g, size_t pc, size_t kc, size_t pc1,
                            size_t p0, size_t p1, size_t steps) {
    memset(f, 0, sizeof *f);
    if (g->whole_b && pc + kc < pc1 && steps > 0) {
        const size_t nkc = min_size(g->kb, pc1 - pc - kc), nr = g->kern->nr;
        const size_t off = block_offset(g->panels, nr, pc + kc - g->bpc0, nkc, p0);
        f->base = (const char *)(g->bdata + off);
        f->lines = (p1 - p0) * nkc * nr * sizeof(float) / 64;
        f->per_step = (f->lines + steps - 1) / steps;
    }
}

static void prefetch_b_step(prefetch_b *f) {
#if defined(__GNUC__) || defined(__clang__)
    size_t end = min_size(f->next + f->per_step, f->lines);
    for (; f->next < end; f->next++) {
        __builtin_prefetch(f->base + f->next * 64, 0, 2);
    }
#else
    (void)f;
#endif
}

/* Prefetch of an output tile (mm rows of nr floats) that a kernel is about to load. */
static void prefetch_c(const float *c /* [mm, ldc] */, size_t ldc, size_t mm, size_t nr) {
#if defined(__GNUC__) || defined(__clang__)
    size_t i, j;
    for (i = 0; i < mm; i++) {
        for (j = 0; j < nr; j += 16) {
            __builtin_prefetch(c + i * ldc + j, 1, 3);
        }
    }
#else
    (void)c, (void)ldc, (void)mm, (void)nr;
#endif
}

/* One task (a block of rows by a chunk of panels) over K blocks [pc0, pc1) (pc1 = K: to the end).
 * For each K block and each MR-row tile, the tile's rows of A are copied into an L1-sized panel
 * and run against every panel of B in the chunk (B's K block for the chunk stays in L2). */
static void run_task(const gemm_job *g, size_t task, size_t pc0, size_t pc1) {
    const lmi_gemm_kernel *kern = g->kern;
    const size_t mr = kern->mr, nr = kern->nr;
    const size_t m0 = task % g->row_blocks * g->mc, m1 = min_size(m0 + g->mc, g->m);
    const size_t p0 = task / g->row_blocks * g->chunk, p1 = min_size(p0 + g->chunk, g->panels);
    LM_GEMM_ALIGNED float panel[LM_GEMM_MR_MAX * (LM_GEMM_KC_MAX + 16)];
    size_t pc = pc0;
    do { /* at least once: K = 0 still initialises the output */
        const size_t kc = min_size(g->kb, pc1 - pc);
        const int load_c = g->accumulate || pc > 0;
        const float *bias = pc == 0 ? g->bias : NULL;
        const float *bblock = g->bdata + block_offset(g->panels, nr, pc - g->bpc0, kc, 0);
        /* the block's rows in tiles of even heights (128 rows: 8 of 13 and 2 of 12, not 9 of 14
         * and one of 2, which runs at a fraction of the speed); a row's result is the same in any
         * tile */
        const size_t tiles = (m1 - m0 + mr - 1) / mr, base = (m1 - m0) / (tiles > 0 ? tiles : 1);
        const size_t extra = (m1 - m0) - base * tiles;
        size_t i, p, t;
        prefetch_b prb;
        prefetch_b_init(&prb, g, pc, kc, pc1, p0, p1, tiles * (p1 - p0));
        for (t = 0, i = m0; t < tiles; i += base + (t < extra), t++) {
            const size_t mm = base + (t < extra);
            /* the next tile: below, or the first of the next block */
            size_t ni = i + mm, npc = pc;
            /* short rows (at most 512 bytes: attention's products) are read in place */
            const int direct = !g->a_trans && kc * sizeof(float) <= 512;
            const size_t ld = direct ? g->lda : pack_a(panel, g, i, mm, pc, kc);
            const float *ap = direct ? g->a + i * g->lda + pc : panel;
            const lmi_gemm_kernel_fn fn = g->a_trans ? kern->rows_t[mm] : kern->rows[mm];
            prefetch_a prf;
            if (ni >= m1) {
                ni = m0;
                npc = pc + kc;
            }
            prefetch_a_init(&prf, g, npc < pc1 ? ni : g->m,
                            ni == m0 ? base + (extra > 0) : base + (t + 1 < extra), npc,
                            npc < pc1 ? min_size(g->kb, pc1 - npc) : 0, p1 - p0);
            for (p = p0; p < p1; p++) {
                const size_t j0 = p * nr, nn = min_size(nr, g->n - j0);
                const float *bpanel = bblock + p * kc * nr;
                const float *bj = bias != NULL ? bias + j0 : NULL;
                float *ci = g->c + i * g->ldc + j0;
                prefetch_a_step(&prf);
                prefetch_b_step(&prb);
                if (load_c && p + 1 < p1) { /* the next tile's output: in L3 when K is streamed */
                    prefetch_c(ci + nr, g->ldc, mm, nr);
                }
                if (nn == nr) {
                    fn(kc, ap, ld, bpanel, ci, g->ldc, bj, load_c);
                } else {
                    edge_tile(fn, nr, kc, ap, ld, bpanel, ci, g->ldc, mm, nn, bj, load_c);
                }
            }
            if (g->ep != NULL && pc + kc >= g->k) { /* the tile's rows of the chunk are done */
                const size_t j0 = p0 * nr, j1 = min_size(p1 * nr, g->n);
                size_t r;
                for (r = 0; r < mm && j1 > j0; r++) {
                    g->ep(g->c + (i + r) * g->ldc + j0, j1 - j0);
                }
            }
        }
        pc += kc;
    } while (pc < pc1);
}

/* Cuts the output into tasks: row blocks of at most kern->mc rows (a multiple of MR, evened out),
 * column chunks of at most kern->nc columns, and more column chunks when there are too few tasks
 * to keep the threads busy. */
static void plan(gemm_job *g, int threads) {
    const lmi_gemm_kernel *kern = g->kern;
    const size_t mr = kern->mr, panels = g->panels;
    size_t tiles = (g->m + mr - 1) / mr, tiles_per_block = kern->mc / mr, want;
    size_t nc = kern->nc;
#ifdef LM_GEMM_TUNING
    if (getenv("LM_GEMM_TUNE")) {
        size_t kc_unused = 0, mc = 0;
        sscanf(getenv("LM_GEMM_TUNE"), "%zu,%zu,%zu", &kc_unused, &mc, &nc);
        tiles_per_block = mc / mr > 0 ? mc / mr : tiles_per_block;
    }
#endif
    g->row_blocks = (tiles + tiles_per_block - 1) / tiles_per_block;
    tiles_per_block = (tiles + g->row_blocks - 1) / g->row_blocks;
    g->mc = tiles_per_block * mr;
    g->row_blocks = (tiles + tiles_per_block - 1) / tiles_per_block;
    g->chunk = nc / kern->nr > 0 ? nc / kern->nr : 1;
    g->col_chunks = (panels + g->chunk - 1) / g->chunk;
    want = threads > 1 ? 4 * (size_t)threads : 1;
    if (g->row_blocks * g->col_chunks < want) {
        g->col_chunks = min_size(panels, (want + g->row_blocks - 1) / g->row_blocks);
    }
    g->chunk = (panels + g->col_chunks - 1) / g->col_chunks;
    g->col_chunks = (panels + g->chunk - 1) / g->chunk;
}

/* Runs the product over K blocks [pc0, pc1) on up to `threads` threads, one task at a time each. */
static void run_job(gemm_job *g, int threads, size_t pc0, size_t pc1) {
    size_t tasks;
    long t;
    if (g->m == 0 || g->n == 0) {
        return;
    }
    threads = team(threads, (double)g->m * g->n * (pc1 > pc0 ? pc1 - pc0 : 1));
    plan(g, threads);
    tasks = g->row_blocks * g->col_chunks;
    if (threads > (int)tasks) {
        threads = (int)tasks;
    }
    if (threads <= 1) { /* no team at all (the attention's products run inside its own) */
        for (t = 0; t < (long)tasks; t++) {
            run_task(g, (size_t)t, pc0, pc1);
        }
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (t = 0; t < (long)tasks; t++) {
        run_task(g, (size_t)t, pc0, pc1);
    }
}

static void job_init(gemm_job *g, const lmi_gemm_kernel *kern, size_t n, size_t k, float *c,
                     size_t ldc, const float *a, size_t lda, const float *bias, size_t M,
                     int accumulate) {
    memset(g, 0, sizeof *g);
    g->kern = kern;
    g->n = n;
    g->k = k;
    g->panels = (n + kern->nr - 1) / kern->nr;
    g->kb = k_block(kern, k);
    g->c = c;
    g->ldc = ldc;
    g->a = a;
    g->lda = lda;
    g->bias = bias;
    g->m = M;
    g->accumulate = accumulate != 0;
}

void lmi_gemm_forward_ep(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                         size_t lda, const lmi_gemm_packed *w,
                         const float *bias /* [N] or NULL */, size_t M, int accumulate,
                         lmi_gemm_epilogue_fn ep, int threads) {
    gemm_job g;
    job_init(&g, w->kern, w->n, w->k, out, ldo, a, lda, bias, M, accumulate);
    g.kb = w->kb;
    g.bdata = w->data;
    g.whole_b = 1;
    g.ep = ep;
    run_job(&g, threads, 0, w->k);
}

void lmi_gemm_forward(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                      size_t lda, const lmi_gemm_packed *w, const float *bias /* [N] or NULL */,
                      size_t M, int accumulate, int threads) {
    lmi_gemm_forward_ep(out, ldo, a, lda, w, bias, M, accumulate, NULL, threads);
}

lm_status lmi_gemm_nt(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                      size_t lda, const float *w /* [N, ldw] */, size_t ldw,
                      const float *bias /* [N] or NULL */, size_t M, size_t N, size_t K,
                      int accumulate, int threads) {
    lmi_gemm_packed *p;
    lm_status st = lmi_gemm_pack_weight(&p, w, ldw, N, K, threads);
    if (st != LM_OK) {
        return st;
    }
    lmi_gemm_forward(out, ldo, a, lda, p, bias, M, accumulate, threads);
    lmi_gemm_packed_free(p);
    return LM_OK;
}

lm_status lmi_gemm_backward_input(float *dinp /* [M, ldi] */, size_t ldi,
                                  const float *dout /* [M, ldd] */, size_t ldd,
                                  const float *w /* [N, ldw] */, size_t ldw, size_t M, size_t N,
                                  size_t K, int accumulate, int threads) {
    /* dinp = dout . Bk with Bk[N, K] = w as it is stored */
    lmi_gemm_packed *p;
    lm_status st;
    if (M == 0 || K == 0) {
        return LM_OK;
    }
    st = lmi_gemm_pack_rows(&p, w, ldw, N, K, threads);
    if (st != LM_OK) {
        return st;
    }
    lmi_gemm_forward(dinp, ldi, dout, ldd, p, NULL, M, accumulate, threads);
    lmi_gemm_packed_free(p);
    return LM_OK;
}

/* The weight gradient over the M tokens in runs of `span` (a multiple of the K block), each
 * packed into buf and then run by every task. */
static void backward_weight_runs(gemm_job *g, const float *inp, size_t ldi, size_t M, size_t K,
                                 size_t span, float *buf, int threads) {
    size_t pc = 0;
    g->bdata = buf;
    do {
        const size_t end = min_size(pc + span, M);
        pack_blocks(buf, inp, NULL, 0, ldi, K, g->panels, g->kern->nr, g->kb, pc, end, threads);
        g->bpc0 = pc;
        run_job(g, threads, pc, end);
        pc = end;
    } while (pc < M);
}

lm_status lmi_gemm_backward_weight(float *dw /* [N, lddw] */, size_t lddw,
                                   const float *dout /* [M, ldd] */, size_t ldd,
                                   const float *inp /* [M, ldi] */, size_t ldi, size_t M, size_t N,
                                   size_t K, int accumulate, int threads) {
    /* dw = A . Bk with A[N, M] = dout^T (read transposed) and Bk[M, K] = inp as it is stored. The
     * M tokens are walked a few K blocks at a time (a buffer of up to 8 MiB, not all of inp): they
     * are packed, then every task runs them, keeping its block of dw in L2 meanwhile. */
    gemm_job g;
    float *buf;
    size_t block_bytes, span, bytes;
    if (N == 0 || K == 0) {
        return LM_OK;
    }
    job_init(&g, current_kernel(), K, M, dw, lddw, dout, ldd, NULL, N, accumulate);
    g.a_trans = 1;
    g.whole_b = 1;
    if (!lmi_size_mul(g.panels * g.kern->nr * sizeof(float), g.kb > 0 ? g.kb : 1, &block_bytes)) {
        return lmi_error(LM_ERR_RANGE, "gemm: a weight gradient of %zu columns is too large", K);
    }
    span = ((size_t)8 << 20) / block_bytes; /* K blocks per run */
    span = (span < 1 ? 1 : span > 8 ? 8 : span) * (g.kb > 0 ? g.kb : 1);
    span = min_size(span, M > 0 ? M : 1);
    if (!lmi_size_mul(block_bytes, (span + g.kb - 1) / (g.kb > 0 ? g.kb : 1), &bytes) ||
        (buf = lmi_malloc_aligned(bytes, LM_GEMM_ALIGN)) == NULL) {
        return lmi_error(LM_ERR_NOMEM, "gemm: cannot allocate the weight-gradient work space");
    }
    backward_weight_runs(&g, inp, ldi, M, K, span, buf, threads);
    lmi_free_aligned(buf);
    return LM_OK;
}

/* Columns per chunk when a buffer of buf_floats holds the pack of a chunk of `reduce` rows:
 * a multiple of NR, at least NR (the caller gives room for one panel). */
static size_t chunk_columns(const lmi_gemm_kernel *kern, size_t buf_floats, size_t reduce) {
    size_t panels = buf_floats / (kern->nr * (reduce > 0 ? reduce : 1));
    return (panels > 0 ? panels : 1) * kern->nr;
}

void lmi_gemm_nt_to(float *out /* [M, ldo] */, size_t ldo, const float *a /* [M, lda] */,
                    size_t lda, const float *w /* [N, ldw] */, size_t ldw,
                    const float *bias /* [N] or NULL */, size_t M, size_t N, size_t K,
                    int accumulate, float *buf, size_t buf_floats, int threads) {
    const size_t step = chunk_columns(current_kernel(), buf_floats, K);
    size_t n0 = 0;
    do { /* at least once: N = 0 or K = 0 still runs the (empty) product */
        const size_t nn = min_size(step, N - n0);
        lmi_gemm_packed p;
        lmi_gemm_pack_weight_to(&p, buf, w + n0 * ldw, ldw, nn, K, threads);
        lmi_gemm_forward(out + n0, ldo, a, lda, &p, bias != NULL ? bias + n0 : NULL, M,
                         accumulate, threads);
        n0 += nn;
    } while (n0 < N);
}

void lmi_gemm_backward_input_to(float *dinp /* [M, ldi] */, size_t ldi,
                                const float *dout /* [M, ldd] */, size_t ldd,
                                const float *w /* [N, ldw] */, size_t ldw, size_t M, size_t N,
                                size_t K, int accumulate, float *buf, size_t buf_floats,
                                int threads) {
    /* dinp = dout . Bk with Bk[N, K] = w as it is stored, K cut into chunks of columns */
    const size_t step = chunk_columns(current_kernel(), buf_floats, N);
    size_t k0;
    if (M == 0) {
        return;
    }
    for (k0 = 0; k0 < K; k0 += step) {
        const size_t kk = min_size(step, K - k0);
        lmi_gemm_packed p;
        lmi_gemm_pack_rows_to(&p, buf, w + k0, ldw, N, kk, threads);
        lmi_gemm_forward(dinp + k0, ldi, dout, ldd, &p, NULL, M, accumulate, threads);
    }
}

void lmi_gemm_backward_weight_to(float *dw /* [N, lddw] */, size_t lddw,
                                 const float *dout /* [M, ldd] */, size_t ldd,
                                 const float *inp /* [M, ldi] */, size_t ldi, size_t M, size_t N,
                                 size_t K, int accumulate, float *buf, size_t buf_floats,
                                 int threads) {
    /* dw[N, K] = dout^T . inp, K cut into chunks of columns whose K block of the M tokens fits
     * buf, the tokens in runs of as many K blocks as fit */
    const lmi_gemm_kernel *kern = current_kernel();
    const size_t kb = k_block(kern, M) > 0 ? k_block(kern, M) : 1;
    const size_t step = chunk_columns(kern, buf_floats, kb);
    size_t k0 = 0;
    if (N == 0 || K == 0) {
        return;
    }
    do {
        const size_t kk = min_size(step, K - k0);
        const size_t block = (kk + kern->nr - 1) / kern->nr * kern->nr * kb;
        size_t span = buf_floats / block * kb;
        gemm_job g;
        job_init(&g, kern, kk, M, dw + k0, lddw, dout, ldd, NULL, N, accumulate);
        g.a_trans = 1;
        g.whole_b = 1;
        span = span < kb ? kb : span;
        backward_weight_runs(&g, inp + k0, ldi, M, kk, min_size(span, M > 0 ? M : 1), buf,
                             threads);
        k0 += kk;
    } while (k0 < K);
}
