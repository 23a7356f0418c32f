/* act/relu.c: the rectifier family: relu, relu6, leaky_relu and prelu.
 *
 * Conventions follow torch.nn: at a corner the derivative is the one PyTorch's autograd
 * returns, i.e. relu'(0) = 0, relu6'(0) = relu6'(6) = 0, leaky_relu'(0) = prelu'(0) = a. */
#include "act_impl.h"

/* reference: torch.nn.ReLU */
TMLP_HOT static void relu_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;           /* f(x) = max(0, x) */
}

TMLP_HOT static void relu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        const float d = dy[i];                      /* loaded unconditionally: vectorises */
        dx[i] = x[i] > 0.0f ? d : 0.0f;             /* f'(x) = [x > 0] */
    }
}

/* reference: torch.nn.ReLU6 (= Hardtanh(0, 6)) */
TMLP_HOT static void relu6_forward(int rows, int cols, const float *x, float *y, float arg,
                          const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = min(max(0, x), 6) */
        y[i] = x[i] > 0.0f ? (x[i] < 6.0f ? x[i] : 6.0f) : 0.0f;
}

TMLP_HOT static void relu6_backward(int rows, int cols, const float *x, const float *y,
                           const float *dy, float *dx, float arg, const float *param,
                           float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {                  /* f'(x) = [0 < x < 6] */
        const float d = dy[i];
        dx[i] = x[i] > 0.0f && x[i] < 6.0f ? d : 0.0f;
    }
}

/* reference: torch.nn.LeakyReLU(negative_slope = arg) */
TMLP_HOT static void leaky_relu_forward(int rows, int cols, const float *x, float *y, float arg,
                               const float *param)
{
    (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : arg * x[i];     /* f(x) = x if x > 0, else a x */
}

TMLP_HOT static void leaky_relu_backward(int rows, int cols, const float *x, const float *y,
                                const float *dy, float *dx, float arg, const float *param,
                                float *dparam)
{
    (void)y; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        const float d = dy[i];
        dx[i] = x[i] > 0.0f ? d : arg * d;          /* f'(x) = 1 if x > 0, else a */
    }
}

/* The initial PReLU slope, also used when no parameter block is given (e.g. for printing). */
#define PRELU_INIT 0.25f

/* reference: torch.nn.PReLU(num_parameters = units, init = 0.25): one slope a_j per column */
TMLP_HOT static void prelu_forward(int rows, int cols, const float *x, float *y, float arg,
                          const float *param)
{
    (void)arg;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols;
        float *yr = y + (long)r * cols;
        for (int j = 0; j < cols; j++) {
            float a = param ? param[j] : PRELU_INIT;
            yr[j] = xr[j] > 0.0f ? xr[j] : a * xr[j];   /* f(x_j) = x_j if x_j > 0, else a_j x_j */
        }
    }
}

TMLP_HOT static void prelu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                           float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg;
    if (dparam)
        for (int j = 0; j < cols; j++)
            dparam[j] = 0.0f;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols, *dyr = dy + (long)r * cols;
        float *dxr = dx + (long)r * cols;
        for (int j = 0; j < cols; j++) {
            float a = param ? param[j] : PRELU_INIT;
            int pos = xr[j] > 0.0f;
            dxr[j] = pos ? dyr[j] : a * dyr[j];     /* df/dx = 1 if x > 0, else a */
            if (dparam && !pos)
                dparam[j] += xr[j] * dyr[j];        /* df/da = 0 if x > 0, else x; summed over rows */
        }
    }
}

const tmlp_act tmlp_acts_relu[] = {
    { .name = "relu", .formula = "max(0, x)", .range = "[0, inf)",
      .flags = TMLP_ACT_CAN_DIE, .init = TMLP_INIT_HE_UNIFORM, .n_kinks = 1, .kinks = { 0.0f },
      .forward = relu_forward, .backward = relu_backward },
    { .name = "relu6", .formula = "min(max(0, x), 6)", .range = "[0, 6]",
      .flags = TMLP_ACT_CAN_DIE | TMLP_ACT_SATURATES, .init = TMLP_INIT_HE_UNIFORM,
      .n_kinks = 2, .kinks = { 0.0f, 6.0f },
      .forward = relu6_forward, .backward = relu6_backward },
    { .name = "leaky_relu", .formula = "x if x > 0 else a*x  (a = 0.01; leaky_relu:a)",
      .range = "(-inf, inf)", .flags = TMLP_ACT_HAS_ARG, .arg = 0.01f,
      .init = TMLP_INIT_HE_UNIFORM, .n_kinks = 1, .kinks = { 0.0f },
      .forward = leaky_relu_forward, .backward = leaky_relu_backward },
    { .name = "prelu", .formula = "x if x > 0 else a_j*x  (a_j learnable per unit, from 0.25)",
      .range = "(-inf, inf)", .params = TMLP_ACT_PARAM_PER_UNIT, .param_init = PRELU_INIT,
      .init = TMLP_INIT_HE_UNIFORM, .n_kinks = 1, .kinks = { 0.0f },
      .forward = prelu_forward, .backward = prelu_backward },
    { .name = NULL }
};
