/* test_loss.c: loss values by hand, stability at extreme logits, gradients by central differences. */
#include "testutil.h"

static double loss_of(int kind, const float *z, int batch, int n_out, tmlp_targets t)
{
    double l = NAN;
    ck_assert_int_eq(tmlp_loss_eval(kind, z, batch, n_out, t, &l, NULL, NULL), TMLP_OK);
    return l;
}

START_TEST(softmax_ce_matches_hand_value)
{
    float z[3] = { 1, 2, 3 }, dz[3];
    int y = 2;
    double l;
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, 1, 3, (tmlp_targets){ &y, NULL }, &l,
                                    dz, NULL), TMLP_OK);
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    ck_assert_close(l, lse - 3.0, 1e-9);
    ck_assert_close(dz[0], exp(1.0 - lse), 1e-6);
    ck_assert_close(dz[2], exp(3.0 - lse) - 1.0, 1e-6);
}
END_TEST

START_TEST(bce_and_mse_match_hand_values)
{
    float z[2] = { 0.0f, 2.0f }, t[2] = { 1.0f, 0.0f };
    double want = (log(2.0) + (2.0 + log1p(exp(-2.0)))) / 2.0;
    ck_assert_close(loss_of(TMLP_LOSS_SIGMOID_BCE, z, 2, 1, (tmlp_targets){ NULL, t }), want, 1e-9);
    /* mse: mean of (0-1)^2 and (2-0)^2 */
    ck_assert_close(loss_of(TMLP_LOSS_MSE, z, 2, 1, (tmlp_targets){ NULL, t }), 2.5, 1e-9);
    /* labels stand in for targets: one output takes 0/1, several take one-hot */
    int lab[2] = { 1, 0 };
    ck_assert_close(loss_of(TMLP_LOSS_SIGMOID_BCE, z, 2, 1, (tmlp_targets){ lab, NULL }), want, 1e-9);
    float z2[2] = { 1.0f, 0.0f };
    int one = 0;
    ck_assert_close(loss_of(TMLP_LOSS_MSE, z2, 1, 2, (tmlp_targets){ &one, NULL }), 0.0, 1e-12);
}
END_TEST

START_TEST(losses_stay_finite_at_extreme_logits)
{
    float z[4] = { 1000.0f, -1000.0f, 88.0f, -104.0f }, dz[4];
    int y[2] = { 1, 0 };
    double l;
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, 2, 2, (tmlp_targets){ y, NULL }, &l, dz, NULL), TMLP_OK);
    ck_assert_close(l, (2000.0 + 0.0) / 2.0, 1e-6);
    for (int i = 0; i < 4; i++)
        ck_assert(isfinite(dz[i]));
    ck_assert_close(dz[0], 0.5, 1e-6);  /* (1 - 0) / batch */
    ck_assert_close(dz[1], -0.5, 1e-6); /* (0 - 1) / batch */
    float t[4] = { 0, 1, 1, 0 };
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SIGMOID_BCE, z, 4, 1, (tmlp_targets){ NULL, t }, &l, dz, NULL), TMLP_OK);
    ck_assert_close(l, (1000.0 + 1000.0 + 0.0 + 0.0) / 4.0, 1e-6);
    for (int i = 0; i < 4; i++)
        ck_assert(isfinite(dz[i]));
}
END_TEST

