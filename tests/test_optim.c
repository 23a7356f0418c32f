/* test_optim.c: each optimizer's first steps against values worked out by hand.
 *
 * One parameter starts at 1.0 and sees the gradients 0.5, -0.25, 1.0; lr = 0.1.
 *   sgd       1 - .05 = .95;  .95 + .025 = .975;  .975 - .1 = .875
 *   momentum  v = .5, p = .95;  v = .45 - .25 = .2, p = .93;  v = .18 + 1 = 1.18, p = .812
 *   nesterov  p = 1 - .1 (.5 + .45) = .905;  v = .2: p = .905 - .1 (-.25 + .18) = .912;
 *             v = 1.18: p = .912 - .1 (1 + 1.062) = .7058
 *   adam      step 1: m̂ = .5, v̂ = .25, p = 1 - .1 * .5 / .5 = .9; steps 2-3 by the same formula
 *   adamw     step 1: p = 1 (1 - .1 * .1) - .1 = .89
 *   rmsprop   s = .01 * .25 = .0025, p = 1 - .1 * .5 / .05 = 0 (+2e-7 from eps); ...
 *   adagrad   s = .25, p = 1 - .1 * .5 / .5 = .9; s = .3125, p = .9 + .025 / .5590 = .9447; ... */
#include <float.h>

#include "testutil.h"

static const float grads[3] = { 0.5f, -0.25f, 1.0f };

static void run(int kind, float wd, const double want[3])
{
    tmlp_optim_cfg c = tmlp_optim_defaults(kind);
    c.lr = 0.1f;
    c.weight_decay = wd;
    tmlp_optim *o = tmlp_optim_new(&c, 1, NULL);
    ck_assert_ptr_nonnull(o);
    float p = 1.0f;
    for (int t = 0; t < 3; t++) {
        tmlp_optim_step(o, &p, &grads[t]);
        ck_assert_msg(fabs(p - want[t]) < 2e-6, "%s wd %g step %d: got %.9g, want %.9g",
                      tmlp_optim_name(kind), (double)wd, t + 1, (double)p, want[t]);
    }
    ck_assert_int_eq(tmlp_optim_steps(o), 3);
    tmlp_optim_free(o);
}

START_TEST(sgd_family_matches_hand_values)
{
    run(TMLP_OPT_SGD, 0.0f, (const double[]){ 0.95, 0.975, 0.875 });
    run(TMLP_OPT_MOMENTUM, 0.0f, (const double[]){ 0.95, 0.93, 0.812 });
    run(TMLP_OPT_NESTEROV, 0.0f, (const double[]){ 0.905, 0.912, 0.7058 });
    /* coupled L2: the first step sees g + wd p = .5 + .1 */
    run(TMLP_OPT_SGD, 0.1f, (const double[]){ 0.94, 0.94 - 0.1 * (-0.25 + 0.094),
                                              0.9556 - 0.1 * (1.0 + 0.09556) });
}
END_TEST

START_TEST(adam_and_adamw_match_hand_values)
{
    run(TMLP_OPT_ADAM, 0.0f, (const double[]){ 0.9000000020, 0.8733662987, 0.8075551397 });
    run(TMLP_OPT_ADAMW, 0.1f, (const double[]){ 0.8900000020, 0.8544662987, 0.7801104767 });
    run(TMLP_OPT_ADAM, 0.1f, (const double[]){ 0.9000000017, 0.8544413675, 0.7815043999 });
}
END_TEST

START_TEST(rmsprop_and_adagrad_match_hand_values)
{
    run(TMLP_OPT_RMSPROP, 0.0f, (const double[]){ 1.9999996e-07, 0.4490133744, -0.4257262161 });
    run(TMLP_OPT_ADAGRAD, 0.0f, (const double[]){ 0.9000000000, 0.9447213596, 0.8574342035 });
    tmlp_optim_cfg c = tmlp_optim_defaults(TMLP_OPT_RMSPROP);
    ck_assert_float_eq(c.beta2, 0.99f);
    ck_assert_float_eq(c.lr, 0.01f);
    ck_assert_float_eq(tmlp_optim_defaults(TMLP_OPT_ADAGRAD).eps, 1e-10f);
}
END_TEST

