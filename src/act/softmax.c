/* act/softmax.c: the row-wise pair softmax and log_softmax. As a loss's output link softmax is
 * fused into softmax_ce (loss.c); these definitions serve nets trained with another loss,
 * hidden layers, and inspection.
 *
 * Both shift each row by its maximum m so exp never overflows, and treat the maximum's own
 * term (exactly 1) apart from the others, so that log(sum) becomes log1p(rest) and the
 * backward products stay accurate when one entry takes nearly all the mass. */
#include <math.h>

#include "act_impl.h"

/* Index of the largest entry of row[0..n). */
static int argmax(const float *row, int n)
{
    int k = 0;
    for (int j = 1; j < n; j++)
        if (row[j] > row[k])
            k = j;
    return k;
}

/* Per row: the argmax k, its value m and rest = sum_{j != k} e^(x_j - m), in double (x_j - m
 * rounded to float would move e^(x_j - m) by up to |x_j - m| * 6e-8, relatively). */
static int row_stats(const float *xr, int cols, double *m, double *rest)
{
    int k = argmax(xr, cols);
    double s = 0.0;
    for (int j = 0; j < cols; j++)
        if (j != k)
            s += exp((double)xr[j] - xr[k]);
    *m = xr[k];
    *rest = s;
    return k;
}

/* reference: torch.nn.Softmax(dim=1) */
TMLP_HOT static void softmax_forward(int rows, int cols, const float *x, float *y, float arg,
                            const float *param)
{
    (void)arg; (void)param;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols;
        float *yr = y + (long)r * cols;
        double m, rest;
        row_stats(xr, cols, &m, &rest);
        double inv = 1.0 / (1.0 + rest);
        for (int j = 0; j < cols; j++)              /* y_j = e^(x_j - m) / sum_k e^(x_k - m) */
            yr[j] = (float)(exp((double)xr[j] - m) * inv);
    }
}

/* dx = p ⊙ (dy - <dy, p>), p = softmax(x) recomputed in double from x rather than taken from
 * the float y (whose rounding would show in entries where the bracket nearly cancels).
 * Shifting dy by its value at the argmax k changes nothing (the Jacobian's rows sum to 0) but
 * makes dx_k = -p_k sum_{j != k} p_j (dy_j - dy_k) exact in the limit p_k -> 1, where the
 * plain form cancels to 0. */
TMLP_HOT static void softmax_backward(int rows, int cols, const float *x, const float *y,
                             const float *dy, float *dx, float arg, const float *param,
                             float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols, *dyr = dy + (long)r * cols;
        float *dxr = dx + (long)r * cols;
        double m, rest, dot = 0.0;
        int k = row_stats(xr, cols, &m, &rest);
        double inv = 1.0 / (1.0 + rest), base = dyr[k];
        for (int j = 0; j < cols; j++)
            if (j != k)
                dot += exp((double)xr[j] - m) * inv * (dyr[j] - base);
        for (int j = 0; j < cols; j++) {            /* dx = p ⊙ (dy - <dy, p>) */
            double p = j == k ? inv : exp((double)xr[j] - m) * inv;
            dxr[j] = (float)(p * ((dyr[j] - base) - dot));
        }
    }
}

/* reference: torch.nn.LogSoftmax(dim=1). Outputs below -FLT_MAX (only for inputs near
 * ±FLT_MAX) saturate there instead of becoming -inf. */
TMLP_HOT static void log_softmax_forward(int rows, int cols, const float *x, float *y, float arg,
                                const float *param)
{
    (void)arg; (void)param;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols;
        float *yr = y + (long)r * cols;
        double m, rest;
        row_stats(xr, cols, &m, &rest);
        double lse = log1p(rest);                   /* log sum_k e^(x_k - m) */
        for (int j = 0; j < cols; j++)
            yr[j] = tmlp_act_sat(((double)xr[j] - m) - lse);    /* y_j = x_j - m - lse */
    }
}

/* dx = dy - p sum(dy) with p = softmax(x); at the argmax k, written as
 * (dy_k rest - sum_{j != k} dy_j) / (1 + rest), which does not cancel as p_k -> 1. */
TMLP_HOT static void log_softmax_backward(int rows, int cols, const float *x, const float *y,
                                 const float *dy, float *dx, float arg, const float *param,
                                 float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols, *dyr = dy + (long)r * cols;
        float *dxr = dx + (long)r * cols;
        double m, rest, others = 0.0;
        int k = row_stats(xr, cols, &m, &rest);
        for (int j = 0; j < cols; j++)
            others += j != k ? dyr[j] : 0.0;
        double sum_dy = others + dyr[k], inv = 1.0 / (1.0 + rest);
        for (int j = 0; j < cols; j++)              /* dx = dy - softmax(x) sum(dy) */
            dxr[j] = j == k ? (float)((dyr[k] * rest - others) * inv)
                            : (float)(dyr[j] - exp((double)xr[j] - m) * inv * sum_dy);
    }
}

const tmlp_act tmlp_acts_softmax[] = {
    { .name = "softmax", .formula = "exp(x_j) / sum_k exp(x_k)  (per row)",
      .range = "(0, 1), rows sum to 1",
      .flags = TMLP_ACT_ROWWISE | TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = softmax_forward, .backward = softmax_backward },
    { .name = "log_softmax", .formula = "x_j - log(sum_k exp(x_k))  (per row)",
      .range = "(-inf, 0)", .flags = TMLP_ACT_ROWWISE, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = log_softmax_forward, .backward = log_softmax_backward },
    { .name = NULL }
};
