/* stats.h: the statistics `tinymlp sweep` and `compare` report over seeds (stats.c).
 *
 * Plain functions on arrays of doubles: mean, standard deviation, a Student-t confidence
 * interval, the paired t-test, the Wilcoxon signed-rank test, Holm's correction and the
 * smallest difference a paired test can resolve. The t distribution comes from the
 * regularized incomplete beta function, computed here (no libraries). The conventions follow
 * scipy.stats (1.10, Debian 12); tests/test_stats.c checks the numbers against it, and
 * docs/sweep.md explains them. */
#ifndef TINYMLP_CLI_STATS_H
#define TINYMLP_CLI_STATS_H

double st_mean(const double *x, int n);              /* NAN for n < 1 */
double st_sd(const double *x, int n);                /* sample (n - 1) sd; NAN for n < 2 */

/* I_x(a, b), the regularized incomplete beta function, a, b > 0, 0 <= x <= 1. */
double st_betai(double a, double b, double x);
/* The Student t distribution with df > 0 degrees of freedom: P(T <= t), and its inverse
 * (the t with P(T <= t) = p, 0 < p < 1). */
double st_t_cdf(double t, double df);
double st_t_quantile(double p, double df);

/* The 95% confidence interval of the mean, mean -+ t(0.975, n-1) sd / sqrt(n): its half
 * width (NAN for n < 2; 0 when every value is equal). */
double st_ci95_half(const double *x, int n);

/* Paired t-test of a against b (n pairs): the two-sided p-value, with the t statistic in *t
 * when t is not NULL (scipy.stats.ttest_rel). When every difference is equal, scipy gives
 * NaN: here p = 1 when they are all 0 (no difference at all) and p = 0 otherwise. NAN for
 * n < 2. */
double st_ttest_paired(const double *a, const double *b, int n, double *t);

/* Wilcoxon signed-rank test of the differences a - b, two-sided, with scipy.stats.wilcoxon's
 * defaults (zero_method "wilcox", no continuity correction, method "auto"): for n <= 50 pairs
 * and no zero difference, the exact distribution of the rank sum (with tied |differences|
 * their mean ranks, and the rank sum truncated to an integer, as scipy 1.10 does); otherwise
 * zero differences are dropped and the normal approximation with the tie correction is used.
 * The statistic min(R+, R-) goes to *T when T is not NULL. Every difference 0: p = 1 (scipy
 * raises an error). NAN for n < 1. */
double st_wilcoxon(const double *a, const double *b, int n, double *T);

/* Holm's step-down correction of m p-values into adj (may equal p): sorted ascending,
 * adj(i) = max over j <= i of min(1, (m - j + 1) p(j)); NAN p-values stay NAN and do not
 * count in m. */
void st_holm(const double *p, int m, double *adj);

/* The smallest mean difference a paired t-test at the 5% level (two-sided) can call
 * significant with n pairs whose differences have standard deviation sd_diff:
 * t(0.975, n - 1) sd_diff / sqrt(n). NAN for n < 2. */
double st_resolvable(double sd_diff, int n);

#endif
