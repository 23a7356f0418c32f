/* loss.c: softmax cross-entropy, sigmoid binary cross-entropy, mean squared error.
 *
 * The two cross-entropies take logits and are computed in their log-sum-exp forms, so no
 * logit, however large, gives an infinite or NaN loss:
 *   CE(z, y)  = logsumexp(z) - z_y,       logsumexp(z) = m + log sum_j exp(z_j - m), m = max z
 *   BCE(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)) */
#include <math.h>
#include <string.h>

#include "tinymlp/loss.h"

static const char *const names[TMLP_LOSS_COUNT] = { "softmax_ce", "sigmoid_bce", "mse" };

const char *tmlp_loss_name(int kind)
{
    return kind >= 0 && kind < TMLP_LOSS_COUNT ? names[kind] : NULL;
}

int tmlp_loss_find(const char *name, int *kind, tmlp_err *err)
{
    static const struct { const char *alias; int kind; } aliases[] = {
        { "softmax_ce", TMLP_LOSS_SOFTMAX_CE }, { "ce", TMLP_LOSS_SOFTMAX_CE },
        { "cross_entropy", TMLP_LOSS_SOFTMAX_CE }, { "sigmoid_bce", TMLP_LOSS_SIGMOID_BCE },
        { "bce", TMLP_LOSS_SIGMOID_BCE }, { "mse", TMLP_LOSS_MSE },
    };
    for (size_t i = 0; name && i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(name, aliases[i].alias) == 0) {
            *kind = aliases[i].kind;
            return TMLP_OK;
        }
    return tmlp_fail(err, TMLP_ENOTFOUND, "unknown loss '%.40s%s' (known: softmax_ce, sigmoid_bce, "
                     "mse)", name ? name : "(null)", name && strlen(name) > 40 ? "..." : "");
}

/* Target for element (i, j) of a sigmoid_bce or mse batch. */
static float target_at(tmlp_targets t, int i, int j, int n_out)
{
    if (t.target)
        return t.target[(long)i * n_out + j];
    if (n_out == 1)
        return (float)t.label[i];
    return t.label[i] == j ? 1.0f : 0.0f;
}

static int check_labels(tmlp_targets t, int batch, int n_out, int need_label, tmlp_err *err)
{
    if (!t.label && (need_label || !t.target))
        return tmlp_fail(err, TMLP_EINVAL, "loss: no %s given", need_label ? "labels" : "targets");
    if (t.target && !need_label)
        return TMLP_OK;
    int hi = n_out == 1 ? 2 : n_out; /* a single output takes 0/1 labels */
    for (int i = 0; i < batch; i++)
        if (t.label[i] < 0 || t.label[i] >= hi)
            return tmlp_fail(err, TMLP_EINVAL, "loss: row %d has label %d, expected 0..%d", i,
                             t.label[i], hi - 1);
    return TMLP_OK;
}

static double softmax_ce(const float *z, int batch, int n_out, const int *label, float *dz)
{
    double total = 0.0;
    float inv_batch = 1.0f / (float)batch;
    for (int i = 0; i < batch; i++) {
        const float *zi = z + (long)i * n_out;
        float m = zi[0];
        for (int j = 1; j < n_out; j++)
            m = zi[j] > m ? zi[j] : m;
        double sum = 0.0;
        for (int j = 0; j < n_out; j++)
            sum += exp((double)zi[j] - m);
        double lse = m + log(sum);
        total += lse - zi[label[i]];                 /* -log softmax(z)_y */
        if (dz) {
            float *di = dz + (long)i * n_out;
            for (int j = 0; j < n_out; j++)          /* dz = (softmax(z) - onehot(y)) / batch */
                di[j] = ((float)exp((double)zi[j] - lse) - (j == label[i])) * inv_batch;
        }
    }
    return total / batch;
}