START_TEST(bad_configs_are_refused)
{
    tmlp_err err;
    tmlp_optim_cfg c = tmlp_optim_defaults(TMLP_OPT_ADAM);
    float bad_lr[] = { 0.0f, -1.0f, NAN, INFINITY };
    for (int i = 0; i < 4; i++) {
        c.lr = bad_lr[i];
        ck_assert_ptr_null(tmlp_optim_new(&c, 10, &err));
        ck_assert_int_eq(err.code, TMLP_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "lr > 0"));
    }
    c = tmlp_optim_defaults(TMLP_OPT_MOMENTUM);
    c.momentum = 1.0f;
    ck_assert_ptr_null(tmlp_optim_new(&c, 10, &err));
    c = tmlp_optim_defaults(TMLP_OPT_SGD);
    ck_assert_ptr_null(tmlp_optim_new(&c, 0, &err));
    c.kind = 42;
    ck_assert_ptr_null(tmlp_optim_new(&c, 10, &err));
    int k;
    ck_assert_int_eq(tmlp_optim_find("rmsprop2", &k, &err), TMLP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "adamw"));
    tmlp_optim_free(NULL);
}
END_TEST

START_TEST(reset_and_lr_accessors)
{
    tmlp_optim_cfg c = tmlp_optim_defaults(TMLP_OPT_ADAM);
    tmlp_optim *o = tmlp_optim_new(&c, 2, NULL);
    float p[2] = { 1, 1 }, g[2] = { 1, -1 };
    tmlp_optim_step(o, p, g);
    float after_one = p[0];
    tmlp_optim_reset(o);
    ck_assert_int_eq(tmlp_optim_steps(o), 0);
    p[0] = p[1] = 1;
    tmlp_optim_step(o, p, g);
    ck_assert_float_eq(p[0], after_one);
    tmlp_optim_set_lr(o, 0.5f);
    ck_assert_float_eq(tmlp_optim_lr(o), 0.5f);
    ck_assert_float_eq(tmlp_optim_config(o).lr, 0.5f);
    ck_assert_uint_eq(tmlp_optim_size(o), 2);
    tmlp_optim_free(o);
}
END_TEST

/* The step reports a parameter made inf or NaN, wherever it sits in the block: in the vector
 * body or the scalar tail of the loop. */
START_TEST(step_reports_non_finite_parameters)
{
    enum { N = 37 };
    for (int kind = 0; tmlp_optim_name(kind); kind++) {
        for (int bad = -1; bad < N; bad += 9) {
            tmlp_optim_cfg c = tmlp_optim_defaults(kind);
            tmlp_optim *o = tmlp_optim_new(&c, N, NULL);
            ck_assert_ptr_nonnull(o);
            float p[N], g[N];
            for (int i = 0; i < N; i++) {
                p[i] = 1.0f;
                g[i] = i == bad ? NAN : 0.1f * (float)(i % 5);
            }
            int ok = tmlp_optim_step(o, p, g);
            ck_assert_msg(ok == (bad < 0), "%s, NaN gradient at %d: step returned %d",
                          tmlp_optim_name(kind), bad, ok);
            tmlp_optim_free(o);
        }
    }
    /* an overflow, not a NaN: FLT_MAX stepped by a huge gradient */
    tmlp_optim_cfg c = tmlp_optim_defaults(TMLP_OPT_SGD);
    c.lr = 1.0f;
    tmlp_optim *o = tmlp_optim_new(&c, 1, NULL);
    float p = FLT_MAX, g = -FLT_MAX;
    ck_assert_int_eq(tmlp_optim_step(o, &p, &g), 0);
    ck_assert(isinf(p));
    tmlp_optim_free(o);
}
END_TEST

/* Split between threads, every update is the same bits as on one thread (chunks claimed in
 * any order, the last one short), and a NaN in any chunk is still reported. */
