/* net.c: a sequential MLP: build, initialise, forward, backward, predict.
 *
 * Each layer is an affine map, optional batch norm, its activation and optional dropout:
 *     forward    Z = X·Wᵀ + b     U = BN(Z) or Z     A = f(U)     out = A ⊙ M / (1 - p)
 *     backward   dA = dout ⊙ M / (1 - p)    dU = dA ⊙ f'(U)    dZ = BN'(dU)
 *                dW = dZᵀ·X (+ penalties)   db = Σ_rows dZ     dX = dZ·W
 * All parameters live in one block (per layer: W, b, BN scale and shift, activation
 * parameters) and all gradients in a second block of the same layout; BN's running
 * statistics in a third. Every buffer a step touches is allocated here, once, for max_batch
 * rows. The net knows nothing of files, terminals or datasets. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/init.h"
#include "tinymlp/loss.h"
#include "tinymlp/net.h"
#include "tinymlp/tensor.h"
#include "net_impl.h"
#include "team_impl.h"

struct tmlp_net {
    tmlp_net_spec spec;
    int n_layers, max_batch;
    int batch;           /* rows of the last forward, 0 before any */
    int backward_ok;     /* dz and grads hold the last backward's results */
    int mode;            /* TMLP_MODE_* */
    int fwd_mode;        /* the mode the last forward ran in */
    layer L[TMLP_MAX_LAYERS];
    float *params, *grads, *state;
    size_t n_params, n_state;
    float *work;         /* every activation buffer, one allocation */
    float *da[2];        /* (max_batch, widest) ping-pong for dL/dA while going backwards */
    tmlp_rng drop_rng;   /* dropout masks */
    tmlp_team *team;     /* borrowed: splits the GEMMs, or NULL */
    int skip_zeros;      /* tmlp_net_set_skip_zeros */
    int *skip_idx;       /* the first layer's run and nz, one allocation */
    /* tmlp_net_set_shard: training forwards and backwards see rows [shard_off, shard_off +
     * batch) of a global batch of shard_total rows split between ranks; red NULL: none */
    const tmlp_reducer *red;
    int shard_off, shard_total;
    double *red_buf;     /* (2 widest) batch-norm sums being reduced */
};

/* Adds b to *total, failing on overflow. */
static int add_size(size_t *total, size_t a, size_t b)
{
    if (b != 0 && a > SIZE_MAX / b)
        return 0;
    if (*total > SIZE_MAX - a * b)
        return 0;
    *total += a * b;
    return 1;
}

static int check_spec(const tmlp_net_spec *spec, int max_batch, tmlp_err *err)
{
    if (spec->n_in <= 0)
        return tmlp_fail(err, TMLP_EINVAL, "net: inputs must be positive, got %d", spec->n_in);
    if (spec->n_layers <= 0 || spec->n_layers > TMLP_MAX_LAYERS)
        return tmlp_fail(err, TMLP_EINVAL, "net: needs 1 to %d layers, got %d", TMLP_MAX_LAYERS,
                         spec->n_layers);
    if (max_batch <= 0)
        return tmlp_fail(err, TMLP_EINVAL, "net: max batch must be positive, got %d", max_batch);
    if (!tmlp_loss_name(spec->loss))
        return tmlp_fail(err, TMLP_EINVAL, "net: unknown loss %d", spec->loss);
    for (int i = 0; i < spec->n_layers; i++) {
        const tmlp_layer_spec *l = &spec->layer[i];
        if (l->units <= 0)
            return tmlp_fail(err, TMLP_EINVAL, "net: layer %d has %d units", i + 1, l->units);
        if (l->act && (!l->act->forward || !l->act->backward || !l->act->name))
            return tmlp_fail(err, TMLP_EINVAL, "net: layer %d: activation lacks a name, forward "
                             "or backward", i + 1);
        if (l->init < 0 || l->init >= TMLP_INIT_COUNT)
            return tmlp_fail(err, TMLP_EINVAL, "net: layer %d: unknown initializer %d", i + 1,
                             l->init);
        if (!(l->dropout >= 0.0f && l->dropout < 1.0f) || !(l->l1 >= 0.0f) || !(l->l2 >= 0.0f) ||
            !isfinite(l->l1) || !isfinite(l->l2))
            return tmlp_fail(err, TMLP_EINVAL, "net: layer %d: need dropout in [0, 1) and "
                             "penalties >= 0", i + 1);
    }
    const tmlp_layer_spec *out = &spec->layer[spec->n_layers - 1];
    const tmlp_act *identity = tmlp_act_find("identity");
    if (spec->loss != TMLP_LOSS_MSE && out->act && out->act != identity)
        return tmlp_fail(err, TMLP_EINVAL,
                         "net: the output layer feeds %s, which applies %s itself: give it no "
                         "activation (got '%s')", tmlp_loss_name(spec->loss),
                         spec->loss == TMLP_LOSS_SOFTMAX_CE ? "softmax" : "the sigmoid",
                         out->act->name);
    if (out->dropout > 0.0f)
        return tmlp_fail(err, TMLP_EINVAL, "net: the output layer cannot have dropout");
    if (spec->loss == TMLP_LOSS_SOFTMAX_CE && out->units < 2)
        return tmlp_fail(err, TMLP_EINVAL, "net: softmax_ce needs at least 2 outputs, got %d",
                         out->units);
    return TMLP_OK;
}

