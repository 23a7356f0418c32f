/* bn.c: batch normalisation's forward and backward over a layer's Z, on one process or, with
 * a bn_sync, over a global batch split between ranks (SyncBatchNorm): each rank sums its own
 * rows, the reducer adds the sums up, and every rank normalises with the global batch's
 * statistics, so the result is the single process's up to the order of the additions. */
#include <math.h>

#include "tinymlp/net.h"
#include "net_impl.h"

/* Training: normalise each column by the batch's mean and (biased) variance and move the
 * running statistics toward them (running variance unbiased, as in PyTorch); evaluation:
 * normalise by the running statistics. U = gamma ⊙ Ẑ + beta.
 * With sync (training only), the batch is `batch` rows of a global batch of sync->total. */
int tmlp_bn_forward(layer *l, int batch, int mode, const bn_sync *sync)
{
    const int n = l->n_out;
    const int total = sync ? sync->total : batch;
    double *sums = sync ? sync->buf : NULL; /* (2 n): Σ z then Σ z², per column */
    if (sync && mode != TMLP_MODE_EVAL) {
        for (int j = 0; j < n; j++) {
            double s = 0.0, s2 = 0.0;
            for (int r = 0; r < batch; r++) {
                double v = l->z[(size_t)r * n + j];
                s += v;
                s2 += v * v;
            }
            sums[j] = s;
            sums[n + j] = s2;
        }
        if (sync->red->sum(sync->red->ctx, sums, 2 * (size_t)n, TMLP_REDUCE_DOUBLE))
            return -1;
    }
    for (int j = 0; j < n; j++) {
        float mean, inv;
        if (mode != TMLP_MODE_EVAL) {
            double s = 0.0, s2 = 0.0;
            if (sums) {
                s = sums[j];
                s2 = sums[n + j];
            } else {
                for (int r = 0; r < batch; r++) {
                    double v = l->z[(size_t)r * n + j];
                    s += v;
                    s2 += v * v;
                }
            }
            double m = s / total, var = s2 / total - m * m;
            var = var > 0.0 ? var : 0.0;
            mean = (float)m;
            inv = (float)(1.0 / sqrt(var + TMLP_BN_EPS));
            l->inv_std[j] = inv;
            if (mode == TMLP_MODE_TRAIN) {
                double unbiased = total > 1 ? var * total / (total - 1) : var;
                l->run_mean[j] = (1.0f - TMLP_BN_MOMENTUM) * l->run_mean[j] + TMLP_BN_MOMENTUM * mean;
                l->run_var[j] = (1.0f - TMLP_BN_MOMENTUM) * l->run_var[j] +
                                TMLP_BN_MOMENTUM * (float)unbiased;
            }
        } else {
            mean = l->run_mean[j];
            inv = 1.0f / sqrtf(l->run_var[j] + TMLP_BN_EPS);
        }
        const float g = l->gamma[j], b = l->beta[j];
        for (int r = 0; r < batch; r++) {
            size_t k = (size_t)r * n + j;
            l->xhat[k] = (l->z[k] - mean) * inv;
            l->u[k] = g * l->xhat[k] + b;
        }
    }
    return 0;
}

/* From dU: dgamma = Σ dU ⊙ Ẑ, dbeta = Σ dU, and, with dẐ = gamma dU,
 * dZ = inv_std / B (B dẐ - Σ dẐ - Ẑ Σ dẐ ⊙ Ẑ) = gamma inv_std / B (B dU - Σ dU - Ẑ Σ dU ⊙ Ẑ).
 * With sync the sums in dZ are the global batch's, B its rows; dgamma and dbeta keep this
 * rank's own sums, since the gradient block is summed across ranks afterwards. */
int tmlp_bn_backward(layer *l, int batch, const bn_sync *sync)
{
    const int n = l->n_out;
    const int total = sync ? sync->total : batch;
    double *sums = sync ? sync->buf : NULL; /* (2 n): Σ dU then Σ dU ⊙ Ẑ, per column */
    for (int j = 0; sums && j < n; j++) {
        double sdu = 0.0, sdu_xh = 0.0;
        for (int r = 0; r < batch; r++) {
            size_t k = (size_t)r * n + j;
            sdu += l->du[k];
            sdu_xh += (double)l->du[k] * l->xhat[k];
        }
        l->dgamma[j] = (float)sdu_xh;
        l->dbeta[j] = (float)sdu;
        sums[j] = sdu;
        sums[n + j] = sdu_xh;
    }
    if (sums && sync->red->sum(sync->red->ctx, sums, 2 * (size_t)n, TMLP_REDUCE_DOUBLE))
        return -1;
    for (int j = 0; j < n; j++) {
        double sdu = 0.0, sdu_xh = 0.0;
        if (sums) {
            sdu = sums[j];
            sdu_xh = sums[n + j];
        } else {
            for (int r = 0; r < batch; r++) {
                size_t k = (size_t)r * n + j;
                sdu += l->du[k];
                sdu_xh += (double)l->du[k] * l->xhat[k];
            }
            l->dgamma[j] = (float)sdu_xh;
            l->dbeta[j] = (float)sdu;
        }
        const float c = l->inv_std[j] * l->gamma[j] / (float)total;
        for (int r = 0; r < batch; r++) {
            size_t k = (size_t)r * n + j;
            l->dz[k] = c * ((float)total * l->du[k] - (float)sdu - l->xhat[k] * (float)sdu_xh);
        }
    }
    return 0;
}
