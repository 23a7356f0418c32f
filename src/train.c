/* train.c: the minibatch training loop, evaluation and classification.
 *
 * One step: gather the batch's rows (in shuffled order) into a buffer, forward, loss and its
 * gradient dL/d(outputs), backward, optimizer update. All buffers are allocated before the
 * first epoch; a step allocates nothing. With a reducer (reduce.h) each rank gathers only its
 * shard of the batch, and the loss, the gradient block and the stop requests are summed across
 * ranks before anything is decided on them, so every rank decides the same. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tinymlp/loss.h"
#include "tinymlp/tensor.h"
#include "tinymlp/train.h"
#include "hot.h"
#include "team_impl.h"
#include "train_impl.h"

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

int tmlp_train_threads_auto(const tmlp_net *net, int batch)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int cap = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    double biggest = 0.0;
    int n_in = tmlp_net_n_in(net);
    const tmlp_net_spec *spec = tmlp_net_get_spec(net);
    for (int i = 0; i < spec->n_layers; i++) {
        double macs = (double)batch * n_in * spec->layer[i].units;
        biggest = macs > biggest ? macs : biggest;
        n_in = spec->layer[i].units;
    }
    size_t n_params;
    tmlp_net_params((tmlp_net *)net, &n_params);
    return biggest >= 0x1p20 || n_params >= ((size_t)1 << 19) ? cap : 1;
}

tmlp_team *tmlp_train_team(tmlp_net *net, tmlp_optim *opt, int batch, int threads,
                           tmlp_err *err)
{
    if (err)
        err->code = TMLP_OK;
    int n = threads > 0 ? threads : tmlp_train_threads_auto(net, batch);
    tmlp_blas_threads(1);
    tmlp_team *team = n > 1 ? tmlp_team_new(n, err) : NULL;
    tmlp_net_set_team(net, team);
    if (opt)
        tmlp_optim_set_team(opt, team);
    return team;
}

void tmlp_train_state_free(tmlp_train_state *st)
{
    if (!st)
        return;
    free(st->best);
    memset(st, 0, sizeof *st);
}

/* The gradient block is scanned after every backward: one branch-free pass (see hot.h), and
 * the value is located only when there is one. */
TMLP_HOT static int all_finite(const float *restrict x, size_t n)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++)
        top = tmlp_max_u32(top, tmlp_exp_field(x[i]));
    return top != TMLP_EXP_ALL_ONES;
}

/* all_finite over the gradient block, split between the net's team in chunks of GRAD_CHUNK
 * values (64 KiB, as the optimizer's): 1 if a chunk has a non-finite value. */
#define GRAD_CHUNK 16384

static unsigned grads_bad_chunk(void *ctx, size_t begin, size_t end)
{
    const float *g = ctx;
    return !all_finite(g + begin, end - begin);
}

/* One batch gathered from the training set: rows idx[0..rows) of d into xb, lb and tb. */
typedef struct gather_job {
    const tmlp_data *d;
    const int *idx;
    float *xb, *tb;
    int *lb;
} gather_job;

static unsigned gather_rows(void *ctx, size_t begin, size_t end)
{
    const gather_job *g = ctx;
    const size_t n_in = (size_t)g->d->n_in, nt = (size_t)g->d->n_targets;
    for (size_t i = begin; i < end; i++) {
        size_t j = (size_t)g->idx[i];
        memcpy(g->xb + i * n_in, g->d->x + j * n_in, n_in * sizeof *g->xb);
        if (g->lb)
            g->lb[i] = g->d->label[j];
        if (g->tb)
            memcpy(g->tb + i * nt, g->d->target + j * nt, nt * sizeof *g->tb);
    }
    return 0;
}

/* Index of the first non-finite value of x[0..n), or -1. */
static long first_nonfinite(const float *x, size_t n)
{
    if (!x || all_finite(x, n))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return (long)i;
    return -1;
}

typedef struct named {
    const char *what;   /* "weight", "pre-activation Z" */
    const char *file;   /* its tensor name in model files, or NULL */
    const float *x;
    size_t n, cols;     /* cols > 0: a (rows, cols) batch buffer, located as row and unit */
} named;

