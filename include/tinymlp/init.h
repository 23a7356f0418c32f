/* tinymlp/init.h: weight initializers.
 *
 * Each fills an (n_out, n_in) weight matrix from a caller-owned RNG. Variances follow Glorot &
 * Bengio (2010), He et al. (2015) and LeCun et al. (1998), with the fan-in/fan-out conventions
 * of PyTorch's torch.nn.init. */
#ifndef TINYMLP_INIT_H
#define TINYMLP_INIT_H

#include "err.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TMLP_INIT_AUTO = 0,       /* whatever the layer's activation prefers (tmlp_act.init) */
    TMLP_INIT_GLOROT_UNIFORM, /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    TMLP_INIT_GLOROT_NORMAL,  /* N(0, 2 / (fan_in + fan_out)) */
    TMLP_INIT_HE_UNIFORM,     /* U(-a, a), a = sqrt(6 / fan_in) */
    TMLP_INIT_HE_NORMAL,      /* N(0, 2 / fan_in) */
    TMLP_INIT_LECUN_NORMAL,   /* N(0, 1 / fan_in) */
    TMLP_INIT_COUNT
};

/* Fills w[0 .. n_out*n_in) for a layer with fan_in = n_in, fan_out = n_out.
 * Returns TMLP_EINVAL for an unknown kind or a non-positive size. */
int tmlp_init_fill(int kind, float *w, int n_out, int n_in, tmlp_rng *rng, tmlp_err *err);

/* "glorot_uniform", ...; NULL for an unknown kind. */
const char *tmlp_init_name(int kind);

/* The kind called name, or TMLP_ENOTFOUND. */
int tmlp_init_find(const char *name, int *kind, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
