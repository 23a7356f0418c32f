/* test_net.c: layer specs, construction errors, forward against a naive computation, and the
 * gradient of every parameter against central differences of the loss. */
#include "testutil.h"

static tmlp_net *make(int n_in, int loss, const char *layers, int max_batch, uint64_t seed)
{
    tmlp_net_spec spec;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&spec, n_in, loss);
    ck_assert_msg(tmlp_net_spec_parse(&spec, layers, &err) == TMLP_OK, "%s", err.msg);
    tmlp_net *net = tmlp_net_new(&spec, max_batch, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 9);
    ck_assert_int_eq(tmlp_net_init(net, &r, &err), TMLP_OK);
    return net;
}

START_TEST(spec_parse_reads_units_activations_and_args)
{
    tmlp_net_spec s;
    tmlp_net_spec_init(&s, 784, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_parse(&s, "128:relu,64:leaky_relu:0.2,10", NULL), TMLP_OK);
    ck_assert_int_eq(s.n_layers, 3);
    ck_assert_int_eq(s.layer[0].units, 128);
    ck_assert_str_eq(s.layer[0].act->name, "relu");
    ck_assert_float_eq(s.layer[1].act_arg, 0.2f);
    ck_assert_ptr_null(s.layer[2].act);
}
END_TEST

START_TEST(spec_parse_names_the_bad_item)
{
    static const struct { const char *spec, *needle; int code; } bad[] = {
        { "0:relu", "layer 1", TMLP_EINVAL },
        { "8:relu,,4", "layer 2", TMLP_EINVAL },
        { "8:relu,", "layer 2", TMLP_EINVAL },
        { "8:swoosh", "unknown activation 'swoosh'", TMLP_ENOTFOUND },
        { "8:relu:0.5", "takes no", TMLP_EINVAL },
        { "8:leaky_relu:abc", "not a finite number", TMLP_EINVAL },
        { "x8", "units", TMLP_EINVAL },
        { "", "empty", TMLP_EINVAL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tmlp_net_spec s;
        tmlp_err err = { 0 };
        tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
        ck_assert_int_eq(tmlp_net_spec_parse(&s, bad[i].spec, &err), bad[i].code);
        ck_assert_msg(strstr(err.msg, bad[i].needle), "'%s' -> '%s'", bad[i].spec, err.msg);
    }
}
END_TEST

START_TEST(spec_parse_gives_bare_hidden_widths_relu)
{
    tmlp_net_spec s;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&s, 784, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_parse(&s, "128,64:drop0.1,10", &err), TMLP_OK);
    ck_assert_int_eq(s.n_layers, 3);
    ck_assert_str_eq(s.layer[0].act->name, TMLP_DEFAULT_ACT);
    ck_assert_str_eq(s.layer[1].act->name, "relu");
    ck_assert_float_eq(s.layer[1].dropout, 0.1f);
    ck_assert_ptr_null(s.layer[2].act); /* the output layer: the loss applies its link */
    /* linear only when written, under either name */
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse(&s, "8:identity,8:linear,4:tanh,1", &err), TMLP_OK);
    ck_assert_str_eq(s.layer[0].act->name, "identity");
    ck_assert_str_eq(s.layer[1].act->name, "identity");
    ck_assert_str_eq(s.layer[2].act->name, "tanh");
    ck_assert_ptr_null(s.layer[3].act);
    /* a hidden-only list: every bare width gets the default, or the caller's choice */
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse_hidden(&s, "8,4:sigmoid,2", NULL, 0.0f, &err), TMLP_OK);
    ck_assert_str_eq(s.layer[0].act->name, "relu");
    ck_assert_str_eq(s.layer[1].act->name, "sigmoid");
    ck_assert_str_eq(s.layer[2].act->name, "relu");
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse_hidden(&s, "8,2", tmlp_act_find("leaky_relu"), 0.3f,
                                                &err), TMLP_OK);
    ck_assert_str_eq(s.layer[1].act->name, "leaky_relu");
    ck_assert_float_eq(s.layer[1].act_arg, 0.3f);
}
END_TEST

