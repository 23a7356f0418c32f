/* gradcheck.c: analytic gradients against central differences.
 *
 * For an activation, the scalar probed is L = Σ dy ⊙ f(x) for a fixed random dy, so
 * dL/dx = backward(dy) covers elementwise and row-wise functions alike, and dL/dparam covers
 * learnable parameters. Each x is nudged by ±h with h shrunk near a kink so the two probes
 * never straddle it; the difference quotient divides by the step actually taken in float.
 * For a net, the scalar is the loss itself, probed per parameter (small nets) or along random
 * directions (large ones). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/gradcheck.h"
#include "tinymlp/loss.h"

#define DEFAULT_TOL 2e-3
/* Errors are relative to the larger of the two derivatives, but never to less than this floor:
 * below it float rounding of the probed sums dominates, so the error is judged absolutely. */
#define ACT_FLOOR 1e-1
#define NET_FLOOR 1e-2

/* Records one comparison. `noise` is how far the difference quotient can be off through the
 * float rounding of the probed outputs alone: that much disagreement is not held against the
 * analytic gradient when judging it, though max_err reports the raw error. */
static void tally(tmlp_gradcheck_result *res, double analytic, double numeric, double x,
                  double floor, double noise)
{
    double scale = fmax(floor, fmax(fabs(analytic), fabs(numeric)));
    double e = fabs(analytic - numeric) / scale;
    res->n_checked++;
    res->sum_abs_grad += fabs(analytic);
    if (fmax(0.0, fabs(analytic - numeric) - noise) / scale > res->tol)
        res->n_failed++;
    if (e > res->max_err || res->n_checked == 1) {
        res->max_err = e;
        res->worst_x = x;
    }
}

/* Σ dy ⊙ f(x) in double. */
static double probe(const tmlp_act *act, int rows, int cols, const float *x, float *y,
                    const float *dy, float arg, const float *param)
{
    act->forward(rows, cols, x, y, arg, param);
    double s = 0.0;
    for (int i = 0; i < rows * cols; i++)
        s += (double)dy[i] * y[i];
    return s;
}

/* How far (L(x+h) - L(x-h)) / (2h) can be off through the rounding of the float outputs
 * alone when input i is nudged: each output it moves (itself, or its whole row for a
 * row-wise function) is rounded to within half an ulp <= eps |y_j| / 2 in each probe,
 * weighted by dy_j. This matters for row-wise functions: nudging one input of a log_softmax
 * row moves every output of the row, outputs near -100 have ulps of 8e-6, and with h = 1e-3
 * the quotient is then good only to ~1e-2 absolute -- more than the tolerance allows, though
 * the analytic gradient is right (it failed or not depending on how the points fell into
 * rows). For elementwise functions the allowance is a small fraction of the tolerance.
 * Parameter checks get none: a parameter moves a whole column or layer, most outputs by
 * nothing at all, and a bound summed over all of them would be far too loose. */
static double rounding_noise(int whole_row, int cols, int i, const float *y, const float *dy,
                             double two_h)
{
    int lo = whole_row ? i - i % cols : i, hi = whole_row ? lo + cols : i + 1;
    double s = 0.0;
    for (int j = lo; j < hi; j++)
        s += fabs((double)dy[j] * y[j]);
    return FLT_EPSILON * s / two_h;
}

/* Step for x: relative to |x|, and at most half the distance to the nearest kink. */
static float step_for(const tmlp_act *act, float arg, float x)
{
    double h = 1e-3 * fmax(1.0, fabs(x));
    (void)arg;
    for (int k = 0; k < act->n_kinks; k++) {
        double d = fabs((double)x - act->kinks[k]);
        if (d < 2.0 * h)
            h = d / 2.0;
    }
    return (float)h;
}


/* The analytic gradient of the loss on (x, t) into g (dz: the loss gradient's scratch, batch
 * rows of outputs). A net in training mode is left replaying that forward, so that the
 * probes that follow see the same dropout masks and leave the running statistics alone. */
static int analytic_grads(tmlp_net *net, const float *x, int batch, tmlp_targets t, float *dz,
                          float *g, tmlp_err *err)
{
    double loss;
    const float *z = tmlp_net_forward(net, x, batch, err);
    if (!z)
        return err ? err->code : TMLP_EINVAL;
    int rc = tmlp_loss_eval(tmlp_net_get_spec(net)->loss, z, batch, tmlp_net_n_out(net), t,
                            &loss, dz, err);
    if (rc || (rc = tmlp_net_backward(net, dz, batch, err)))
        return rc;
    if (tmlp_net_mode(net) == TMLP_MODE_TRAIN)
        tmlp_net_set_mode(net, TMLP_MODE_TRAIN_REPLAY);
    size_t np;
    const float *grads = tmlp_net_grads(net, &np);
    memcpy(g, grads, np * sizeof *g);
    return TMLP_OK;
}

