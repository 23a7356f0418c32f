/* tinymlp/rng.h: a small seeded random generator (PCG32, O'Neill 2014).
 *
 * The state is a plain value the caller owns and passes explicitly, so runs are reproducible
 * and two threads never share hidden state. tinymlp never calls rand(). */
#ifndef TINYMLP_RNG_H
#define TINYMLP_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_rng {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
} tmlp_rng;

/* Seeds r; the same (seed, stream) always gives the same sequence. */
void tmlp_rng_seed(tmlp_rng *r, uint64_t seed, uint64_t stream);

/* The next 32 uniformly distributed bits. */
uint32_t tmlp_rng_u32(tmlp_rng *r);

/* A uniform integer in [0, n), without modulo bias. n must be > 0. */
uint32_t tmlp_rng_below(tmlp_rng *r, uint32_t n);

/* A uniform float in [0, 1) with 24 random bits. */
float tmlp_rng_uniform(tmlp_rng *r);

/* A standard normal deviate (Box-Muller; consumes two u32 draws per call). */
float tmlp_rng_normal(tmlp_rng *r);

/* Moves r on by delta draws in O(log delta) steps: the same state as delta calls of
 * tmlp_rng_u32 (PCG's jump-ahead). Data-parallel training uses it to draw just its own rows'
 * dropout masks from the single process's sequence. */
void tmlp_rng_advance(tmlp_rng *r, uint64_t delta);

/* Fisher-Yates shuffle of idx[0..n). */
void tmlp_rng_shuffle(tmlp_rng *r, int *idx, int n);

#ifdef __cplusplus
}
#endif
#endif
