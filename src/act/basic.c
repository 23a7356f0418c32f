/* act/basic.c: the identity and the binary step (the two ends of "nonlinear"). */
#include <string.h>

#include "act_impl.h"

/* reference: torch.nn.Identity */
TMLP_HOT static void identity_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)arg; (void)param;
    if (y != x)
        memcpy(y, x, (size_t)rows * (size_t)cols * sizeof *y);     /* f(x) = x */
}

TMLP_HOT static void identity_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)x; (void)y; (void)arg; (void)param; (void)dparam;
    if (dx != dy)
        memcpy(dx, dy, (size_t)rows * (size_t)cols * sizeof *dx);  /* f'(x) = 1 */
}

/* reference: torch.heaviside(x, values=1) (no torch.nn module; its autograd is undefined,
 * we take the derivative to be 0 everywhere, including at 0) */
TMLP_HOT static void binary_step_forward(int rows, int cols, const float *x, float *y, float arg,
                                const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = x[i] >= 0.0f ? 1.0f : 0.0f;          /* f(x) = [x >= 0] */
}

TMLP_HOT static void binary_step_backward(int rows, int cols, const float *x, const float *y,
                                 const float *dy, float *dx, float arg, const float *param,
                                 float *dparam)
{
    (void)x; (void)y; (void)dy; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        dx[i] = 0.0f;                                /* f'(x) = 0 */
}

const tmlp_act tmlp_acts_basic[] = {
    { .name = "identity", .formula = "x", .range = "(-inf, inf)",
      .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = identity_forward, .backward = identity_backward },
    { .name = "binary_step", .formula = "1 if x >= 0 else 0", .range = "{0, 1}",
      .flags = TMLP_ACT_NOGRAD, .init = TMLP_INIT_GLOROT_UNIFORM,
      .n_kinks = 1, .kinks = { 0.0f },
      .forward = binary_step_forward, .backward = binary_step_backward },
    { .name = NULL }
};
