/* broken_sin.c: an activation plugin with a classic mistake, for gradcheck to catch.
 *
 * f(x) = sin(x), but the backward uses the cached output y where it needs the input x:
 * dx = dy ⊙ cos(y) instead of dy ⊙ cos(x). Training still "works", only worse, which is
 * why the mistake survives without a check:
 *
 *     make plugin SRC=examples/plugins/broken_sin.c
 *     build/tinymlp gradcheck broken_sin --plugin build/plugins/broken_sin.so   # exit 1 */
#include <math.h>

#include <tinymlp/plugin.h>

static void broken_forward(int rows, int cols, const float *x, float *y, float arg,
                           const float *param)
{
    (void)arg, (void)param;
    for (int i = 0; i < rows * cols; i++)
        y[i] = sinf(x[i]);
}

static void broken_backward(int rows, int cols, const float *x, const float *y,
                            const float *dy, float *dx, float arg, const float *param,
                            float *dparam)
{
    (void)x, (void)arg, (void)param, (void)dparam;
    for (int i = 0; i < rows * cols; i++)
        dx[i] = dy[i] * cosf(y[i]); /* wrong: should be cosf(x[i]) */
}

static const tmlp_act broken_sin = {
    .name = "broken_sin",
    .formula = "sin(x), with a wrong derivative",
    .range = "[-1, 1]",
    .forward = broken_forward,
    .backward = broken_backward,
};

TMLP_PLUGIN_EXPORT int tmlp_plugin_init(tmlp_plugin_api *api)
{
    return tmlp_plugin_add(api, &broken_sin);
}