/* Writes "<what> of layer i+1" with where the bad value sits into buf; 1 if one was found. */
static int locate(const named *t, int n_t, int layer, char *buf, size_t size)
{
    for (int k = 0; k < n_t; k++) {
        long at = first_nonfinite(t[k].x, t[k].n);
        if (at < 0)
            continue;
        char tensor[48] = "";
        if (t[k].file)
            snprintf(tensor, sizeof tensor, " (layers.%d.%s)", layer, t[k].file);
        if (t[k].cols)
            snprintf(buf, size, "layer %d %s%s, row %ld unit %ld, is %g", layer + 1, t[k].what,
                     tensor, at / (long)t[k].cols + 1, at % (long)t[k].cols + 1,
                     (double)t[k].x[at]);
        else
            snprintf(buf, size, "layer %d %s%s element %ld is %g", layer + 1, t[k].what, tensor,
                     at, (double)t[k].x[at]);
        return 1;
    }
    return 0;
}

/* The layer's parameters (params) or gradients (!params), in file order. */
static int layer_tensors(const tmlp_layer_view *v, int params, named *t)
{
    size_t w = (size_t)v->n_out * (size_t)v->n_in, u = (size_t)v->n_out;
    int n = 0;
    t[n++] = (named){ params ? "weight" : "weight gradient", "weight", params ? v->W : v->dW, w, 0 };
    t[n++] = (named){ params ? "bias" : "bias gradient", "bias", params ? v->b : v->db, u, 0 };
    t[n++] = (named){ params ? "batch-norm scale" : "batch-norm scale gradient", "bn_weight",
                      params ? v->bn_gamma : v->dbn_gamma, u, 0 };
    t[n++] = (named){ params ? "batch-norm shift" : "batch-norm shift gradient", "bn_bias",
                      params ? v->bn_beta : v->dbn_beta, u, 0 };
    t[n++] = (named){ params ? "activation parameter" : "activation parameter gradient",
                      "act_param", params ? v->act_param : v->dact_param,
                      (size_t)v->n_act_params, 0 };
    if (params) {                                   /* not trained by gradients, but kept */
        t[n++] = (named){ "batch-norm running mean", "bn_running_mean", v->bn_mean, u, 0 };
        t[n++] = (named){ "batch-norm running variance", "bn_running_var", v->bn_var, u, 0 };
    }
    return n;
}

/* What made a value non-finite: the arithmetic (a learning rate too high), the parameters
 * themselves (skipping batches cannot help), or the data. */
enum { CAUSE_ARITHMETIC = 0, CAUSE_PARAMS, CAUSE_DATA, CAUSE_DIVERGED };

/* Names the first non-finite input of the batch (xb may be NULL); CAUSE_DATA if there is one. */
static int explain_input(const tmlp_net *net, const float *xb, int rows, const int *idx,
                         char *buf, size_t size)
{
    int n_in = tmlp_net_n_in(net);
    long at = first_nonfinite(xb, (size_t)rows * (size_t)n_in);
    if (at < 0)
        return CAUSE_ARITHMETIC;
    snprintf(buf, size, "the training data holds %g (sample %d, feature %ld)", (double)xb[at],
             idx[at / n_in] + 1, at % n_in + 1);
    return CAUSE_DATA;
}

/* Says where a non-finite loss came from, in the order the forward pass computed it: the
 * batch's input rows, then each layer's parameters and outputs. Returns the cause. */
static int explain_loss(const tmlp_net *net, const float *xb, int rows, const int *idx,
                        char *buf, size_t size)
{
    if (explain_input(net, xb, rows, idx, buf, size) == CAUSE_DATA)
        return CAUSE_DATA;
    for (int i = 0; i < tmlp_net_get_spec(net)->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, i, &v, NULL) != TMLP_OK)
            break;
        named t[9];
        int n = layer_tensors(&v, 1, t);
        if (locate(t, n, i, buf, size))
            return CAUSE_PARAMS;
        size_t m = (size_t)rows * (size_t)v.n_out;
        const float *bufs[4] = { v.z, v.u, v.a, v.out };
        const char *names[4] = { "pre-activation Z", "normalised input U", "activation output A",
                                 "output after dropout" };
        n = 0;
        for (int k = 0; k < 4; k++)   /* u, a and out may alias z or each other: name once */
            if (bufs[k] && (k == 0 || (bufs[k] != bufs[k - 1] && (k < 2 || bufs[k] != bufs[0]))))
                t[n++] = (named){ names[k], NULL, bufs[k], m, (size_t)v.n_out };
        if (locate(t, n, i, buf, size))
            return CAUSE_ARITHMETIC;
    }
    snprintf(buf, size, "every output is finite; the loss itself overflowed");
    return CAUSE_ARITHMETIC;
}

