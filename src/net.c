/* net.c: a sequential MLP: build, initialise, forward, backward, predict.
 *
 * Each layer is an affine map followed by its activation:
 *     forward    Z = X·Wᵀ + b            A = f(Z)
 *     backward   dZ = dA ⊙ f'(Z)          dW = dZᵀ·X    db = Σ_rows dZ    dX = dZ·W
 * All parameters live in one block (per layer: W, b, then activation parameters) and all
 * gradients in a second block of the same layout. Every buffer a step touches is allocated
 * here, once, for max_batch rows. The net knows nothing of files, terminals or datasets. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/init.h"
#include "tinymlp/loss.h"
#include "tinymlp/net.h"
#include "tinymlp/tensor.h"

typedef struct layer {
    int n_in, n_out;
    const tmlp_act *act; /* never NULL */
    float arg;
    int init;
    int identity;        /* act is identity: A aliases Z and dZ is dA */
    float *W, *b, *ap;   /* views into the parameter block: (n_out, n_in), (n_out), (n_ap) */
    float *dW, *db, *dap;
    int n_ap;
    float *z, *a, *dz;   /* (max_batch, n_out) each; a == z when identity */
    const float *x;      /* (batch, n_in) input of the last forward */
} layer;

struct tmlp_net {
    tmlp_net_spec spec;
    int n_layers, max_batch;
    int batch;           /* rows of the last forward, 0 before any */
    int backward_ok;     /* dz and grads hold the last backward's results */
    layer L[TMLP_MAX_LAYERS];
    float *params, *grads;
    size_t n_params;
    float *work;         /* every activation buffer, one allocation */
    float *da[2];        /* (max_batch, widest) ping-pong for dL/dA while going backwards */
};

void tmlp_net_spec_init(tmlp_net_spec *spec, int n_in, int loss)
{
    memset(spec, 0, sizeof *spec);
    spec->n_in = n_in;
    spec->loss = loss;
}

int tmlp_net_spec_add(tmlp_net_spec *spec, int units, const tmlp_act *act, float act_arg,
                      tmlp_err *err)
{
    if (spec->n_layers >= TMLP_MAX_LAYERS)
        return tmlp_fail(err, TMLP_EINVAL, "too many layers (at most %d)", TMLP_MAX_LAYERS);
    if (units <= 0)
        return tmlp_fail(err, TMLP_EINVAL, "layer %d: units must be positive, got %d",
                         spec->n_layers + 1, units);
    tmlp_layer_spec *l = &spec->layer[spec->n_layers++];
    l->units = units;
    l->act = act;
    l->act_arg = act ? act_arg : 0.0f;
    l->init = TMLP_INIT_AUTO;
    return TMLP_OK;
}

int tmlp_net_spec_parse(tmlp_net_spec *spec, const char *layers, tmlp_err *err)
{
    if (!layers || !*layers)
        return tmlp_fail(err, TMLP_EINVAL, "empty layer list (expected e.g. \"128:relu,64:tanh\")");
    const char *p = layers;
    for (int item = 1;; item++) {
        size_t len = strcspn(p, ",");
        char buf[96];
        if (len == 0 || len >= sizeof buf)
            return tmlp_fail(err, TMLP_EINVAL, "layer %d in \"%s\": %s", item, layers,
                             len ? "too long" : "empty (two commas, or a trailing one?)");
        memcpy(buf, p, len);
        buf[len] = '\0';
        char *end;
        long units = strtol(buf, &end, 10);
        if (end == buf || (*end && *end != ':') || units <= 0 || units > (1L << 24))
            return tmlp_fail(err, TMLP_EINVAL,
                             "layer %d \"%s\": expected units[:activation[:arg]] with units in "
                             "1..%ld", item, buf, 1L << 24);
        const tmlp_act *act = NULL;
        float arg = 0.0f;
        if (*end == ':') {
            int rc = tmlp_act_parse(end + 1, &act, &arg, err);
            if (rc != TMLP_OK) {
                char why[TMLP_ERR_MSG];
                snprintf(why, sizeof why, "%s", err ? err->msg : "");
                return tmlp_fail(err, rc, "layer %d \"%s\": %s", item, buf, why);
            }
        }
        int rc = tmlp_net_spec_add(spec, (int)units, act, arg, err);
        if (rc != TMLP_OK)
            return rc;
        p += len;
        if (*p == '\0')
            return TMLP_OK;
        p++; /* the comma */
    }
}

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
    }
    const tmlp_layer_spec *out = &spec->layer[spec->n_layers - 1];
    const tmlp_act *identity = tmlp_act_find("identity");
    if (spec->loss != TMLP_LOSS_MSE && out->act && out->act != identity)
        return tmlp_fail(err, TMLP_EINVAL,
                         "net: the output layer feeds %s, which applies %s itself: give it no "
                         "activation (got '%s')", tmlp_loss_name(spec->loss),
                         spec->loss == TMLP_LOSS_SOFTMAX_CE ? "softmax" : "the sigmoid",
                         out->act->name);
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
    size_t n_params = 0, n_work = 0;
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
        l->n_ap = tmlp_act_n_params(l->act, l->n_out);
        ok = ok && add_size(&n_params, (size_t)l->n_out, (size_t)l->n_in + 1) &&
             add_size(&n_params, (size_t)l->n_ap, 1);
        ok = ok && add_size(&n_work, (size_t)max_batch, (size_t)l->n_out * (l->identity ? 2 : 3));
        widest = l->n_out > widest ? l->n_out : widest;
    }
    ok = ok && add_size(&n_work, (size_t)max_batch, 2 * (size_t)widest);
    if (!ok || n_params > SIZE_MAX / sizeof(float) / 2 || n_work > SIZE_MAX / sizeof(float)) {
        tmlp_fail(err, TMLP_ENOMEM, "net: sizes overflow (max batch %d)", max_batch);
        goto fail;
    }
    net->n_params = n_params;
    net->params = calloc(n_params, sizeof(float));
    net->grads = calloc(n_params, sizeof(float));
    net->work = calloc(n_work, sizeof(float));
    if (!net->params || !net->grads || !net->work) {
        tmlp_fail(err, TMLP_ENOMEM, "net: no memory for %zu parameters and %zu buffer floats",
                  n_params, n_work);
        goto fail;
    }

    /* Point every layer's views into the blocks. */
    float *p = net->params, *g = net->grads, *w = net->work;
    for (int i = 0; i < net->n_layers; i++) {
        layer *l = &net->L[i];
        size_t nw = (size_t)l->n_out * (size_t)l->n_in, mb = (size_t)max_batch * (size_t)l->n_out;
        l->W = p; l->dW = g; p += nw; g += nw;
        l->b = p; l->db = g; p += l->n_out; g += l->n_out;
        l->ap = l->n_ap ? p : NULL; l->dap = l->n_ap ? g : NULL; p += l->n_ap; g += l->n_ap;
        for (int k = 0; k < l->n_ap; k++)
            l->ap[k] = l->act->param_init;
        l->z = w; w += mb;
        l->dz = w; w += mb;
        if (l->identity) {
            l->a = l->z;
        } else {
            l->a = w; w += mb;
        }
    }
    net->da[0] = w; w += (size_t)max_batch * widest;
    net->da[1] = w;
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
    free(net->work);
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
    }
    return TMLP_OK;
}