static double sigmoid_bce(const float *z, int batch, int n_out, tmlp_targets t, float *dz)
{
    double total = 0.0;
    long n = (long)batch * n_out;
    float inv_n = 1.0f / (float)n;
    for (int i = 0; i < batch; i++)
        for (int j = 0; j < n_out; j++) {
            long k = (long)i * n_out + j;
            double zk = z[k], tk = target_at(t, i, j, n_out);
            total += fmax(zk, 0.0) - zk * tk + log1p(exp(-fabs(zk)));
            if (dz) {                                /* dz = (sigmoid(z) - t) / n */
                double s = zk >= 0 ? 1.0 / (1.0 + exp(-zk)) : exp(zk) / (1.0 + exp(zk));
                dz[k] = (float)(s - tk) * inv_n;
            }
        }
    return total / (double)n;
}

static double mse(const float *z, int batch, int n_out, tmlp_targets t, float *dz)
{
    double total = 0.0;
    long n = (long)batch * n_out;
    float scale = 2.0f / (float)n;
    for (int i = 0; i < batch; i++)
        for (int j = 0; j < n_out; j++) {
            long k = (long)i * n_out + j;
            float d = z[k] - target_at(t, i, j, n_out);
            total += (double)d * d;
            if (dz)
                dz[k] = scale * d;                   /* dz = 2 (z - t) / n */
        }
    return total / (double)n;
}

int tmlp_loss_eval(int kind, const float *z, int batch, int n_out, tmlp_targets t,
                   double *loss, float *dz, tmlp_err *err)
{
    if (batch <= 0 || n_out <= 0)
        return tmlp_fail(err, TMLP_EINVAL, "loss: bad batch %d or outputs %d", batch, n_out);
    int rc;
    double l;
    switch (kind) {
    case TMLP_LOSS_SOFTMAX_CE:
        if (n_out < 2)
            return tmlp_fail(err, TMLP_EINVAL, "softmax_ce needs at least 2 outputs, got %d", n_out);
        if ((rc = check_labels(t, batch, n_out, 1, err)) != TMLP_OK)
            return rc;
        l = softmax_ce(z, batch, n_out, t.label, dz);
        break;
    case TMLP_LOSS_SIGMOID_BCE:
        if ((rc = check_labels(t, batch, n_out, 0, err)) != TMLP_OK)
            return rc;
        l = sigmoid_bce(z, batch, n_out, t, dz);
        break;
    case TMLP_LOSS_MSE:
        if ((rc = check_labels(t, batch, n_out, 0, err)) != TMLP_OK)
            return rc;
        l = mse(z, batch, n_out, t, dz);
        break;
    default:
        return tmlp_fail(err, TMLP_EINVAL, "loss: unknown kind %d", kind);
    }
    if (loss)
        *loss = l;
    return TMLP_OK;
}

void tmlp_loss_link(int kind, const float *z, int batch, int n_out, float *out)
{
    long n = (long)batch * n_out;
    if (kind == TMLP_LOSS_SOFTMAX_CE) {
        for (int i = 0; i < batch; i++) {
            const float *zi = z + (long)i * n_out;
            float *oi = out + (long)i * n_out;
            float m = zi[0];
            for (int j = 1; j < n_out; j++)
                m = zi[j] > m ? zi[j] : m;
            double sum = 0.0;
            for (int j = 0; j < n_out; j++)
                sum += exp((double)zi[j] - m);
            double lse = m + log(sum);
            for (int j = 0; j < n_out; j++)
                oi[j] = (float)exp((double)zi[j] - lse);
        }
    } else if (kind == TMLP_LOSS_SIGMOID_BCE) {
        for (long k = 0; k < n; k++)
            out[k] = z[k] >= 0 ? 1.0f / (1.0f + expf(-z[k])) : expf(z[k]) / (1.0f + expf(z[k]));
    } else if (out != z) {
        memcpy(out, z, (size_t)n * sizeof *out);
    }
}
