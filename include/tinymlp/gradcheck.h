/* tinymlp/gradcheck.h: checking analytic gradients against central differences.
 *
 * Used by the test suites and by `tinymlp gradcheck`; it works for any tmlp_act, built in or
 * the user's own. */
#ifndef TINYMLP_GRADCHECK_H
#define TINYMLP_GRADCHECK_H

#include "act.h"
#include "err.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_gradcheck_result {
    int n_checked;       /* derivatives compared */
    int n_failed;        /* of those, how many were outside tolerance */
    double max_err;      /* largest |a - n| / max(floor, |a|, |n|) */
    double worst_x;      /* input at which max_err occurred */
    double sum_abs_grad; /* sum of |analytic| over all checks: guards against all-zero passes */
    double tol;          /* the tolerance used */
} tmlp_gradcheck_result;

/* Checks act's backward (input gradient, and parameter gradients if it has any) against
 * central differences of its forward at many points in [-lim, lim] (lim <= 0: 8), including
 * points just beside each kink and at |x| up to 100. tol <= 0 picks a default of 2e-3.
 * Returns TMLP_OK when the check ran (see res->n_failed for the verdict). */
int tmlp_gradcheck_act(const tmlp_act *act, float arg, float lim, double tol,
                       tmlp_gradcheck_result *res, tmlp_err *err);

/* Checks the whole net's gradient (all parameters, penalties included) for loss on
 * (x, targets), per parameter for small nets and along random directions for large ones,
 * against central differences of the loss. In training mode the first forward draws the
 * dropout masks and every probe replays them (TMLP_MODE_TRAIN_REPLAY); the mode is restored. */
int tmlp_gradcheck_net(tmlp_net *net, const float *x, int batch, const int *label,
                       const float *target, double tol, tmlp_rng *rng,
                       tmlp_gradcheck_result *res, tmlp_err *err);

/* One parameter tensor's verdict from tmlp_gradcheck_net_tensors. */
typedef struct tmlp_gradcheck_tensor {
    char name[40];       /* as in model files: "layers.0.weight", "layers.1.act_param", ... */
    int layer;           /* its layer */
    size_t offset, n;    /* where it sits in the parameter block, and its length */
    int n_failed;        /* parameters whose derivative was off */
    int n_skipped;       /* parameters whose probes crossed a kink (not judged) */
    double max_abs;      /* largest |analytic - numeric| */
    double max_rel;      /* largest |analytic - numeric| / max(1e-2, |analytic|, |numeric|) */
    double sum_abs_grad; /* sum of |analytic|: 0 means the tensor was not exercised */
} tmlp_gradcheck_tensor;

/* Up to 5 tensors a layer: weight, bias, bn_weight, bn_bias, act_param. */
#define TMLP_GRADCHECK_MAX_TENSORS (5 * TMLP_MAX_LAYERS)

/* Default tolerance of tmlp_gradcheck_net_tensors: a derivative is off when it differs from
 * the central difference by more than this times max(1e-2, |analytic|, |numeric|). The
 * float32 forward makes the loss's difference quotient (step 5e-3) noisy by up to ~2e-5
 * absolute; a wrong derivative is off by far more. */
#define TMLP_GRADCHECK_NET_TOL 5e-3

/* Checks every parameter of net on its own (every W, b, activation parameter and batch-norm
 * scale and shift, penalties included) against a central difference of the loss computed in
 * double, and fills out[0..*n_out) with one verdict per tensor in parameter-block order. In
 * training mode the first forward draws the dropout masks and every probe replays them;
 * TMLP_MODE_TRAIN_REPLAY replays the masks of the forward made before the call. A parameter
 * whose probes move some activation input across a kink of its activation (relu's 0), or an
 * L1-penalised weight across 0, is skipped and counted in n_skipped: the difference quotient
 * there blends two slopes and says nothing about either. The mode and
 * the parameters are restored. tol <= 0 picks TMLP_GRADCHECK_NET_TOL. Returns TMLP_OK when
 * the check ran (the verdict is in the n_failed fields). */
int tmlp_gradcheck_net_tensors(tmlp_net *net, const float *x, int batch, const int *label,
                               const float *target, double tol, tmlp_gradcheck_tensor *out,
                               int *n_out, tmlp_err *err);

/* Smallest distance from any activation input (BN(Z), or Z) of the last forward to a kink of
 * its layer's activation; INFINITY when no layer's activation has kinks. A gradient check is
 * meaningful only when this exceeds the probes' effect on those inputs. */
double tmlp_gradcheck_kink_margin(const tmlp_net *net);

#ifdef __cplusplus
}
#endif
#endif