/* Says which gradient is not finite, from the output layer down (the order backward computed
 * them), unless the batch's input is to blame (ReLU-like units can hide a NaN input from the
 * loss, not from the gradient). */
static int explain_grad(const tmlp_net *net, const float *xb, int rows, const int *idx,
                        const float *grads, size_t n_params, char *buf, size_t size)
{
    if (explain_input(net, xb, rows, idx, buf, size) == CAUSE_DATA)
        return CAUSE_DATA;
    for (int i = tmlp_net_get_spec(net)->n_layers - 1; i >= 0; i--) {
        tmlp_layer_view v;
        named t[9];
        if (tmlp_net_layer(net, i, &v, NULL) == TMLP_OK &&
            locate(t, layer_tensors(&v, 0, t), i, buf, size))
            return CAUSE_ARITHMETIC;
    }
    snprintf(buf, size, "gradient block element %ld is not finite",
             first_nonfinite(grads, n_params));
    return CAUSE_ARITHMETIC;
}

/* Names the weight of largest magnitude (where a diverging run's growth shows), in the
 * syntax of locate: "layer 2 weight (layers.1.weight) element 5 is -3e+20". */
static void largest_weight(const tmlp_net *net, char *buf, size_t size)
{
    int at_layer = -1;
    size_t at = 0;
    float big = -1.0f;
    for (int i = 0; i < tmlp_net_get_spec(net)->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, i, &v, NULL) != TMLP_OK)
            break;
        for (size_t k = 0; k < (size_t)v.n_out * (size_t)v.n_in; k++)
            if (fabsf(v.W[k]) > big) {
                big = fabsf(v.W[k]);
                at_layer = i;
                at = k;
            }
    }
    tmlp_layer_view v;
    if (at_layer < 0 || tmlp_net_layer(net, at_layer, &v, NULL) != TMLP_OK)
        snprintf(buf, size, "no weights");
    else
        snprintf(buf, size, "layer %d weight (layers.%d.weight) element %zu is %g", at_layer + 1,
                 at_layer, at, (double)v.W[at]);
}

/* The advice that ends a non-finite-value error. */
static void advise(int cause, float lr, char *buf, size_t size)
{
    if (cause == CAUSE_DATA)
        snprintf(buf, size, "every input must be finite (or such batches skipped)");
    else
        snprintf(buf, size, "try a lower learning rate (it was %g)", (double)lr);
}

/* Early stopping ends a run with its best epoch's parameters and batch-norm statistics; the
 * run is then finished (its weights are no longer the ones training would continue from). */
static void end_with_best(tmlp_train_state *st, float *params, size_t n_params, float *state,
                          size_t n_state)
{
    if (st->best_epoch <= 0)
        return;
    memcpy(params, st->best, n_params * sizeof *st->best);
    memcpy(state, st->best + n_params, n_state * sizeof *st->best);
    st->finished = 1;
}

/* Checks that st can continue a run of n_batches batches an epoch. */
static int check_state(const tmlp_train_state *st, int n_batches, size_t n_best, tmlp_err *err)
{
    if (st->epoch < 0 || st->batch < 0 || st->batch >= n_batches || st->skipped < 0 ||
        st->counted < 0 || st->counted > st->batch || st->rows < 0 || st->rows > INT_MAX ||
        st->skipped > LONG_MAX - INT_MAX || st->correct < 0 ||
        st->correct > st->rows || !isfinite(st->sum_loss))
        return tmlp_fail(err, TMLP_EINVAL, "train: state at epoch %d, batch %d does not fit a "
                         "run of %d batches an epoch (different data or batch size?)",
                         st->epoch, st->batch, n_batches);
    if (st->best_epoch < 0 || st->best_epoch > st->epoch ||
        (st->best_epoch > 0 && (!st->best || st->n_best != n_best)))
        return tmlp_fail(err, TMLP_EINVAL, "train: state's early-stopping record (best epoch "
                         "%d, %zu values) does not fit this net (%zu)", st->best_epoch,
                         st->best ? st->n_best : 0, n_best);
    return TMLP_OK;
}

