/* test_regularize.c: dropout, batch normalisation and weight penalties inside the net. */
#include <stdio.h>
#include <unistd.h>

#include "testutil.h"

static tmlp_net *make(int n_in, int loss, const char *layers, int max_batch)
{
    tmlp_net_spec spec;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&spec, n_in, loss);
    ck_assert_msg(tmlp_net_spec_parse(&spec, layers, &err) == TMLP_OK, "%s", err.msg);
    tmlp_net *net = tmlp_net_new(&spec, max_batch, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng r;
    tmlp_rng_seed(&r, 3, 3);
    ck_assert_int_eq(tmlp_net_init(net, &r, &err), TMLP_OK);
    return net;
}

static void fill(float *x, int n, uint64_t seed)
{
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 0);
    for (int i = 0; i < n; i++)
        x[i] = tmlp_rng_normal(&r);
}

START_TEST(spec_format_round_trips_exact_floats)
{
    /* %g keeps 6 digits: 0.123456789f would come back as 0.123457f, another float. */
    tmlp_net_spec s, t;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_add(&s, 8, tmlp_act_find("relu"), 0.0f, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_net_spec_add(&s, 3, NULL, 0.0f, &err), TMLP_OK);
    s.layer[0].dropout = 0.123456789f;
    s.layer[0].l1 = 1.23456789e-5f;
    s.layer[0].l2 = 9.87654321e-4f;
    char buf[256];
    tmlp_net_spec_format(&s, 1, buf, sizeof buf);
    tmlp_net_spec_init(&t, 4, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_msg(tmlp_net_spec_parse(&t, buf, &err) == TMLP_OK, "%s: %s", buf, err.msg);
    ck_assert_int_eq(t.n_layers, 2);
    ck_assert_msg(t.layer[0].dropout == s.layer[0].dropout, "%s", buf);
    ck_assert_msg(t.layer[0].l1 == s.layer[0].l1, "%s", buf);
    ck_assert_msg(t.layer[0].l2 == s.layer[0].l2, "%s", buf);
}
END_TEST

START_TEST(spec_reads_dropout_bn_and_penalties_and_writes_them_back)
{
    tmlp_net_spec s;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_msg(tmlp_net_spec_parse(&s, "256:relu:bn:drop0.2:l2=1e-4,64:leaky_relu:0.1:drop0.5:l1=1e-05,10",
                                      &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(s.layer[0].batchnorm, 1);
    ck_assert_float_eq(s.layer[0].dropout, 0.2f);
    ck_assert_float_eq(s.layer[0].l2, 1e-4f);
    ck_assert_float_eq(s.layer[1].act_arg, 0.1f);
    ck_assert_float_eq(s.layer[1].dropout, 0.5f);
    ck_assert_float_eq(s.layer[1].l1, 1e-5f);
    char buf[256];
    tmlp_net_spec_format(&s, 1, buf, sizeof buf);
    ck_assert_str_eq(buf, "256:relu:bn:drop0.2:l2=0.0001,64:leaky_relu:0.1:drop0.5:l1=1e-05,10");
    tmlp_net_spec_format(&s, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "256:relu:bn:drop0.2,64:leaky_relu:0.1:drop0.5,10");
    static const char *bad[] = { "8:relu:drop1", "8:relu:drop-0.1", "8:relu:dropx", "8:relu:l2=-1",
                                 "8:relu:wat", "8:bn:relu:0.3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tmlp_net_spec_init(&s, 4, TMLP_LOSS_MSE);
        ck_assert_msg(tmlp_net_spec_parse(&s, bad[i], &err) != TMLP_OK, "%s accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "layer 1"));
    }
    tmlp_net_spec_init(&s, 4, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&s, "8:relu,3:drop0.5", NULL);
    ck_assert_ptr_null(tmlp_net_new(&s, 4, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "output layer cannot have dropout"));
}
END_TEST

START_TEST(dropout_scales_kept_units_and_is_identity_at_evaluation)
{
    const int batch = 64, n_in = 8;
    tmlp_net *net = make(n_in, TMLP_LOSS_MSE, "200:relu:drop0.25,1", batch);
    float x[64 * 8];
    fill(x, batch * n_in, 1);
    tmlp_layer_view v;
    tmlp_net_forward(net, x, batch, NULL); /* evaluation mode: no dropout */
    tmlp_net_layer(net, 0, &v, NULL);
    for (int k = 0; k < batch * 200; k++)
        ck_assert_float_eq(v.out[k], v.a[k]);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    tmlp_net_forward(net, x, batch, NULL);
    tmlp_net_layer(net, 0, &v, NULL);
    int dropped = 0, live = 0;
    for (int k = 0; k < batch * 200; k++) {
        if (v.a[k] == 0.0f)
            continue; /* relu zeros say nothing about the mask */
        live++;
        if (v.out[k] == 0.0f)
            dropped++;
        else
            ck_assert_float_eq_tol(v.out[k], v.a[k] / 0.75f, 1e-6f * fabsf(v.a[k]));
    }
    ck_assert_int_gt(live, 1000);
    ck_assert_close((double)dropped / live, 0.25, 0.1);
    tmlp_net_free(net);
}
END_TEST

/* An all-zero PCG32 returns 0 forever, and 0 < p drops every unit: a net that was never
 * given tmlp_net_init must still start from a seeded dropout generator. */
START_TEST(dropout_draws_real_masks_without_init_and_its_generator_can_be_set)
{
    const int batch = 64, n_in = 8, n = 64 * 200;
    tmlp_net_spec spec;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&spec, n_in, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "200:sigmoid:drop0.25,1", &err), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, batch, &err);     /* zero weights: every A is 0.5 */
    ck_assert_ptr_nonnull(net);
    tmlp_rng want;
    tmlp_rng_seed(&want, TMLP_NET_DROPOUT_SEED, TMLP_NET_DROPOUT_STREAM);
    tmlp_rng *r = tmlp_net_dropout_rng(net);
    ck_assert(r->state == want.state && r->inc == want.inc);
    float x[64 * 8];
    fill(x, batch * n_in, 1);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    tmlp_rng before = *r;
    ck_assert_ptr_nonnull(tmlp_net_forward(net, x, batch, &err));
    tmlp_layer_view v;
    tmlp_net_layer(net, 0, &v, NULL);
    static float first[64 * 200];
    int dropped = 0;
    for (int k = 0; k < n; k++) {
        ck_assert_float_eq(v.a[k], 0.5f);
        dropped += v.out[k] == 0.0f;
        first[k] = v.out[k];
    }
    ck_assert_close((double)dropped / n, 0.25, 0.05);
    ck_assert(r->state != before.state);                  /* the masks came from it */
    /* setting it back draws the same masks again; another state draws others */
    *tmlp_net_dropout_rng(net) = before;
    tmlp_net_forward(net, x, batch, NULL);
    ck_assert(!memcmp(v.out, first, sizeof first));
    tmlp_rng_seed(tmlp_net_dropout_rng(net), 99, 1);
    tmlp_net_forward(net, x, batch, NULL);
    ck_assert(memcmp(v.out, first, sizeof first) != 0);
    tmlp_net_free(net);
}
END_TEST

/* Batch norm couples every row of a column, so a nudged weight moves the whole batch's
 * statistics and the float32 loss difference is noisier: BN nets get 5e-3, others 2e-3. */
static void gradcheck_train_mode(const char *layers, int loss, int n_out)
{
    const double tol = strstr(layers, ":bn") ? 5e-3 : 2e-3;
    const int batch = 8, n_in = 5;
    tmlp_net *net = make(n_in, loss, layers, batch);
    float x[8 * 5], t[8 * 3];
    int lab[8];
    fill(x, batch * n_in, 7);
    tmlp_rng r;
    tmlp_rng_seed(&r, 8, 8);
    for (int i = 0; i < batch; i++)
        lab[i] = (int)tmlp_rng_below(&r, (uint32_t)n_out);
    for (int i = 0; i < batch * n_out; i++)
        t[i] = tmlp_rng_uniform(&r);
    size_t np;
    float *p = tmlp_net_params(net, &np);
    for (size_t i = 0; i < np; i++) {
        p[i] += 0.1f * tmlp_rng_normal(&r); /* BN scale/shift and biases away from 1 and 0 */
        if (fabsf(p[i]) < 0.02f)            /* and off |w|'s kink, for the l1 penalty */
            p[i] = p[i] < 0 ? -0.05f : 0.05f;
    }
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    tmlp_gradcheck_result res;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_gradcheck_net(net, x, batch, loss == TMLP_LOSS_SOFTMAX_CE ? lab : NULL,
                                        loss == TMLP_LOSS_SOFTMAX_CE ? NULL : t, tol, &r, &res, &err),
                     TMLP_OK);
    ck_assert_msg(res.n_failed == 0, "%s: %d of %d off, worst %.3g at parameter %g", layers,
                  res.n_failed, res.n_checked, res.max_err, res.worst_x);
    ck_assert_msg(res.sum_abs_grad > 1e-3, "gradient is all zeros");
    ck_assert_int_eq(tmlp_net_mode(net), TMLP_MODE_TRAIN); /* restored */
    tmlp_net_free(net);
}

START_TEST(batchnorm_dropout_and_penalties_pass_the_gradient_check)
{
    gradcheck_train_mode("6:tanh:bn,4:sigmoid:bn,3", TMLP_LOSS_SOFTMAX_CE, 3);
    gradcheck_train_mode("6:tanh:drop0.3,5:sigmoid:drop0.5,3", TMLP_LOSS_MSE, 3);
    gradcheck_train_mode("6:tanh:bn:drop0.2:l2=0.05,3:l1=0.01", TMLP_LOSS_SIGMOID_BCE, 3);
    gradcheck_train_mode("6:tanh:l2=0.1:l1=0.02,3", TMLP_LOSS_MSE, 3);
}
END_TEST

START_TEST(batchnorm_normalises_in_training_and_uses_running_stats_at_evaluation)
{
    const int batch = 32, n_in = 4;
    tmlp_net *net = make(n_in, TMLP_LOSS_MSE, "6:identity:bn,1", batch);
    float x[32 * 4];
    fill(x, batch * n_in, 2);
    for (int i = 0; i < batch * n_in; i++)
        x[i] = 3.0f + 2.0f * x[i];
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    tmlp_net_forward(net, x, batch, NULL);
    tmlp_layer_view v;
    tmlp_net_layer(net, 0, &v, NULL);
    for (int j = 0; j < 6; j++) { /* gamma 1, beta 0: each column has mean 0, variance ~1 */
        double s = 0, s2 = 0;
        for (int r = 0; r < batch; r++) {
            s += v.u[r * 6 + j];
            s2 += (double)v.u[r * 6 + j] * v.u[r * 6 + j];
        }
        ck_assert_close(s / batch, 0.0, 1e-5);
        ck_assert_close(s2 / batch, 1.0, 1e-3);
    }
    /* running statistics moved 10% of the way from (0, 1) toward the batch's */
    double m0 = 0;
    for (int r = 0; r < batch; r++)
        m0 += v.z[r * 6];
    ck_assert_close(v.bn_mean[0], 0.1 * m0 / batch, 1e-5);
    /* evaluation: U = (Z - running mean) / sqrt(running var + eps) */
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    tmlp_net_forward(net, x, batch, NULL);
    tmlp_net_layer(net, 0, &v, NULL);
    ck_assert_close(v.u[0], (v.z[0] - v.bn_mean[0]) / sqrt(v.bn_var[0] + 1e-5), 1e-5);
    size_t ns;
    tmlp_net_state(net, &ns);
    ck_assert_uint_eq(ns, 12);
    tmlp_net_free(net);
}
END_TEST

START_TEST(batchnorm_model_evaluates_the_same_after_reload)
{
    const int batch = 16, n_in = 4;
    tmlp_net *net = make(n_in, TMLP_LOSS_SOFTMAX_CE, "8:relu:bn:drop0.3,3", batch);
    float x[16 * 4], before[16 * 3], after[16 * 3];
    fill(x, batch * n_in, 4);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    for (int i = 0; i < 5; i++) /* move the running statistics off their start */
        tmlp_net_forward(net, x, batch, NULL);
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    ck_assert_int_eq(tmlp_net_predict(net, x, batch, before, NULL), TMLP_OK);
    char path[] = "/tmp/tinymlp-bn-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_model_write(path, net, NULL, &err) == TMLP_OK, "%s", err.msg);
    tmlp_net *back = tmlp_model_read(path, batch, NULL, &err);
    ck_assert_msg(back != NULL, "%s", err.msg);
    unlink(path);
    ck_assert_int_eq(tmlp_net_predict(back, x, batch, after, NULL), TMLP_OK);
    ck_assert_int_eq(memcmp(before, after, sizeof before), 0);
    size_t n1, n2;
    float *s1 = tmlp_net_state(net, &n1), *s2 = tmlp_net_state(back, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(s1, s2, n1 * sizeof *s1), 0);
    ck_assert_float_eq(tmlp_net_get_spec(back)->layer[0].dropout, 0.3f);
    tmlp_net_free(back);
    tmlp_net_free(net);
}
END_TEST

START_TEST(penalty_value_matches_its_formula)
{
    tmlp_net *net = make(2, TMLP_LOSS_MSE, "2:tanh:l1=0.5:l2=0.2,1", 1);
    tmlp_layer_view v;
    tmlp_net_layer(net, 0, &v, NULL);
    const float w[4] = { 1, -2, 0.5f, 0 };
    memcpy(v.W, w, sizeof w);
    /* 0.5 * (1 + 2 + 0.5) + 0.1 * (1 + 4 + 0.25) */
    ck_assert_close(tmlp_net_penalty(net), 1.75 + 0.525, 1e-6);
    tmlp_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("regularize");
    TMLP_ADD(s, spec_reads_dropout_bn_and_penalties_and_writes_them_back);
    TMLP_ADD(s, spec_format_round_trips_exact_floats);
    TMLP_ADD(s, dropout_scales_kept_units_and_is_identity_at_evaluation);
    TMLP_ADD(s, dropout_draws_real_masks_without_init_and_its_generator_can_be_set);
    TMLP_ADD(s, batchnorm_dropout_and_penalties_pass_the_gradient_check);
    TMLP_ADD(s, batchnorm_normalises_in_training_and_uses_running_stats_at_evaluation);
    TMLP_ADD(s, batchnorm_model_evaluates_the_same_after_reload);
    TMLP_ADD(s, penalty_value_matches_its_formula);
    return s;
}

TMLP_TEST_MAIN()