tmlp_net *tmlp_net_new(const tmlp_net_spec *spec, int max_batch, tmlp_err *err)
{
    if (check_spec(spec, max_batch, err) != TMLP_OK)
        return NULL;
    tmlp_net *net = calloc(1, sizeof *net);
    if (!net) {
        tmlp_fail(err, TMLP_ENOMEM, "net: no memory");
        return NULL;
    }
    net->spec = *spec;
    net->n_layers = spec->n_layers;
    net->max_batch = max_batch;
    const tmlp_act *identity = tmlp_act_find("identity");

    /* Count the parameters and the activation buffers, with overflow checks. */
    size_t n_params = 0, n_work = 0, n_state = 0;
    int widest = spec->n_in, ok = 1;
    for (int i = 0; i < net->n_layers; i++) {
        const tmlp_layer_spec *s = &spec->layer[i];
        layer *l = &net->L[i];
        l->n_in = i ? spec->layer[i - 1].units : spec->n_in;
        l->n_out = s->units;
        l->act = s->act ? s->act : identity;
        l->arg = s->act ? s->act_arg : 0.0f;
        l->init = s->init;
        l->identity = l->act == identity;
        l->bn = s->batchnorm != 0;
        l->drop = s->dropout;
        l->l1 = s->l1;
        l->l2 = s->l2;
        l->n_ap = tmlp_act_n_params(l->act, l->n_out);
        ok = ok && add_size(&n_params, (size_t)l->n_out, (size_t)l->n_in + 1 + 2 * l->bn) &&
             add_size(&n_params, (size_t)l->n_ap, 1);
        ok = ok && add_size(&n_state, (size_t)l->n_out, 2 * (size_t)l->bn);
        /* z, dz always; u, du, xhat and inv_std with bn; a without identity; out and mask with
         * dropout */
        size_t per_row = 2 + 3 * (size_t)l->bn + !l->identity + 2 * (l->drop > 0.0f);
        ok = ok && add_size(&n_work, (size_t)max_batch, (size_t)l->n_out * per_row) &&
             add_size(&n_work, (size_t)l->n_out, (size_t)l->bn);
        widest = l->n_out > widest ? l->n_out : widest;
    }
    ok = ok && add_size(&n_work, (size_t)max_batch, 2 * (size_t)widest);
    /* zero-column skipping's xs and ws, unless they would be large */
    const size_t n0_in = (size_t)spec->n_in, n0_out = (size_t)spec->layer[0].units;
    const int can_skip = ((size_t)max_batch + n0_out) * n0_in <= SKIP_MAX_BUF;
    ok = ok && (!can_skip || add_size(&n_work, n0_in, (size_t)max_batch + n0_out));
    if (!ok || n_params > SIZE_MAX / sizeof(float) / 2 || n_work > SIZE_MAX / sizeof(float)) {
        tmlp_fail(err, TMLP_ENOMEM, "net: sizes overflow (max batch %d)", max_batch);
        goto fail;
    }
    net->n_params = n_params;
    net->n_state = n_state;
    net->params = calloc(n_params, sizeof(float));
    net->grads = calloc(n_params, sizeof(float));
    net->state = calloc(n_state ? n_state : 1, sizeof(float));
    net->work = calloc(n_work, sizeof(float));
    if (!net->params || !net->grads || !net->state || !net->work) {
        tmlp_fail(err, TMLP_ENOMEM, "net: no memory for %zu parameters and %zu buffer floats",
                  n_params, n_work);
        goto fail;
    }

    /* Point every layer's views into the blocks. */
    float *p = net->params, *g = net->grads, *w = net->work, *st = net->state;
    for (int i = 0; i < net->n_layers; i++) {
        layer *l = &net->L[i];
        size_t nw = (size_t)l->n_out * (size_t)l->n_in, mb = (size_t)max_batch * (size_t)l->n_out;
        l->W = p; l->dW = g; p += nw; g += nw;
        l->b = p; l->db = g; p += l->n_out; g += l->n_out;
        if (l->bn) {
            l->gamma = p; l->dgamma = g; p += l->n_out; g += l->n_out;
            l->beta = p; l->dbeta = g; p += l->n_out; g += l->n_out;
            l->run_mean = st; st += l->n_out;
            l->run_var = st; st += l->n_out;
            for (int k = 0; k < l->n_out; k++)
                l->gamma[k] = l->run_var[k] = 1.0f;
        }
        l->ap = l->n_ap ? p : NULL; l->dap = l->n_ap ? g : NULL; p += l->n_ap; g += l->n_ap;
        for (int k = 0; k < l->n_ap; k++)
            l->ap[k] = l->act->param_init;
        l->z = w; w += mb;
        l->dz = w; w += mb;
        if (l->bn) {
            l->u = w; w += mb;
            l->du = w; w += mb;
            l->xhat = w; w += mb;
            l->inv_std = w; w += l->n_out;
        } else {
            l->u = l->z;
            l->du = l->dz;
        }
        if (l->identity) {
            l->a = l->u;
        } else {
            l->a = w; w += mb;
        }
        if (l->drop > 0.0f) {
            l->out = w; w += mb;
            l->mask = w; w += mb;
        } else {
            l->out = l->a;
        }
    }
    net->da[0] = w; w += (size_t)max_batch * widest;
    net->da[1] = w; w += (size_t)max_batch * widest;
    if (can_skip) {
        net->skip_idx = malloc(2 * n0_in * sizeof *net->skip_idx + n0_in * sizeof(uint32_t));
        if (!net->skip_idx) {
            tmlp_fail(err, TMLP_ENOMEM, "net: no memory");
            goto fail;
        }
        layer *l = &net->L[0];
        l->run = net->skip_idx;
        l->nz = (uint32_t *)(net->skip_idx + 2 * n0_in);
        l->xs = w; w += (size_t)max_batch * n0_in;
        l->ws = w;
    }
    net->skip_zeros = 1;
    if (!(net->red_buf = malloc(2 * (size_t)widest * sizeof *net->red_buf))) {
        tmlp_fail(err, TMLP_ENOMEM, "net: no memory");
        goto fail;
    }
    /* An all-zero PCG32 (state 0, increment 0) returns 0 forever, which would drop every
     * unit: a net never given tmlp_net_init still draws real masks, from a fixed seed. */
    tmlp_rng_seed(&net->drop_rng, TMLP_NET_DROPOUT_SEED, TMLP_NET_DROPOUT_STREAM);
    return net;
fail:
    tmlp_net_free(net);
    return NULL;
}