const float *tmlp_net_forward(tmlp_net *net, const float *x, int batch, tmlp_err *err)
{
    if (batch <= 0 || batch > net->max_batch) {
        tmlp_fail(err, TMLP_EINVAL, "forward: batch %d outside 1..%d", batch, net->max_batch);
        return NULL;
    }
    net->batch = batch;
    net->backward_ok = 0;
    for (int i = 0; i < net->n_layers; i++) {
        layer *l = &net->L[i];
        l->x = x;
        /* Z = X·Wᵀ + b: broadcast b into Z, then accumulate the product onto it. */
        for (int r = 0; r < batch; r++)
            memcpy(l->z + (size_t)r * l->n_out, l->b, (size_t)l->n_out * sizeof(float));
        tmlp_gemm(TMLP_NOTRANS, TMLP_TRANS, 1.0f, tmlp_mat_view((float *)x, batch, l->n_in),
                  tmlp_mat_view(l->W, l->n_out, l->n_in), 1.0f,
                  tmlp_mat_view(l->z, batch, l->n_out));
        if (!l->identity)
            l->act->forward(batch, l->n_out, l->z, l->a, l->arg, l->ap);   /* A = f(Z) */
        x = l->a;
    }
    return x;
}

int tmlp_net_backward(tmlp_net *net, const float *dout, int batch, tmlp_err *err)
{
    if (batch != net->batch || batch <= 0)
        return tmlp_fail(err, TMLP_ESTATE, "backward: batch %d does not match the last forward "
                         "(%d rows)", batch, net->batch);
    const float *da = dout;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        layer *l = &net->L[i];
        size_t n = (size_t)batch * (size_t)l->n_out;
        /* dZ = dA ⊙ f'(Z), and dL/d(activation parameters) */
        if (l->identity)
            memcpy(l->dz, da, n * sizeof(float));
        else
            l->act->backward(batch, l->n_out, l->z, l->a, da, l->dz, l->arg, l->ap, l->dap);
        /* dW = dZᵀ·X */
        tmlp_mat dz = tmlp_mat_view(l->dz, batch, l->n_out);
        tmlp_gemm(TMLP_TRANS, TMLP_NOTRANS, 1.0f, dz, tmlp_mat_view((float *)l->x, batch, l->n_in),
                  0.0f, tmlp_mat_view(l->dW, l->n_out, l->n_in));
        /* db = Σ_rows dZ */
        memset(l->db, 0, (size_t)l->n_out * sizeof(float));
        for (int r = 0; r < batch; r++) {
            const float *dzr = l->dz + (size_t)r * l->n_out;
            for (int j = 0; j < l->n_out; j++)
                l->db[j] += dzr[j];
        }
        /* dX = dZ·W, which is dA of the layer below (not needed below the first layer) */
        if (i > 0) {
            float *dx = net->da[i & 1];
            tmlp_gemm(TMLP_NOTRANS, TMLP_NOTRANS, 1.0f, dz, tmlp_mat_view(l->W, l->n_out, l->n_in),
                      0.0f, tmlp_mat_view(dx, batch, l->n_in));
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

int tmlp_net_layer(const tmlp_net *net, int i, tmlp_layer_view *v, tmlp_err *err)
{
    if (i < 0 || i >= net->n_layers)
        return tmlp_fail(err, TMLP_EINVAL, "layer %d outside 0..%d", i, net->n_layers - 1);
    const layer *l = &net->L[i];
    *v = (tmlp_layer_view){
        .n_in = l->n_in, .n_out = l->n_out, .act = l->act, .act_arg = l->arg,
        .W = l->W, .b = l->b, .dW = l->dW, .db = l->db,
        .act_param = l->ap, .dact_param = l->dap, .n_act_params = l->n_ap,
        .x = net->batch ? l->x : NULL, .z = l->z, .a = l->a,
        .dz = net->backward_ok ? l->dz : NULL, .batch = net->batch,
    };
    return TMLP_OK;
}
