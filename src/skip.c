/* skip.c: zero-column skipping in the first layer (net_impl.h).
 *
 * Inputs such as images with blank borders, or one-hot and bag-of-words features, have
 * columns that are zero in every row of a batch. Such a column adds nothing to Z = X·Wᵀ, and
 * its column of dW = dZᵀ·X is exactly zero. The first layer's forward finds the batch's
 * nonzero columns, as runs of consecutive columns, gathers them from X into xs and from W into
 * ws, and multiplies only those; its backward computes dW's kept columns into ws and scatters
 * them into dW, zeros elsewhere. The result is the dense
 * one up to rounding (the products' sums run over fewer terms), except that a zero input times
 * a non-finite weight or output gradient counts as zero instead of NaN. (Training keeps the
 * weights finite, and a non-finite dZ shows in the kept columns' gradients.)
 *
 * It runs when the multiply-adds it saves per unit and pass, batch·(columns skipped), reach
 * SKIP_RUN_COST per run of kept columns, the cost of moving each unit's weights and gradients
 * run by run. The value lies between two cases measured in training on MNIST with a team of 2:
 * batch 256 with 1024 units keeps ~550 of 784 columns in ~28 runs (~2,100 saved per run) and
 * gains 7% of an epoch; batch 32 keeps ~450 in ~27 runs (~400 per run) and loses 5%. */
#include <stdint.h>
#include <string.h>

#include "tinymlp/tensor.h"
#include "hot.h"
#include "net_impl.h"
#include "team_impl.h"

#define SKIP_RUN_COST 640.0

/* nz[c] = OR over the rows of x (rows, n) of column c's bits but the sign: nonzero exactly
 * where some row holds a value other than +-0 (NaN included: it must reach the loss). */
TMLP_HOT static void nonzero_cols(uint32_t *nz, const float *x, int rows, int n)
{
    memset(nz, 0, (size_t)n * sizeof *nz);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        for (int c = 0; c < n; c++) {
            uint32_t u;
            memcpy(&u, xr + c, sizeof u);
            nz[c] |= u & 0x7fffffffu;
        }
    }
}

int tmlp_skip_plan(layer *l, const float *x, int batch)
{
    const int n = l->n_in;
    const uint32_t *nz = l->nz;
    nonzero_cols(l->nz, x, batch, n);
    int runs = 0, kept = 0;
    for (int c = 0; c < n;) {
        if (!nz[c]) {
            c++;
            continue;
        }
        int c0 = c;
        while (c < n && nz[c])
            c++;
        l->run[2 * runs] = c0;
        l->run[2 * runs + 1] = c - c0;
        runs++;
        kept += c - c0;
        if ((double)batch * (n - kept) < SKIP_RUN_COST * runs)
            return 0; /* the saving only shrinks and the cost only grows */
    }
    l->n_runs = runs;
    l->n_kept = kept;
    return kept < n;
}

/* Rows [r0, r1) of src (stride n, the full width) into dst (stride n_kept): the runs only. */
static void gather_runs(const layer *l, const float *src, float *dst, int r0, int r1)
{
    const size_t n = (size_t)l->n_in, k = (size_t)l->n_kept;
    for (int r = r0; r < r1; r++) {
        const float *s = src + (size_t)r * n;
        float *d = dst + (size_t)r * k;
        for (int q = 0; q < l->n_runs; q++) {
            const int *run = l->run + 2 * q;
            memcpy(d, s + run[0], (size_t)run[1] * sizeof *d);
            d += run[1];
        }
    }
}

/* The reverse for dW: rows [r0, r1) of dst (stride n) from src (stride n_kept), zeros
 * outside the runs. */
static void scatter_runs(const layer *l, const float *src, float *dst, int r0, int r1)
{
    const size_t n = (size_t)l->n_in, k = (size_t)l->n_kept;
    for (int r = r0; r < r1; r++) {
        const float *s = src + (size_t)r * k;
        float *d = dst + (size_t)r * n;
        int c = 0;
        for (int q = 0; q < l->n_runs; q++) {
            const int *run = l->run + 2 * q;
            memset(d + c, 0, (size_t)(run[0] - c) * sizeof *d);
            memcpy(d + run[0], s, (size_t)run[1] * sizeof *d);
            s += run[1];
            c = run[0] + run[1];
        }
        memset(d + c, 0, (size_t)(n - (size_t)c) * sizeof *d);
    }
}

typedef struct skip_job {
    const layer *l;
    int batch;
} skip_job;

/* Forward, units [lo, hi): gather their weights' kept columns, Z[:, lo:hi] += xs · wsᵀ. */
static void skip_forward_block(void *ctx, int lo, int hi)
{
    const skip_job *j = ctx;
    const layer *l = j->l;
    const int k = l->n_kept;
    gather_runs(l, l->W, l->ws, lo, hi);
    tmlp_mat ws = { hi - lo, k, k, l->ws + (size_t)lo * k };
    tmlp_mat z = { j->batch, hi - lo, l->n_out, l->z + lo };
    tmlp_gemm(TMLP_NOTRANS, TMLP_TRANS, 1.0f, tmlp_mat_view(l->xs, j->batch, k), ws, 1.0f, z);
}

/* Backward, units [lo, hi): their dW's kept columns = dZ[:, lo:hi]ᵀ · xs, then scattered. */
static void skip_backward_block(void *ctx, int lo, int hi)
{
    const skip_job *j = ctx;
    const layer *l = j->l;
    const int k = l->n_kept;
    if (k > 0) {   /* (with no column kept, dW is all zeros) */
        tmlp_mat dz = { j->batch, hi - lo, l->n_out, l->dz + lo };
        tmlp_mat dws = { hi - lo, k, k, l->ws + (size_t)lo * k };
        tmlp_gemm(TMLP_TRANS, TMLP_NOTRANS, 1.0f, dz, tmlp_mat_view(l->xs, j->batch, k), 0.0f, dws);
    }
    scatter_runs(l, l->ws, l->dW, lo, hi);
}

/* One of the two on the team, cut along the layer's units like tmlp_gemm_team. */
static void skip_run(tmlp_team *team, const layer *l, int batch, tmlp_block_fn fn)
{
    skip_job j = { l, batch };
    int parts = tmlp_gemm_parts(team, l->n_out, (double)batch * l->n_out * l->n_kept);
    tmlp_team_blocks(team, l->n_out, parts, fn, &j);
}

void tmlp_skip_forward(tmlp_team *team, layer *l, const float *x, int batch)
{
    gather_runs(l, x, l->xs, 0, batch);
    if (l->n_kept > 0)
        skip_run(team, l, batch, skip_forward_block);
}

void tmlp_skip_backward(tmlp_team *team, layer *l, int batch)
{
    skip_run(team, l, batch, skip_backward_block);
}
