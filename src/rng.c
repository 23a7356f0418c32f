/* rng.c: PCG32 (O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
 * Algorithms for Random Number Generation", 2014), XSH-RR output, 64-bit LCG state. */
#include <math.h>

#include "tinymlp/rng.h"

#define PCG_MULT 6364136223846793005ULL

void tmlp_rng_seed(tmlp_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = 0;
    r->inc = (stream << 1) | 1u;
    (void)tmlp_rng_u32(r);
    r->state += seed;
    (void)tmlp_rng_u32(r);
}

uint32_t tmlp_rng_u32(tmlp_rng *r)
{
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

void tmlp_rng_advance(tmlp_rng *r, uint64_t delta)
{
    /* s -> M s + C applied delta times, by squaring (Brown, "Random number generation with
     * arbitrary strides", 1994): (M, C) composed with itself is (M^2, (M + 1) C). */
    uint64_t mult = PCG_MULT, plus = r->inc, acc_mult = 1u, acc_plus = 0u;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= mult;
            acc_plus = acc_plus * mult + plus;
        }
        plus = (mult + 1u) * plus;
        mult *= mult;
        delta >>= 1;
    }
    r->state = acc_mult * r->state + acc_plus;
}

uint32_t tmlp_rng_below(tmlp_rng *r, uint32_t n)
{
    /* Reject the low (2^32 mod n) values so every residue is equally likely. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t v = tmlp_rng_u32(r);
        if (v >= threshold)
            return v % n;
    }
}

float tmlp_rng_uniform(tmlp_rng *r)
{
    return (float)(tmlp_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float tmlp_rng_normal(tmlp_rng *r)
{
    /* Box-Muller on (0, 1] x [0, 1): u1 is never 0, so log(u1) is finite. */
    double u1 = ((double)(tmlp_rng_u32(r) >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(tmlp_rng_u32(r) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void tmlp_rng_shuffle(tmlp_rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)tmlp_rng_below(r, (uint32_t)i + 1u);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