START_TEST(threaded_updates_match_one_thread)
{
    const size_t n = 100003;
    tmlp_team *team = tmlp_team_new(3, NULL);
    ck_assert_ptr_nonnull(team);
    float *p1 = malloc(n * sizeof *p1), *p2 = malloc(n * sizeof *p2), *g = malloc(n * sizeof *g);
    ck_assert(p1 && p2 && g);
    for (int kind = 0; tmlp_optim_name(kind); kind++) {
        tmlp_optim_cfg c = tmlp_optim_defaults(kind);
        c.weight_decay = 0.01f;
        tmlp_optim *one = tmlp_optim_new(&c, n, NULL), *many = tmlp_optim_new(&c, n, NULL);
        tmlp_optim_set_team(many, team);
        ck_assert_ptr_eq(tmlp_optim_team(many), team);
        ck_assert_ptr_null(tmlp_optim_team(one));
        for (size_t i = 0; i < n; i++)
            p1[i] = p2[i] = 0.001f * (float)(i % 1000) - 0.5f;
        for (int t = 0; t < 5; t++) {
            for (size_t i = 0; i < n; i++)
                g[i] = 0.01f * (float)((i * 7 + (size_t)t * 13) % 101) - 0.5f;
            ck_assert_int_eq(tmlp_optim_step(one, p1, g), 1);
            ck_assert_int_eq(tmlp_optim_step(many, p2, g), 1);
        }
        ck_assert_msg(memcmp(p1, p2, n * sizeof *p1) == 0, "%s: 3 threads differ from 1",
                      tmlp_optim_name(kind));
        g[n - 1] = NAN; /* in the short last chunk */
        ck_assert_int_eq(tmlp_optim_step(many, p2, g), 0);
        tmlp_optim_free(one);
        tmlp_optim_free(many);
    }
    tmlp_team_free(team);
    free(p1);
    free(p2);
    free(g);
}
END_TEST

/* Subnormal moments are flushed to zero by the update (x86), on one thread and on a team, and
 * the caller's own floating-point mode is left as it was. */
START_TEST(subnormal_moments_are_flushed)
{
#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE_MATH__))
    const size_t n = 40000; /* three chunks: some run on the team's worker */
    tmlp_team *team = tmlp_team_new(2, NULL);
    ck_assert_ptr_nonnull(team);
    float *p = malloc(n * sizeof *p), *g = calloc(n, sizeof *g), *m = malloc(n * sizeof *m);
    float *v = malloc(n * sizeof *v);
    ck_assert(p && g && m && v);
    for (int kind = TMLP_OPT_MOMENTUM; kind <= TMLP_OPT_ADAMW; kind++) {
        for (int threads = 1; threads <= 2; threads++) {
            tmlp_optim_cfg c = tmlp_optim_defaults(kind);
            tmlp_optim *o = tmlp_optim_new(&c, n, NULL);
            ck_assert_ptr_nonnull(o);
            tmlp_optim_set_team(o, threads == 2 ? team : NULL);
            const float *om, *ov;
            tmlp_optim_state(o, &om, &ov, NULL);
            for (size_t i = 0; i < n; i++) {
                p[i] = 0.5f;
                m[i] = FLT_MIN / 8.0f; /* subnormal: 0.9 of it would stay subnormal */
                v[i] = 1e-6f;
            }
            ck_assert_int_eq(tmlp_optim_set_state(o, m, ov ? v : NULL, 10, NULL), TMLP_OK);
            ck_assert_int_eq(tmlp_optim_step(o, p, g), 1);
            /* AdamW's decoupled decay still shrinks the weight; nothing else moves it */
            const float want = kind == TMLP_OPT_ADAMW ? (1.0f - c.lr * c.weight_decay) * 0.5f : 0.5f;
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(om[i] == 0.0f && p[i] == want, "%s on %d thread(s): element %zu: "
                              "moment %g, parameter %.9g", tmlp_optim_name(kind), threads, i,
                              (double)om[i], (double)p[i]);
            tmlp_optim_free(o);
        }
    }
    volatile float tiny = FLT_MIN, half = 0.5f;
    ck_assert_msg(tiny * half > 0.0f, "the caller's thread was left flushing subnormals");
    tmlp_team_free(team);
    free(p);
    free(g);
    free(m);
    free(v);
#endif
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("optim");
    TMLP_ADD(s, sgd_family_matches_hand_values);
    TMLP_ADD(s, adam_and_adamw_match_hand_values);
    TMLP_ADD(s, rmsprop_and_adagrad_match_hand_values);
    TMLP_ADD(s, bad_configs_are_refused);
    TMLP_ADD(s, reset_and_lr_accessors);
    TMLP_ADD(s, step_reports_non_finite_parameters);
    TMLP_ADD(s, threaded_updates_match_one_thread);
    TMLP_ADD(s, subnormal_moments_are_flushed);
    return s;
}

TMLP_TEST_MAIN()
