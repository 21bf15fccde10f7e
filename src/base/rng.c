/* xoshiro256** seeded by splitmix64; Box-Muller normals. See rng.h. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void lmi_rng_seed(lmi_rng *rng, uint64_t seed) {
    int i;
    for (i = 0; i < 4; i++) {
        rng->s[i] = splitmix64(&seed);
    }
}

uint64_t lmi_rng_next(lmi_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float lmi_rng_uniform(lmi_rng *rng) { return (float)(lmi_rng_next(rng) >> 40) * (1.0f / 16777216.0f); }

double lmi_rng_uniform_double(lmi_rng *rng) {
    return (double)(lmi_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t lmi_rng_below(lmi_rng *rng, uint64_t n) {
    /* Rejection sampling: draw until the value falls below the largest multiple of n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = lmi_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

double lmi_rng_normal(lmi_rng *rng) {
    /* Box-Muller; u1 in (0, 1] so log() is finite. */
    double u1 = 1.0 - lmi_rng_uniform_double(rng);
    double u2 = lmi_rng_uniform_double(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void lmi_rng_shuffle_u32(lmi_rng *rng, uint32_t *values, uint64_t n) {
    uint64_t i;
    for (i = n; i > 1; i--) {
        uint64_t j = lmi_rng_below(rng, i);
        uint32_t t = values[i - 1];
        values[i - 1] = values[j];
        values[j] = t;
    }
}