/* dL/dz against central differences of the loss (computed in double, so h can be small). */
static void check_grad(int kind, int batch, int n_out, tmlp_targets t, tmlp_rng *r)
{
    float z[24] = { 0 }, dz[24] = { 0 };
    for (int i = 0; i < batch * n_out; i++)
        z[i] = 4.0f * tmlp_rng_uniform(r) - 2.0f;
    double l;
    ck_assert_int_eq(tmlp_loss_eval(kind, z, batch, n_out, t, &l, dz, NULL), TMLP_OK);
    double sum_abs = 0.0;
    for (int i = 0; i < batch * n_out; i++) {
        float keep = z[i], h = 1e-2f;
        z[i] = keep + h;
        double lp = loss_of(kind, z, batch, n_out, t);
        z[i] = keep - h;
        double lm = loss_of(kind, z, batch, n_out, t);
        z[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        ck_assert_msg(fabs(num - dz[i]) <= 1e-4 * fmax(1e-2, fabs(num)) + 1e-7,
                      "%s: dz[%d] = %.8g, numeric %.8g", tmlp_loss_name(kind), i, dz[i], num);
        sum_abs += fabs(dz[i]);
    }
    ck_assert_msg(sum_abs > 1e-3, "gradient is all zeros");
}

START_TEST(every_loss_passes_the_gradient_check)
{
    tmlp_rng r;
    tmlp_rng_seed(&r, 5, 5);
    int lab[6] = { 0, 3, 1, 2, 3, 0 }, bin[6] = { 0, 1, 1, 0, 1, 0 };
    float tgt[24];
    for (int i = 0; i < 24; i++)
        tgt[i] = tmlp_rng_uniform(&r);
    check_grad(TMLP_LOSS_SOFTMAX_CE, 6, 4, (tmlp_targets){ lab, NULL }, &r);
    check_grad(TMLP_LOSS_SIGMOID_BCE, 6, 4, (tmlp_targets){ NULL, tgt }, &r);
    check_grad(TMLP_LOSS_SIGMOID_BCE, 6, 1, (tmlp_targets){ bin, NULL }, &r);
    check_grad(TMLP_LOSS_MSE, 6, 4, (tmlp_targets){ NULL, tgt }, &r);
    check_grad(TMLP_LOSS_MSE, 6, 4, (tmlp_targets){ lab, NULL }, &r);
}
END_TEST

START_TEST(bad_labels_are_refused_with_the_row)
{
    float z[6] = { 0 };
    int lab[3] = { 0, 5, 1 };
    tmlp_err err = { 0 };
    double l;
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, 3, 2, (tmlp_targets){ lab, NULL }, &l, NULL, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "row 1 has label 5"));
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, 3, 2, (tmlp_targets){ NULL, NULL }, &l, NULL, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, 3, 1, (tmlp_targets){ lab, NULL }, &l, NULL, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_loss_eval(99, z, 3, 2, (tmlp_targets){ lab, NULL }, &l, NULL, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_loss_eval(TMLP_LOSS_MSE, z, 0, 2, (tmlp_targets){ lab, NULL }, &l, NULL, &err), TMLP_EINVAL);
}
END_TEST

START_TEST(link_gives_probabilities)
{
    float z[4] = { 1000.0f, 0.0f, -3.0f, 3.0f }, p[4];
    tmlp_loss_link(TMLP_LOSS_SOFTMAX_CE, z, 2, 2, p);
    ck_assert_close(p[0], 1.0, 1e-7);
    ck_assert_close(p[0] + p[1], 1.0, 1e-6);
    ck_assert_close(p[3], 1.0 / (1.0 + exp(-6.0)), 1e-6);
    tmlp_loss_link(TMLP_LOSS_SIGMOID_BCE, z, 4, 1, p);
    ck_assert_close(p[2], 1.0 / (1.0 + exp(3.0)), 1e-6);
    ck_assert(p[0] <= 1.0f);
    tmlp_loss_link(TMLP_LOSS_MSE, z, 4, 1, p);
    ck_assert_float_eq(p[3], 3.0f);
}
END_TEST

START_TEST(names_round_trip)
{
    int k;
    for (int i = 0; i < TMLP_LOSS_COUNT; i++) {
        ck_assert_int_eq(tmlp_loss_find(tmlp_loss_name(i), &k, NULL), TMLP_OK);
        ck_assert_int_eq(k, i);
    }
    ck_assert_int_eq(tmlp_loss_find("ce", &k, NULL), TMLP_OK);
    ck_assert_int_eq(k, TMLP_LOSS_SOFTMAX_CE);
    tmlp_err err;
    ck_assert_int_eq(tmlp_loss_find("hinge", &k, &err), TMLP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "hinge"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loss");
    TMLP_ADD(s, softmax_ce_matches_hand_value);
    TMLP_ADD(s, bce_and_mse_match_hand_values);
    TMLP_ADD(s, losses_stay_finite_at_extreme_logits);
    TMLP_ADD(s, every_loss_passes_the_gradient_check);
    TMLP_ADD(s, bad_labels_are_refused_with_the_row);
    TMLP_ADD(s, link_gives_probabilities);
    TMLP_ADD(s, names_round_trip);
    return s;
}

TMLP_TEST_MAIN()