int tmlp_gradcheck_act(const tmlp_act *act, float arg, float lim, double tol,
                       tmlp_gradcheck_result *res, tmlp_err *err)
{
    memset(res, 0, sizeof *res);
    res->tol = tol > 0 ? tol : DEFAULT_TOL;
    if (!act || !act->forward || !act->backward)
        return tmlp_fail(err, TMLP_EINVAL, "gradcheck: no activation given");
    if (!(lim > 0))
        lim = 8.0f;

    /* The points: an even grid over [-lim, lim] (off the kinks), far tails, and pairs of
     * points just beside each kink. */
    enum { GRID = 33, TAIL = 8, MAXPTS = GRID + TAIL + 4 * TMLP_ACT_MAX_KINKS };
    float pts[MAXPTS];
    int np = 0;
    for (int i = 0; i < GRID; i++)
        pts[np++] = -lim + 2.0f * lim * ((float)i + 0.37f) / GRID;
    static const float tails[TAIL] = { -100.0f, -50.0f, -20.0f, -12.0f, 12.0f, 20.0f, 50.0f, 100.0f };
    for (int i = 0; i < TAIL; i++)
        pts[np++] = tails[i];
    for (int k = 0; k < act->n_kinks && k < TMLP_ACT_MAX_KINKS; k++) {
        pts[np++] = act->kinks[k] - 1e-2f;
        pts[np++] = act->kinks[k] + 1e-2f;
        pts[np++] = act->kinks[k] - 1e-3f;
        pts[np++] = act->kinks[k] + 1e-3f;
    }
    /* Row-wise functions see rows of 5; elementwise ones one row of all points, twice (so a
     * per-unit parameter's gradient sums two rows). */
    int rowwise = (act->flags & TMLP_ACT_ROWWISE) != 0;
    int cols = rowwise ? 5 : np, rows = rowwise ? (np + 4) / 5 : 2;
    int n = rows * cols;
    int n_param = tmlp_act_n_params(act, cols);
    float *buf = calloc((size_t)6 * n + 2 * (size_t)n_param + 1, sizeof *buf);
    if (!buf)
        return tmlp_fail(err, TMLP_ENOMEM, "gradcheck: no memory");
    float *x = buf, *y = x + n, *dy = y + n, *dx = dy + n, *xp = dx + n, *tmp = xp + n;
    float *param = tmp + n, *dparam = param + n_param;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 12345, 7);
    for (int i = 0; i < n; i++) {
        int r = i / cols, c = i % cols;
        int k = rowwise ? i % np : (r == 0 ? c : np - 1 - c);
        x[i] = pts[k];
        dy[i] = 0.5f + tmlp_rng_uniform(&rng); /* positive, away from 0: no cancellation */
    }
    for (int k = 0; k < n_param; k++) /* spread the parameters a little around their start */
        param[k] = act->param_init * (0.8f + 0.4f * tmlp_rng_uniform(&rng));
    const float *pp = n_param ? param : NULL;

    act->forward(rows, cols, x, y, arg, pp);
    act->backward(rows, cols, x, y, dy, dx, arg, pp, n_param ? dparam : NULL);

    for (int i = 0; i < n; i++) {
        float h = step_for(act, arg, x[i]);
        if (!(h > 0))
            continue; /* exactly on a kink: no derivative to compare */
        memcpy(xp, x, (size_t)n * sizeof *xp);
        xp[i] = x[i] + h;
        float hp = xp[i] - x[i];
        double lp = probe(act, rows, cols, xp, tmp, dy, arg, pp);
        xp[i] = x[i] - h;
        float hm = x[i] - xp[i];
        double lm = probe(act, rows, cols, xp, tmp, dy, arg, pp);
        tally(res, dx[i], (lp - lm) / ((double)hp + hm), x[i], ACT_FLOOR,
              rounding_noise(rowwise, cols, i, y, dy, (double)hp + hm));
    }
    for (int k = 0; k < n_param; k++) {
        float keep = param[k], h = 1e-3f * fmaxf(1.0f, fabsf(keep));
        param[k] = keep + h;
        double lp = probe(act, rows, cols, x, tmp, dy, arg, param);
        float hp = param[k] - keep;
        param[k] = keep - h;
        double lm = probe(act, rows, cols, x, tmp, dy, arg, param);
        float hm = keep - param[k];
        param[k] = keep;
        tally(res, dparam[k], (lp - lm) / ((double)hp + hm), keep, ACT_FLOOR, 0.0);
    }
    free(buf);
    return TMLP_OK;
}