START_TEST(spec_format_writes_linear_hidden_layers_out)
{
    tmlp_net_spec s, t;
    tmlp_err err = { 0 };
    char buf[128];
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_SIGMOID_BCE);
    ck_assert_int_eq(tmlp_net_spec_add(&s, 8, NULL, 0.0f, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_net_spec_parse(&s, "6,1", &err), TMLP_OK);
    tmlp_net_spec_format(&s, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "8:identity,6:relu,1");
    tmlp_net_spec_init(&t, 4, TMLP_LOSS_SIGMOID_BCE);
    ck_assert_int_eq(tmlp_net_spec_parse(&t, buf, &err), TMLP_OK); /* reads back the same */
    ck_assert_str_eq(t.layer[0].act->name, "identity");
    ck_assert_str_eq(t.layer[1].act->name, "relu");
    ck_assert_ptr_null(t.layer[2].act);
}
END_TEST

START_TEST(spec_parse_refuses_repeats_blanks_and_signs)
{
    static const struct { const char *spec, *needle; } bad[] = {
        { "4:drop0.5:drop0.1", "repeats the drop option" },
        { "4:relu:bn:bn", "repeats the bn option" },
        { "4:l1=1e-4:l1=0", "repeats the l1 option" },
        { "4:l2=1e-4:relu:l2=1", "repeats the l2 option" },
        { "4:", "empty field" },
        { "4::relu", "empty field" },
        { "8:relu,4:tanh:", "layer 2 \"4:tanh:\": empty field" },
        { " 4", "whitespace" },
        { "4 ,2", "whitespace" },
        { "4:relu ", "whitespace" },
        { "+4", "no sign" },
        { "4:leaky_relu:0.1:drop0.5:l2=0.0001:l1=0.00001:bn:", "empty field" }, /* past the quoted part */
        { "4:leaky_relu:0.1:drop0.5:l2=0.0001:l1=0.00001:bn x", "whitespace" },
        { "-4:relu", "no sign" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tmlp_net_spec s;
        tmlp_err err = { 0 };
        tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
        ck_assert_int_eq(tmlp_net_spec_parse(&s, bad[i].spec, &err), TMLP_EINVAL);
        ck_assert_msg(strstr(err.msg, bad[i].needle), "'%s' -> '%s'", bad[i].spec, err.msg);
    }
}
END_TEST

START_TEST(new_refuses_bad_specs)
{
    tmlp_net_spec s;
    tmlp_err err;
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&s, "8:relu,3:sigmoid", NULL);
    ck_assert_ptr_null(tmlp_net_new(&s, 16, &err)); /* fused loss wants raw outputs */
    ck_assert_ptr_nonnull(strstr(err.msg, "no activation"));
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&s, "8:relu,1", NULL);
    ck_assert_ptr_null(tmlp_net_new(&s, 16, &err));
    tmlp_net_spec_init(&s, 0, TMLP_LOSS_MSE);
    tmlp_net_spec_parse(&s, "1", NULL);
    ck_assert_ptr_null(tmlp_net_new(&s, 16, &err));
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
    ck_assert_ptr_null(tmlp_net_new(&s, 16, &err)); /* no layers */
    tmlp_net_spec_parse(&s, "2", NULL);
    ck_assert_ptr_null(tmlp_net_new(&s, 0, &err));
    ck_assert_ptr_null(tmlp_net_new(&s, -5, &err));
    tmlp_net_free(NULL);
}
END_TEST

START_TEST(forward_matches_naive_computation)
{
    tmlp_net *net = make(5, TMLP_LOSS_MSE, "7:tanh,3:sigmoid", 4, 3);
    float x[4 * 5];
    tmlp_rng r;
    tmlp_rng_seed(&r, 11, 0);
    for (int i = 0; i < 20; i++)
        x[i] = tmlp_rng_normal(&r);
    tmlp_layer_view l0, l1;
    tmlp_net_layer(net, 0, &l0, NULL);
    tmlp_net_layer(net, 1, &l1, NULL);
    for (int j = 0; j < 7; j++)
        l0.b[j] = 0.1f * (float)j; /* nonzero biases, so their broadcast is tested */
    const float *out = tmlp_net_forward(net, x, 4, NULL);
    ck_assert_ptr_nonnull(out);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++) {
            double z2 = l1.b[k];
            for (int j = 0; j < 7; j++) {
                double z1 = l0.b[j];
                for (int p = 0; p < 5; p++)
                    z1 += (double)x[i * 5 + p] * l0.W[j * 5 + p];
                z2 += tanh(z1) * l1.W[k * 7 + j];
            }
            ck_assert_close(out[i * 3 + k], 1.0 / (1.0 + exp(-z2)), 1e-5);
        }
    tmlp_net_free(net);
}
END_TEST

