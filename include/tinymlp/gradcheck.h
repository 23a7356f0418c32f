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

#ifdef __cplusplus
}
#endif
#endif
