/* act/sigmoid.c: the saturating S-shaped family: sigmoid, hard_sigmoid, tanh, hardtanh and
 * softsign. Their derivatives vanish at both ends, which is what TMLP_ACT_SATURATES marks.
 *
 * Derivatives are computed from x with e = exp(-|x|) rather than from the cached output as
 * y (1 - y): near saturation 1 - y cancels to a few bits (or to 0 once y rounds to 1), while
 * e / (1 + e)^2 keeps full float precision out to |x| = 100. */
#include <math.h>

#include "act_impl.h"

/* reference: torch.nn.Sigmoid. With e = e^-|x| (never overflows) and d = 1 / (1 + e):
 * sigma(x) = d for x >= 0 and e d for x < 0, in double, rounded once. */
TMLP_HOT static void sigmoid_forward(int rows, int cols, const float *x, float *y, float arg,
                                     const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        const double v = x[i], e = tmlp_act_exp(-fabs(v)), d = 1.0 / (1.0 + e);
        y[i] = (float)(v >= 0.0 ? d : e * d);       /* f(x) = 1 / (1 + e^-x) */
    }
}

TMLP_HOT static void sigmoid_backward(int rows, int cols, const float *x, const float *y,
                                      const float *dy, float *dx, float arg, const float *param,
                                      float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        const double e = tmlp_act_exp(-fabs((double)x[i])), d = 1.0 / (1.0 + e);
        dx[i] = (float)(dy[i] * (e * d * d));       /* f' = f(x) f(-x) = e/(1+e)^2 */
    }
}

/* reference: torch.nn.Hardsigmoid: relu6(x + 3) / 6; f' = 1/6 strictly inside (-3, 3), 0 at
 * and beyond the corners. x + 3 is formed in double: in float, x / 6 + 1/2 or x + 3 would
 * cancel to a few bits just above -3. */
TMLP_HOT static void hard_sigmoid_forward(int rows, int cols, const float *x, float *y, float arg,
                                 const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = clamp((x + 3) / 6, 0, 1) */
        y[i] = x[i] <= -3.0f ? 0.0f : x[i] >= 3.0f ? 1.0f : (float)(((double)x[i] + 3.0) / 6.0);
}

TMLP_HOT static void hard_sigmoid_backward(int rows, int cols, const float *x, const float *y,
                                  const float *dy, float *dx, float arg, const float *param,
                                  float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {                  /* f'(x) = [-3 < x < 3] / 6 */
        const float d = dy[i] / 6.0f;
        dx[i] = x[i] > -3.0f && x[i] < 3.0f ? d : 0.0f;
    }
}

/* reference: torch.nn.Tanh. With e = e^-2|x|: tanh|x| = (1 - e) / (1 + e) in double, whose
 * 1 - e loses nothing that float keeps for |x| >= 2^-10; below that, the series
 * |x| - |x|^3/3 + 2|x|^5/15 (the next term is 2^-60 of |x|). The sign is put back last, so
 * tanh(-0) = -0. */
TMLP_HOT static void tanh_forward(int rows, int cols, const float *x, float *y, float arg,
                                  const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        const double a = fabs((double)x[i]), a2 = a * a, e = tmlp_act_exp(-2.0 * a);
        const double t = a < 0x1p-10 ? a - a * a2 * (1.0 / 3.0 - a2 * (2.0 / 15.0))
                                     : (1.0 - e) / (1.0 + e);
        y[i] = copysignf((float)t, x[i]);           /* f(x) = (e^x - e^-x) / (e^x + e^-x) */
    }
}

TMLP_HOT static void tanh_backward(int rows, int cols, const float *x, const float *y,
                                   const float *dy, float *dx, float arg, const float *param,
                                   float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        const double e = tmlp_act_exp(-2.0 * fabs((double)x[i])), d = 1.0 / (1.0 + e);
        dx[i] = (float)(dy[i] * (4.0 * e * d * d)); /* f' = 1 - f^2 = 4e/(1+e)^2, e = e^-2|x| */
    }
}

/* reference: torch.nn.Hardtanh(min_val=-1, max_val=1); f' = 1 strictly inside (-1, 1). */
TMLP_HOT static void hardtanh_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = clamp(x, -1, 1) */
        y[i] = x[i] < -1.0f ? -1.0f : x[i] > 1.0f ? 1.0f : x[i];
}

TMLP_HOT static void hardtanh_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {                  /* f'(x) = [-1 < x < 1] */
        const float d = dy[i];
        dx[i] = x[i] > -1.0f && x[i] < 1.0f ? d : 0.0f;
    }
}

/* reference: torch.nn.Softsign */
TMLP_HOT static void softsign_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = x[i] / (1.0f + fabsf(x[i]));         /* f(x) = x / (1 + |x|) */
}

TMLP_HOT static void softsign_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        float d = 1.0f / (1.0f + fabsf(x[i]));
        dx[i] = dy[i] * d * d;                      /* f'(x) = 1 / (1 + |x|)^2 */
    }
}

const tmlp_act tmlp_acts_sigmoid[] = {
    { .name = "sigmoid", .formula = "1 / (1 + exp(-x))", .range = "(0, 1)",
      .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = sigmoid_forward, .backward = sigmoid_backward },
    { .name = "hard_sigmoid", .formula = "clamp(x/6 + 1/2, 0, 1) = relu6(x + 3) / 6",
      .range = "[0, 1]", .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .n_kinks = 2, .kinks = { -3.0f, 3.0f },
      .forward = hard_sigmoid_forward, .backward = hard_sigmoid_backward },
    { .name = "tanh", .formula = "(exp(x) - exp(-x)) / (exp(x) + exp(-x))", .range = "(-1, 1)",
      .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = tanh_forward, .backward = tanh_backward },
    { .name = "hardtanh", .formula = "clamp(x, -1, 1)", .range = "[-1, 1]",
      .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .n_kinks = 2, .kinks = { -1.0f, 1.0f },
      .forward = hardtanh_forward, .backward = hardtanh_backward },
    { .name = "softsign", .formula = "x / (1 + |x|)", .range = "(-1, 1)",
      .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = softsign_forward, .backward = softsign_backward },
    { .name = NULL }
};
