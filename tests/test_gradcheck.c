/* test_gradcheck.c: the gradient checker itself. It must pass right gradients (including
 * learnable parameters and row-wise functions) and fail wrong ones, even slightly wrong ones;
 * the checks of every built-in activation live in test_act.c. */
#include <string.h>

#include "testutil.h"

/* ---- user activations with right and wrong derivatives ----------------------------------- */

/* f(x) = x sigma(b x) with a shared learnable b; `wrong` scales one of its gradients. */
static float wrong_dx = 1.0f, wrong_dparam = 1.0f;

static void gswish_forward(int rows, int cols, const float *x, float *y, float arg,
                           const float *param)
{
    (void)arg;
    float b = param ? param[0] : 1.0f;
    for (int i = 0; i < rows * cols; i++)
        y[i] = x[i] / (1.0f + expf(-b * x[i]));
}

static void gswish_backward(int rows, int cols, const float *x, const float *y,
                            const float *dy, float *dx, float arg, const float *param,
                            float *dparam)
{
    (void)y; (void)arg;
    float b = param ? param[0] : 1.0f;
    double db = 0.0;
    for (int i = 0; i < rows * cols; i++) {
        float s = 1.0f / (1.0f + expf(-b * x[i]));
        dx[i] = wrong_dx * dy[i] * (s + b * x[i] * s * (1.0f - s));
        db += (double)dy[i] * x[i] * x[i] * s * (1.0f - s);
    }
    if (dparam)
        dparam[0] = wrong_dparam * (float)db;
}

static const tmlp_act gswish = { .name = "user_gswish", .params = TMLP_ACT_PARAM_SHARED,
                                 .param_init = 1.2f, .forward = gswish_forward,
                                 .backward = gswish_backward };

/* Row-wise softmax whose backward forgets the -<dy, y> term when `forget` is set. */
static int forget;

static void rsoftmax_forward(int rows, int cols, const float *x, float *y, float arg,
                             const float *param)
{
    (void)arg; (void)param;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols, mx = xr[0];
        for (int j = 1; j < cols; j++)
            mx = fmaxf(mx, xr[j]);
        double sum = 0.0;
        for (int j = 0; j < cols; j++)
            sum += exp((double)xr[j] - mx);
        for (int j = 0; j < cols; j++)
            yr[j] = (float)(exp((double)xr[j] - mx) / sum);
    }
}

static void rsoftmax_backward(int rows, int cols, const float *x, const float *y,
                              const float *dy, float *dx, float arg, const float *param,
                              float *dparam)
{
    (void)x; (void)arg; (void)param; (void)dparam;
    for (int r = 0; r < rows; r++) {
        double dot = 0.0;
        for (int j = 0; j < cols; j++)
            dot += (double)dy[r * cols + j] * y[r * cols + j];
        for (int j = 0; j < cols; j++)
            dx[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - (forget ? 0.0f : (float)dot));
    }
}

static const tmlp_act rsoftmax = { .name = "user_rsoftmax", .flags = TMLP_ACT_ROWWISE,
                                   .forward = rsoftmax_forward, .backward = rsoftmax_backward };

static tmlp_gradcheck_result check(const tmlp_act *a, float arg)
{
    tmlp_gradcheck_result r;
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_gradcheck_act(a, arg, 0.0f, 0.0, &r, &err) == TMLP_OK, "%s", err.msg);
    return r;
}

START_TEST(gradcheck_act_rejects_an_incomplete_definition)
{
    tmlp_gradcheck_result r;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_gradcheck_act(NULL, 0.0f, 0.0f, 0.0, &r, &err), TMLP_EINVAL);
    tmlp_act half = { .name = "user_half", .forward = gswish_forward };
    ck_assert_int_eq(tmlp_gradcheck_act(&half, 0.0f, 0.0f, 0.0, &r, &err), TMLP_EINVAL);
    ck_assert_int_eq(r.n_checked, 0);
}
END_TEST

START_TEST(gradcheck_act_uses_the_default_tolerance_and_many_points)
{
    tmlp_gradcheck_result r = check(tmlp_act_find("tanh"), 0.0f);
    ck_assert(r.tol == 2e-3);
    ck_assert_int_ge(r.n_checked, 80);   /* two rows of 41 points: 33 in [-8, 8], 8 in the tails */
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_gradcheck_act(tmlp_act_find("tanh"), 0.0f, 3.0f, 1e-4, &r, &err), TMLP_OK);
    ck_assert(r.tol == 1e-4);
    ck_assert_int_eq(r.n_failed, 0);
    /* kinks add points on both sides of each */
    tmlp_gradcheck_result k = check(tmlp_act_find("relu6"), 0.0f);
    ck_assert_int_ge(k.n_checked, r.n_checked + 16);
    ck_assert_int_eq(k.n_failed, 0);
}
END_TEST

