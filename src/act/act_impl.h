/* act_impl.h: private glue between the activation family files and the registry.
 *
 * Each family file defines one table of tmlp_act rows ending in a row whose name is NULL;
 * registry.c lists the tables once. Adding an activation changes its family file alone. */
#ifndef TINYMLP_ACT_IMPL_H
#define TINYMLP_ACT_IMPL_H

#include <float.h>

#include "tinymlp/act.h"
#include "tinymlp/init.h"

extern const tmlp_act tmlp_acts_basic[];   /* identity, binary_step */
extern const tmlp_act tmlp_acts_sigmoid[]; /* sigmoid, hard_sigmoid, tanh, hardtanh, softsign */
extern const tmlp_act tmlp_acts_relu[];    /* relu, relu6, leaky_relu, prelu */
extern const tmlp_act tmlp_acts_elu[];     /* elu, selu, celu */
extern const tmlp_act tmlp_acts_smooth[];  /* softplus, gelu, gelu_tanh, silu, swish,
                                              swish_learnable, mish */
extern const tmlp_act tmlp_acts_softmax[]; /* softmax, log_softmax */

/* v rounded to float, saturating at ±FLT_MAX instead of overflowing to infinity (the true
 * value of e.g. selu(FLT_MAX) is finite but not representable). */
static inline float tmlp_act_sat(double v)
{
    return v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : (float)v;
}

#endif