/* Sharded training (cfg->reducer): the batch's loss and right answers summed across ranks,
 * the local loss gradient dz rescaled from this shard's mean to the global batch's. */
static int reduce_loss(const tmlp_reducer *red, int kind, const float *z, int mine, int rows,
                       int n_out, const int *lb, float *dz, double *loss, long *right,
                       tmlp_err *err)
{
    double sums[2] = { mine > 0 ? *loss * mine : 0.0, 0.0 };
    for (int i = 0; lb && i < mine; i++)
        sums[1] += tmlp_vote(kind, z + (size_t)i * n_out, n_out) == lb[i];
    if (red->sum(red->ctx, sums, 2, TMLP_REDUCE_DOUBLE))
        return tmlp_fail(err, TMLP_EIO, "train: summing the loss across ranks failed");
    *loss = sums[0] / rows;
    *right = (long)sums[1];
    const float scale = (float)((double)mine / rows);
    for (size_t k = 0; mine < rows && k < (size_t)mine * n_out; k++)
        dz[k] *= scale;
    return TMLP_OK;
}

/* Whether any rank's observer asked to stop (*stop), so that every rank stops together. */
static int agree(const tmlp_reducer *red, int *stop, tmlp_err *err)
{
    double v = *stop != 0;
    if (red->sum(red->ctx, &v, 1, TMLP_REDUCE_DOUBLE))
        return tmlp_fail(err, TMLP_EIO, "train: agreeing across ranks to stop failed");
    *stop = v > 0.0;
    return TMLP_OK;
}