START_TEST(gradcheck_act_passes_right_parameter_gradients)
{
    wrong_dx = wrong_dparam = 1.0f;
    tmlp_gradcheck_result r = check(&gswish, 0.0f);
    ck_assert_int_eq(r.n_failed, 0);
    ck_assert(r.sum_abs_grad > 1e-3);
}
END_TEST

START_TEST(gradcheck_act_fails_a_wrong_parameter_gradient)
{
    wrong_dx = 1.0f;
    wrong_dparam = 1.05f;   /* 5% off, on the one parameter only */
    tmlp_gradcheck_result r = check(&gswish, 0.0f);
    wrong_dparam = 1.0f;
    ck_assert_int_eq(r.n_failed, 1);
}
END_TEST

START_TEST(gradcheck_act_fails_a_slightly_wrong_derivative)
{
    wrong_dparam = 1.0f;
    wrong_dx = 1.01f;       /* 1% off everywhere */
    tmlp_gradcheck_result r = check(&gswish, 0.0f);
    wrong_dx = 1.0f;
    ck_assert_int_gt(r.n_failed, r.n_checked / 2);
}
END_TEST

START_TEST(gradcheck_act_judges_rowwise_functions)
{
    forget = 0;
    tmlp_gradcheck_result r = check(&rsoftmax, 0.0f);
    ck_assert_int_eq(r.n_failed, 0);
    ck_assert(r.sum_abs_grad > 1e-3);
    forget = 1;
    r = check(&rsoftmax, 0.0f);
    forget = 0;
    ck_assert_int_gt(r.n_failed, 0);
}
END_TEST

/* ---- whole nets -------------------------------------------------------------------------- */

/* Smallest distance of any pre-activation to a kink of its layer's activation, after the
 * last forward (infinity when no layer has kinks). */
static double kink_margin(const tmlp_net *net, int n_layers)
{
    double margin = INFINITY;
    for (int l = 0; l < n_layers; l++) {
        tmlp_layer_view v;
        ck_assert_int_eq(tmlp_net_layer(net, l, &v, NULL), TMLP_OK);
        for (int i = 0; i < v.batch * v.n_out; i++)
            for (int k = 0; k < v.act->n_kinks; k++)
                margin = fmin(margin, fabs((double)v.z[i] - v.act->kinks[k]));
    }
    return margin;
}

/* Builds a 3-inputs net with `layers` and n_out outputs and checks every parameter's gradient.
 * A central difference across a corner of relu-like activations measures a blend of the two
 * slopes, so the seed (weights and inputs) is the first one that keeps every pre-activation
 * 0.05 away from its activation's kinks: nudging one parameter by the checker's 5e-3 then
 * cannot carry any of them across. */
