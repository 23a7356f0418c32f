/* act/sigmoid.c: the saturating S-shaped family: sigmoid and tanh. */
#include <math.h>

#include "act_impl.h"

/* reference: torch.nn.Sigmoid. Evaluated so exp never overflows: for x < 0 use
 * e^x / (1 + e^x), which is the same function. */
static float sigmoid1(float x)
{
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static void sigmoid_forward(int rows, int cols, const float *x, float *y, float arg,
                            const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = sigmoid1(x[i]);                      /* f(x) = 1 / (1 + e^-x) */
}

static void sigmoid_backward(int rows, int cols, const float *x, const float *y,
                             const float *dy, float *dx, float arg, const float *param,
                             float *dparam)
{
    (void)x; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        dx[i] = dy[i] * y[i] * (1.0f - y[i]);       /* f'(x) = f(x) (1 - f(x)) */
}

/* reference: torch.nn.Tanh */
static void tanh_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = tanhf(x[i]);                         /* f(x) = (e^x - e^-x) / (e^x + e^-x) */
}

static void tanh_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)x; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);       /* f'(x) = 1 - f(x)^2 */
}

const tmlp_act tmlp_acts_sigmoid[] = {
    { .name = "sigmoid", .formula = "1 / (1 + exp(-x))", .range = "(0, 1)",
      .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = sigmoid_forward, .backward = sigmoid_backward },
    { .name = "tanh", .formula = "(exp(x) - exp(-x)) / (exp(x) + exp(-x))", .range = "(-1, 1)",
      .flags = TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = tanh_forward, .backward = tanh_backward },
    { .name = NULL }
};