START_TEST(forward_refuses_bad_batch)
{
    tmlp_net *net = make(2, TMLP_LOSS_MSE, "3:relu,1", 4, 1);
    float x[10] = { 0 };
    tmlp_err err;
    ck_assert_ptr_null(tmlp_net_forward(net, x, 5, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "batch 5"));
    ck_assert_ptr_null(tmlp_net_forward(net, x, 0, &err));
    ck_assert_ptr_nonnull(tmlp_net_forward(net, x, 2, &err));
    float dz[4] = { 0 };
    ck_assert_int_eq(tmlp_net_backward(net, dz, 3, &err), TMLP_ESTATE);
    tmlp_net_free(net);
}
END_TEST

/* Every parameter of a small net, perturbed one at a time. Layer 2's input gradient
 * dX = dZ·W feeds layer 1's dW, so a wrong dX fails the check of layer 1's parameters. */
static void gradcheck(int loss, const char *layers, int n_out)
{
    const int n_in = 4, batch = 6;
    tmlp_net *net = make(n_in, loss, layers, batch, 21);
    tmlp_rng r;
    tmlp_rng_seed(&r, 77, 0);
    float x[6 * 4], t[6 * 3];
    int lab[6];
    for (int i = 0; i < batch * n_in; i++)
        x[i] = tmlp_rng_normal(&r);
    for (int i = 0; i < batch; i++)
        lab[i] = (int)tmlp_rng_below(&r, n_out == 1 ? 2 : (uint32_t)n_out);
    for (int i = 0; i < batch * n_out; i++)
        t[i] = tmlp_rng_uniform(&r);
    size_t np;
    tmlp_net_params(net, &np);
    for (size_t i = 0; i < np; i++) /* biases away from 0 too */
        tmlp_net_params(net, NULL)[i] += 0.05f * tmlp_rng_normal(&r);
    tmlp_gradcheck_result res;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_gradcheck_net(net, x, batch, loss == TMLP_LOSS_SOFTMAX_CE ? lab : NULL,
                                        loss == TMLP_LOSS_SOFTMAX_CE ? NULL : t, 1e-3, &r, &res, &err),
                     TMLP_OK);
    ck_assert_int_eq(res.n_checked, (int)np);
    ck_assert_msg(res.n_failed == 0, "%s %s: %d of %d parameters off, worst error %.3g at %g",
                  tmlp_loss_name(loss), layers, res.n_failed, res.n_checked, res.max_err, res.worst_x);
    ck_assert_msg(res.sum_abs_grad > 1e-3, "gradient is all zeros");
    tmlp_net_free(net);
}

START_TEST(dense_layers_pass_the_gradient_check_under_every_loss)
{
    gradcheck(TMLP_LOSS_SOFTMAX_CE, "5:tanh,4:sigmoid,3", 3);
    gradcheck(TMLP_LOSS_SIGMOID_BCE, "5:leaky_relu:0.3,3", 3);
    gradcheck(TMLP_LOSS_MSE, "5:tanh,3:sigmoid", 3);
    gradcheck(TMLP_LOSS_MSE, "5:sigmoid,3:softmax", 3);
    gradcheck(TMLP_LOSS_SIGMOID_BCE, "1", 1); /* a single layer: logistic regression */
}
END_TEST

START_TEST(predict_in_chunks_matches_single_batches)
{
    tmlp_net *net = make(3, TMLP_LOSS_SOFTMAX_CE, "6:relu,4", 4, 5);
    float x[11 * 3], all[11 * 4], one[4];
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 1);
    for (int i = 0; i < 33; i++)
        x[i] = tmlp_rng_normal(&r);
    ck_assert_int_eq(tmlp_net_predict(net, x, 11, all, NULL), TMLP_OK);
    for (int i = 0; i < 11; i++) {
        tmlp_net_predict(net, x + 3 * i, 1, one, NULL);
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            ck_assert_float_eq_tol(all[i * 4 + k], one[k], 1e-6f);
            sum += one[k];
        }
        ck_assert_close(sum, 1.0, 1e-6);
    }
    tmlp_net_free(net);
}
END_TEST

/* A net whose GEMMs and elementwise passes a team splits (teams of 2 and 3; batch 64 makes
 * every hidden layer's products large enough to split, and the two wide layers' activations,
 * bias broadcasts and bias gradients too; PReLU's backward, which sums its slopes' gradients
 * over rows, stays on one thread) computes the same outputs and gradients as one without, to
 * float rounding; and the batch-norm and dropout layers between them behave the same. */