void tmlp_net_free(tmlp_net *net)
{
    if (!net)
        return;
    free(net->params);
    free(net->grads);
    free(net->state);
    free(net->work);
    free(net->skip_idx);
    free(net->red_buf);
    free(net);
}

int tmlp_net_init(tmlp_net *net, tmlp_rng *rng, tmlp_err *err)
{
    for (int i = 0; i < net->n_layers; i++) {
        layer *l = &net->L[i];
        int kind = l->init != TMLP_INIT_AUTO ? l->init : l->act->init;
        if (kind == TMLP_INIT_AUTO)
            kind = TMLP_INIT_GLOROT_UNIFORM;
        int rc = tmlp_init_fill(kind, l->W, l->n_out, l->n_in, rng, err);
        if (rc != TMLP_OK)
            return rc;
        memset(l->b, 0, (size_t)l->n_out * sizeof *l->b);
        for (int k = 0; k < l->n_ap; k++)
            l->ap[k] = l->act->param_init;
        for (int k = 0; l->bn && k < l->n_out; k++) {
            l->gamma[k] = l->run_var[k] = 1.0f;
            l->beta[k] = l->run_mean[k] = 0.0f;
        }
    }
    uint64_t seed = (uint64_t)tmlp_rng_u32(rng) << 32 | tmlp_rng_u32(rng);
    tmlp_rng_seed(&net->drop_rng, seed, TMLP_NET_DROPOUT_STREAM);
    return TMLP_OK;
}

