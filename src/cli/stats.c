/* stats.c: statistics over seeds for `tinymlp sweep` and `compare` (see stats.h).
 *
 * The Student t distribution through the regularized incomplete beta function (a continued
 * fraction evaluated by the modified Lentz method, after Numerical Recipes' betacf), the
 * Wilcoxon signed-rank test's exact null distribution by counting subsets, and Holm's
 * correction. Nothing here allocates more than the arrays it sorts. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

double st_mean(const double *x, int n)
{
    if (n < 1)
        return NAN;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s / n;
}

double st_sd(const double *x, int n)
{
    if (n < 2)
        return NAN;
    double m = st_mean(x, n), s = 0;
    for (int i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1));
}

/* The continued fraction of I_x(a, b), converging fast for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return h;
}

double st_betai(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1))
        return NAN;
    if (x == 0 || x == 1)
        return x;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1.0 - exp(lbt) * betacf(b, a, 1.0 - x) / b;
}

double st_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    /* P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) */
    double tail = 0.5 * st_betai(0.5 * df, 0.5, df / (df + t * t));
    return t > 0 ? 1.0 - tail : tail;
}

double st_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p == 0.5)
        return 0.0;
    if (p < 0.5)
        return -st_t_quantile(1.0 - p, df);
    double lo = 0.0, hi = 1.0;
    while (st_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 2000 && hi - lo > 4 * DBL_EPSILON * hi; i++) { /* bisection */
        double mid = 0.5 * (lo + hi);
        if (st_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double st_ci95_half(const double *x, int n)
{
    if (n < 2)
        return NAN;
    return st_t_quantile(0.975, n - 1) * st_sd(x, n) / sqrt((double)n);
}

double st_ttest_paired(const double *a, const double *b, int n, double *t)
{
    if (t)
        *t = NAN;
    if (n < 2)
        return NAN;
    double m = 0, s = 0;
    for (int i = 0; i < n; i++)
        m += a[i] - b[i];
    m /= n;
    for (int i = 0; i < n; i++) {
        double d = a[i] - b[i] - m;
        s += d * d;
    }
    double se = sqrt(s / (n - 1) / n);
    if (se == 0) { /* every difference the same */
        if (t)
            *t = m == 0 ? 0.0 : m > 0 ? INFINITY : -INFINITY;
        return m == 0 ? 1.0 : 0.0;
    }
    double tv = m / se;
    if (t)
        *t = tv;
    return st_betai(0.5 * (n - 1), 0.5, (n - 1) / (n - 1 + tv * tv));
}

static int cmp_abs(const void *x, const void *y)
{
    double a = fabs(*(const double *)x), b = fabs(*(const double *)y);
    return (a > b) - (a < b);
}

double st_wilcoxon(const double *a, const double *b, int n, double *T)
{
    if (T)
        *T = NAN;
    if (n < 1)
        return NAN;
    double *d = malloc((size_t)n * sizeof *d);
    if (!d)
        return NAN;
    int m = 0, zeros = 0;
    for (int i = 0; i < n; i++) {
        double v = a[i] - b[i];
        if (v == 0)
            zeros++;
        else
            d[m++] = v;
    }
    if (m == 0) {
        free(d);
        if (T)
            *T = 0.0;
        return 1.0;
    }
    qsort(d, (size_t)m, sizeof *d, cmp_abs);
    /* mean ranks of |d| (1-based), R+ and R-, and the tie term sum(t^3 - t) */
    double rplus = 0, rminus = 0, ties = 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && fabs(d[j + 1]) == fabs(d[i]))
            j++;
        double rank = 0.5 * ((i + 1) + (j + 1)), t = j - i + 1;
        ties += t * (t * t - 1);
        for (int k = i; k <= j; k++) {
            if (d[k] > 0)
                rplus += rank;
            else
                rminus += rank;
        }
        i = j + 1;
    }
    free(d);
    if (T)
        *T = fmin(rplus, rminus);
    double p;
    if (zeros == 0 && n <= 50) { /* exact: counts of subsets of 1..n by their sum */
        int top = n * (n + 1) / 2;
        double *c = calloc((size_t)top + 1, sizeof *c);
        if (!c)
            return NAN;
        c[0] = 1;
        for (int k = 1; k <= n; k++)
            for (int s = top; s >= k; s--)
                c[s] += c[s - k];
        double total = ldexp(1.0, n);
        int r = (int)rplus; /* as scipy 1.10: int() of a tied (x.5) rank sum */
        if (r == top / 2) { /* the centre of the distribution, as scipy */
            p = 1.0;
        } else {
            double lo = 0, hi = 0;
            for (int s = 0; s <= r; s++)
                lo += c[s];
            for (int s = r; s <= top; s++)
                hi += c[s];
            p = 2.0 * fmin(lo, hi) / total;
        }
        free(c);
        return fmin(1.0, fmax(0.0, p));
    }
    double mn = m * (m + 1.0) * 0.25;
    double se = sqrt((m * (m + 1.0) * (2.0 * m + 1.0) - 0.5 * ties) / 24.0);
    double z = (fmin(rplus, rminus) - mn) / se;
    return erfc(fabs(z) / sqrt(2.0)); /* 2 * (1 - Phi(|z|)) */
}

typedef struct pidx { double p; int i; } pidx;

static int cmp_p(const void *x, const void *y)
{
    const pidx *a = x, *b = y;
    if (a->p != b->p)
        return (a->p > b->p) - (a->p < b->p);
    return (a->i > b->i) - (a->i < b->i);
}

void st_holm(const double *p, int m, double *adj)
{
    pidx *v = malloc((size_t)(m > 0 ? m : 1) * sizeof *v);
    if (!v) {
        for (int i = 0; i < m; i++)
            adj[i] = NAN;
        return;
    }
    int k = 0;
    for (int i = 0; i < m; i++)
        if (!isnan(p[i]))
            v[k++] = (pidx){ p[i], i };
    for (int i = 0; i < m; i++)
        if (isnan(p[i]))
            adj[i] = NAN;
    qsort(v, (size_t)k, sizeof *v, cmp_p);
    double run = 0;
    for (int j = 0; j < k; j++) {
        double a = fmin(1.0, (k - j) * v[j].p);
        run = fmax(run, a);
        adj[v[j].i] = run;
    }
    free(v);
}

double st_resolvable(double sd_diff, int n)
{
    if (n < 2 || isnan(sd_diff))
        return NAN;
    return st_t_quantile(0.975, n - 1) * sd_diff / sqrt((double)n);
}
