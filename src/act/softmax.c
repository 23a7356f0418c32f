/* act/softmax.c: row-wise softmax. As a loss's output link it is fused into softmax_ce
 * (loss.c); this definition is for nets trained with another loss and for inspection. */
#include <math.h>

#include "act_impl.h"

/* reference: torch.nn.Softmax(dim=1). Shifts by the row maximum so exp never overflows. */
static void softmax_forward(int rows, int cols, const float *x, float *y, float arg,
                            const float *param)
{
    (void)arg; (void)param;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long)r * cols;
        float *yr = y + (long)r * cols;
        float mx = xr[0];
        for (int j = 1; j < cols; j++)
            mx = xr[j] > mx ? xr[j] : mx;
        double sum = 0.0;
        for (int j = 0; j < cols; j++) {
            yr[j] = expf(xr[j] - mx);
            sum += yr[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < cols; j++)
            yr[j] *= inv;                               /* y_j = e^(x_j) / sum_k e^(x_k) */
    }
}

static void softmax_backward(int rows, int cols, const float *x, const float *y,
                             const float *dy, float *dx, float arg, const float *param,
                             float *dparam)
{
    (void)x; (void)arg; (void)param; (void)dparam;
    for (int r = 0; r < rows; r++) {
        const float *yr = y + (long)r * cols, *dyr = dy + (long)r * cols;
        float *dxr = dx + (long)r * cols;
        double dot = 0.0;
        for (int j = 0; j < cols; j++)
            dot += (double)dyr[j] * yr[j];
        for (int j = 0; j < cols; j++)
            dxr[j] = yr[j] * (dyr[j] - (float)dot);     /* dx = y ⊙ (dy - <dy, y>) */
    }
}

const tmlp_act tmlp_acts_softmax[] = {
    { .name = "softmax", .formula = "exp(x_j) / sum_k exp(x_k)  (per row)", .range = "(0, 1), rows sum to 1",
      .flags = TMLP_ACT_ROWWISE | TMLP_ACT_SATURATES, .init = TMLP_INIT_GLOROT_UNIFORM,
      .forward = softmax_forward, .backward = softmax_backward },
    { .name = NULL }
};