void tmlp_net_set_mode(tmlp_net *net, int mode)
{
    net->mode = mode == TMLP_MODE_TRAIN || mode == TMLP_MODE_TRAIN_REPLAY ? mode : TMLP_MODE_EVAL;
}

int tmlp_net_mode(const tmlp_net *net) { return net->mode; }

double tmlp_net_penalty(const tmlp_net *net)
{
    double total = 0.0;
    for (int i = 0; i < net->n_layers; i++) {
        const layer *l = &net->L[i];
        if (l->l1 <= 0.0f && l->l2 <= 0.0f)
            continue;
        double s1 = 0.0, s2 = 0.0;
        size_t n = (size_t)l->n_out * l->n_in;
        for (size_t k = 0; k < n; k++) {
            s1 += fabs(l->W[k]);
            s2 += (double)l->W[k] * l->W[k];
        }
        total += l->l1 * s1 + 0.5 * l->l2 * s2;
    }
    return total;
}

float *tmlp_net_state(tmlp_net *net, size_t *n)
{
    if (n)
        *n = net->n_state;
    return net->state;
}

/* Elementwise work of a layer split between the net's team: rows for the bias broadcast and
 * the activation (forward, and backward when the activation has no parameters whose
 * gradients it would sum over rows), columns for the bias gradient. Each element is computed
 * exactly as on one thread. Layers under 2^16 values stay on the caller (tmlp_team_parts):
 * handing them out costs more than they take. */

typedef struct elem_job {
    const layer *l;
    const float *da; /* backward: dL/dA */
    int batch;
} elem_job;

static void bias_rows(void *ctx, int r0, int r1)
{
    const elem_job *j = ctx;
    const layer *l = j->l;
    const size_t n = (size_t)l->n_out;
    for (size_t r = (size_t)r0; r < (size_t)r1; r++)
        memcpy(l->z + r * n, l->b, n * sizeof *l->z);
}

static void act_forward_rows(void *ctx, int r0, int r1)
{
    const elem_job *j = ctx;
    const layer *l = j->l;
    const size_t off = (size_t)r0 * (size_t)l->n_out;
    l->act->forward(r1 - r0, l->n_out, l->u + off, l->a + off, l->arg, l->ap);
}

static void act_backward_rows(void *ctx, int r0, int r1)
{
    const elem_job *j = ctx;
    const layer *l = j->l;
    const size_t off = (size_t)r0 * (size_t)l->n_out;
    l->act->backward(r1 - r0, l->n_out, l->u + off, l->a + off, j->da + off, l->du + off, l->arg,
                     l->ap, l->dap);
}

static void bias_grad_cols(void *ctx, int c0, int c1)
{
    const elem_job *j = ctx;
    const layer *l = j->l;
    for (int c = c0; c < c1; c++)
        l->db[c] = 0.0f;
    for (int r = 0; r < j->batch; r++) {
        const float *dzr = l->dz + (size_t)r * l->n_out;
        for (int c = c0; c < c1; c++)
            l->db[c] += dzr[c];
    }
}

/* fn over [0, n) (rows or columns) in blocks on the net's team, as a GEMM of as many
 * multiply-adds as the layer has values would be; else on the caller alone. */
