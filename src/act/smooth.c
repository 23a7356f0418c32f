/* act/smooth.c: smooth rectifiers and self-gated units: softplus, gelu, gelu_tanh, silu,
 * swish, swish_learnable and mish.
 *
 * Each is x (or log(1 + e^x)) times a gate that goes from 0 to 1, so for x << 0 the value is
 * a tiny product whose relative accuracy depends on every rounding inside the gate: gelu(-5)
 * changes 27 times faster, relatively, than x does. These functions therefore work in double
 * inside and round once at the end, and every gate is written so that no exp can overflow
 * and nothing cancels: sigma(z) and sigma(-z) both come from e = exp(-|z|), and
 * tanh(softplus(x)) from n = e^x as n(n + 2) / (n(n + 2) + 2). */
#include <math.h>

#include "act_impl.h"

#define SQRT1_2 0.70710678118654752440084436210485     /* 1/sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267793994605993438 /* 1/sqrt(2 pi) */
#define SQRT_2_PI 0.79788456080286535587989211986876    /* sqrt(2/pi) */
#define GELU_KAPPA 0.044715
#define SOFTPLUS_THRESHOLD 20.0                        /* PyTorch's default threshold */

/* s = sigma(z) = 1 / (1 + e^-z) and sm = sigma(-z) = 1 - s, both without cancellation. */
static inline void gate(double z, double *s, double *sm)
{
    double e = tmlp_act_exp(-fabs(z)), d = 1.0 / (1.0 + e);
    *s = z >= 0.0 ? d : e * d;
    *sm = z >= 0.0 ? e * d : d;
}

/* reference: torch.nn.Softplus(beta = arg, threshold = 20): linear where beta x > 20 */
TMLP_HOT static void softplus_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double bx = (double)arg * x[i];             /* f(x) = log(1 + e^(b x)) / b */
        y[i] = bx > SOFTPLUS_THRESHOLD ? x[i]
                                       : tmlp_act_sat((log1p(exp(-fabs(bx))) + fmax(bx, 0.0)) / arg);
    }
}

TMLP_HOT static void softplus_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)y; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double bx = (double)arg * x[i], s, sm;
        gate(bx, &s, &sm);                          /* f'(x) = sigma(b x), 1 where b x > 20 */
        dx[i] = bx > SOFTPLUS_THRESHOLD ? dy[i] : (float)(dy[i] * s);
    }
}

/* reference: torch.nn.GELU(approximate='none'). Phi(x) = erfc(-x/sqrt 2) / 2 has no
 * cancellation for x < 0, where 1 + erf(x/sqrt 2) would. */
TMLP_HOT static void gelu_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++)                    /* f(x) = x Phi(x) */
        y[i] = (float)(x[i] * (0.5 * erfc(-x[i] * SQRT1_2)));
}

TMLP_HOT static void gelu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double v = x[i], cdf = 0.5 * erfc(-v * SQRT1_2), pdf = INV_SQRT_2PI * exp(-0.5 * v * v);
        dx[i] = (float)(dy[i] * (cdf + v * pdf));   /* f'(x) = Phi(x) + x phi(x) */
    }
}

/* reference: torch.nn.GELU(approximate='tanh'). With u = sqrt(2/pi) (x + 0.044715 x^3),
 * (1 + tanh u) / 2 = sigma(2u), which the gate evaluates without cancellation. */
TMLP_HOT static void gelu_tanh_forward(int rows, int cols, const float *x, float *y, float arg,
                              const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double v = x[i], u = SQRT_2_PI * (v + GELU_KAPPA * v * v * v), s, sm;
        gate(2.0 * u, &s, &sm);
        y[i] = (float)(v * s);                      /* f(x) = x (1 + tanh u) / 2 = x sigma(2u) */
    }
}

TMLP_HOT static void gelu_tanh_backward(int rows, int cols, const float *x, const float *y,
                               const float *dy, float *dx, float arg, const float *param,
                               float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double v = x[i], u = SQRT_2_PI * (v + GELU_KAPPA * v * v * v), s, sm;
        double du = SQRT_2_PI * (1.0 + 3.0 * GELU_KAPPA * v * v);
        gate(2.0 * u, &s, &sm);                     /* f'(x) = sigma(2u) + x sigma(2u) sigma(-2u) 2u' */
        dx[i] = (float)(dy[i] * (s + v * (s * sm) * 2.0 * du));
    }
}

/* x sigma(b x) and its derivative for a gate slope b: shared by silu and the swishes. */
static void swish_forward_b(long n, const float *x, float *y, double b)
{
    for (long i = 0; i < n; i++) {
        double s, sm;
        gate(b * x[i], &s, &sm);
        y[i] = (float)(x[i] * s);                   /* f(x) = x sigma(b x) */
    }
}

static void swish_backward_b(long n, const float *x, const float *dy, float *dx, double b)
{
    for (long i = 0; i < n; i++) {
        double bx = b * x[i], s, sm;
        gate(bx, &s, &sm);                          /* f'(x) = sigma(bx) + b x sigma(bx) sigma(-bx) */
        dx[i] = (float)(dy[i] * (s + bx * s * sm));
    }
}

/* reference: torch.nn.SiLU */
TMLP_HOT static void silu_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    swish_forward_b((long)rows * cols, x, y, 1.0);  /* f(x) = x sigma(x) */
}

TMLP_HOT static void silu_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    swish_backward_b((long)rows * cols, x, dy, dx, 1.0); /* f'(x) = sigma(x) (1 + x sigma(-x)) */
}