START_TEST(a_team_changes_nothing_but_speed)
{
    const int n_in = 100, batch = 64;
    const char *layers = "1030:relu:bn,1024:prelu,80:tanh:drop0.25,10";
    tmlp_blas_threads(1); /* a team splits GEMMs only while OpenBLAS runs one thread */
    tmlp_rng r;
    tmlp_rng_seed(&r, 3, 3);
    float *x = malloc((size_t)batch * n_in * sizeof *x);
    int lab[64];
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < batch * n_in; i++)
        x[i] = tmlp_rng_normal(&r);
    for (int i = 0; i < batch; i++)
        lab[i] = (int)tmlp_rng_below(&r, 10);
    float out1[64 * 10], dz[64 * 10];
    size_t np;
    tmlp_net *ref = make(n_in, TMLP_LOSS_SOFTMAX_CE, layers, batch, 8);
    tmlp_net_set_mode(ref, TMLP_MODE_TRAIN);
    memcpy(out1, tmlp_net_forward(ref, x, batch, NULL), sizeof out1);
    tmlp_targets t = { lab, NULL };
    double loss;
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, out1, batch, 10, t, &loss, dz, NULL), TMLP_OK);
    ck_assert_int_eq(tmlp_net_backward(ref, dz, batch, NULL), TMLP_OK);
    const float *g1 = tmlp_net_grads(ref, &np);
    for (int threads = 2; threads <= 3; threads++) {
        tmlp_team *team = tmlp_team_new(threads, NULL);
        tmlp_net *net = make(n_in, TMLP_LOSS_SOFTMAX_CE, layers, batch, 8);
        tmlp_net_set_team(net, team);
        ck_assert_ptr_eq(tmlp_net_team(net), team);
        tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
        const float *out2 = tmlp_net_forward(net, x, batch, NULL);
        for (int i = 0; i < batch * 10; i++)
            ck_assert_float_eq_tol(out2[i], out1[i], 1e-5f);
        ck_assert_int_eq(tmlp_net_backward(net, dz, batch, NULL), TMLP_OK);
        const float *g2 = tmlp_net_grads(net, NULL);
        double worst = 0.0;
        for (size_t i = 0; i < np; i++) {
            double e = fabs((double)g2[i] - g1[i]) / (1e-3 + fabs((double)g1[i]));
            worst = e > worst ? e : worst;
        }
        ck_assert_msg(worst < 1e-4, "%d threads: gradients differ by %.3g (relative)", threads, worst);
        tmlp_net_free(net);
        tmlp_team_free(team);
    }
    tmlp_net_free(ref);
    free(x);
}
END_TEST

/* Forward (in `mode`) and backward of net on x (batch rows), against ref's: outputs and
 * gradients equal up to rounding. */
static void same_step(tmlp_net *ref, tmlp_net *net, const float *x, int batch, int mode,
                      const char *what)
{
    enum { N_OUT = 10 };
    float out1[64 * N_OUT], dz[64 * N_OUT];
    int lab[64];
    for (int i = 0; i < batch; i++)
        lab[i] = i % N_OUT;
    tmlp_targets t = { lab, NULL };
    double loss;
    tmlp_net_set_mode(ref, mode);
    tmlp_net_set_mode(net, mode);
    memcpy(out1, tmlp_net_forward(ref, x, batch, NULL), (size_t)batch * N_OUT * sizeof *out1);
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, out1, batch, N_OUT, t, &loss, dz, NULL), TMLP_OK);
    ck_assert_int_eq(tmlp_net_backward(ref, dz, batch, NULL), TMLP_OK);
    const float *out2 = tmlp_net_forward(net, x, batch, NULL);
    for (int i = 0; i < batch * N_OUT; i++)
        ck_assert_msg(fabsf(out2[i] - out1[i]) <= 1e-5f, "%s: output %d is %g, dense %g", what, i,
                      (double)out2[i], (double)out1[i]);
    ck_assert_int_eq(tmlp_net_backward(net, dz, batch, NULL), TMLP_OK);
    size_t np;
    const float *g1 = tmlp_net_grads(ref, &np), *g2 = tmlp_net_grads(net, NULL);
    for (size_t i = 0; i < np; i++)
        ck_assert_msg(fabs((double)g2[i] - g1[i]) <= 1e-4 * (1e-3 + fabs((double)g1[i])),
                      "%s: gradient %zu is %g, dense %g", what, i, (double)g2[i], (double)g1[i]);
}