static void elementwise(tmlp_net *net, const layer *l, int batch, int n, tmlp_block_fn fn,
                        elem_job *j)
{
    tmlp_team_blocks(net->team, n, tmlp_team_parts(net->team, n, (double)batch * l->n_out), fn, j);
}

int tmlp_net_set_shard(tmlp_net *net, const tmlp_reducer *red, int offset, int total,
                       tmlp_err *err)
{
    if (red && (red->size < 1 || red->rank < 0 || red->rank >= red->size || !red->sum ||
                total < 1 || offset < 0 || offset > total))
        return tmlp_fail(err, TMLP_EINVAL, "net: shard at row %d of a global batch of %d, rank "
                         "%d of %d, is not a shard", offset, total, red->rank, red->size);
    net->red = red;
    net->shard_off = red ? offset : 0;
    net->shard_total = red ? total : 0;
    return TMLP_OK;
}

/* A sharded training forward: batch norm of the global batch, dropout masks the single
 * process would draw for these rows (the generator skips the other ranks' rows). A rank with
 * no rows (batch 0) still takes part in every reduction and moves the generator on. */
static int sharded(const tmlp_net *net) { return net->red && net->mode != TMLP_MODE_EVAL; }

static void skip_masks(tmlp_net *net, const layer *l, int rows)
{
    if (rows > 0 && l->drop > 0.0f && net->mode == TMLP_MODE_TRAIN)
        tmlp_rng_advance(&net->drop_rng, (uint64_t)rows * (uint64_t)l->n_out);
}

static int bn_forward(tmlp_net *net, layer *l, int batch, tmlp_err *err)
{
    bn_sync sync = { net->red, net->shard_total, net->red_buf };
    if (tmlp_bn_forward(l, batch, net->mode, sharded(net) ? &sync : NULL))
        return tmlp_fail(err, TMLP_EIO, "forward: summing batch-norm statistics across ranks "
                         "failed");
    return TMLP_OK;
}

const float *tmlp_net_forward(tmlp_net *net, const float *x, int batch, tmlp_err *err)
{
    const int lo = sharded(net) ? 0 : 1;
    if (batch < lo || batch > net->max_batch ||
        (sharded(net) && net->shard_off + batch > net->shard_total)) {
        tmlp_fail(err, TMLP_EINVAL, "forward: batch %d outside %d..%d", batch, lo, net->max_batch);
        return NULL;
    }
    net->batch = batch;
    net->backward_ok = 0;
    const int mode = net->mode;
    net->fwd_mode = mode;
    if (batch == 0) { /* an empty shard: the reductions and the generator only */
        for (int i = 0; i < net->n_layers; i++) {
            layer *l = &net->L[i];
            if (l->bn && bn_forward(net, l, 0, err) != TMLP_OK)
                return NULL;
            skip_masks(net, l, net->shard_total);
        }
        return net->L[net->n_layers - 1].out;
    }
    for (int i = 0; i < net->n_layers; i++) {
        layer *l = &net->L[i];
        l->x = x;
        /* Z = X·Wᵀ + b: broadcast b into Z, then accumulate the product onto it. */
        elem_job ej = { l, NULL, batch };
        elementwise(net, l, batch, batch, bias_rows, &ej);
        l->skipping = i == 0 && net->skip_zeros && l->nz && tmlp_skip_plan(l, x, batch);
        if (l->skipping) {      /* the input's nonzero columns only: see skip.c */
            tmlp_skip_forward(net->team, l, x, batch);
        } else {
            tmlp_gemm_team(net->team, TMLP_SPLIT_COLS, TMLP_NOTRANS, TMLP_TRANS, 1.0f,
                           tmlp_mat_view((float *)x, batch, l->n_in),
                           tmlp_mat_view(l->W, l->n_out, l->n_in), 1.0f,
                           tmlp_mat_view(l->z, batch, l->n_out));
        }
        if (l->bn && bn_forward(net, l, batch, err) != TMLP_OK)           /* U = BN(Z) */
            return NULL;
        if (!l->identity)                                                  /* A = f(U) */
            elementwise(net, l, batch, batch, act_forward_rows, &ej);
        if (l->drop > 0.0f) {                                              /* out = A ⊙ M */
            size_t n = (size_t)batch * l->n_out;
            if (mode == TMLP_MODE_EVAL) {
                memcpy(l->out, l->a, n * sizeof(float));
            } else {
                if (mode == TMLP_MODE_TRAIN) {
                    /* inverted dropout: keep with probability 1-p, scale kept units by 1/(1-p) */
                    const float keep = 1.0f / (1.0f - l->drop);
                    if (sharded(net))
                        skip_masks(net, l, net->shard_off);
                    for (size_t k = 0; k < n; k++)
                        l->mask[k] = tmlp_rng_uniform(&net->drop_rng) < l->drop ? 0.0f : keep;
                    if (sharded(net))
                        skip_masks(net, l, net->shard_total - net->shard_off - batch);
                }
                for (size_t k = 0; k < n; k++)
                    l->out[k] = l->a[k] * l->mask[k];
            }
        }
        x = l->out;
    }
    return x;
}

