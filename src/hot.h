/* hot.h (internal): TMLP_HOT marks a loop that runs over every weight or activation of every
 * training step. Where GCC supports function multiversioning it is built three times (AVX-512,
 * AVX2, baseline x86-64) and the widest the CPU has is chosen once, when the library loads;
 * elsewhere, and under the sanitizers (whose runtimes do not support the ifunc resolver), it is
 * a plain function. Each version does the same IEEE operations in the same order per element,
 * so the choice changes speed, never results. */
#ifndef TMLP_HOT_H
#define TMLP_HOT_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define TMLP_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TMLP_HOT
#endif

/* Non-finite values, found branch-free: a float is inf or NaN exactly when its exponent field
 * is all ones, so a loop keeps the largest field it has seen (an unsigned max, which
 * vectorises) and compares it with TMLP_EXP_ALL_ONES once at the end. */
#define TMLP_EXP_ALL_ONES 0x7f800000u

static inline uint32_t tmlp_exp_field(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u & TMLP_EXP_ALL_ONES;
}

static inline uint32_t tmlp_max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

#endif