static void net_check(const char *layers, int loss, int n_out, int want_fail)
{
    enum { B = 6, N_IN = 3 };
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, N_IN, loss);
    ck_assert_msg(tmlp_net_spec_parse(&spec, layers, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(tmlp_net_spec_add(&spec, n_out, NULL, 0.0f, &err), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, B, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng rng;
    float x[B * N_IN];
    int label[B];
    for (uint64_t seed = 1;; seed++) {
        ck_assert_msg(seed < 500, "%s: no seed keeps the pre-activations off the kinks", layers);
        tmlp_rng_seed(&rng, seed, 2);
        ck_assert_int_eq(tmlp_net_init(net, &rng, &err), TMLP_OK);
        for (int i = 0; i < B * N_IN; i++)
            x[i] = 2.0f * tmlp_rng_uniform(&rng) - 1.0f;
        ck_assert_ptr_nonnull(tmlp_net_forward(net, x, B, &err));
        if (kink_margin(net, spec.n_layers) > 0.05)
            break;
    }
    for (int i = 0; i < B; i++)
        label[i] = i % n_out;
    tmlp_gradcheck_result r;
    /* tol 5e-3, not the default 2e-3: the net's float32 forward makes the loss's central
     * difference (step 5e-3) noisy by up to ~2e-5 absolute, which at the checker's 1e-2 floor
     * is already 2e-3 (seen with log_softmax in a hidden layer). A wrong gradient is off by
     * far more (the failing case below is 30% off). */
    ck_assert_int_eq(tmlp_gradcheck_net(net, x, B, label, NULL, 5e-3, &rng, &r, &err), TMLP_OK);
    if (want_fail) {
        ck_assert_msg(r.n_failed > 0, "%s: a wrong gradient passed", layers);
    } else {
        ck_assert_msg(r.n_failed == 0, "%s: %d of %d off, worst %.3g at parameter %g", layers,
                      r.n_failed, r.n_checked, r.max_err, r.worst_x);
        ck_assert(r.sum_abs_grad > 1e-3);
    }
    tmlp_net_free(net);
}

START_TEST(gradcheck_net_passes_nets_with_learnable_activations)
{
    net_check("5:prelu,4:swish_learnable", TMLP_LOSS_SOFTMAX_CE, 3, 0);
    net_check("4:swish_learnable,5:prelu", TMLP_LOSS_MSE, 2, 0);
    net_check("4:selu,4:gelu", TMLP_LOSS_SOFTMAX_CE, 2, 0);
    net_check("4:mish,3:elu:0.5,4:softplus:2", TMLP_LOSS_SIGMOID_BCE, 1, 0);
    net_check("4:gelu_tanh,5:log_softmax", TMLP_LOSS_SOFTMAX_CE, 2, 0);
    net_check("4:celu:0.7,5:softmax", TMLP_LOSS_SOFTMAX_CE, 3, 0);
    net_check("4:hardtanh,4:leaky_relu:0.2,3:silu", TMLP_LOSS_MSE, 2, 0);
}
END_TEST

START_TEST(gradcheck_net_catches_a_wrong_activation_gradient)
{
    static int registered;
    if (!registered) {
        tmlp_err err = { 0 };
        ck_assert_msg(tmlp_act_register(&gswish, &err) == TMLP_OK, "%s", err.msg);
        registered = 1;
    }
    wrong_dx = 1.0f;
    wrong_dparam = 1.3f;
    net_check("4:user_gswish", TMLP_LOSS_SOFTMAX_CE, 2, 1);
    wrong_dparam = 1.0f;
    net_check("4:user_gswish", TMLP_LOSS_SOFTMAX_CE, 2, 0);
}
END_TEST

/* ---- whole nets, tensor by tensor ---------------------------------------------------------- */

/* Checks every tensor of a 4-input net with hidden `layers`, n_out outputs and loss, on a
 * batch of 8 in training mode (dropout masks drawn by the first forward, then replayed). */
static int tensors_check(const char *layers, int loss, int n_out, tmlp_gradcheck_tensor *t,
                         int *n_t)
{
    enum { B = 8, N_IN = 4 };
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, N_IN, loss);
    ck_assert_msg(tmlp_net_spec_parse_hidden(&spec, layers, NULL, 0.0f, &err) == TMLP_OK, "%s",
                  err.msg);
    ck_assert_int_eq(tmlp_net_spec_add(&spec, n_out, NULL, 0.0f, &err), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, B, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 3, 2);
    ck_assert_int_eq(tmlp_net_init(net, &rng, &err), TMLP_OK);
    float x[B * N_IN], target[B * 4];
    int label[B];
    for (int i = 0; i < B * N_IN; i++)
        x[i] = 2.0f * tmlp_rng_uniform(&rng) - 1.0f;
    for (int i = 0; i < B; i++)
        label[i] = i % n_out;
    for (int i = 0; i < B * n_out; i++)
        target[i] = tmlp_rng_uniform(&rng);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    size_t np;
    float before = tmlp_net_params(net, &np)[0];
    ck_assert_msg(tmlp_gradcheck_net_tensors(net, x, B, label, target, 0.0, t, n_t, &err) ==
                  TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(tmlp_net_mode(net), TMLP_MODE_TRAIN); /* restored */
    ck_assert_float_eq(tmlp_net_params(net, NULL)[0], before);
    size_t covered = 0;
    int failed = 0;
    for (int k = 0; k < *n_t; k++) {
        covered += t[k].n;
        failed += t[k].n_failed > 0;
    }
    ck_assert_uint_eq(covered, np); /* every parameter belongs to one tensor */
    tmlp_net_free(net);
    return failed;
}

START_TEST(gradcheck_net_tensors_pass_bn_dropout_prelu_swish_for_every_loss)
{
    static const char *const want[] = {
        "layers.0.weight", "layers.0.bias", "layers.0.bn_weight", "layers.0.bn_bias",
        "layers.0.act_param", "layers.1.weight", "layers.1.bias", "layers.1.act_param",
        "layers.2.weight", "layers.2.bias",
    };
    for (int loss = 0; loss < TMLP_LOSS_COUNT; loss++) {
        tmlp_gradcheck_tensor t[TMLP_GRADCHECK_MAX_TENSORS];
        int n_t;
        int n_out = loss == TMLP_LOSS_SIGMOID_BCE ? 1 : 3;
        int failed = tensors_check("8:prelu:bn:drop0.3,6:swish_learnable", loss, n_out, t, &n_t);
        ck_assert_int_eq(n_t, 10);
        for (int k = 0; k < n_t; k++) {
            ck_assert_str_eq(t[k].name, want[k]);
            ck_assert_msg(t[k].n_failed == 0, "%s, %s: %d off, worst %.3g", tmlp_loss_name(loss),
                          t[k].name, t[k].n_failed, t[k].max_rel);
            ck_assert_msg(t[k].max_rel <= TMLP_GRADCHECK_NET_TOL, "%s", t[k].name);
            if (strcmp(t[k].name, "layers.0.bias")) /* BN cancels the bias before it */
                ck_assert_msg(t[k].sum_abs_grad > 1e-4, "%s: all zero", t[k].name);
        }
        ck_assert_int_eq(failed, 0);
    }
}
END_TEST

START_TEST(gradcheck_net_tensors_name_the_tensor_with_a_wrong_gradient)
{
    static int registered;
    if (!registered) {
        tmlp_err err = { 0 };
        ck_assert_msg(tmlp_act_register(&gswish, &err) == TMLP_OK || tmlp_act_find("user_gswish"),
                      "%s", err.msg);
        registered = 1;
    }
    tmlp_gradcheck_tensor t[TMLP_GRADCHECK_MAX_TENSORS];
    int n_t;
    wrong_dparam = 1.3f; /* only the parameter gradient is wrong */
    ck_assert_int_gt(tensors_check("5:user_gswish:bn", TMLP_LOSS_MSE, 2, t, &n_t), 0);
    for (int k = 0; k < n_t; k++)
        ck_assert_int_eq(t[k].n_failed > 0, strcmp(t[k].name, "layers.0.act_param") == 0);
    wrong_dparam = 1.0f;
    wrong_dx = 1.05f; /* 5% off in the input derivative: every tensor below it is off */
    tensors_check("5:user_gswish:bn", TMLP_LOSS_MSE, 2, t, &n_t);
    ck_assert_str_eq(t[0].name, "layers.0.weight");
    ck_assert_int_gt(t[0].n_failed, 0);
    wrong_dx = 1.0f;
    ck_assert_int_eq(tensors_check("5:user_gswish:bn", TMLP_LOSS_MSE, 2, t, &n_t), 0);
}
END_TEST

/* A unit sitting 1e-3 from relu's corner: probing its bias by 5e-3 crosses it, and the
 * difference quotient (a blend of slopes 0 and 1) is skipped, not held against the gradient. */
START_TEST(gradcheck_net_tensors_skip_probes_across_a_kink)
{
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 1, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "2:relu,1", &err), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, 1, &err);
    ck_assert_ptr_nonnull(net);
    float *p = tmlp_net_params(net, NULL);
    p[0] = 1.0f; p[1] = 2.0f;   /* W0 */
    p[2] = -0.999f; p[3] = 0.5f; /* b0: unit 0's input is 1e-3 */
    p[4] = 1.0f; p[5] = 1.0f;   /* W1 */
    p[6] = 0.0f;                /* b1 */
    float x[1] = { 1.0f }, target[1] = { -1.0f };
    tmlp_gradcheck_tensor t[TMLP_GRADCHECK_MAX_TENSORS];
    int n_t;
    ck_assert_int_eq(tmlp_gradcheck_net_tensors(net, x, 1, NULL, target, 0.0, t, &n_t, &err),
                     TMLP_OK);
    ck_assert_str_eq(t[1].name, "layers.0.bias");
    ck_assert_int_eq(t[1].n_skipped, 1);
    ck_assert_int_eq(t[0].n_skipped, 1); /* W0[0] moves that input by 5e-3 too */
    for (int k = 0; k < n_t; k++)
        ck_assert_msg(t[k].n_failed == 0, "%s", t[k].name);
    ck_assert_int_eq(t[2].n_skipped + t[3].n_skipped, 0);
    tmlp_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gradcheck");
    TMLP_ADD(s, gradcheck_act_rejects_an_incomplete_definition);
    TMLP_ADD(s, gradcheck_act_uses_the_default_tolerance_and_many_points);
    TMLP_ADD(s, gradcheck_act_passes_right_parameter_gradients);
    TMLP_ADD(s, gradcheck_act_fails_a_wrong_parameter_gradient);
    TMLP_ADD(s, gradcheck_act_fails_a_slightly_wrong_derivative);
    TMLP_ADD(s, gradcheck_act_judges_rowwise_functions);
    TMLP_ADD(s, gradcheck_net_passes_nets_with_learnable_activations);
    TMLP_ADD(s, gradcheck_net_catches_a_wrong_activation_gradient);
    TMLP_ADD(s, gradcheck_net_tensors_pass_bn_dropout_prelu_swish_for_every_loss);
    TMLP_ADD(s, gradcheck_net_tensors_name_the_tensor_with_a_wrong_gradient);
    TMLP_ADD(s, gradcheck_net_tensors_skip_probes_across_a_kink);
    return s;
}

TMLP_TEST_MAIN()
