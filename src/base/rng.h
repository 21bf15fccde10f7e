/* Internal: the seeded random number generator. Algorithm: xoshiro256** (Blackman and Vigna,
 * 2018), state seeded from a 64-bit seed through splitmix64. Normal deviates by the Box-Muller
 * transform. Same seed, same sequence, on every platform. */
#ifndef LM_BASE_RNG_H
#define LM_BASE_RNG_H

#include <stdint.h>

typedef struct lmi_rng {
    uint64_t s[4];
} lmi_rng;

void lmi_rng_seed(lmi_rng *rng, uint64_t seed);
uint64_t lmi_rng_next(lmi_rng *rng);
/* Uniform in [0, 1) with 24 random bits (float) or 53 (double). */
float lmi_rng_uniform(lmi_rng *rng);
double lmi_rng_uniform_double(lmi_rng *rng);
/* Uniform integer in [0, n) without modulo bias; n must be > 0. */
uint64_t lmi_rng_below(lmi_rng *rng, uint64_t n);
/* Standard normal deviate (mean 0, standard deviation 1). */
double lmi_rng_normal(lmi_rng *rng);
/* Fisher-Yates shuffle of n 32-bit values. */
void lmi_rng_shuffle_u32(lmi_rng *rng, uint32_t *values, uint64_t n);

#endif
