/* act_impl.h: private glue between the activation family files and the registry.
 *
 * Each family file defines one table of tmlp_act rows ending in a row whose name is NULL;
 * registry.c lists the tables once. Adding an activation changes its family file alone. */
#ifndef TINYMLP_ACT_IMPL_H
#define TINYMLP_ACT_IMPL_H

#include <float.h>
#include <stdint.h>
#include <string.h>

#include "tinymlp/act.h"
#include "tinymlp/init.h"
#include "hot.h" /* TMLP_HOT: the kernels below run over every activation of every step */

extern const tmlp_act tmlp_acts_basic[];   /* identity, binary_step */
extern const tmlp_act tmlp_acts_sigmoid[]; /* sigmoid, hard_sigmoid, tanh, hardtanh, softsign */
extern const tmlp_act tmlp_acts_relu[];    /* relu, relu6, leaky_relu, prelu */
extern const tmlp_act tmlp_acts_elu[];     /* elu, selu, celu */
extern const tmlp_act tmlp_acts_smooth[];  /* softplus, gelu, gelu_tanh, silu, swish,
                                              swish_learnable, mish */
extern const tmlp_act tmlp_acts_softmax[]; /* softmax, log_softmax */

/* e^z in double for the activation kernels, within a few ulp of double over [-700, 700] (z is
 * clamped to it; NaN stays NaN). Unlike libm's exp it has no branches, calls or tables, so a
 * loop that uses it vectorises; the kernels round its results to float, far coarser than its
 * error. z = k ln2 + r with |r| <= ln2/2 (k by the 1.5*2^52 rounding trick, ln2 split in two so
 * that k ln2 is exact), e^r by its Taylor series to r^12 (truncation < 2e-16), times 2^k built
 * from k's bits. */
static inline double tmlp_act_exp(double z)
{
    z = z < -700.0 ? -700.0 : z > 700.0 ? 700.0 : z;
    const double shift = 0x1.8p52, ln2_hi = 6.93147180369123816490e-01,
                 ln2_lo = 1.90821492927058770002e-10;
    double kd = z * 1.44269504088896338700e+00 + shift;
    uint64_t ki;
    memcpy(&ki, &kd, sizeof ki);
    kd -= shift;
    const double r = (z - kd * ln2_hi) - kd * ln2_lo;
    double q = 1.0 / 479001600.0;                   /* 1/12! */
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    q = q * r + 1.0;
    q = q * r + 1.0;
    const uint64_t bits = (ki + 1023u) << 52;       /* 2^k: k sits in ki's low bits */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return q * scale;
}

/* v rounded to float, saturating at ±FLT_MAX instead of overflowing to infinity (the true
 * value of e.g. selu(FLT_MAX) is finite but not representable). */
static inline float tmlp_act_sat(double v)
{
    return v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : (float)v;
}

#endif
