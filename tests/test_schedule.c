/* test_schedule.c: each learning-rate schedule at the points its formula pins down. */
#include "testutil.h"

START_TEST(cosine_hits_its_endpoints_and_midpoint)
{
    tmlp_schedule s = tmlp_schedule_defaults(TMLP_SCHED_COSINE, 0.1f);
    s.min_lr = 0.001f;
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 0.0, 10, 100), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 5.0, 10, 100), (0.1f + 0.001f) / 2, 1e-7f);
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 10.0, 10, 100), 0.001f, 1e-7f);
    /* it only falls */
    float prev = 1.0f;
    for (double t = 0; t <= 10.0; t += 0.25) {
        float lr = tmlp_schedule_lr(&s, t, 10, 100);
        ck_assert(lr <= prev);
        prev = lr;
    }
}
END_TEST

START_TEST(warmup_rises_linearly_then_cosine_starts)
{
    tmlp_schedule s = tmlp_schedule_defaults(TMLP_SCHED_COSINE, 0.1f);
    s.warmup = 2.0f;
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 0.0, 10, 50), 0.1f / 100, 1e-8f); /* first step */
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 1.0, 10, 50), 0.05f, 1e-7f);
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 2.0, 10, 50), 0.1f, 1e-7f);
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 6.0, 10, 50), 0.05f, 1e-7f);
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 10.0, 10, 50), 0.0f, 1e-7f);
}
END_TEST

START_TEST(step_and_exp_decay)
{
    tmlp_schedule s = tmlp_schedule_defaults(TMLP_SCHED_STEP, 1.0f);
    s.step_size = 3;
    s.gamma = 0.5f;
    ck_assert_float_eq(tmlp_schedule_lr(&s, 2.99, 10, 1), 1.0f);
    ck_assert_float_eq(tmlp_schedule_lr(&s, 3.0, 10, 1), 0.5f);
    ck_assert_float_eq(tmlp_schedule_lr(&s, 6.5, 10, 1), 0.25f);
    s = tmlp_schedule_defaults(TMLP_SCHED_EXP, 1.0f);
    s.gamma = 0.9f;
    ck_assert_float_eq_tol(tmlp_schedule_lr(&s, 2.0, 10, 1), 0.81f, 1e-6f);
    s = tmlp_schedule_defaults(TMLP_SCHED_CONSTANT, 0.3f);
    ck_assert_float_eq(tmlp_schedule_lr(&s, 7.0, 10, 1), 0.3f);
}
END_TEST

START_TEST(plateau_cuts_after_patience_and_stops_at_floor)
{
    tmlp_schedule s = tmlp_schedule_defaults(TMLP_SCHED_PLATEAU, 1.0f);
    s.patience = 2;
    s.gamma = 0.5f;
    s.min_lr = 0.3f;
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, 1.0), 0); /* best */
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, 0.5), 0); /* better */
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, 0.6), 0); /* 1 bad */
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, 0.5), 1); /* 2 bad: cut */
    ck_assert_float_eq(tmlp_schedule_lr(&s, 4, 10, 1), 0.5f);
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, 0.7), 0);
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, 0.7), 1);
    ck_assert_float_eq(tmlp_schedule_lr(&s, 6, 10, 1), 0.3f); /* 0.25 floored at 0.3 */
    ck_assert_int_eq(tmlp_schedule_epoch_end(&s, NAN), 0);    /* no validation: no change */
}
END_TEST

START_TEST(bad_settings_are_named)
{
    tmlp_err err;
    tmlp_schedule s = tmlp_schedule_defaults(TMLP_SCHED_STEP, 0.1f);
    ck_assert_int_eq(tmlp_schedule_check(&s, &err), TMLP_OK);
    s.gamma = 1.5f;
    ck_assert_int_eq(tmlp_schedule_check(&s, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "gamma"));
    s = tmlp_schedule_defaults(TMLP_SCHED_COSINE, 0.1f);
    s.min_lr = 0.2f;
    ck_assert_int_eq(tmlp_schedule_check(&s, &err), TMLP_EINVAL);
    s = tmlp_schedule_defaults(TMLP_SCHED_COSINE, NAN);
    ck_assert_int_eq(tmlp_schedule_check(&s, &err), TMLP_EINVAL);
    s = tmlp_schedule_defaults(TMLP_SCHED_COSINE, 0.1f);
    s.warmup = -1;
    ck_assert_int_eq(tmlp_schedule_check(&s, &err), TMLP_EINVAL);
    int k;
    ck_assert_int_eq(tmlp_schedule_find("cosine", &k, NULL), TMLP_OK);
    ck_assert_int_eq(k, TMLP_SCHED_COSINE);
    ck_assert_int_eq(tmlp_schedule_find("linear", &k, &err), TMLP_ENOTFOUND);
}
END_TEST

/* Records the learning rate in force at each epoch's end. */
static int record_lr(void *ctx, const tmlp_epoch_info *e)
{
    ((float *)ctx)[e->epoch - 1] = e->lr;
    return 0;
}

START_TEST(training_loop_applies_the_schedule)
{
    tmlp_data *d = tmlp_data_xor(NULL);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    tmlp_net_spec_parse(&spec, "4:tanh,1", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 4, NULL);
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_schedule s = tmlp_schedule_defaults(TMLP_SCHED_STEP, 0.8f);
    s.step_size = 2;
    s.gamma = 0.5f;
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = 6;
    tc.batch = 2; /* two steps an epoch: the epoch's last step is at t = epoch - 0.5 */
    tc.schedule = &s;
    float lr[6];
    tmlp_observer obs = { NULL, record_lr, lr };
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, &obs, NULL), TMLP_OK);
    const float want[6] = { 0.8f, 0.8f, 0.4f, 0.4f, 0.2f, 0.2f };
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(lr[i], want[i]);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("schedule");
    TMLP_ADD(s, cosine_hits_its_endpoints_and_midpoint);
    TMLP_ADD(s, warmup_rises_linearly_then_cosine_starts);
    TMLP_ADD(s, step_and_exp_decay);
    TMLP_ADD(s, plateau_cuts_after_patience_and_stops_at_floor);
    TMLP_ADD(s, bad_settings_are_named);
    TMLP_ADD(s, training_loop_applies_the_schedule);
    return s;
}

TMLP_TEST_MAIN()