static int net_loss(tmlp_net *net, const float *x, int batch, tmlp_targets t, double *loss,
                    tmlp_err *err)
{
    const float *z = tmlp_net_forward(net, x, batch, err);
    if (!z)
        return err ? err->code : TMLP_EINVAL;
    int rc = tmlp_loss_eval(tmlp_net_get_spec(net)->loss, z, batch, tmlp_net_n_out(net), t, loss,
                            NULL, err);
    *loss += tmlp_net_penalty(net);
    return rc;
}

int tmlp_gradcheck_net(tmlp_net *net, const float *x, int batch, const int *label,
                       const float *target, double tol, tmlp_rng *rng,
                       tmlp_gradcheck_result *res, tmlp_err *err)
{
    memset(res, 0, sizeof *res);
    res->tol = tol > 0 ? tol : DEFAULT_TOL;
    size_t np;
    float *p = tmlp_net_params(net, &np);
    int n_out = tmlp_net_n_out(net), rc, mode = tmlp_net_mode(net);
    tmlp_targets t = { label, target };
    float *g = malloc(np * sizeof *g), *dz = malloc((size_t)batch * n_out * sizeof *dz);
    float *u = malloc(np * sizeof *u), *keep = malloc(np * sizeof *keep);
    if (!g || !dz || !u || !keep) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "gradcheck: no memory");
        goto done;
    }
    if ((rc = analytic_grads(net, x, batch, t, dz, g, err)) != TMLP_OK)
        goto done;
    memcpy(keep, p, np * sizeof *keep);
    const float h = 5e-3f;
    if (np <= 4000) { /* every parameter on its own */
        for (size_t i = 0; i < np; i++) {
            double lp, lm;
            p[i] = keep[i] + h;
            float hp = p[i] - keep[i];
            if ((rc = net_loss(net, x, batch, t, &lp, err)))
                goto done;
            p[i] = keep[i] - h;
            float hm = keep[i] - p[i];
            if ((rc = net_loss(net, x, batch, t, &lm, err)))
                goto done;
            p[i] = keep[i];
            tally(res, g[i], (lp - lm) / ((double)hp + hm), (double)i, NET_FLOOR, 0.0);
        }
    } else { /* along random unit directions */
        for (int d = 0; d < 16; d++) {
            double norm = 0.0, dir = 0.0, lp, lm;
            for (size_t i = 0; i < np; i++) {
                u[i] = tmlp_rng_normal(rng);
                norm += (double)u[i] * u[i];
            }
            norm = sqrt(norm);
            for (size_t i = 0; i < np; i++) {
                u[i] = (float)(u[i] / norm);
                dir += (double)g[i] * u[i];
            }
            for (size_t i = 0; i < np; i++)
                p[i] = keep[i] + h * u[i];
            if ((rc = net_loss(net, x, batch, t, &lp, err)))
                goto done;
            for (size_t i = 0; i < np; i++)
                p[i] = keep[i] - h * u[i];
            if ((rc = net_loss(net, x, batch, t, &lm, err)))
                goto done;
            tally(res, dir, (lp - lm) / (2.0 * h), d, NET_FLOOR, 0.0);
        }
    }
    rc = TMLP_OK;
done:
    tmlp_net_set_mode(net, mode);
    if (keep)
        memcpy(p, keep, np * sizeof *keep);
    free(g);
    free(dz);
    free(u);
    free(keep);
    return rc;
}

double tmlp_gradcheck_kink_margin(const tmlp_net *net)
{
    double margin = INFINITY;
    for (int l = 0; l < tmlp_net_get_spec(net)->n_layers; l++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, l, &v, NULL) || !v.u)
            continue;
        for (int i = 0; i < v.batch * v.n_out; i++)
            for (int k = 0; k < v.act->n_kinks; k++)
                margin = fmin(margin, fabs((double)v.u[i] - v.act->kinks[k]));
    }
    return margin;
}

/* Writes, for every activation input of the last forward, how many of its activation's kinks
 * lie below it (into side, which holds `cap` entries); returns how many it wrote. Two
 * forwards whose sides agree saw every unit on the same smooth piece. */
static size_t kink_sides(const tmlp_net *net, unsigned char *side, size_t cap)
{
    size_t n = 0;
    for (int l = 0; l < tmlp_net_get_spec(net)->n_layers; l++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, l, &v, NULL) || !v.u || !v.act->n_kinks)
            continue;
        for (int i = 0; i < v.batch * v.n_out && n < cap; i++) {
            unsigned char below = 0;
            for (int k = 0; k < v.act->n_kinks; k++)
                below += v.u[i] > v.act->kinks[k];
            side[n++] = below;
        }
    }
    return n;
}

static size_t n_units(const tmlp_net *net, int batch)
{
    size_t n = 0;
    const tmlp_net_spec *spec = tmlp_net_get_spec(net);
    for (int l = 0; l < spec->n_layers; l++)
        n += (size_t)spec->layer[l].units * (size_t)batch;
    return n;
}

