/* Internal to the GEMM micro-kernel files (gemm_generic.c, gemm_avx2.c, gemm_avx512.c): the one
 * body they share, a register tile of up to MR rows by NR = 2 VW columns (two vectors per row),
 * one FMA per element and k (gemm_kernel.h states the contract). Each file includes this header
 * once, after defining its vector type and operations and its shape:
 *   VEC, VW (floats per vector), LOADU(p), LOADA(p) (64-byte aligned), STOREU(p, v), ZERO(),
 *   ADD(x, y), BCAST(p), FMA(x, y, z) (x y + z);
 *   NR; TILE_ROWS(X): X(0) X(1) ... X(MR - 1); TILE_COUNTS(X): X(1) X(2) ... X(MR);
 *   LM_TARGET: the functions' target attribute (empty for the portable kernel);
 *   LM_TILE_OWN: defined when the file writes its own tile() (plain C for other compilers).
 * It defines tile() and, for every row count r, rows<r> (A row-major: element (i, k) at
 * a[i lda + k]) and rows<r>t (A k-major: at a[k lda + i]), and TILE_TABLE, the two function
 * lists of the file's lmi_gemm_kernel. The accumulators are named variables and every row's code
 * sits under a condition on the constant row count, so GCC and clang keep the tile in registers
 * without being asked to unroll anything. */
#ifndef LM_TILE_OWN

/* Row i of the tile: accumulators c<i>a (columns 0..VW-1) and c<i>b (VW..NR-1). */
#define TILE_DECL(i) VEC c##i##a = ZERO(), c##i##b = ZERO();
#define ROW_INIT(i)                                                                               \
    if ((i) < mr) {                                                                               \
        c##i##a = load_c ? LOADU(c + (i) * ldc) : ZERO();                                         \
        c##i##b = load_c ? LOADU(c + (i) * ldc + VW) : ZERO();                                    \
        if (bias != NULL) {                                                                       \
            c##i##a = ADD(c##i##a, LOADU(bias));                                                  \
            c##i##b = ADD(c##i##b, LOADU(bias + VW));                                             \
        }                                                                                         \
    }
#define ROW_FMA(i)                                                                                \
    if ((i) < mr) {                                                                               \
        const VEC x = BCAST(a + (i) * rs + k * ks);                                               \
        c##i##a = FMA(x, b0, c##i##a);                                                            \
        c##i##b = FMA(x, b1, c##i##b);                                                            \
    }
#define ROW_STORE(i)                                                                              \
    if ((i) < mr) {                                                                               \
        STOREU(c + (i) * ldc, c##i##a);                                                           \
        STOREU(c + (i) * ldc + VW, c##i##b);                                                      \
    }

/* c[0..mr)[0..NR) as gemm_kernel.h says: a [mr, lda], b [kc][NR] 64-byte aligned, c [mr, ldc],
 * bias [NR] or NULL; mr is a constant in every caller. */
LM_TARGET static inline __attribute__((always_inline)) void
tile(const int mr, size_t kc, const float *a, size_t rs, size_t ks, const float *b, float *c,
     size_t ldc, const float *bias, int load_c) {
    TILE_ROWS(TILE_DECL)
    size_t k;
    TILE_ROWS(ROW_INIT)
    for (k = 0; k < kc; k++) {
        const VEC b0 = LOADA(b), b1 = LOADA(b + VW);
        TILE_ROWS(ROW_FMA)
        b += NR;
    }
    TILE_ROWS(ROW_STORE)
}

#endif

#define ROWS(r)                                                                                   \
    LM_TARGET static void rows##r(size_t kc, const float *a, size_t lda, const float *b,          \
                                  float *c, size_t ldc, const float *bias, int load_c) {          \
        tile(r, kc, a, lda, 1, b, c, ldc, bias, load_c);                                          \
    }                                                                                             \
    LM_TARGET static void rows##r##t(size_t kc, const float *a, size_t lda, const float *b,       \
                                     float *c, size_t ldc, const float *bias, int load_c) {       \
        tile(r, kc, a, 1, lda, b, c, ldc, bias, load_c);                                          \
    }
TILE_COUNTS(ROWS)

#define TILE_NAME(r) , rows##r
#define TILE_NAME_T(r) , rows##r##t
#define TILE_TABLE {NULL TILE_COUNTS(TILE_NAME)}, {NULL TILE_COUNTS(TILE_NAME_T)}
