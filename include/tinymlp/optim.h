/* tinymlp/optim.h: optimizers over one flat parameter block.
 *
 * The net keeps all its parameters in one array and all its gradients in another of the same
 * layout, so an optimizer is one loop over n floats and its state (velocity, moments) is an
 * array of that layout too. Update rules and defaults match torch.optim:
 *   sgd        p -= lr (g + wd p)
 *   momentum   v = mu v + (g + wd p);            p -= lr v
 *   nesterov   v = mu v + (g + wd p);            p -= lr ((g + wd p) + mu v)
 *   adam       g' = g + wd p; m = b1 m + (1-b1) g'; s = b2 s + (1-b2) g'^2;
 *              p -= lr (m / (1-b1^t)) / (sqrt(s / (1-b2^t)) + eps)
 *   adamw      p -= lr wd p, then the adam step on g (decoupled weight decay)
 *   rmsprop    g' = g + wd p; s = a s + (1-a) g'^2;  p -= lr g' / (sqrt(s) + eps)   (a = beta2)
 *   adagrad    g' = g + wd p; s = s + g'^2;          p -= lr g' / (sqrt(s) + eps) */
#ifndef TINYMLP_OPTIM_H
#define TINYMLP_OPTIM_H

#include <stddef.h>
#include "err.h"
#include "team.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TMLP_OPT_SGD = 0,
    TMLP_OPT_MOMENTUM,
    TMLP_OPT_NESTEROV,
    TMLP_OPT_ADAM,
    TMLP_OPT_ADAMW,
    TMLP_OPT_RMSPROP,
    TMLP_OPT_ADAGRAD,
    TMLP_OPT_COUNT
};

typedef struct tmlp_optim_cfg {
    int kind;           /* TMLP_OPT_* */
    float lr;           /* learning rate, > 0 */
    float momentum;     /* momentum and nesterov, in [0, 1) */
    float beta1, beta2; /* adam and adamw, in [0, 1); beta2 is rmsprop's smoothing alpha */
    float eps;          /* adam, adamw, rmsprop, adagrad: > 0 */
    float weight_decay; /* >= 0: L2 added to the gradient, decoupled for adamw */
} tmlp_optim_cfg;

typedef struct tmlp_optim tmlp_optim;

/* The defaults for kind, as in PyTorch: lr 0.01 (sgd family, rmsprop, adagrad) or 0.001
 * (adam family), momentum 0.9, betas (0.9, 0.999) (rmsprop: alpha 0.99), eps 1e-8 (adagrad
 * 1e-10), weight decay 0 (0.01 for adamw). */
tmlp_optim_cfg tmlp_optim_defaults(int kind);

/* An optimizer for n parameters; the caller frees it with tmlp_optim_free.
 * Returns NULL and fills err for a bad configuration or a failed allocation. */
tmlp_optim *tmlp_optim_new(const tmlp_optim_cfg *cfg, size_t n, tmlp_err *err);
void tmlp_optim_free(tmlp_optim *o);

/* One update of param[0..n) from grad[0..n). Returns 1 when every parameter is finite after
 * it, 0 when the update made one inf or NaN (the update is applied either way: the check
 * rides along in the same pass, so a training loop needs no second scan to notice).
 * Subnormal values (magnitude below FLT_MIN, 1.2e-38) among the gradients, parameters and
 * moments, and any the arithmetic would produce, count as 0 during the update (on x86-64:
 * flush-to-zero and denormals-are-zero, set for the update only, the caller's mode restored;
 * elsewhere they are kept): a moment decaying through that range otherwise slows the update
 * up to twofold. With eps well above sqrt(FLT_MIN), about 1e-19 (the default is 1e-8), the
 * step changes by far less than a weight's last bit; with a tinier eps, a second moment
 * flushed to 0 can leave the step to eps alone and make it much larger. */
int tmlp_optim_step(tmlp_optim *o, float *param, const float *grad);

/* Splits each update between the threads of `team` (tinymlp/team.h), borrowed: it must
 * outlive its use here; NULL, the default, updates on the caller's thread alone. The result is
 * the same bits for any team: the update is elementwise. Worth it from about 10^5 parameters. */
void tmlp_optim_set_team(tmlp_optim *o, tmlp_team *team);
tmlp_team *tmlp_optim_team(const tmlp_optim *o);

/* Reads or changes the learning rate (for schedules). */
float tmlp_optim_lr(const tmlp_optim *o);
void tmlp_optim_set_lr(tmlp_optim *o, float lr);

/* The configuration it was made with (lr as currently set) and the number of steps taken. */
tmlp_optim_cfg tmlp_optim_config(const tmlp_optim *o);
long tmlp_optim_steps(const tmlp_optim *o);

/* The number of parameters it was made for. */
size_t tmlp_optim_size(const tmlp_optim *o);

/* Zeroes the state (moments, step count), as if new. */
void tmlp_optim_reset(tmlp_optim *o);

/* The state a checkpoint saves: *m and *v point at the optimizer's own arrays of
 * tmlp_optim_size(o) floats (valid until tmlp_optim_free), or are NULL for kinds without one:
 * m is the velocity (momentum, nesterov) or first moment (adam, adamw); v the second moment
 * (adam, adamw), the squared-gradient average (rmsprop) or sum (adagrad). *t is the step
 * count. Any output pointer may be NULL. */
void tmlp_optim_state(const tmlp_optim *o, const float **m, const float **v, long *t);

/* The largest step count tmlp_optim_set_state accepts: 2^53, exact as a double and far
 * enough below LONG_MAX that no run can take the count past it. */
#define TMLP_OPTIM_MAX_STEPS 9007199254740992LL

/* Restores a saved state: copies tmlp_optim_size(o) floats from m and from v, each of which
 * must be given exactly when o's kind has that array, and sets the step count to t.
 * Returns TMLP_EINVAL, leaving o unchanged, when an array is missing or extra, t is outside
 * 0..TMLP_OPTIM_MAX_STEPS, a value is not finite, or v holds a negative value. */
int tmlp_optim_set_state(tmlp_optim *o, const float *m, const float *v, long t, tmlp_err *err);

/* "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"; NULL if unknown. */
const char *tmlp_optim_name(int kind);

/* The kind called name, or TMLP_ENOTFOUND (the message lists the known names). */
int tmlp_optim_find(const char *name, int *kind, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
