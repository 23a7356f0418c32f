/* tensor.c: matrix views and the only place tinymlp calls BLAS. */
#include <math.h>
#include <cblas.h>

#include "tinymlp/err.h"
#include "tinymlp/tensor.h"

/* OpenBLAS's own entry point; declared here because cblas.h only has it in some builds. */
void openblas_set_num_threads(int num_threads);

tmlp_mat tmlp_mat_view(float *data, int rows, int cols)
{
    tmlp_mat m = { rows, cols, cols, data };
    return m;
}

/* Shape of op(X): rows and cols after the optional transpose. */
static int op_rows(tmlp_mat m, int t) { return t ? m.cols : m.rows; }
static int op_cols(tmlp_mat m, int t) { return t ? m.rows : m.cols; }

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

double tmlp_norm2(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return sqrt(s);
}