int tmlp_net_backward(tmlp_net *net, const float *dout, int batch, tmlp_err *err)
{
    const int shard = net->red && net->fwd_mode != TMLP_MODE_EVAL;
    if (batch != net->batch || batch < !shard)
        return tmlp_fail(err, TMLP_ESTATE, "backward: batch %d does not match the last forward "
                         "(%d rows)", batch, net->batch);
    bn_sync sync = { net->red, net->shard_total, net->red_buf };
    if (batch == 0) { /* an empty shard: no gradient of its own, but every reduction */
        memset(net->grads, 0, net->n_params * sizeof *net->grads);
        for (int i = net->n_layers - 1; i >= 0; i--)
            if (net->L[i].bn && tmlp_bn_backward(&net->L[i], 0, &sync))
                return tmlp_fail(err, TMLP_EIO, "backward: summing batch-norm sums across "
                                 "ranks failed");
        net->backward_ok = 1;
        return TMLP_OK;
    }
    /* sharded, only rank 0 adds the penalties' gradients: the ranks' blocks are summed */
    const int penalties = !shard || net->red->rank == 0;
    const float *da = dout;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        layer *l = &net->L[i];
        size_t n = (size_t)batch * (size_t)l->n_out;
        if (l->drop > 0.0f && net->fwd_mode != TMLP_MODE_EVAL) {  /* dA = dout ⊙ M */
            float *dm = net->da[(i + 1) & 1];
            for (size_t k = 0; k < n; k++)
                dm[k] = da[k] * l->mask[k];
            da = dm;
        }
        /* dU = dA ⊙ f'(U), and dL/d(activation parameters) */
        elem_job ej = { l, da, batch };
        if (l->identity)
            memcpy(l->du, da, n * sizeof(float));
        else if (l->n_ap > 0) /* its parameter gradients are sums over rows: one thread */
            l->act->backward(batch, l->n_out, l->u, l->a, da, l->du, l->arg, l->ap, l->dap);
        else
            elementwise(net, l, batch, batch, act_backward_rows, &ej);
        if (l->bn && tmlp_bn_backward(l, batch, shard ? &sync : NULL))  /* dZ = BN'(dU) */
            return tmlp_fail(err, TMLP_EIO, "backward: summing batch-norm sums across ranks "
                             "failed");
        /* dW = dZᵀ·X (+ l1 sign(W) + l2 W) */
        tmlp_mat dz = tmlp_mat_view(l->dz, batch, l->n_out);
        if (l->skipping)   /* (the first layer) zero columns of X: zero columns of dW */
            tmlp_skip_backward(net->team, l, batch);
        else
            tmlp_gemm_team(net->team, TMLP_SPLIT_ROWS, TMLP_TRANS, TMLP_NOTRANS, 1.0f, dz,
                           tmlp_mat_view((float *)l->x, batch, l->n_in), 0.0f,
                           tmlp_mat_view(l->dW, l->n_out, l->n_in));
        if (penalties && (l->l1 > 0.0f || l->l2 > 0.0f)) {
            size_t nw = (size_t)l->n_out * l->n_in;
            for (size_t k = 0; k < nw; k++) {
                float w = l->W[k];
                l->dW[k] += l->l2 * w + l->l1 * (float)((w > 0.0f) - (w < 0.0f));
            }
        }
        /* db = Σ_rows dZ */
        elementwise(net, l, batch, l->n_out, bias_grad_cols, &ej);
        /* dX = dZ·W, which is dout of the layer below (not needed below the first layer) */
        if (i > 0) {
            float *dx = net->da[i & 1];
            tmlp_gemm_team(net->team, TMLP_SPLIT_COLS, TMLP_NOTRANS, TMLP_NOTRANS, 1.0f, dz,
                           tmlp_mat_view(l->W, l->n_out, l->n_in), 0.0f,
                           tmlp_mat_view(dx, batch, l->n_in));
            da = dx;
        }
    }
    net->backward_ok = 1;
    return TMLP_OK;
}

