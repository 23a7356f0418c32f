/* tensor.c: matrix views and the only place tinymlp calls BLAS. */
#include <math.h>
#include <cblas.h>

#include "tinymlp/err.h"
#include "tinymlp/tensor.h"
#include "team_impl.h"

/* OpenBLAS's own entry point; declared here because cblas.h only has it in some builds. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

tmlp_mat tmlp_mat_view(float *data, int rows, int cols)
{
    tmlp_mat m = { rows, cols, cols, data };
    return m;
}

/* Shape of op(X): rows and cols after the optional transpose. */
static int op_rows(tmlp_mat m, int t) { return t ? m.cols : m.rows; }
static int op_cols(tmlp_mat m, int t) { return t ? m.rows : m.cols; }

/* Rows [lo, hi) or columns [lo, hi) of m, as a view with m's stride. */
static tmlp_mat mat_rows(tmlp_mat m, int lo, int hi)
{
    tmlp_mat v = { hi - lo, m.cols, m.stride, m.data + (size_t)lo * (size_t)m.stride };
    return v;
}

static tmlp_mat mat_cols(tmlp_mat m, int lo, int hi)
{
    tmlp_mat v = { m.rows, hi - lo, m.stride, m.data + lo };
    return v;
}

static int shapes_ok(int ta, int tb, tmlp_mat a, tmlp_mat b, tmlp_mat c)
{
    return op_rows(a, ta) == c.rows && op_cols(b, tb) == c.cols &&
           op_cols(a, ta) == op_rows(b, tb) && a.stride >= a.cols && b.stride >= b.cols &&
           c.stride >= c.cols && c.rows >= 0 && c.cols >= 0;
}

int tmlp_gemm(int ta, int tb, float alpha, tmlp_mat a, tmlp_mat b, float beta, tmlp_mat c)
{
    if (!shapes_ok(ta, tb, a, b, c))
        return TMLP_EINVAL;
    if (c.rows == 0 || c.cols == 0)
        return TMLP_OK;
    int k = op_cols(a, ta);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                c.rows, c.cols, k, alpha, a.data, a.stride > 0 ? a.stride : 1, b.data,
                b.stride > 0 ? b.stride : 1, beta, c.data, c.stride > 0 ? c.stride : 1);
    return TMLP_OK;
}

/* tmlp_gemm_team's job: C's columns (by_cols) or rows [lo, hi). */
typedef struct gemm_job {
    int ta, tb, by_cols;
    float alpha, beta;
    tmlp_mat a, b, c;
} gemm_job;

static void gemm_block(void *ctx, int lo, int hi)
{
    const gemm_job *j = ctx;
    tmlp_mat a = j->a, b = j->b, c = j->c;
    if (j->by_cols) {   /* C[:, lo:hi] = op(A) · op(B)[:, lo:hi] */
        b = j->tb ? mat_rows(b, lo, hi) : mat_cols(b, lo, hi);
        c = mat_cols(c, lo, hi);
    } else {            /* C[lo:hi, :] = op(A)[lo:hi, :] · op(B) */
        a = j->ta ? mat_cols(a, lo, hi) : mat_rows(a, lo, hi);
        c = mat_rows(c, lo, hi);
    }
    tmlp_gemm(j->ta, j->tb, j->alpha, a, b, j->beta, c);
}

int tmlp_gemm_parts(const tmlp_team *team, int n, double macs)
{
    if (openblas_get_num_threads() > 1)
        return 1;
    if (tmlp_team_threads(team) > 1)
        return tmlp_team_parts(team, n, macs);
    int two = tmlp_team_parts_for(2, n, macs);
    return two > 1 && macs / two <= TMLP_SMALL_BLOCK_MACS ? two : 1;
}

int tmlp_gemm_team(tmlp_team *team, int split, int ta, int tb, float alpha, tmlp_mat a,
                   tmlp_mat b, float beta, tmlp_mat c)
{
    if (!shapes_ok(ta, tb, a, b, c))
        return TMLP_EINVAL;
    int by_cols = split != TMLP_SPLIT_ROWS;
    int parts = tmlp_gemm_parts(team, by_cols ? c.cols : c.rows,
                                (double)c.rows * c.cols * op_cols(a, ta));
    if (parts < 2)
        return tmlp_gemm(ta, tb, alpha, a, b, beta, c);
    gemm_job j = { ta, tb, by_cols, alpha, beta, a, b, c };
    tmlp_team_blocks(team, by_cols ? c.cols : c.rows, parts, gemm_block, &j);
    return TMLP_OK;
}

int tmlp_gemm_ref(int ta, int tb, float alpha, tmlp_mat a, tmlp_mat b, float beta, tmlp_mat c)
{
    if (!shapes_ok(ta, tb, a, b, c))
        return TMLP_EINVAL;
    int k = op_cols(a, ta);
    for (int i = 0; i < c.rows; i++) {
        for (int j = 0; j < c.cols; j++) {
            double s = 0.0;
            for (int p = 0; p < k; p++) {
                float av = ta ? *tmlp_mat_at(a, p, i) : *tmlp_mat_at(a, i, p);
                float bv = tb ? *tmlp_mat_at(b, j, p) : *tmlp_mat_at(b, p, j);
                s += (double)av * bv;
            }
            float *cv = tmlp_mat_at(c, i, j);
            /* beta == 0 means C is not read, as in BLAS (so NaNs in C do not leak in). */
            *cv = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * *cv));
        }
    }
    return TMLP_OK;
}

void tmlp_blas_threads(int n)
{
    if (n > 0)
        openblas_set_num_threads(n);
}

int tmlp_blas_threads_get(void) { return openblas_get_num_threads(); }

double tmlp_norm2(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return sqrt(s);
}
