/* Internal: float functions the tensor ops share, written to vectorise (no libm calls, no
 * branches the vectoriser cannot if-convert), and the clone attribute their loops compile with.
 * Static inline: each file that includes it gets its own copy. */
#ifndef LM_TENSOR_MATHF_H
#define LM_TENSOR_MATHF_H

#include <stdint.h>

/* exp(x) for float, vectorisable (no libm call): x = n ln2 + r, |r| <= ln2/2, e^r by its
 * degree-6 Taylor polynomial (error < 2e-7 relative), 2^n by building the exponent bits.
 * Inputs below -87.3 give 0, above 88.7 give the largest finite value's neighbourhood (clamped). */
static inline float lmi_expf(float x) {
    union {
        int32_t i;
        float f;
    } scale;
    float n, r, p;
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.7f ? 88.7f : x;
    n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666671633720398f +
        r * (0.0416666679084300995f + r * (0.00833333376795053482f +
        r * 0.00138888892251998186f)))));
    scale.i = ((int32_t)n + 127) << 23;
    return x <= -87.3f ? 0.0f : p * scale.f;
}

/* erf(x) as PyTorch's vectorised CPU kernel computes it (Abramowitz and Stegun 7.1.26, absolute
 * error < 1.5e-7), so GELU matches torch closely and vectorises. */
static inline float lmi_erff(float x) {
    float a = x < 0.0f ? -x : x;
    float t = 1.0f / (0.3275911f * a + 1.0f);
    float r = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
               0.254829592f) * t;
    float y = 1.0f - r * lmi_expf(-a * a);
    return x < 0.0f ? -y : y;
}

#if defined(__GNUC__) || defined(__clang__)
#if defined(__GNUC__) && !defined(__clang__)
/* these helpers are static inline: the vector-return ABI note does not apply */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
/* 16 floats as one GNU vector: the compiler lowers it to one AVX-512 register, two AVX2 or four
 * SSE ones, whichever the clone targets; the same operations in every lane, so every clone gives
 * the same bits. */
typedef float lmi_v16 __attribute__((vector_size(64)));
typedef int32_t lmi_v16i __attribute__((vector_size(64)));

static inline lmi_v16 lmi_v16_splat(float x) {
    const lmi_v16 v = {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
    return v;
}

/* mask ? a : b, lane by lane (mask lanes all ones or all zeros) */
static inline lmi_v16 lmi_v16_select(lmi_v16i mask, lmi_v16 a, lmi_v16 b) {
    return (lmi_v16)((mask & (lmi_v16i)a) | (~mask & (lmi_v16i)b));
}

static inline lmi_v16 lmi_v16_max(lmi_v16 a, lmi_v16 b) {
    return lmi_v16_select(a > b, a, b);
}

/* lmi_expf in every lane: the same operations in the same order, so the same bits. */
static inline lmi_v16 lmi_v16_exp(lmi_v16 x) {
    const lmi_v16 lo = lmi_v16_splat(-87.3f), hi = lmi_v16_splat(88.7f);
    const lmi_v16 big = lmi_v16_splat(12582912.0f);
    lmi_v16 n, r, p;
    lmi_v16i e;
    const lmi_v16i under = x <= lo;
    x = lmi_v16_select(x < lo, lo, x);
    x = lmi_v16_select(x > hi, hi, x);
    n = (x * lmi_v16_splat(1.44269504088896341f) + big) - big;
    r = x - n * lmi_v16_splat(0.693145751953125f) - n * lmi_v16_splat(1.42860682030941723e-06f);
    p = lmi_v16_splat(1.0f) +
        r * (lmi_v16_splat(1.0f) +
             r * (lmi_v16_splat(0.5f) +
                  r * (lmi_v16_splat(0.166666671633720398f) +
                       r * (lmi_v16_splat(0.0416666679084300995f) +
                            r * (lmi_v16_splat(0.00833333376795053482f) +
                                 r * lmi_v16_splat(0.00138888892251998186f))))));
    e = (__builtin_convertvector(n, lmi_v16i) + 127) << 23;
    return lmi_v16_select(under, lmi_v16_splat(0.0f), p * (lmi_v16)e);
}
#endif

/* Compiled three times, for AVX-512, for AVX2+FMA and for the baseline, picked at load time (GCC
 * target_clones on x86-64 with an ifunc-capable C library): 16-, 8- or 4-wide vectors. Elementwise
 * results are the same in all three (ISO C: no contraction into FMA); sums over a row may round
 * differently from one to another (but the same way on every run of a machine). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LM_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LM_CLONES
#endif

#endif