int tmlp_net_predict(tmlp_net *net, const float *x, int n, float *out, tmlp_err *err)
{
    int n_out = tmlp_net_n_out(net);
    for (int r = 0; r < n; r += net->max_batch) {
        int rows = n - r < net->max_batch ? n - r : net->max_batch;
        const float *z = tmlp_net_forward(net, x + (size_t)r * net->spec.n_in, rows, err);
        if (!z)
            return err ? err->code : TMLP_EINVAL;
        tmlp_loss_link(net->spec.loss, z, rows, n_out, out + (size_t)r * n_out);
    }
    return TMLP_OK;
}

float *tmlp_net_params(tmlp_net *net, size_t *n)
{
    if (n)
        *n = net->n_params;
    return net->params;
}

float *tmlp_net_grads(tmlp_net *net, size_t *n)
{
    if (n)
        *n = net->n_params;
    return net->grads;
}

const tmlp_net_spec *tmlp_net_get_spec(const tmlp_net *net) { return &net->spec; }
int tmlp_net_n_in(const tmlp_net *net) { return net->spec.n_in; }
int tmlp_net_n_out(const tmlp_net *net) { return net->L[net->n_layers - 1].n_out; }
int tmlp_net_max_batch(const tmlp_net *net) { return net->max_batch; }
tmlp_rng *tmlp_net_dropout_rng(tmlp_net *net) { return &net->drop_rng; }
void tmlp_net_set_team(tmlp_net *net, tmlp_team *team) { net->team = team; }
tmlp_team *tmlp_net_team(const tmlp_net *net) { return net->team; }
void tmlp_net_set_skip_zeros(tmlp_net *net, int on) { net->skip_zeros = on != 0; }

int tmlp_net_input_cols_used(const tmlp_net *net)
{
    const layer *l = &net->L[0];
    return net->batch && l->skipping ? l->n_kept : l->n_in;
}

int tmlp_net_layer(const tmlp_net *net, int i, tmlp_layer_view *v, tmlp_err *err)
{
    if (i < 0 || i >= net->n_layers)
        return tmlp_fail(err, TMLP_EINVAL, "layer %d outside 0..%d", i, net->n_layers - 1);
    const layer *l = &net->L[i];
    *v = (tmlp_layer_view){
        .n_in = l->n_in, .n_out = l->n_out, .act = l->act, .act_arg = l->arg,
        .W = l->W, .b = l->b, .dW = l->dW, .db = l->db,
        .act_param = l->ap, .dact_param = l->dap, .n_act_params = l->n_ap,
        .bn_gamma = l->gamma, .bn_beta = l->beta, .dbn_gamma = l->dgamma, .dbn_beta = l->dbeta,
        .bn_mean = l->run_mean, .bn_var = l->run_var, .dropout = l->drop,
        .x = net->batch ? l->x : NULL, .z = l->z, .u = l->u, .a = l->a, .out = l->out,
        .dz = net->backward_ok ? l->dz : NULL, .du = net->backward_ok ? l->du : NULL,
        .batch = net->batch, .mask = l->drop > 0.0f ? l->mask : NULL,
        .bn_xhat = l->bn ? l->xhat : NULL, .bn_inv_std = l->bn ? l->inv_std : NULL,
    };
    return TMLP_OK;
}
