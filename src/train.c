/* train.c: the minibatch training loop, evaluation and classification.
 *
 * One step: gather the batch's rows (in shuffled order) into a buffer, forward, loss and its
 * gradient dL/d(outputs), backward, optimizer update. All buffers are allocated before the
 * first epoch; a step allocates nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinymlp/loss.h"
#include "tinymlp/tensor.h"
#include "tinymlp/train.h"

tmlp_train_cfg tmlp_train_defaults(void)
{
    tmlp_train_cfg c = { .epochs = 10, .batch = 32, .seed = 1, .shuffle = 1, .schedule = NULL,
                         .clip_norm = 0.0f, .clip_value = 0.0f, .early_stop = 0,
                         .early_metric = TMLP_METRIC_VAL_LOSS, .min_delta = 0.0f };
    return c;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The class a row of raw outputs z votes for. */
static int vote(int loss, const float *z, int n_out)
{
    if (n_out == 1) /* a single output: logit > 0 for bce, value > 0.5 for mse */
        return z[0] > (loss == TMLP_LOSS_SIGMOID_BCE ? 0.0f : 0.5f);
    int best = 0;
    for (int j = 1; j < n_out; j++)
        if (z[j] > z[best])
            best = j;
    return best;
}

/* Checks that d can be fed to net. */
static int check_data(const tmlp_net *net, const tmlp_data *d, const char *what, tmlp_err *err)
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

int tmlp_evaluate(tmlp_net *net, const tmlp_data *d, double *loss, double *acc, tmlp_err *err)
{
    int rc = check_data(net, d, "evaluation", err);
    if (rc != TMLP_OK)
        return rc;
    const tmlp_net_spec *s = tmlp_net_get_spec(net);
    int n_out = tmlp_net_n_out(net), mb = tmlp_net_max_batch(net), mode = tmlp_net_mode(net);
    double total = 0.0;
    long correct = 0;
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    for (int r = 0; r < d->n; r += mb) {
        int rows = d->n - r < mb ? d->n - r : mb;
        const float *z = tmlp_net_forward(net, d->x + (size_t)r * d->n_in, rows, err);
        tmlp_targets t = { d->label ? d->label + r : NULL,
                           d->target ? d->target + (size_t)r * d->n_targets : NULL };
        double l;
        if (!z || (rc = tmlp_loss_eval(s->loss, z, rows, n_out, t, &l, NULL, err)) != TMLP_OK) {
            tmlp_net_set_mode(net, mode);
            return z ? rc : (err ? err->code : TMLP_EINVAL);
        }
        total += l * rows;
        for (int i = 0; d->label && i < rows; i++)
            correct += vote(s->loss, z + (size_t)i * n_out, n_out) == d->label[r + i];
    }
    tmlp_net_set_mode(net, mode);
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
            cls[r + i] = vote(s->loss, z + (size_t)i * n_out, n_out);
    }
    tmlp_net_set_mode(net, mode);
    return TMLP_OK;
}

/* Clips the gradient block g[0..n) by value, then by global norm. Returns the global norm
 * before any clipping when it had to compute it (or `want_norm` asks), else NAN. */
static double clip(float *g, size_t n, float max_norm, float max_value, int want_norm)
{
    double norm = max_norm > 0.0f || want_norm ? tmlp_norm2(g, n) : NAN;
    if (max_value > 0.0f)
        for (size_t i = 0; i < n; i++)
            g[i] = g[i] > max_value ? max_value : g[i] < -max_value ? -max_value : g[i];
    if (max_norm > 0.0f) {
        double now_norm = max_value > 0.0f ? tmlp_norm2(g, n) : norm;
        if (now_norm > max_norm) {
            float scale = (float)(max_norm / now_norm);
            for (size_t i = 0; i < n; i++)
                g[i] *= scale;
        }
    }
    return norm;
}

