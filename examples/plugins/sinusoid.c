/* sinusoid.c: an activation plugin, f(x) = sin(x), f'(x) = cos(x).
 *
 * Build:  make plugin SRC=examples/plugins/sinusoid.c     (gives build/plugins/sinusoid.so)
 * Check:  build/tinymlp gradcheck sinusoid --plugin build/plugins/sinusoid.so
 * Use:    build/tinymlp train --data xor --layers 4:sinusoid --plugin build/plugins/sinusoid.so
 * docs/custom-activations.md walks through it. */
#include <math.h>

#include <tinymlp/plugin.h>

/* y = sin(x) over a (rows, cols) block. */
static void sinusoid_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)arg, (void)param;
    for (int i = 0; i < rows * cols; i++)
        y[i] = sinf(x[i]);
}

/* dx = dy ⊙ cos(x). */
static void sinusoid_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)y, (void)arg, (void)param, (void)dparam;
    for (int i = 0; i < rows * cols; i++)
        dx[i] = dy[i] * cosf(x[i]);
}

static const tmlp_act sinusoid = {
    .name = "sinusoid",
    .formula = "sin(x)",
    .range = "[-1, 1]",
    .forward = sinusoid_forward,
    .backward = sinusoid_backward,
};

TMLP_PLUGIN_EXPORT int tmlp_plugin_init(tmlp_plugin_api *api)
{
    return tmlp_plugin_add(api, &sinusoid);
}
