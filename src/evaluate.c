/* evaluate.c: evaluation and classification, on one process or split between ranks. */
#include <math.h>
#include <stddef.h>

#include "tinymlp/loss.h"
#include "tinymlp/train.h"
#include "train_impl.h"

/* Checks that d can be fed to net. */
int tmlp_check_data(const tmlp_net *net, const tmlp_data *d, const char *what, tmlp_err *err)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(net);
    int n_out = tmlp_net_n_out(net);
    if (!d || d->n <= 0 || !d->x)
        return tmlp_fail(err, TMLP_EINVAL, "%s data is empty", what);
    if (d->n_in != s->n_in)
        return tmlp_fail(err, TMLP_EINVAL, "%s data has %d inputs per sample, the net takes %d",
                         what, d->n_in, s->n_in);
    if (s->loss == TMLP_LOSS_SOFTMAX_CE && (!d->label || d->n_classes > n_out))
        return tmlp_fail(err, TMLP_EINVAL, "%s data: softmax_ce needs labels in 0..%d, data has %s",
                         what, n_out - 1, d->label ? "more classes" : "no labels");
    if (s->loss != TMLP_LOSS_SOFTMAX_CE) {
        if (d->target && d->n_targets != n_out)
            return tmlp_fail(err, TMLP_EINVAL, "%s data has %d targets per sample, the net has %d "
                             "outputs", what, d->n_targets, n_out);
        if (!d->target && !d->label)
            return tmlp_fail(err, TMLP_EINVAL, "%s data has neither labels nor targets", what);
        if (!d->target && n_out > 1 && d->n_classes > n_out)
            return tmlp_fail(err, TMLP_EINVAL, "%s data has %d classes, the net %d outputs", what,
                             d->n_classes, n_out);
        if (!d->target && n_out == 1 && d->n_classes > 2)
            return tmlp_fail(err, TMLP_EINVAL, "%s data has %d classes, a single output takes 2",
                             what, d->n_classes);
    }
    return TMLP_OK;
}

/* Sums of the loss (Σ rows · batch mean) and of the right answers over d's rows [lo, hi), in
 * chunks of the net's max batch, in evaluation mode. */
static int eval_rows(tmlp_net *net, const tmlp_data *d, int lo, int hi, double *total,
                     long *correct, tmlp_err *err)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(net);
    int n_out = tmlp_net_n_out(net), mb = tmlp_net_max_batch(net), mode = tmlp_net_mode(net), rc;
    *total = 0.0;
    *correct = 0;
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    for (int r = lo; r < hi; r += mb) {
        int rows = hi - r < mb ? hi - r : mb;
        const float *z = tmlp_net_forward(net, d->x + (size_t)r * d->n_in, rows, err);
        tmlp_targets t = { d->label ? d->label + r : NULL,
                           d->target ? d->target + (size_t)r * d->n_targets : NULL };
        double l;
        if (!z || (rc = tmlp_loss_eval(s->loss, z, rows, n_out, t, &l, NULL, err)) != TMLP_OK) {
            tmlp_net_set_mode(net, mode);
            return z ? rc : (err ? err->code : TMLP_EINVAL);
        }
        *total += l * rows;
        for (int i = 0; d->label && i < rows; i++)
            *correct += tmlp_vote(s->loss, z + (size_t)i * n_out, n_out) == d->label[r + i];
    }
    tmlp_net_set_mode(net, mode);
    return TMLP_OK;
}

int tmlp_evaluate(tmlp_net *net, const tmlp_data *d, double *loss, double *acc, tmlp_err *err)
{
    return tmlp_evaluate_sharded(net, d, NULL, loss, acc, err);
}

int tmlp_evaluate_sharded(tmlp_net *net, const tmlp_data *d, const tmlp_reducer *red,
                          double *loss, double *acc, tmlp_err *err)
{
    int rc = tmlp_check_data(net, d, "evaluation", err);
    if (rc != TMLP_OK)
        return rc;
    int lo = 0, count = d->n;
    if (red)
        tmlp_reduce_shard(d->n, red->rank, red->size, &lo, &count);
    double total;
    long correct;
    if ((rc = eval_rows(net, d, lo, lo + count, &total, &correct, err)) != TMLP_OK)
        return rc;
    if (red) { /* every rank's sums, added in the same order everywhere */
        double sums[2] = { total, (double)correct };
        if (red->sum(red->ctx, sums, 2, TMLP_REDUCE_DOUBLE))
            return tmlp_fail(err, TMLP_EIO, "evaluate: summing the metrics across ranks failed");
        total = sums[0];
        correct = (long)sums[1];
    }
    if (loss)
        *loss = total / d->n;
    if (acc)
        *acc = d->label ? (double)correct / d->n : NAN;
    return TMLP_OK;
}

int tmlp_classify(tmlp_net *net, const float *x, int n, int *cls, tmlp_err *err)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(net);
    int n_out = tmlp_net_n_out(net), mb = tmlp_net_max_batch(net), mode = tmlp_net_mode(net);
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    for (int r = 0; r < n; r += mb) {
        int rows = n - r < mb ? n - r : mb;
        const float *z = tmlp_net_forward(net, x + (size_t)r * s->n_in, rows, err);
        if (!z) {
            tmlp_net_set_mode(net, mode);
            return err ? err->code : TMLP_EINVAL;
        }
        for (int i = 0; i < rows; i++)
            cls[r + i] = tmlp_vote(s->loss, z + (size_t)i * n_out, n_out);
    }
    tmlp_net_set_mode(net, mode);
    return TMLP_OK;
}