int tmlp_train(tmlp_net *net, tmlp_optim *opt, const tmlp_data *train, const tmlp_data *val,
               const tmlp_train_cfg *cfg, const tmlp_observer *obs, tmlp_err *err)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(net);
    int n_out = tmlp_net_n_out(net), rc;
    size_t n_params;
    tmlp_net_params(net, &n_params);
    if (cfg->epochs <= 0 || cfg->batch <= 0 || cfg->batch > tmlp_net_max_batch(net))
        return tmlp_fail(err, TMLP_EINVAL, "train: need epochs > 0 (got %d) and batch in 1..%d "
                         "(got %d)", cfg->epochs, tmlp_net_max_batch(net), cfg->batch);
    if (tmlp_optim_size(opt) != n_params)
        return tmlp_fail(err, TMLP_EINVAL, "train: optimizer made for %zu parameters, net has %zu",
                         tmlp_optim_size(opt), n_params);
    for (int i = 0; i < s->n_layers; i++)
        if (s->layer[i].act && (s->layer[i].act->flags & TMLP_ACT_NOGRAD))
            return tmlp_fail(err, TMLP_ESTATE, "train: layer %d uses '%s', whose derivative is 0 "
                             "everywhere, so no gradient can pass it; pick another activation",
                             i + 1, s->layer[i].act->name);
    if ((rc = check_data(net, train, "training", err)) != TMLP_OK)
        return rc;
    if (cfg->schedule && (rc = tmlp_schedule_check(cfg->schedule, err)) != TMLP_OK)
        return rc;
    if (val && (rc = check_data(net, val, "validation", err)) != TMLP_OK)
        return rc;
    if (!(cfg->clip_norm >= 0.0f) || !(cfg->clip_value >= 0.0f) || cfg->early_stop < 0 ||
        !(cfg->min_delta >= 0.0f))
        return tmlp_fail(err, TMLP_EINVAL, "train: clipping thresholds, early-stopping patience "
                         "and min_delta must be >= 0");
    if (cfg->early_stop > 0 && !val)
        return tmlp_fail(err, TMLP_EINVAL, "train: early stopping needs a validation set");

    const int n = train->n, b = cfg->batch, n_in = train->n_in, nt = train->n_targets;
    int *idx = malloc((size_t)n * sizeof *idx);
    float *xb = malloc((size_t)b * n_in * sizeof *xb);
    int *lb = train->label ? malloc((size_t)b * sizeof *lb) : NULL;
    float *tb = train->target ? malloc((size_t)b * nt * sizeof *tb) : NULL;
    float *dz = malloc((size_t)b * n_out * sizeof *dz);
    size_t n_state;
    float *state = tmlp_net_state(net, &n_state);
    /* early stopping keeps the best epoch's parameters and batch-norm statistics */
    float *best = cfg->early_stop > 0 ? malloc((n_params + n_state) * sizeof *best) : NULL;
    double best_metric = INFINITY;
    int best_epoch = 0;
    if (!idx || !xb || !dz || (train->label && !lb) || (train->target && !tb) ||
        (cfg->early_stop > 0 && !best)) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "train: no memory for batch buffers");
        goto done;
    }
    for (int i = 0; i < n; i++)
        idx[i] = i;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, cfg->seed, 0x5eed);
    float *params = tmlp_net_params(net, NULL), *grads = tmlp_net_grads(net, NULL);
    const int n_batches = (n + b - 1) / b;

    for (int epoch = 1; epoch <= cfg->epochs; epoch++) {
        if (cfg->shuffle)
            tmlp_rng_shuffle(&rng, idx, n);
        tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
        double grad_norm = NAN;
        double t0 = now(), sum_loss = 0.0;
        long correct = 0;
        for (int k = 0; k < n_batches; k++) {
            int start = k * b, rows = n - start < b ? n - start : b;
            for (int i = 0; i < rows; i++) {            /* gather the batch */
                int j = idx[start + i];
                memcpy(xb + (size_t)i * n_in, train->x + (size_t)j * n_in, (size_t)n_in * sizeof *xb);
                if (lb)
                    lb[i] = train->label[j];
                if (tb)
                    memcpy(tb + (size_t)i * nt, train->target + (size_t)j * nt, (size_t)nt * sizeof *tb);
            }
            const float *z = tmlp_net_forward(net, xb, rows, err);
            if (!z) {
                rc = err ? err->code : TMLP_EINVAL;
                goto done;
            }
            double loss;
            tmlp_targets t = { lb, tb };
            if ((rc = tmlp_loss_eval(s->loss, z, rows, n_out, t, &loss, dz, err)) != TMLP_OK)
                goto done;
            if (!isfinite(loss)) {
                rc = tmlp_fail(err, TMLP_ENUMERIC, "train: loss became %g at epoch %d, batch %d; "
                               "try a lower learning rate", loss, epoch, k + 1);
                goto done;
            }
            for (int i = 0; lb && i < rows; i++)
                correct += vote(s->loss, z + (size_t)i * n_out, n_out) == lb[i];
            if ((rc = tmlp_net_backward(net, dz, rows, err)) != TMLP_OK)
                goto done;
            loss += tmlp_net_penalty(net);
            sum_loss += loss;
            if (obs && obs->on_batch) {
                tmlp_batch_info bi = { epoch, cfg->epochs, k + 1, n_batches, loss,
                                       sum_loss / (k + 1), now() - t0, net };
                if (obs->on_batch(obs->ctx, &bi))
                    goto done;
            }
            grad_norm = clip(grads, n_params, cfg->clip_norm, cfg->clip_value, k == n_batches - 1);
            if (cfg->schedule)
                tmlp_optim_set_lr(opt, tmlp_schedule_lr(cfg->schedule, epoch - 1 + (double)k / n_batches,
                                                        cfg->epochs, n_batches));
            tmlp_optim_step(opt, params, grads);
        }
        tmlp_epoch_info ei = { .epoch = epoch, .epochs = cfg->epochs,
                               .train_loss = sum_loss / n_batches,
                               .train_acc = lb ? (double)correct / n : NAN,
                               .val_loss = NAN, .val_acc = NAN, .seconds = now() - t0,
                               .steps = tmlp_optim_steps(opt), .lr = tmlp_optim_lr(opt),
                               .net = net };
        tmlp_net_set_mode(net, TMLP_MODE_EVAL);
        if (val && (rc = tmlp_evaluate(net, val, &ei.val_loss, &ei.val_acc, err)) != TMLP_OK)
            goto done;
        if (cfg->schedule)
            tmlp_schedule_epoch_end(cfg->schedule, ei.val_loss);
        ei.grad_norm = grad_norm;
        int stop = 0;
        if (cfg->early_stop > 0) {
            /* lower is better: the loss, or minus the accuracy */
            double m = cfg->early_metric == TMLP_METRIC_VAL_ACC ? -ei.val_acc : ei.val_loss;
            if (m < best_metric - cfg->min_delta) {
                best_metric = m;
                best_epoch = epoch;
                memcpy(best, params, n_params * sizeof *best);
                memcpy(best + n_params, state, n_state * sizeof *best);
            }
            stop = epoch - best_epoch >= cfg->early_stop;
            ei.best_epoch = best_epoch;
        }
        if (obs && obs->on_epoch && obs->on_epoch(obs->ctx, &ei))
            break;
        if (stop)
            break;
    }
    if (best_epoch > 0) { /* end with the best epoch's weights */
        memcpy(params, best, n_params * sizeof *best);
        memcpy(state, best + n_params, n_state * sizeof *best);
    }
done:
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    free(best);
    free(idx);
    free(xb);
    free(lb);
    free(tb);
    free(dz);
    return rc;
}
