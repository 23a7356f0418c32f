/* test_stats.c: src/cli/stats.c against scipy.stats on fixed inputs (tests/stats_reference.h,
 * written by scripts/gen_stats_reference.py), to 1e-6 relative or better, plus the edge
 * conventions scipy leaves undefined. */
#include <math.h>

#include "testutil.h"
#include "cli/stats.h"
#include "stats_reference.h"

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))

/* |got - want| <= 1e-12 + 1e-7 |want|, infinities equal. (scipy's own t.ppf is off by up to
 * ~1e-9 in its probability; the round trip below holds stats.c to 1e-12.) */
static void near(double got, double want, const char *what, int i)
{
    if (isinf(want)) {
        ck_assert_msg(got == want, "%s[%d]: got %.17g, want %.17g", what, i, got, want);
        return;
    }
    ck_assert_msg(fabs(got - want) <= 1e-12 + 1e-7 * fabs(want), "%s[%d]: got %.17g, want %.17g",
                  what, i, got, want);
}

START_TEST(t_distribution_and_incomplete_beta_match_scipy)
{
    for (int i = 0; i < N_OF(ref_t_cdf); i++)
        near(st_t_cdf(ref_t_cdf[i].t, ref_t_cdf[i].df), ref_t_cdf[i].cdf, "t cdf", i);
    for (int i = 0; i < N_OF(ref_t_q); i++)
        near(st_t_quantile(ref_t_q[i].p, ref_t_q[i].df), ref_t_q[i].q, "t quantile", i);
    for (int i = 0; i < N_OF(ref_betai); i++)
        near(st_betai(ref_betai[i].a, ref_betai[i].b, ref_betai[i].x), ref_betai[i].v, "betai", i);
    for (int i = 0; i < N_OF(ref_t_q); i++) /* the quantile inverts the CDF to 1e-12 */
        ck_assert_close(st_t_cdf(st_t_quantile(ref_t_q[i].p, ref_t_q[i].df), ref_t_q[i].df),
                        ref_t_q[i].p, 1e-12);
    /* the textbook values */
    ck_assert_close(st_t_quantile(0.975, 4), 2.7764451051977987, 1e-12);
    ck_assert(isnan(st_t_quantile(1.0, 3)) && isnan(st_t_cdf(1.0, 0)));
}
END_TEST

START_TEST(mean_sd_ci_and_paired_tests_match_scipy)
{
    int wilcoxon_exact = 0, wilcoxon_approx = 0;
    for (int i = 0; i < N_OF(ref_pairs); i++) {
        const double *a = ref_pairs[i].a, *b = ref_pairs[i].b;
        int n = ref_pairs[i].n;
        near(st_mean(a, n), ref_pairs[i].mean_a, "mean", i);
        near(st_sd(a, n), ref_pairs[i].sd_a, "sd", i);
        near(st_ci95_half(a, n), ref_pairs[i].ci_a, "ci95", i);
        double t, T, d[REF_MAXN];
        near(st_ttest_paired(a, b, n, &t), ref_pairs[i].p_t, "ttest p", i);
        near(t, ref_pairs[i].t, "ttest t", i);
        near(st_wilcoxon(a, b, n, &T), ref_pairs[i].p_w, "wilcoxon p", i);
        near(T, ref_pairs[i].T_w, "wilcoxon T", i);
        int zeros = 0;
        for (int k = 0; k < n; k++)
            d[k] = a[k] - b[k], zeros += d[k] == 0;
        wilcoxon_exact += !zeros, wilcoxon_approx += zeros && zeros < n;
        near(st_resolvable(st_sd(d, n), n), ref_pairs[i].resolvable, "resolvable", i);
    }
    ck_assert_int_ge(wilcoxon_exact, 3);   /* both of scipy's methods are exercised */
    ck_assert_int_ge(wilcoxon_approx, 2);
}
END_TEST

START_TEST(holm_matches_the_step_down_rule)
{
    for (int i = 0; i < N_OF(ref_holm); i++) {
        double adj[REF_MAXN];
        st_holm(ref_holm[i].p, ref_holm[i].m, adj);
        for (int k = 0; k < ref_holm[i].m; k++)
            near(adj[k], ref_holm[i].adj[k], "holm", i);
    }
    double p[3] = { 0.01, NAN, 0.02 }, adj[3];
    st_holm(p, 3, adj); /* a missing p-value is not a comparison */
    ck_assert_close(adj[0], 0.02, 1e-15);
    ck_assert(isnan(adj[1]));
    ck_assert_close(adj[2], 0.02, 1e-15);
}
END_TEST

START_TEST(small_samples_say_nothing)
{
    double a[1] = { 0.5 }, b[1] = { 0.4 };
    ck_assert(isnan(st_sd(a, 1)) && isnan(st_ci95_half(a, 1)));
    ck_assert(isnan(st_ttest_paired(a, b, 1, NULL)));
    ck_assert(isnan(st_resolvable(0.1, 1)));
    ck_assert(isnan(st_mean(a, 0)));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stats");
    TMLP_ADD(s, t_distribution_and_incomplete_beta_match_scipy);
    TMLP_ADD(s, mean_sd_ci_and_paired_tests_match_scipy);
    TMLP_ADD(s, holm_matches_the_step_down_rule);
    TMLP_ADD(s, small_samples_say_nothing);
    return s;
}

TMLP_TEST_MAIN()
