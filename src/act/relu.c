/* act/relu.c: the rectifier family: relu and leaky_relu.
 * Conventions follow torch.nn: the derivative at a kink is the left-hand one (0 for ReLU). */
#include "act_impl.h"

/* reference: torch.nn.ReLU */
static void relu_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;           /* f(x) = max(0, x) */
}

static void relu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;         /* f'(x) = [x > 0] */
}

/* reference: torch.nn.LeakyReLU(negative_slope = arg) */
static void leaky_relu_forward(int rows, int cols, const float *x, float *y, float arg,
                               const float *param)
{
    (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : arg * x[i];     /* f(x) = x if x > 0, else a x */
}

static void leaky_relu_backward(int rows, int cols, const float *x, const float *y,
                                const float *dy, float *dx, float arg, const float *param,
                                float *dparam)
{
    (void)y; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : arg * dy[i];  /* f'(x) = 1 if x > 0, else a */
}

const tmlp_act tmlp_acts_relu[] = {
    { .name = "relu", .formula = "max(0, x)", .range = "[0, inf)",
      .flags = TMLP_ACT_CAN_DIE, .init = TMLP_INIT_HE_UNIFORM, .n_kinks = 1, .kinks = { 0.0f },
      .forward = relu_forward, .backward = relu_backward },
    { .name = "leaky_relu", .formula = "x if x > 0 else a*x  (a = 0.01)", .range = "(-inf, inf)",
      .flags = TMLP_ACT_HAS_ARG, .arg = 0.01f, .init = TMLP_INIT_HE_UNIFORM,
      .n_kinks = 1, .kinks = { 0.0f },
      .forward = leaky_relu_forward, .backward = leaky_relu_backward },
    { .name = NULL }
};