int tmlp_train(tmlp_net *net, tmlp_optim *opt, const tmlp_data *train, const tmlp_data *val,
               const tmlp_train_cfg *cfg, const tmlp_observer *obs, tmlp_err *err)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(net);
    int n_out = tmlp_net_n_out(net), rc;
    size_t n_params, n_state;
    float *params = tmlp_net_params(net, &n_params), *grads = tmlp_net_grads(net, NULL);
    tmlp_rng *drop_rng = tmlp_net_dropout_rng(net); /* rewound around the batch observer */
    float *state = tmlp_net_state(net, &n_state);
    if (cfg->epochs <= 0 || cfg->epochs == INT_MAX || cfg->batch <= 0 ||
        cfg->batch > tmlp_net_max_batch(net))   /* INT_MAX epochs would overflow the loop */
        return tmlp_fail(err, TMLP_EINVAL, "train: need epochs in 1..%d (got %d) and batch in "
                         "1..%d (got %d)", INT_MAX - 1, cfg->epochs, tmlp_net_max_batch(net),
                         cfg->batch);
    if (tmlp_optim_size(opt) != n_params)
        return tmlp_fail(err, TMLP_EINVAL, "train: optimizer made for %zu parameters, net has %zu",
                         tmlp_optim_size(opt), n_params);
    for (int i = 0; i < s->n_layers; i++)
        if (s->layer[i].act && (s->layer[i].act->flags & TMLP_ACT_NOGRAD))
            return tmlp_fail(err, TMLP_ESTATE, "train: layer %d uses '%s', whose derivative is 0 "
                             "everywhere, so no gradient can pass it; pick another activation",
                             i + 1, s->layer[i].act->name);
    if ((rc = tmlp_check_data(net, train, "training", err)) != TMLP_OK)
        return rc;
    if (cfg->schedule && (rc = tmlp_schedule_check(cfg->schedule, err)) != TMLP_OK)
        return rc;
    if (val && (rc = tmlp_check_data(net, val, "validation", err)) != TMLP_OK)
        return rc;
    if (!(cfg->clip_norm >= 0.0f) || !(cfg->clip_value >= 0.0f) || cfg->early_stop < 0 ||
        !(cfg->min_delta >= 0.0f))
        return tmlp_fail(err, TMLP_EINVAL, "train: clipping thresholds, early-stopping patience "
                         "and min_delta must be >= 0");
    if (cfg->early_stop > 0 && !val)
        return tmlp_fail(err, TMLP_EINVAL, "train: early stopping needs a validation set");
    if (cfg->reducer && (rc = tmlp_net_set_shard(net, cfg->reducer, 0, 1, err)) != TMLP_OK)
        return rc;
    tmlp_net_set_shard(net, NULL, 0, 0, NULL);
    if (cfg->on_nan != TMLP_ON_NAN_STOP && cfg->on_nan != TMLP_ON_NAN_SKIP)
        return tmlp_fail(err, TMLP_EINVAL, "train: on_nan must be TMLP_ON_NAN_STOP or "
                         "TMLP_ON_NAN_SKIP, got %d", cfg->on_nan);
    char where[240];
    if (first_nonfinite(params, n_params) >= 0 || first_nonfinite(state, n_state) >= 0) {
        explain_loss(net, NULL, 0, NULL, where, sizeof where);
        return tmlp_fail(err, TMLP_ENUMERIC, "train: the net is not finite before training: %s",
                         where);
    }

    const int n = train->n, b = cfg->batch, n_in = train->n_in, nt = train->n_targets;
    const tmlp_reducer *red = cfg->reducer;
    tmlp_team *team = tmlp_net_team(net); /* shares the gather and the gradient scan too */
    const int threads = tmlp_team_threads(team);
    /* rows per thread, at least 8: smaller shares cost more to hand out than to copy */
    const int share = (b + threads - 1) / threads;
    const size_t gather_chunk = (size_t)(share > 8 ? share : 8);
    const int n_batches = (n + b - 1) / b;
    tmlp_train_state fresh = { 0 }, *st = cfg->state ? cfg->state : &fresh;
    if (st->rng.inc == 0) {
        tmlp_train_state_free(st);
        tmlp_rng_seed(&st->rng, cfg->seed, 0x5eed);
    }
    if ((rc = check_state(st, n_batches, n_params + n_state, err)) != TMLP_OK)
        return rc;
    if (st->finished || st->epoch >= cfg->epochs) { /* a finished run: nothing left to do */
        end_with_best(st, params, n_params, state, n_state);
        return TMLP_OK;
    }

    int *idx = malloc((size_t)n * sizeof *idx);
    float *xb = malloc((size_t)b * n_in * sizeof *xb);
    int *lb = train->label ? malloc((size_t)b * sizeof *lb) : NULL;
    float *tb = train->target ? malloc((size_t)b * nt * sizeof *tb) : NULL;
    float *dz = malloc((size_t)b * n_out * sizeof *dz);
    /* A training forward updates batch norm's running statistics: kept from before each batch
     * so that a batch skipped, refused or stopped before its step leaves no trace. */
    float *state0 = n_state ? malloc(2 * n_state * sizeof *state0) : NULL;
    float *state1 = state0 ? state0 + n_state : NULL;
    /* early stopping keeps the best epoch's parameters and batch-norm statistics */
    if (cfg->early_stop > 0 && !st->best) {
        st->best = malloc((n_params + n_state) * sizeof *st->best);
        st->n_best = st->best ? n_params + n_state : 0;
    }
    if (!idx || !xb || !dz || (train->label && !lb) || (train->target && !tb) ||
        (cfg->early_stop > 0 && !st->best) || (n_state && !state0)) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "train: no memory for batch buffers");
        goto done;
    }

    /* Divergence: the loss of the first batch the run trains (the untrained net's) is the
     * yardstick, kept in the state so a resumed run keeps it; a batch loss above
     * TMLP_DIVERGE_FACTOR times it (or times 1, if it was smaller) cannot come from a healthy
     * run and is treated as a non-finite one. */
    for (int epoch = st->epoch + 1; epoch <= cfg->epochs; epoch++) {
        /* The epoch's order depends only on the generator's state at its start, so a run
         * resumed at any batch of it sees the same order. */
        tmlp_rng rng = st->rng;
        for (int i = 0; i < n; i++)
            idx[i] = i;
        if (cfg->shuffle)
            tmlp_rng_shuffle(&rng, idx, n);
        tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
        double grad_norm = NAN, t0 = now();
        for (int k = st->batch; k < n_batches; k++) {
            int start = k * b, rows = n - start < b ? n - start : b;
            int off = 0, mine = rows;                   /* this rank's shard of the batch */
            if (red) {
                tmlp_reduce_shard(rows, red->rank, red->size, &off, &mine);
                tmlp_net_set_shard(net, red, off, rows, NULL);
            }
            gather_job gj = { train, idx + start + off, xb, tb, lb }; /* gather the batch */
            if (mine > 0)
                tmlp_team_run(team, gather_rows, &gj, (size_t)mine, gather_chunk);
            if (n_state)
                memcpy(state0, state, n_state * sizeof *state);
            const tmlp_rng drop0 = *drop_rng;           /* before this batch's dropout masks */
            const float *z = tmlp_net_forward(net, xb, mine, err);
            if (!z) {
                rc = err ? err->code : TMLP_EINVAL;
                goto done;
            }
            double loss = 0.0;
            long right = 0;
            tmlp_targets t = { lb, tb };
            if (mine > 0 &&
                (rc = tmlp_loss_eval(s->loss, z, mine, n_out, t, &loss, dz, err)) != TMLP_OK)
                goto done;
            int mine_bad = !isfinite(loss);
            if (red && (rc = reduce_loss(red, s->loss, z, mine, rows, n_out, lb, dz, &loss,
                                         &right, err)) != TMLP_OK)
                goto done;
            int cause = CAUSE_ARITHMETIC, bad = !isfinite(loss);
            if (!bad && !(st->diverge_base >= 1.0))
                st->diverge_base = loss > 1.0 ? loss : 1.0;
            if (!bad && loss > TMLP_DIVERGE_FACTOR * st->diverge_base) {
                bad = 1;
                cause = CAUSE_DIVERGED;
                char big[96];
                largest_weight(net, big, sizeof big);
                snprintf(where, sizeof where, "the loss is %g, over %g times the first batch's "
                         "(%g, or 1 if it was smaller), the largest %s: training diverged", loss,
                         TMLP_DIVERGE_FACTOR, st->diverge_base, big);
            } else if (bad) {
                char why[160];
                if (mine_bad)
                    cause = explain_loss(net, xb, mine, idx + start + off, why, sizeof why);
                else
                    snprintf(why, sizeof why, "on another rank's rows of the batch");
                snprintf(where, sizeof where, "the loss is %g: %s", loss, why);
            } else {
                if ((rc = tmlp_net_backward(net, dz, mine, err)) != TMLP_OK)
                    goto done;
                if (red && red->sum(red->ctx, grads, n_params, TMLP_REDUCE_FLOAT)) {
                    rc = tmlp_fail(err, TMLP_EIO, "train: epoch %d, batch %d: summing the "
                                   "gradient across ranks failed", epoch, k + 1);
                    goto done;
                }
                if ((bad = tmlp_team_run(team, grads_bad_chunk, grads, n_params,
                                         tmlp_team_chunk(team, n_params, GRAD_CHUNK)) != 0))
                    cause = explain_grad(net, xb, mine, idx + start + off, grads, n_params, where,
                                         sizeof where);
            }
            if (bad && n_state)
                memcpy(state, state0, n_state * sizeof *state);
            /* Sharded, the cause is each rank's own view: the stop-or-skip choice must not
             * depend on it, only on what every rank holds the same. */
            if (bad && red)
                cause = first_nonfinite(params, n_params) >= 0 ? CAUSE_PARAMS
                        : cause == CAUSE_PARAMS ? CAUSE_ARITHMETIC : cause;
            if (bad && (cfg->on_nan == TMLP_ON_NAN_STOP || cause == CAUSE_PARAMS)) {
                char advice[80];
                advise(cause, tmlp_optim_lr(opt), advice, sizeof advice);
                rc = tmlp_fail(err, TMLP_ENUMERIC, "train: epoch %d, batch %d: %s; %s", epoch,
                               k + 1, where, advice);
                goto done;
            }
            if (bad) {                                  /* TMLP_ON_NAN_SKIP: no step */
                st->skipped++;
                st->batch = k + 1;
                continue;
            }
            for (int i = 0; !red && lb && i < rows; i++)
                right += tmlp_vote(s->loss, z + (size_t)i * n_out, n_out) == lb[i];
            loss += tmlp_net_penalty(net);
            int stop = 0;
            if (obs && obs->on_batch) {
                /* The observer sees the net as the state describes it (the batch not yet
                 * trained, so not in the running statistics either): a checkpoint it saves
                 * continues exactly. */
                if (n_state) {
                    memcpy(state1, state, n_state * sizeof *state);
                    memcpy(state, state0, n_state * sizeof *state);
                }
                const tmlp_rng drop1 = *drop_rng;       /* likewise the dropout generator */
                *drop_rng = drop0;
                tmlp_batch_info bi = { epoch, cfg->epochs, k + 1, n_batches, loss,
                                       (st->sum_loss + loss) / (st->counted + 1), now() - t0, net };
                stop = obs->on_batch(obs->ctx, &bi);
                *drop_rng = drop1;
                if (n_state)
                    memcpy(state, state1, n_state * sizeof *state);
            }
            if (red && (rc = agree(red, &stop, err)) != TMLP_OK) /* every rank stops together */
                goto done;
            if (stop) {                                 /* this batch stays untrained */
                if (n_state)
                    memcpy(state, state0, n_state * sizeof *state);
                *drop_rng = drop0;
                goto done;
            }
            grad_norm = clip(grads, n_params, cfg->clip_norm, cfg->clip_value, k == n_batches - 1);
            if (cfg->schedule)
                tmlp_optim_set_lr(opt, tmlp_schedule_lr(cfg->schedule, epoch - 1 + (double)k / n_batches,
                                                        cfg->epochs, n_batches));
            if (!tmlp_optim_step(opt, params, grads)) { /* the update itself overflowed */
                explain_loss(net, NULL, 0, NULL, where, sizeof where);
                rc = tmlp_fail(err, TMLP_ENUMERIC, "train: epoch %d, batch %d: after the update, "
                               "%s; try a lower learning rate (it was %g)", epoch, k + 1, where,
                               (double)tmlp_optim_lr(opt));
                goto done;
            }
            st->batch = k + 1;
            st->sum_loss += loss;
            st->counted++;
            st->rows += rows;
            st->correct += right;
        }
        if (st->counted == 0) {
            rc = tmlp_fail(err, TMLP_ENUMERIC, "train: epoch %d: every batch was skipped for "
                           "non-finite values or a diverged loss; try a lower learning rate",
                           epoch);
            goto done;
        }
        tmlp_epoch_info ei = { .epoch = epoch, .epochs = cfg->epochs,
                               .train_loss = st->sum_loss / st->counted,
                               .train_acc = lb ? (double)st->correct / st->rows : NAN,
                               .val_loss = NAN, .val_acc = NAN, .seconds = now() - t0,
                               .steps = tmlp_optim_steps(opt), .lr = tmlp_optim_lr(opt),
                               .net = net, .skipped = st->skipped };
        tmlp_net_set_mode(net, TMLP_MODE_EVAL);
        if (val && (rc = tmlp_evaluate_sharded(net, val, red, &ei.val_loss, &ei.val_acc,
                                               err)) != TMLP_OK)
            goto done;
        if (cfg->schedule)
            tmlp_schedule_epoch_end(cfg->schedule, ei.val_loss);
        ei.grad_norm = grad_norm;
        if (cfg->early_stop > 0) {
            /* lower is better: the loss, or minus the accuracy */
            double m = cfg->early_metric == TMLP_METRIC_VAL_ACC ? -ei.val_acc : ei.val_loss;
            if (st->best_epoch == 0 || m < st->best_metric - cfg->min_delta) {
                st->best_metric = m;
                st->best_epoch = epoch;
                memcpy(st->best, params, n_params * sizeof *st->best);
                memcpy(st->best + n_params, state, n_state * sizeof *st->best);
            }
            st->finished = epoch - st->best_epoch >= cfg->early_stop;
            ei.best_epoch = st->best_epoch;
        }
        /* The epoch is done: the state now points at the start of the next one. */
        st->epoch = epoch;
        st->batch = 0;
        st->rng = rng;
        st->sum_loss = 0.0;
        st->counted = 0;
        st->rows = st->correct = 0;
        int stop = obs && obs->on_epoch && obs->on_epoch(obs->ctx, &ei);
        if (red && (rc = agree(red, &stop, err)) != TMLP_OK)
            goto done;
        if (stop)
            break;
        if (st->finished)
            break;
    }
    end_with_best(st, params, n_params, state, n_state);
done:
    tmlp_net_set_mode(net, TMLP_MODE_EVAL);
    tmlp_net_set_shard(net, NULL, 0, 0, NULL);
    if (st == &fresh)
        tmlp_train_state_free(&fresh);
    free(state0);
    free(idx);
    free(xb);
    free(lb);
    free(tb);
    free(dz);
    return rc;
}
