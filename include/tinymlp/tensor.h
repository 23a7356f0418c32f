/* tinymlp/tensor.h: row-major float matrix views and the GEMM wrappers.
 *
 * A tmlp_mat is a view: it never owns its data. Every matrix product in tinymlp goes through
 * tmlp_gemm (OpenBLAS cblas_sgemm); tmlp_gemm_ref is a plain triple loop kept for tests. */
#ifndef TINYMLP_TENSOR_H
#define TINYMLP_TENSOR_H

#include <stddef.h>
#include "team.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_mat {
    int rows, cols;
    int stride; /* floats between the starts of consecutive rows, >= cols */
    float *data;
} tmlp_mat;

/* A dense view of rows x cols floats at data (stride = cols). */
tmlp_mat tmlp_mat_view(float *data, int rows, int cols);

/* Pointer to element (r, c). */
static inline float *tmlp_mat_at(tmlp_mat m, int r, int c)
{
    return m.data + (size_t)r * (size_t)m.stride + (size_t)c;
}

enum { TMLP_NOTRANS = 0, TMLP_TRANS = 1 };

/* C = alpha * op(A) * op(B) + beta * C, where op(X) is X or Xᵀ as ta/tb say.
 * Returns TMLP_EINVAL (and leaves C alone) if the shapes do not agree. */
int tmlp_gemm(int ta, int tb, float alpha, tmlp_mat a, tmlp_mat b, float beta, tmlp_mat c);

/* tmlp_gemm split between the threads of team: C is cut into blocks of columns
 * (TMLP_SPLIT_COLS) or of rows (TMLP_SPLIT_ROWS), two per thread, multiples of 16 wide; each
 * block is one cblas_sgemm on one thread. Thread t takes blocks 2t and 2t+1 first, so the
 * same thread computes the same part of C every call (a net splits along its units, and each
 * thread keeps its units' weights in cache), then helps with blocks left over. Products under
 * 2^16 multiply-adds, a dimension too narrow for two blocks, and OpenBLAS set to more than
 * one thread of its own leave the product whole to tmlp_gemm. A team of one (or NULL) cuts
 * the product into the blocks a team of two would when they average at most 2^20
 * multiply-adds (OpenBLAS's small-matrix kernels run such blocks faster than the whole) and
 * runs them one after another, else leaves it whole; so for small products one thread and
 * two give the same bits. A team's jobs may run on the caller alone (tinymlp/team.h): the
 * same blocks, the same bits. */
enum { TMLP_SPLIT_COLS = 0, TMLP_SPLIT_ROWS = 1 };
int tmlp_gemm_team(tmlp_team *team, int split, int ta, int tb, float alpha, tmlp_mat a,
                   tmlp_mat b, float beta, tmlp_mat c);

/* The same product by a naive triple loop in double precision: the reference for tests. */
int tmlp_gemm_ref(int ta, int tb, float alpha, tmlp_mat a, tmlp_mat b, float beta, tmlp_mat c);

/* Sets, or reads, the number of threads OpenBLAS uses (n <= 0: OpenBLAS's own default). A
 * team splits GEMMs only while this is 1. */
void tmlp_blas_threads(int n);
int tmlp_blas_threads_get(void);

/* Euclidean norm of n floats, accumulated in double. */
double tmlp_norm2(const float *x, size_t n);

#ifdef __cplusplus
}
#endif
#endif