/* Blank columns (zero in every row) of the skipping test's inputs, 200 columns: a blank border
 * and stripe (2 runs kept, 90 columns), or runs of one column at both edges (4 runs, 81). */
static int blank_border(int c) { return c < 50 || (c >= 100 && c < 110) || c >= 150; }
static int blank_inside(int c) { return c == 1 || (c >= 3 && c < 120) || c == 198; }

START_TEST(skipping_zero_input_columns_changes_nothing_but_speed)
{
    enum { N_IN = 200, BATCH = 64 };
    static const struct { int (*blank)(int); int kept; } pattern[] = {
        { blank_border, 90 }, { blank_inside, 81 },
    };
    /* a plain first layer, and one with batch norm and dropout (both nets draw the same masks) */
    static const char *const layers[] = { "256:relu,10", "64:tanh:bn:drop0.2:l2=0.01,10" };
    tmlp_blas_threads(1);
    tmlp_team *team = tmlp_team_new(2, NULL);
    ck_assert_ptr_nonnull(team);
    static float x[BATCH * N_IN], dense[BATCH * N_IN], zeros[BATCH * N_IN];
    tmlp_rng r;
    tmlp_rng_seed(&r, 4, 4);
    for (int k = 0; k < BATCH * N_IN; k++)
        dense[k] = tmlp_rng_normal(&r);
    for (size_t li = 0; li < 2; li++)
        for (size_t pi = 0; pi < 2; pi++)
            for (int threads = 1; threads <= 2; threads++) {
                char what[96];
                snprintf(what, sizeof what, "%s, pattern %zu, %d thread(s)", layers[li], pi, threads);
                /* elsewhere half the values are zero too, but no whole column */
                for (int i = 0; i < BATCH; i++)
                    for (int c = 0; c < N_IN; c++)
                        x[i * N_IN + c] = pattern[pi].blank(c) || (tmlp_rng_u32(&r) & 1 && i > 0)
                                              ? 0.0f : tmlp_rng_normal(&r);
                tmlp_net *ref = make(N_IN, TMLP_LOSS_SOFTMAX_CE, layers[li], BATCH, 8);
                tmlp_net *net = make(N_IN, TMLP_LOSS_SOFTMAX_CE, layers[li], BATCH, 8);
                tmlp_net_set_skip_zeros(ref, 0);
                tmlp_net_set_team(net, threads > 1 ? team : NULL);

                /* no blank column: dense; it leaves nonzero gradients everywhere */
                same_step(ref, net, dense, BATCH, TMLP_MODE_TRAIN, what);
                ck_assert_int_eq(tmlp_net_input_cols_used(net), N_IN);
                /* blank columns: skipped, and their weight gradients overwritten with exact
                 * zeros (but for the l2 penalty's); in training and in evaluation mode */
                for (int mode = TMLP_MODE_TRAIN; mode >= TMLP_MODE_EVAL; mode--) {
                    same_step(ref, net, x, BATCH, mode, what);
                    ck_assert_int_eq(tmlp_net_input_cols_used(ref), N_IN);
                    ck_assert_int_eq(tmlp_net_input_cols_used(net), pattern[pi].kept);
                    tmlp_layer_view v;
                    tmlp_net_layer(net, 0, &v, NULL);
                    for (int u = 0; u < v.n_out; u++)
                        for (int c = 0; c < N_IN; c++)
                            if (pattern[pi].blank(c) && li == 0)
                                ck_assert_msg(v.dW[u * N_IN + c] == 0.0f, "%s: dW[%d][%d] = %g", what,
                                              u, c, (double)v.dW[u * N_IN + c]);
                }
                /* an all-zero batch: Z is the bias alone, dW all zeros */
                same_step(ref, net, zeros, BATCH, TMLP_MODE_TRAIN, what);
                ck_assert_int_eq(tmlp_net_input_cols_used(net), 0);
                /* a batch of one row: too little to gain, dense */
                same_step(ref, net, x, 1, TMLP_MODE_EVAL, what);
                ck_assert_int_eq(tmlp_net_input_cols_used(net), N_IN);
                /* a NaN in a blank column is not skipped: it reaches Z */
                x[5 * N_IN + 1] = NAN;
                tmlp_net_set_mode(net, TMLP_MODE_EVAL);
                ck_assert_ptr_nonnull(tmlp_net_forward(net, x, BATCH, NULL));
                tmlp_layer_view v;
                tmlp_net_layer(net, 0, &v, NULL);
                ck_assert(isnan(v.z[5 * v.n_out]));
                ck_assert_int_eq(tmlp_net_input_cols_used(net), pattern[pi].kept + 1);
                /* turned off: dense again */
                tmlp_net_set_skip_zeros(net, 0);
                ck_assert_ptr_nonnull(tmlp_net_forward(net, x, BATCH, NULL));
                ck_assert_int_eq(tmlp_net_input_cols_used(net), N_IN);
                tmlp_net_free(net);
                tmlp_net_free(ref);
            }
    tmlp_team_free(team);

    /* a net whose first layer's weights and batch of inputs exceed 2^23 floats keeps no
     * gathered copies: it never skips */
    tmlp_net *big = make(1024, TMLP_LOSS_SOFTMAX_CE, "2", 16384, 1);
    static float one[4 * 1024];
    one[0] = 1.0f;
    ck_assert_ptr_nonnull(tmlp_net_forward(big, one, 4, NULL));
    ck_assert_int_eq(tmlp_net_input_cols_used(big), 1024);
    tmlp_net_free(big);
}
END_TEST

