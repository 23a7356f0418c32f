/* act/basic.c: the identity. */
#include <string.h>

#include "act_impl.h"

/* reference: torch.nn.Identity */
static void identity_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)arg; (void)param;
    if (y != x)
        memcpy(y, x, (size_t)rows * (size_t)cols * sizeof *y);     /* f(x) = x */
}

static void identity_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)x; (void)y; (void)arg; (void)param; (void)dparam;
    if (dx != dy)
        memcpy(dx, dy, (size_t)rows * (size_t)cols * sizeof *dx);  /* f'(x) = 1 */
}

const tmlp_act tmlp_acts_basic[] = {
    { .name = "identity", .formula = "x", .range = "(-inf, inf)",
      .forward = identity_forward, .backward = identity_backward },
    { .name = NULL }
};