/* Lists net's trained tensors (as model files name them) in parameter-block order. */
static int list_tensors(tmlp_net *net, tmlp_gradcheck_tensor *out)
{
    float *p = tmlp_net_params(net, NULL);
    int n = 0;
    for (int l = 0; l < tmlp_net_get_spec(net)->n_layers; l++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, l, &v, NULL))
            continue;
        const struct { const char *what; const float *at; size_t n; } t[5] = {
            { "weight", v.W, (size_t)v.n_out * v.n_in }, { "bias", v.b, (size_t)v.n_out },
            { "bn_weight", v.bn_gamma, (size_t)v.n_out }, { "bn_bias", v.bn_beta, (size_t)v.n_out },
            { "act_param", v.act_param, (size_t)v.n_act_params },
        };
        for (int k = 0; k < 5; k++) {
            if (!t[k].at || !t[k].n)
                continue;
            tmlp_gradcheck_tensor *o = &out[n++];
            memset(o, 0, sizeof *o);
            snprintf(o->name, sizeof o->name, "layers.%d.%s", l, t[k].what);
            o->layer = l;
            o->offset = (size_t)(t[k].at - p);
            o->n = t[k].n;
        }
    }
    /* Parameter-block order (the block's layout is the net's business). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j].offset < out[j - 1].offset; j--) {
            tmlp_gradcheck_tensor tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    return n;
}

/* The L1 penalty on tensor o: its layer's l1 for a weight matrix, else 0. */
static float l1_of(const tmlp_net *net, const tmlp_gradcheck_tensor *o)
{
    return strstr(o->name, ".weight") && !strstr(o->name, "bn_")
               ? tmlp_net_get_spec(net)->layer[o->layer].l1 : 0.0f;
}

int tmlp_gradcheck_net_tensors(tmlp_net *net, const float *x, int batch, const int *label,
                               const float *target, double tol, tmlp_gradcheck_tensor *out,
                               int *n_out, tmlp_err *err)
{
    *n_out = 0;
    if (!(tol > 0))
        tol = TMLP_GRADCHECK_NET_TOL;
    size_t np;
    float *p = tmlp_net_params(net, &np);
    int k_out = tmlp_net_n_out(net), rc, mode = tmlp_net_mode(net);
    tmlp_targets t = { label, target };
    size_t cap = n_units(net, batch);
    float *g = malloc((np + 1) * sizeof *g), *dz = malloc((size_t)batch * k_out * sizeof *dz);
    unsigned char *side0 = malloc(cap + 1), *side1 = malloc(cap + 1);
    if (!g || !dz || !side0 || !side1) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "gradcheck: no memory");
        goto done;
    }
    if ((rc = analytic_grads(net, x, batch, t, dz, g, err)) != TMLP_OK)
        goto done;
    size_t n_side = kink_sides(net, side0, cap);
    int n_t = list_tensors(net, out);
    const float h = 5e-3f;
    for (int k = 0; k < n_t; k++) {
        tmlp_gradcheck_tensor *o = &out[k];
        for (size_t i = o->offset; i < o->offset + o->n; i++) {
            float keep = p[i];
            double lp, lm;
            /* A probe that moves some unit across a kink of its activation, or an
             * L1-penalised weight across 0, measures a blend of two slopes: skipped. */
            int skip = l1_of(net, o) > 0 && fabsf(keep) <= h;
            p[i] = keep + h;
            float hp = p[i] - keep;
            rc = net_loss(net, x, batch, t, &lp, err);
            skip |= !rc && kink_sides(net, side1, cap) == n_side && memcmp(side0, side1, n_side);
            p[i] = keep - h;
            float hm = keep - p[i];
            if (!rc)
                rc = net_loss(net, x, batch, t, &lm, err);
            skip |= !rc && kink_sides(net, side1, cap) == n_side && memcmp(side0, side1, n_side);
            p[i] = keep;
            if (rc)
                goto done;
            if (skip) {
                o->n_skipped++;
                continue;
            }
            double a = g[i], num = (lp - lm) / ((double)hp + hm), d = fabs(a - num);
            double rel = d / fmax(NET_FLOOR, fmax(fabs(a), fabs(num)));
            o->max_abs = fmax(o->max_abs, d);
            o->max_rel = fmax(o->max_rel, rel);
            o->sum_abs_grad += fabs(a);
            o->n_failed += !(rel <= tol); /* NaN counts as off */
        }
    }
    *n_out = n_t;
    rc = TMLP_OK;
done:
    tmlp_net_set_mode(net, mode);
    free(g);
    free(dz);
    free(side0);
    free(side1);
    return rc;
}