START_TEST(params_are_one_block_in_layer_order)
{
    tmlp_net *net = make(3, TMLP_LOSS_MSE, "4:tanh,2", 8, 5);
    size_t n;
    float *p = tmlp_net_params(net, &n);
    ck_assert_uint_eq(n, 4 * 3 + 4 + 2 * 4 + 2);
    tmlp_layer_view v0, v1;
    tmlp_net_layer(net, 0, &v0, NULL);
    tmlp_net_layer(net, 1, &v1, NULL);
    ck_assert_ptr_eq(v0.W, p);
    ck_assert_ptr_eq(v0.b, p + 12);
    ck_assert_ptr_eq(v1.W, p + 16);
    ck_assert_ptr_eq(v1.b, p + 24);
    ck_assert_ptr_eq(v1.dW, tmlp_net_grads(net, NULL) + 16);
    ck_assert_int_eq(tmlp_net_layer(net, 2, &v0, NULL), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_net_n_in(net), 3);
    ck_assert_int_eq(tmlp_net_n_out(net), 2);
    ck_assert_int_eq(tmlp_net_max_batch(net), 8);
    tmlp_net_free(net);
}
END_TEST

START_TEST(init_is_reproducible_for_a_seed)
{
    tmlp_net *a = make(10, TMLP_LOSS_MSE, "20:relu,5", 2, 99), *b = make(10, TMLP_LOSS_MSE, "20:relu,5", 2, 99);
    tmlp_net *c = make(10, TMLP_LOSS_MSE, "20:relu,5", 2, 100);
    size_t n;
    float *pa = tmlp_net_params(a, &n), *pb = tmlp_net_params(b, NULL), *pc = tmlp_net_params(c, NULL);
    ck_assert_int_eq(memcmp(pa, pb, n * sizeof *pa), 0);
    ck_assert_int_ne(memcmp(pa, pc, n * sizeof *pa), 0);
    tmlp_net_free(a);
    tmlp_net_free(b);
    tmlp_net_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("net");
    TMLP_ADD(s, spec_parse_reads_units_activations_and_args);
    TMLP_ADD(s, spec_parse_names_the_bad_item);
    TMLP_ADD(s, spec_parse_gives_bare_hidden_widths_relu);
    TMLP_ADD(s, spec_format_writes_linear_hidden_layers_out);
    TMLP_ADD(s, spec_parse_refuses_repeats_blanks_and_signs);
    TMLP_ADD(s, new_refuses_bad_specs);
    TMLP_ADD(s, forward_matches_naive_computation);
    TMLP_ADD(s, forward_refuses_bad_batch);
    TMLP_ADD(s, dense_layers_pass_the_gradient_check_under_every_loss);
    TMLP_ADD(s, predict_in_chunks_matches_single_batches);
    TMLP_ADD(s, a_team_changes_nothing_but_speed);
    TMLP_ADD(s, skipping_zero_input_columns_changes_nothing_but_speed);
    TMLP_ADD(s, params_are_one_block_in_layer_order);
    TMLP_ADD(s, init_is_reproducible_for_a_seed);
    return s;
}

TMLP_TEST_MAIN()
