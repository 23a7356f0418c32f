/* bent_identity.c: an activation plugin, f(x) = (sqrt(x² + 1) - 1) / 2 + x,
 * f'(x) = x / (2 sqrt(x² + 1)) + 1: smooth, unbounded both ways, slope between 1/2 and 3/2.
 *
 * Build:  make plugin SRC=examples/plugins/bent_identity.c   (build/plugins/bent_identity.so) */
#include <math.h>

#include <tinymlp/plugin.h>

static void bent_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg, (void)param;
    for (int i = 0; i < rows * cols; i++) {
        double v = x[i]; /* in double: x² overflows float beyond |x| ~ 1.8e19 */
        y[i] = (float)((sqrt(v * v + 1.0) - 1.0) / 2.0 + v);
    }
}

/* dx = dy ⊙ (x / (2 sqrt(x² + 1)) + 1). */
static void bent_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y, (void)arg, (void)param, (void)dparam;
    for (int i = 0; i < rows * cols; i++) {
        double v = x[i];
        dx[i] = dy[i] * (float)(v / (2.0 * sqrt(v * v + 1.0)) + 1.0);
    }
}

static const tmlp_act bent_identity = {
    .name = "bent_identity",
    .formula = "(sqrt(x^2 + 1) - 1) / 2 + x",
    .range = "(-inf, inf)",
    .forward = bent_forward,
    .backward = bent_backward,
};

TMLP_PLUGIN_EXPORT int tmlp_plugin_init(tmlp_plugin_api *api)
{
    return tmlp_plugin_add(api, &bent_identity);
}