/* reference: x * torch.sigmoid(beta * x) with a fixed beta = arg (Ramachandran et al. 2017,
 * "Searching for Activation Functions"); beta = 1 is torch.nn.SiLU */
TMLP_HOT static void swish_forward(int rows, int cols, const float *x, float *y, float arg,
                          const float *param)
{
    (void)param;
    swish_forward_b((long)rows * cols, x, y, arg);  /* f(x) = x sigma(b x) */
}

TMLP_HOT static void swish_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                           float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)param; (void)dparam;
    swish_backward_b((long)rows * cols, x, dy, dx, arg); /* f'(x) = sigma(bx) + bx sigma(bx) sigma(-bx) */
}

/* reference: x * torch.sigmoid(beta * x) with beta a torch.nn.Parameter shared by the layer,
 * starting at 1 (Ramachandran et al. 2017) */
TMLP_HOT static void swish_learnable_forward(int rows, int cols, const float *x, float *y, float arg,
                                    const float *param)
{
    (void)arg;
    swish_forward_b((long)rows * cols, x, y, param ? param[0] : 1.0f); /* f(x) = x sigma(b x) */
}

TMLP_HOT static void swish_learnable_backward(int rows, int cols, const float *x, const float *y,
                                     const float *dy, float *dx, float arg, const float *param,
                                     float *dparam)
{
    (void)y; (void)arg;
    double b = param ? param[0] : 1.0f, db = 0.0;
    long n = (long)rows * cols;
    swish_backward_b(n, x, dy, dx, b);              /* df/dx as for swish */
    if (!dparam)
        return;
    for (long i = 0; i < n; i++) {
        double v = x[i], s, sm;
        gate(b * v, &s, &sm);
        db += dy[i] * (v * v * s * sm);             /* df/db = x^2 sigma(bx) sigma(-bx), summed */
    }
    dparam[0] = tmlp_act_sat(db);
}

/* reference: torch.nn.Mish. t = tanh(softplus(x)) = n(n+2) / (n(n+2) + 2) with n = e^x,
 * rewritten with e = e^-x for x > 0 so nothing overflows; 1 - t^2 = 4(w+1)/(w+2)^2 with
 * w = n(n+2), likewise free of cancellation. */
static void mish_gate(double x, double *t, double *sech2)
{
    if (x <= 0.0) {
        double n = exp(x), w = n * (n + 2.0);
        *t = w / (w + 2.0);
        *sech2 = 4.0 * (w + 1.0) / ((w + 2.0) * (w + 2.0));
    } else {
        double e = exp(-x), q = 1.0 + 2.0 * e + 2.0 * e * e;
        *t = (1.0 + 2.0 * e) / q;
        *sech2 = 4.0 * (1.0 + e) * (1.0 + e) * e * e / (q * q);
    }
}

TMLP_HOT static void mish_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double t, sech2;
        mish_gate(x[i], &t, &sech2);
        y[i] = (float)(x[i] * t);                   /* f(x) = x tanh(softplus(x)) */
    }
}

TMLP_HOT static void mish_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    long n = (long)rows * cols;
    for (long i = 0; i < n; i++) {
        double t, sech2, s, sm;
        mish_gate(x[i], &t, &sech2);
        gate(x[i], &s, &sm);                        /* f'(x) = t + x sigma(x) (1 - t^2) */
        dx[i] = (float)(dy[i] * (t + x[i] * s * sech2));
    }
}

const tmlp_act tmlp_acts_smooth[] = {
    { .name = "softplus", .formula = "log(1 + exp(b*x)) / b, x where b*x > 20  (b = 1; softplus:b, b > 0)",
      .range = "(0, inf)", .flags = TMLP_ACT_HAS_ARG | TMLP_ACT_ARG_POSITIVE, .arg = 1.0f,
      .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = softplus_forward, .backward = softplus_backward },
    { .name = "gelu", .formula = "x * Phi(x) = x * (1 + erf(x / sqrt(2))) / 2",
      .range = "[-0.169971, inf)", .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = gelu_forward, .backward = gelu_backward },
    { .name = "gelu_tanh", .formula = "x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) / 2",
      .range = "[-0.170041, inf)", .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = gelu_tanh_forward, .backward = gelu_tanh_backward },
    { .name = "silu", .formula = "x * sigmoid(x)", .range = "[-0.278465, inf)",
      .init = TMLP_INIT_GLOROT_UNIFORM, .forward = silu_forward, .backward = silu_backward },
    { .name = "swish", .formula = "x * sigmoid(b*x)  (b = 1 fixed; swish:b)",
      .range = "[-0.278465/b, inf) for b > 0", .flags = TMLP_ACT_HAS_ARG, .arg = 1.0f,
      .init = TMLP_INIT_GLOROT_UNIFORM, .forward = swish_forward, .backward = swish_backward },
    { .name = "swish_learnable", .formula = "x * sigmoid(b*x)  (b learnable, one per layer, from 1)",
      .range = "[-0.278465/b, inf) for b > 0", .params = TMLP_ACT_PARAM_SHARED, .param_init = 1.0f,
      .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = swish_learnable_forward, .backward = swish_learnable_backward },
    { .name = "mish", .formula = "x * tanh(softplus(x))", .range = "[-0.308843, inf)",
      .init = TMLP_INIT_GLOROT_UNIFORM, .forward = mish_forward, .backward = mish_backward },
    { .name = NULL }
};
