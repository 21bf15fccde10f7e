/* Internal: the seeded random number generator. Algorithm: xoshiro256** (Blackman and Vigna,
 * 2018), state seeded from a 64-bit seed through splitmix64. Normal deviates by the Box-Muller
 * transform. Same seed, same sequence, on every platform. */
#ifndef LM_BASE_RNG_H
#define LM_BASE_RNG_H

#include <stdint.h>

typedef struct lm_rng {
    uint64_t s[4];
} lm_rng;

void lm_rng_seed(lm_rng *rng, uint64_t seed);
uint64_t lm_rng_next(lm_rng *rng);
/* Uniform in [0, 1) with 24 random bits (float) or 53 (double). */
float lm_rng_uniform(lm_rng *rng);
double lm_rng_uniform_double(lm_rng *rng);
/* Uniform integer in [0, n) without modulo bias; n must be > 0. */
uint64_t lm_rng_below(lm_rng *rng, uint64_t n);
/* Standard normal deviate (mean 0, standard deviation 1). */
double lm_rng_normal(lm_rng *rng);
/* Fisher-Yates shuffle of n 32-bit values. */
void lm_rng_shuffle_u32(lm_rng *rng, uint32_t *values, uint64_t n);

#endif
