/* init.c: weight initializers (Glorot, He, LeCun), fan conventions as torch.nn.init. */
#include <math.h>
#include <string.h>

#include "tinymlp/init.h"

static const char *const names[TMLP_INIT_COUNT] = {
    "auto", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal",
};

const char *tmlp_init_name(int kind)
{
    return kind >= 0 && kind < TMLP_INIT_COUNT ? names[kind] : NULL;
}

int tmlp_init_find(const char *name, int *kind, tmlp_err *err)
{
    for (int k = 0; k < TMLP_INIT_COUNT; k++)
        if (name && strcmp(name, names[k]) == 0) {
            *kind = k;
            return TMLP_OK;
        }
    return tmlp_fail(err, TMLP_ENOTFOUND,
                     "unknown initializer '%.40s%s' (known: auto, glorot_uniform, glorot_normal, "
                     "he_uniform, he_normal, lecun_normal)", name ? name : "(null)",
                     name && strlen(name) > 40 ? "..." : "");
}

int tmlp_init_fill(int kind, float *w, int n_out, int n_in, tmlp_rng *rng, tmlp_err *err)
{
    if (n_out <= 0 || n_in <= 0)
        return tmlp_fail(err, TMLP_EINVAL, "initializer: bad shape %d x %d", n_out, n_in);
    double fan_in = n_in, fan_out = n_out;
    size_t n = (size_t)n_out * (size_t)n_in;
    int uniform;
    double scale; /* half-width for uniform, standard deviation for normal */
    switch (kind) {
    case TMLP_INIT_GLOROT_UNIFORM: uniform = 1; scale = sqrt(6.0 / (fan_in + fan_out)); break;
    case TMLP_INIT_GLOROT_NORMAL:  uniform = 0; scale = sqrt(2.0 / (fan_in + fan_out)); break;
    case TMLP_INIT_HE_UNIFORM:     uniform = 1; scale = sqrt(6.0 / fan_in); break;
    case TMLP_INIT_HE_NORMAL:      uniform = 0; scale = sqrt(2.0 / fan_in); break;
    case TMLP_INIT_LECUN_NORMAL:   uniform = 0; scale = sqrt(1.0 / fan_in); break;
    default:
        return tmlp_fail(err, TMLP_EINVAL, "initializer: unknown kind %d", kind);
    }
    for (size_t i = 0; i < n; i++)
        w[i] = uniform ? (float)(scale * (2.0 * tmlp_rng_uniform(rng) - 1.0))
                       : (float)(scale * tmlp_rng_normal(rng));
    return TMLP_OK;
}
