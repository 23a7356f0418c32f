/* act/elu.c: the exponential-linear family: elu, selu and celu.
 *
 * All three are x (times a scale) for x > 0 and a saturating exponential below; expm1f keeps
 * the negative branch accurate near 0, where e^x - 1 would cancel. PyTorch's autograd takes
 * the x <= 0 branch at 0, so elu'(0) = alpha and selu'(0) = scale * alpha. */
#include <math.h>

#include "act_impl.h"

/* reference: torch.nn.ELU(alpha = arg) */
TMLP_HOT static void elu_forward(int rows, int cols, const float *x, float *y, float arg,
                        const float *param)
{
    (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = x if x > 0, else a (e^x - 1) */
        y[i] = x[i] > 0.0f ? x[i] : arg * expm1f(x[i]);
}

TMLP_HOT static void elu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                         float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f'(x) = 1 if x > 0, else a e^x */
        dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (arg * expf(x[i]));
}

/* SELU's constants (Klambauer et al. 2017), as in PyTorch, and their product. */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SELU_SCALE_ALPHA 1.7580993408473768599402175208123 /* SELU_SCALE * SELU_ALPHA */

/* reference: torch.nn.SELU. scale * x overflows for x > FLT_MAX / scale: saturate there. */
TMLP_HOT static void selu_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = s x if x > 0, else s a (e^x - 1) */
        y[i] = x[i] > 0.0f ? tmlp_act_sat(SELU_SCALE * x[i])
                           : (float)SELU_SCALE_ALPHA * expm1f(x[i]);
}

TMLP_HOT static void selu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f'(x) = s if x > 0, else s a e^x */
        dx[i] = x[i] > 0.0f ? dy[i] * (float)SELU_SCALE
                            : dy[i] * ((float)SELU_SCALE_ALPHA * expf(x[i]));
}

/* reference: torch.nn.CELU(alpha = arg), alpha > 0. x / a is formed in double: rounded to
 * float it would move e^(x/a) by up to |x/a| * 6e-8, relatively (2e-6 at x = -34, a = 0.7). */
TMLP_HOT static void celu_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = x if x > 0, else a (e^(x/a) - 1) */
        y[i] = x[i] > 0.0f ? x[i] : (float)(arg * expm1((double)x[i] / arg));
}

TMLP_HOT static void celu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f'(x) = 1 if x > 0, else e^(x/a) */
        dx[i] = x[i] > 0.0f ? dy[i] : (float)(dy[i] * exp((double)x[i] / arg));
}

const tmlp_act tmlp_acts_elu[] = {
    { .name = "elu", .formula = "x if x > 0 else a*(exp(x) - 1)  (a = 1; elu:a)",
      .range = "(-a, inf)", .flags = TMLP_ACT_HAS_ARG, .arg = 1.0f,
      .init = TMLP_INIT_GLOROT_UNIFORM, .n_kinks = 1, .kinks = { 0.0f },
      .forward = elu_forward, .backward = elu_backward },
    { .name = "selu", .formula = "s*x if x > 0 else s*a*(exp(x) - 1)  (a = 1.67326324, s = 1.05070099)",
      .range = "(-1.75809934, inf)", .init = TMLP_INIT_LECUN_NORMAL,
      .n_kinks = 1, .kinks = { 0.0f },
      .forward = selu_forward, .backward = selu_backward },
    { .name = "celu", .formula = "x if x > 0 else a*(exp(x/a) - 1)  (a = 1; celu:a, a > 0)",
      .range = "(-a, inf)", .flags = TMLP_ACT_HAS_ARG | TMLP_ACT_ARG_POSITIVE, .arg = 1.0f,
      .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = celu_forward, .backward = celu_backward },
    { .name = NULL }
};
