/* test_init.c: each initializer's spread against its formula, and errors. */
#include "testutil.h"

/* Sample variance of a (n_out, n_in) matrix drawn with kind. */
static double variance_of(int kind, int n_out, int n_in, double *max_abs)
{
    static float w[256 * 512];
    tmlp_rng r;
    tmlp_rng_seed(&r, 17, 0);
    ck_assert_int_eq(tmlp_init_fill(kind, w, n_out, n_in, &r, NULL), TMLP_OK);
    double s = 0, s2 = 0, m = 0;
    int n = n_out * n_in;
    for (int i = 0; i < n; i++) {
        s += w[i];
        s2 += (double)w[i] * w[i];
        m = fmax(m, fabs(w[i]));
    }
    *max_abs = m;
    return s2 / n - (s / n) * (s / n);
}

START_TEST(variances_follow_the_formulas)
{
    const int n_out = 256, n_in = 512;
    double m;
    /* uniform U(-a, a) has variance a^2 / 3 */
    ck_assert_close(variance_of(TMLP_INIT_GLOROT_UNIFORM, n_out, n_in, &m), 2.0 / (n_in + n_out), 0.02);
    ck_assert(m <= sqrt(6.0 / (n_in + n_out)));
    ck_assert_close(variance_of(TMLP_INIT_GLOROT_NORMAL, n_out, n_in, &m) * 1e3, 2e3 / (n_in + n_out), 0.02);
    ck_assert_close(variance_of(TMLP_INIT_HE_UNIFORM, n_out, n_in, &m) * 1e3, 2e3 / n_in, 0.02);
    ck_assert(m <= sqrt(6.0 / n_in));
    ck_assert_close(variance_of(TMLP_INIT_HE_NORMAL, n_out, n_in, &m) * 1e3, 2e3 / n_in, 0.02);
    ck_assert_close(variance_of(TMLP_INIT_LECUN_NORMAL, n_out, n_in, &m) * 1e3, 1e3 / n_in, 0.02);
}
END_TEST

START_TEST(names_and_errors)
{
    int k;
    tmlp_err err;
    for (int i = 0; i < TMLP_INIT_COUNT; i++) {
        ck_assert_int_eq(tmlp_init_find(tmlp_init_name(i), &k, NULL), TMLP_OK);
        ck_assert_int_eq(k, i);
    }
    ck_assert_ptr_null(tmlp_init_name(TMLP_INIT_COUNT));
    ck_assert_int_eq(tmlp_init_find("xavier", &k, &err), TMLP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "xavier"));
    float w[4];
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 1);
    ck_assert_int_eq(tmlp_init_fill(TMLP_INIT_AUTO, w, 2, 2, &r, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_init_fill(TMLP_INIT_HE_NORMAL, w, 0, 2, &r, &err), TMLP_EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("init");
    TMLP_ADD(s, variances_follow_the_formulas);
    TMLP_ADD(s, names_and_errors);
    return s;
}

TMLP_TEST_MAIN()
