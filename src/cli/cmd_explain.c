/* cmd_explain.c: `tinymlp explain`: one training step of a tiny network, every number shown.
 *
 * The teaching trace. It builds a small net, takes N-1 optimizer steps silently (tmlp_train on
 * one fixed batch), then runs step N through the library's own calls (tmlp_net_forward,
 * tmlp_loss_eval, tmlp_net_backward, tmlp_optim_step) and prints, from tmlp_net_layer's views,
 * every matrix the step touches with its equation and shape. It checks one weight's gradient
 * by central differences on the spot. --json prints the same numbers as one JSON object
 * (tests/test_docs.c recomputes them independently; docs/backprop.md walks through them).
 *
 * Two things are computed here rather than read from the net: dA_i = dZ_{i+1}·W_{i+1} (the net
 * keeps it only in a scratch buffer) and f'(Z) (the activation's backward with dA = 1). It is
 * not a general tracer: weight penalties are refused. With batch norm or dropout the step is
 * a training step (batch statistics, masks drawn), traced with every number: each column's
 * mean and 1/σ, Ẑ, U, the mask, and backwards dU, dγ, dβ and batch norm's three-term dZ; the
 * gradient check and the loss after the update replay the same masks and statistics. */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "datasets.h"
#include "explain.h"

#define MAX_ROWS 64L        /* --rows */
#define MAX_STEP 1000000L   /* --step */
#define FD_H 1e-2f          /* central-difference step: float32 loses more to rounding below */
#define FD_AGREE 1e-2       /* relative difference under which the two are said to agree */

static void help(void)
{
    printf(
"usage: tinymlp explain [OPTIONS]\n"
"\n"
"Trains a tiny network and prints ONE complete training step with every number: the\n"
"inputs, each layer's Z = X·Wᵀ + b and A = f(Z), the loss, then backwards dL/dA,\n"
"dL/dZ = dL/dA ⊙ f'(Z), dW = dZᵀ·X, db = Σrows dZ and dX = dZ·W, a live check of one\n"
"weight's gradient by central differences, and the optimizer's update (before, gradient,\n"
"after, with its rule). Each matrix carries its equation and shape; matrices with more\n"
"than %d rows or columns show their first 4 and last 2.\n"
"\n"
"  --data NAME       xor, mnist, fashion-mnist, an IDX folder or a CSV file; the\n"
"                    first --rows rows form the batch                     [xor]\n"
"  --rows N          rows in the batch, 1..%ld                  [4, all of xor]\n"
"  --layers SPEC     hidden layers, units[:activation[:arg]][:bn][:dropP] joined by\n"
"                    commas (bn and dropout are traced too); the output layer\n"
"                    follows from the data                             [3:tanh]\n"
"  --act NAME        activation of hidden layers that name none: with --layers,\n"
"                    [relu] as in train; without, the default 3 units get NAME\n"
"  --loss NAME       softmax_ce, sigmoid_bce or mse  [sigmoid_bce for 2 classes,\n"
"                    else softmax_ce]\n"
"  --opt NAME        sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad [sgd]\n"
"  --lr X            learning rate                                        [0.1]\n"
"  --step N          take N-1 steps silently, then explain step N           [1]\n"
"  --plugin FILE.so  load activations from a plugin (repeatable)\n"
"  --seed N          seeds the initial weights                              [1]\n"
"  --json            print every number, in full, as one JSON object instead\n"
"  -h, --help        this text\n"
"\n"
"Exit status: 0 success, 1 runtime error, 2 usage error.\n", SHOW, MAX_ROWS);
}

typedef struct opts {
    const char *data, *layers, *act, *loss, *opt;
    double lr;
    long rows, step;
    uint64_t seed;
    int json;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    static const struct option options[] = {
        { "data", required_argument, 0, 'd' }, { "rows", required_argument, 0, 'r' },
        { "layers", required_argument, 0, 'l' }, { "act", required_argument, 0, 'a' },
        { "loss", required_argument, 0, 'L' }, { "opt", required_argument, 0, 'o' },
        { "lr", required_argument, 0, 'R' }, { "step", required_argument, 0, 's' },
        { "seed", required_argument, 0, 'S' }, { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *o = (opts){ .data = "xor", .opt = "sgd", .lr = 0.1,
                 .rows = 4, .step = 1, .seed = 1 };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return -1;
        case 'd': o->data = optarg; break;
        case 'l': o->layers = optarg; break;
        case 'a': o->act = optarg; break;
        case 'L': o->loss = optarg; break;
        case 'o': o->opt = optarg; break;
        case 'j': o->json = 1; break;
        case 'R':
            if (!cli_float(optarg, &o->lr) || !(o->lr > 0))
                return cli_usage_error("explain", "--lr wants a number > 0, got '%s'", optarg);
            break;
        case 'r': case 's':
            if (!cli_int(optarg, 1, c == 'r' ? MAX_ROWS : MAX_STEP, c == 'r' ? &o->rows : &o->step))
                return cli_usage_error("explain", "--%s wants an integer in 1..%ld, got '%s'",
                                       c == 'r' ? "rows" : "step", c == 'r' ? MAX_ROWS : MAX_STEP,
                                       optarg);
            break;
        case 'S':
            if (!cli_u64(optarg, &o->seed))
                return cli_usage_error("explain", "--seed wants a whole number, got '%s'", optarg);
            break;
        case ':': return cli_usage_error("explain", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("explain", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("explain", "unexpected argument '%s'", argv[optind]);
    return 0;
}

/* ---- printing: every matrix goes through explain_show(), as text or into the JSON object ---- */

/* ---- the step ---- */

static const char *const loss_eq[TMLP_LOSS_COUNT][3] = {
    /* the loss, the link, dL/dZ of the (linear) output layer */
    { "L = (1/B) Σrows [ log Σj exp(Z[r,j]) − Z[r,y_r] ]   (softmax cross-entropy)",
      "P = softmax(Z), row by row", "(softmax(Z) − Y) / B" },
    { "L = mean over all B·K entries of max(Z,0) − Z⊙T + log(1 + exp(−|Z|))   (sigmoid BCE)",
      "P = sigmoid(Z)", "(sigmoid(Z) − T) / (B·K)" },
    { "L = mean over all B·K entries of (Z − T)²   (mean squared error)",
      "P = Z (no link)", "2·(Z − T) / (B·K)" },
};

/* Each optimizer's rule as tinymlp/optim.h states it (g = dW + wd·W, the L2-decayed gradient). */
static const char *rule_of(int kind)
{
    switch (kind) {
    case TMLP_OPT_SGD: return "W ← W − lr·g,   g = dW + wd·W";
    case TMLP_OPT_MOMENTUM: return "v ← μ·v + g;  W ← W − lr·v,   g = dW + wd·W, v starts at 0";
    case TMLP_OPT_NESTEROV:
        return "v ← μ·v + g;  W ← W − lr·(g + μ·v),   g = dW + wd·W, v starts at 0";
    case TMLP_OPT_ADAM:
    case TMLP_OPT_ADAMW:
        return kind == TMLP_OPT_ADAM
            ? "g = dW + wd·W;  m ← β1·m + (1−β1)·g;  s ← β2·s + (1−β2)·g²;\n"
              "  W ← W − lr·(m / (1 − β1^t)) / (√(s / (1 − β2^t)) + ε),   m, s start at 0"
            : "W ← (1 − lr·wd)·W;  m ← β1·m + (1−β1)·dW;  s ← β2·s + (1−β2)·dW²;\n"
              "  W ← W − lr·(m / (1 − β1^t)) / (√(s / (1 − β2^t)) + ε),   m, s start at 0";
    case TMLP_OPT_RMSPROP:
        return "s ← α·s + (1−α)·g²;  W ← W − lr·g / (√s + ε),   g = dW + wd·W, α = β2, s starts at 0";
    case TMLP_OPT_ADAGRAD:
        return "s ← s + g²;  W ← W − lr·g / (√s + ε),   g = dW + wd·W, s starts at 0";
    default: return "(its rule is written out in include/tinymlp/optim.h)";
    }
}

/* Everything one explanation holds, freed in one place. */
typedef struct run {
    const opts *o;
    out out;
    cli_dataset ds;
    tmlp_data *d;          /* the batch: the first rows of the data */
    tmlp_net *net;
    tmlp_optim *opt;
    tmlp_optim_cfg oc;
    tmlp_net_spec spec;
    tmlp_layer_view v[TMLP_MAX_LAYERS];
    tmlp_targets tg;
    int loss, rows, n_out, n_layers;
    size_t big;            /* floats in the widest (rows, units) block */
    float *buf;            /* one allocation holding the seven below */
    float *t, *dout, *da, *fp, *ones, *dpar, *before;
    double L;
    cJSON *root, *layers;
    int usage;             /* the failure was the user's input: exit 2 */
    int trains;            /* some layer has bn or dropout: the step runs in training mode */
} run;

/* Marks a failure as a usage error and passes its status on. */
static int as_usage(run *r, int rc)
{
    r->usage = 1;
    return rc;
}

/* The loss of the batch at the net's current weights (a fresh forward). */
static double loss_now(run *r, tmlp_err *err, int *rc)
{
    double l = NAN;
    const float *z = tmlp_net_forward(r->net, r->d->x, r->rows, err);
    *rc = z ? tmlp_loss_eval(r->loss, z, r->rows, r->n_out, r->tg, &l, NULL, err) : err->code;
    return l;
}

/* Loads the data, builds and seeds the net, takes steps 1 .. N-1, allocates the buffers. */
static int setup(run *r, tmlp_err *err)
{
    const opts *o = r->o;
    int rc = cli_dataset_load(o->data, NULL, &r->ds, err), idx[MAX_ROWS], kind;
    if (rc)
        return rc == TMLP_ENOTFOUND ? as_usage(r, rc) : rc;
    r->rows = (int)(o->rows < r->ds.train->n ? o->rows : r->ds.train->n);
    for (int i = 0; i < r->rows; i++)
        idx[i] = i;
    if (!(r->d = tmlp_data_subset(r->ds.train, idx, r->rows, err)))
        return err->code;
    const tmlp_data *d = r->d;
    if (!d->label || d->n_classes < 2)
        return tmlp_fail(err, TMLP_EINVAL, "%s: explain needs labels of 2 classes or more", o->data);
    r->loss = d->n_classes == 2 ? TMLP_LOSS_SIGMOID_BCE : TMLP_LOSS_SOFTMAX_CE;
    if ((o->loss && (rc = tmlp_loss_find(o->loss, &r->loss, err))) ||
        (rc = tmlp_optim_find(o->opt, &kind, err)))
        return as_usage(r, rc);
    r->n_out = d->n_classes == 2 && r->loss != TMLP_LOSS_SOFTMAX_CE ? 1 : d->n_classes;

    /* The net: hidden layers as asked, --act where they name none (ReLU, the library's rule,
     * unless --act says otherwise; the default net is 3:tanh), a linear output. */
    const tmlp_act *hidden = NULL;
    float hidden_arg = 0.0f;
    const char *act = o->act ? o->act : o->layers ? NULL : "tanh";
    tmlp_net_spec *s = &r->spec;
    tmlp_net_spec_init(s, d->n_in, r->loss);
    if ((act && (rc = tmlp_act_parse(act, &hidden, &hidden_arg, err))) ||
        (rc = tmlp_net_spec_parse_hidden(s, o->layers ? o->layers : "3", hidden, hidden_arg,
                                         err)) ||
        (rc = tmlp_net_spec_add(s, r->n_out, NULL, 0.0f, err)))
        return as_usage(r, rc);
    for (int i = 0; i + 1 < s->n_layers; i++) {
        const tmlp_layer_spec *l = &s->layer[i];
        if (l->l1 > 0.0f || l->l2 > 0.0f)
            return as_usage(r, tmlp_fail(err, TMLP_EINVAL, "layer %d: explain traces dense layers "
                                         "with bn and drop; drop its l1/l2 options", i + 1));
        r->trains |= l->batchnorm || l->dropout > 0.0f;
    }
    r->n_layers = s->n_layers;
    r->oc = tmlp_optim_defaults(kind);
    r->oc.lr = (float)o->lr;
    size_t n_params;
    if (!(r->net = tmlp_net_new(s, r->rows, err)))
        return err->code == TMLP_EINVAL ? as_usage(r, err->code) : err->code;
    tmlp_net_params(r->net, &n_params);
    if (!(r->opt = tmlp_optim_new(&r->oc, n_params, err)))
        return err->code;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, o->seed, 1);  /* as `tinymlp train` seeds its weights */
    if ((rc = tmlp_net_init(r->net, &rng, err)))
        return rc;
    if (o->step > 1) {  /* steps 1 .. N-1 on the same batch, unshuffled, constant lr */
        tmlp_train_cfg tc = tmlp_train_defaults();
        tc.epochs = (int)(o->step - 1);
        tc.batch = r->rows;
        tc.shuffle = 0;
        if ((rc = tmlp_train(r->net, r->opt, d, NULL, &tc, NULL, err)))
            return rc;
    }

    int widest = d->n_in;
    for (int i = 0; i < r->n_layers; i++)
        widest = s->layer[i].units > widest ? s->layer[i].units : widest;
    size_t nt = (size_t)r->rows * (size_t)r->n_out;
    r->big = (size_t)r->rows * (size_t)widest;
    if (!(r->buf = calloc(2 * nt + 3 * r->big + (size_t)widest + n_params, sizeof(float))))
        return tmlp_fail(err, TMLP_ENOMEM, "explain: no memory");
    r->t = r->buf;                 /* (rows, n_out) the targets as the loss reads them */
    r->dout = r->t + nt;           /* (rows, n_out) dL/d(outputs) */
    r->da = r->dout + nt;          /* (rows, units) dA of one layer, or the link's output */
    r->fp = r->da + r->big;        /* (rows, units) f'(Z) */
    r->ones = r->fp + r->big;      /* (rows, units) */
    r->dpar = r->ones + r->big;    /* (units) activation parameter gradients, discarded */
    r->before = r->dpar + widest;  /* (n_params) the parameters before the update */
    for (size_t k = 0; k < r->big; k++)
        r->ones[k] = 1.0f;
    r->tg = (tmlp_targets){ d->label, NULL };
    for (int i = 0; i < r->rows; i++)  /* a single output's target is the label itself */
        for (int j = 0; j < r->n_out; j++)
            r->t[(size_t)i * r->n_out + j] = r->n_out == 1 ? (float)d->label[i] : d->label[i] == j;
    return TMLP_OK;
}

static void header(run *r)
{
    const opts *o = r->o;
    char spec[512];
    tmlp_net_spec_format(&r->spec, 0, spec, sizeof spec);
    if (r->out.json) {
        cJSON *j = r->root;
        cJSON_AddStringToObject(j, "data", o->data);
        cJSON_AddNumberToObject(j, "rows", r->rows);
        cJSON_AddStringToObject(j, "spec", spec);
        cJSON_AddStringToObject(j, "loss_kind", tmlp_loss_name(r->loss));
        cJSON_AddStringToObject(j, "opt", tmlp_optim_name(r->oc.kind));
        cJSON_AddNumberToObject(j, "lr", (double)r->oc.lr);
        cJSON_AddNumberToObject(j, "step", (double)o->step);
        cJSON_AddNumberToObject(j, "seed", (double)o->seed);
        cJSON_AddItemToObject(j, "labels", cJSON_CreateIntArray(r->d->label, r->rows));
        r->layers = cJSON_AddArrayToObject(j, "layers");
        return;
    }
    printf("tinymlp explain: training step %ld of a %d", o->step, r->d->n_in);
    for (int i = 0; i < r->n_layers; i++)
        printf("-%d", r->spec.layer[i].units);
    printf(" network on the first %d rows of %s\n"
           "  layers %s (the last is the output layer), loss %s, optimizer %s, lr %g\n"
           "  weights drawn by tmlp_net_init with seed %llu; %ld step%s taken before this one\n"
           "  B = %d rows in the batch, K = %d output%s; shapes are (rows, columns), row r is "
           "sample r\n", r->rows, o->data, spec, tmlp_loss_name(r->loss),
           tmlp_optim_name(r->oc.kind), (double)r->oc.lr, (unsigned long long)o->seed,
           o->step - 1, o->step == 2 ? "" : "s", r->rows, r->n_out, r->n_out == 1 ? "" : "s");
}

/* The name of layer i's input: X, or the output of the layer below (D after dropout). */
static void layer_input(const run *r, int i, char *buf, size_t size)
{
    if (i == 0)
        snprintf(buf, size, "X");
    else
        snprintf(buf, size, "%s%d", r->v[i - 1].mask ? "D" : "A", i);
}

/* Batch norm of layer i (tmlp_bn_forward, training mode), every number: each column's batch
 * mean and 1/sqrt(variance + eps), the normalised Ẑ, the learned scale and shift, and U. */
static void trace_bn_forward(run *r, const tmlp_layer_view *v, int i)
{
    out *ou = &r->out;
    float *mean = r->fp; /* scratch until backward */
    for (int j = 0; j < v->n_out; j++) {
        double sum = 0.0;
        for (int k = 0; k < r->rows; k++)
            sum += v->z[(size_t)k * v->n_out + j];
        mean[j] = (float)(sum / r->rows);
    }
    int n = i + 1;
    explain_show(ou, "bn_mean", mean, 1, v->n_out, 1, "μ%d = Σrows Z%d / B   each column's batch "
                 "mean", n, n);
    explain_show(ou, "bn_inv_std", v->bn_inv_std, 1, v->n_out, 1, "s%d = 1/√(σ%d² + ε),  σ%d² = "
                 "Σrows (Z%d − μ%d)² / B,  ε = %g", n, n, n, n, n, (double)TMLP_BN_EPS);
    explain_show(ou, "bn_xhat", v->bn_xhat, r->rows, v->n_out, 0, "Ẑ%d = (Z%d − μ%d) ⊙ s%d   each "
                 "column now has mean 0, variance ~1", n, n, n, n);
    explain_show(ou, "bn_gamma", v->bn_gamma, 1, v->n_out, 1, "γ%d  batch norm's learned scale", n);
    explain_show(ou, "bn_beta", v->bn_beta, 1, v->n_out, 1, "β%d  batch norm's learned shift", n);
    explain_show(ou, "U", v->u, r->rows, v->n_out, 0, "U%d = γ%d ⊙ Ẑ%d + β%d   (tmlp_bn_forward)",
                 n, n, n, n);
}

static int forward(run *r, tmlp_err *err)
{
    out *ou = &r->out;
    char in[16], act[64], u[16];
    /* With batch norm or dropout, the step is a training step: batch statistics, masks drawn
     * now. Everything after it (the gradient check, the loss after the update) replays these
     * masks and batch statistics, so it measures the very function backward differentiated. */
    if (r->trains)
        tmlp_net_set_mode(r->net, TMLP_MODE_TRAIN);
    const float *z = tmlp_net_forward(r->net, r->d->x, r->rows, err);
    int rc;
    if (!z)
        return err->code;
    if ((rc = tmlp_loss_eval(r->loss, z, r->rows, r->n_out, r->tg, &r->L, r->dout, err)) ||
        (rc = tmlp_net_backward(r->net, r->dout, r->rows, err)))
        return rc;
    if (r->trains)
        tmlp_net_set_mode(r->net, TMLP_MODE_TRAIN_REPLAY);
    explain_say(ou, "\n== inputs ==\n");
    explain_show(ou, "X", r->d->x, r->rows, r->d->n_in, 0, "X = the batch's inputs, one row per sample");
    explain_show(ou, "T", r->t, r->rows, r->n_out, 0, r->loss == TMLP_LOSS_SOFTMAX_CE
         ? "Y = onehot(labels), the targets" : "T = the targets");
    explain_say(ou, "\n== forward (tmlp_net_forward) ==\n");
    for (int i = 0; i < r->n_layers; i++) {
        tmlp_layer_view *v = &r->v[i];
        if ((rc = tmlp_net_layer(r->net, i, v, err)))
            return rc;
        tmlp_act_format(v->act, v->act_arg, act, sizeof act);
        int ident = !strcmp(v->act->name, "identity");
        if (ou->json) {
            cJSON_AddItemToArray(r->layers, ou->obj = cJSON_CreateObject());
            cJSON_AddStringToObject(ou->obj, "act", act);
            cJSON_AddNumberToObject(ou->obj, "n_in", v->n_in);
            cJSON_AddNumberToObject(ou->obj, "n_out", v->n_out);
        }
        explain_say(ou, "layer %d: %d inputs -> %d unit%s, %s%s\n", i + 1, v->n_in, v->n_out,
            v->n_out == 1 ? "" : "s", ident ? "no activation" : act,
            i + 1 == r->n_layers ? " (the output layer: the loss applies its own link)" : "");
        layer_input(r, i, in, sizeof in);
        snprintf(u, sizeof u, "%s%d", v->bn_xhat ? "U" : "Z", i + 1);
        explain_show(ou, "W", v->W, v->n_out, v->n_in, 0, "W%d  the weights, one row per unit", i + 1);
        explain_show(ou, "b", v->b, 1, v->n_out, 1, "b%d  the biases", i + 1);
        if (v->n_act_params) {
            explain_show(ou, "act_param", v->act_param, 1, v->n_act_params, 1,
                 "a%d  %s's learnable parameters", i + 1, v->act->name);
        }
        explain_show(ou, "Z", v->z, r->rows, v->n_out, 0, "Z%d = %s·W%dᵀ + b%d", i + 1, in, i + 1,
             i + 1);
        if (v->bn_xhat)
            trace_bn_forward(r, v, i);
        if (!ident || ou->json)
            explain_show(ou, "A", v->a, r->rows, v->n_out, 0, "A%d = %s(%s)   where %s(x) = %s", i + 1,
                 act, u, v->act->name, v->act->formula ? v->act->formula : "?");
        if (v->mask) {
            explain_show(ou, "mask", v->mask, r->rows, v->n_out, 0, "M%d  the dropout mask: 0 drops "
                         "a unit, 1/(1 − p) = %g keeps it (p = %g)", i + 1,
                         1.0 / (1.0 - v->dropout), (double)v->dropout);
            explain_show(ou, "D", v->out, r->rows, v->n_out, 0, "D%d = A%d ⊙ M%d   inverted "
                         "dropout: kept units scaled up, so E[D%d] = A%d", i + 1, i + 1, i + 1,
                         i + 1, i + 1);
        }
    }
    ou->obj = r->root;
    explain_say(ou, "\n== loss (tmlp_loss_eval) ==\n  %s\n", loss_eq[r->loss][0]);
    tmlp_loss_link(r->loss, z, r->rows, r->n_out, r->da);
    explain_show(ou, "P", r->da, r->rows, r->n_out, 0, "%s", loss_eq[r->loss][1]);
    if (ou->json)
        cJSON_AddNumberToObject(r->root, "loss", r->L);
    explain_say(ou, "  L = %.9g\n", r->L);
    return TMLP_OK;
}

static void backward(run *r)
{
    out *ou = &r->out;
    char eq[256], in[16], u[16];
    explain_say(ou, "\n== backward (tmlp_net_backward) ==\n");
    for (int i = r->n_layers - 1; i >= 0; i--) {
        const tmlp_layer_view *v = &r->v[i], *up = &r->v[i + 1];
        int rows = r->rows, nb = v->n_out;
        if (ou->json)
            ou->obj = cJSON_GetArrayItem(r->layers, i);
        explain_say(ou, "layer %d\n", i + 1);
        snprintf(u, sizeof u, "%s%d", v->bn_xhat ? "U" : "Z", i + 1);
        if (i + 1 == r->n_layers) {  /* the output layer is linear: the loss hands over dZ */
            snprintf(eq, sizeof eq, "dZ%d = %s   dL/dZ%d, from tmlp_loss_eval", i + 1,
                     loss_eq[r->loss][2], i + 1);
        } else {                     /* dA_i = dZ_{i+1}·W_{i+1}: the layer above's dX */
            tmlp_gemm(TMLP_NOTRANS, TMLP_NOTRANS, 1.0f,
                      tmlp_mat_view((float *)up->dz, rows, up->n_out),
                      tmlp_mat_view(up->W, up->n_out, up->n_in), 0.0f,
                      tmlp_mat_view(r->da, rows, nb));
            if (v->mask) { /* the gradient reaches D, and only the kept units pass it on */
                explain_show(ou, "dD", r->da, rows, nb, 0, "dD%d = dZ%d·W%d   dL/dD%d: layer %d's "
                             "dX", i + 1, i + 2, i + 2, i + 1, i + 2);
                for (size_t k = 0; k < (size_t)rows * nb; k++)
                    r->da[k] = v->mask[k] != 0.0f ? r->da[k] * v->mask[k] : 0.0f;
                explain_show(ou, "dA", r->da, rows, nb, 0, "dA%d = dD%d ⊙ M%d   a dropped unit "
                             "passes no gradient", i + 1, i + 1, i + 1);
            } else {
                explain_show(ou, "dA", r->da, rows, nb, 0, "dA%d = dZ%d·W%d   dL/dA%d: layer %d's dX",
                             i + 1, i + 2, i + 2, i + 1, i + 2);
            }
            if (!strcmp(v->act->name, "identity")) {
                snprintf(eq, sizeof eq, "d%s = dA%d   (no activation: f' = 1)", u, i + 1);
            } else if (v->act->flags & TMLP_ACT_ROWWISE) {
                snprintf(eq, sizeof eq, "d%s = dA%d·J(%s), row by row (%s is row-wise)", u,
                         i + 1, u, v->act->name);
            } else {  /* the activation's own backward with dA = 1 gives f'(Z) */
                v->act->backward(rows, nb, v->u, v->a, r->ones, r->fp, v->act_arg, v->act_param,
                                 v->act_param ? r->dpar : NULL);
                explain_show(ou, "fprime", r->fp, rows, nb, 0, "f'(%s)   the derivative of %s at each "
                     "entry", u, v->act->name);
                snprintf(eq, sizeof eq, "d%s = dA%d ⊙ f'(%s)", u, i + 1, u);
            }
        }
        if (v->bn_xhat) { /* dU, then batch norm's backward (tmlp_bn_backward) */
            int n = i + 1;
            explain_show(ou, "dU", v->du, rows, nb, 0, "%s", eq);
            explain_show(ou, "dbn_gamma", v->dbn_gamma, 1, nb, 1, "dγ%d = Σrows dU%d ⊙ Ẑ%d", n, n, n);
            explain_show(ou, "dbn_beta", v->dbn_beta, 1, nb, 1, "dβ%d = Σrows dU%d", n, n);
            snprintf(eq, sizeof eq, "dZ%d = γ%d ⊙ s%d / B ⊙ (B·dU%d − Σrows dU%d − Ẑ%d ⊙ Σrows "
                     "dU%d ⊙ Ẑ%d)   (tmlp_bn_backward)", n, n, n, n, n, n, n, n);
        }
        explain_show(ou, "dZ", v->dz, rows, nb, 0, "%s", eq);
        layer_input(r, i, in, sizeof in);
        explain_show(ou, "dW", v->dW, nb, v->n_in, 0, "dW%d = dZ%dᵀ·%s", i + 1, i + 1, in);
        explain_show(ou, "db", v->db, 1, nb, 1, "db%d = Σrows dZ%d", i + 1, i + 1);
        if (v->n_act_params) {
            explain_show(ou, "dact_param", v->dact_param, 1, v->n_act_params, 1,
                 "da%d = dL/d(%s's parameters), summed over rows", i + 1, v->act->name);
        }
    }
    explain_say(ou, "  (dX = dZ1·W1 is not computed: X is data, nothing upstream needs it)\n");
    ou->obj = r->root;
}

/* Checks the first layer's weight with the largest |dW| (the last layer's, if the first
 * layer's gradient is all zero) against (L(w + h) - L(w - h)) / 2h, computed now. */
static int gradient_check(run *r, tmlp_err *err)
{
    int l = 0, k = 0, rc;
    for (int pass = 0; pass < 2; pass++) {
        l = pass ? r->n_layers - 1 : 0;
        k = 0;
        for (int j = 1; j < r->v[l].n_out * r->v[l].n_in; j++)
            if (fabsf(r->v[l].dW[j]) > fabsf(r->v[l].dW[k]))
                k = j;
        if (r->v[l].dW[k] != 0.0f)
            break;
    }
    float *w = &r->v[l].W[k], w0 = *w, analytic = r->v[l].dW[k];
    float wp = *w = w0 + FD_H;
    double lp = loss_now(r, err, &rc), lm = NAN;
    float wm = *w = w0 - FD_H;
    if (!rc)
        lm = loss_now(r, err, &rc);
    *w = w0;
    if (rc)
        return rc;
    double numeric = (lp - lm) / ((double)wp - wm);  /* the step as the floats really took it */
    double den = fmax(fabs(analytic), fabs(numeric));
    double rel = den > 0 ? fabs(analytic - numeric) / den : 0.0;
    int row = k / r->v[l].n_in, col = k % r->v[l].n_in;
    if (r->out.json) {
        static const char *const key[] = { "layer", "row", "col", "h", "loss_plus", "loss_minus",
                                            "analytic", "numeric", "rel_diff" };
        const double val[] = { l, row, col, FD_H, lp, lm, analytic, numeric, rel };
        cJSON *g = cJSON_AddObjectToObject(r->root, "gradcheck");
        for (size_t j = 0; j < sizeof val / sizeof val[0]; j++)
            cJSON_AddNumberToObject(g, key[j], val[j]);
        return TMLP_OK;
    }
    printf("\n== gradient check (central difference, computed now) ==\n"
           "  W%d[%d,%d]: unit %d's weight on input %d (from 0), the largest |dW%d|%s\n"
           "  analytic  dW%d[%d,%d] from backward              %16.9g\n"
           "  numeric   (L(w + h) - L(w - h)) / 2h, h = %-5g  %16.9g\n"
           "            L(w + h) = %.9g, L(w - h) = %.9g\n"
           "  relative difference |a - n| / max(|a|, |n|) = %.2e: %s\n",
           l + 1, row, col, row, col, l + 1, l ? " (dW1 is all zero)" : "", l + 1, row, col,
           (double)analytic, (double)FD_H, numeric, lp, lm, rel,
           rel < FD_AGREE ? "they agree" : "they differ (is a kink of f within h of some Z?)");
    return TMLP_OK;
}

static int update(run *r, tmlp_err *err)
{
    out *ou = &r->out;
    size_t n;
    float *p = tmlp_net_params(r->net, &n), *g = tmlp_net_grads(r->net, NULL);
    const tmlp_optim_cfg *c = &r->oc;
    char name[16];
    int rc;
    memcpy(r->before, p, n * sizeof *p);
    tmlp_optim_step(r->opt, p, g);
    explain_say(ou, "\n== update (tmlp_optim_step: %s, step t = %ld) ==\n  %s\n  with lr = %g, wd = %g",
        tmlp_optim_name(c->kind), tmlp_optim_steps(r->opt), rule_of(c->kind), (double)c->lr,
        (double)c->weight_decay);
    if (c->kind == TMLP_OPT_MOMENTUM || c->kind == TMLP_OPT_NESTEROV)
        explain_say(ou, ", μ = %g", (double)c->momentum);
    if (c->kind == TMLP_OPT_ADAM || c->kind == TMLP_OPT_ADAMW)
        explain_say(ou, ", β1 = %g, β2 = %g", (double)c->beta1, (double)c->beta2);
    if (c->kind == TMLP_OPT_RMSPROP)
        explain_say(ou, ", α = %g", (double)c->beta2);
    if (c->kind >= TMLP_OPT_ADAM)
        explain_say(ou, ", ε = %g", (double)c->eps);
    explain_say(ou, "\n  (the same rule updates every entry of every W, b and activation parameter)\n");
    for (int i = 0; i < r->n_layers; i++) {
        const tmlp_layer_view *v = &r->v[i];
        size_t ow = (size_t)(v->W - p), ob = (size_t)(v->b - p);  /* same layout in g */
        if (ou->json)
            ou->obj = cJSON_GetArrayItem(r->layers, i);
        snprintf(name, sizeof name, "W%d", i + 1);
        explain_show_update(ou, "W", name, r->before + ow, g + ow, p + ow, v->n_out, v->n_in, 0);
        snprintf(name, sizeof name, "b%d", i + 1);
        explain_show_update(ou, "b", name, r->before + ob, g + ob, p + ob, 1, v->n_out, 1);
        if (v->bn_gamma) {
            size_t og = (size_t)(v->bn_gamma - p), obeta = (size_t)(v->bn_beta - p);
            snprintf(name, sizeof name, "γ%d", i + 1);
            explain_show_update(ou, "bn_gamma", name, r->before + og, g + og, p + og, 1, v->n_out, 1);
            snprintf(name, sizeof name, "β%d", i + 1);
            explain_show_update(ou, "bn_beta", name, r->before + obeta, g + obeta, p + obeta, 1,
                                v->n_out, 1);
        }
        if (v->n_act_params) {
            size_t oa = (size_t)(v->act_param - p);
            snprintf(name, sizeof name, "a%d", i + 1);
            explain_show_update(ou, "act_param", name, r->before + oa, g + oa, p + oa, 1,
                        v->n_act_params, 1);
        }
    }
    ou->obj = r->root;
    double after = loss_now(r, err, &rc);
    if (rc)
        return rc;
    if (ou->json)
        cJSON_AddNumberToObject(r->root, "loss_after", after);
    explain_say(ou, "\nloss on the same batch after the step: %.9g (before: %.9g, change %+.3g)\n", after,
        r->L, after - r->L);
    return TMLP_OK;
}

int cmd_explain(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("explain", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    tmlp_err err = { 0 };
    run r = { .o = &o, .out = { .json = o.json } };
    if (o.json)
        r.root = r.out.obj = cJSON_CreateObject();
    int status = 0;
    if ((rc = setup(&r, &err)) == TMLP_OK) {
        header(&r);
        if ((rc = forward(&r, &err)) == TMLP_OK) {
            backward(&r);
            if ((rc = gradient_check(&r, &err)) == TMLP_OK)
                rc = update(&r, &err);
        }
    }
    if (rc != TMLP_OK) {
        if (r.usage)
            fprintf(stderr, "tinymlp explain: %s\n", err.msg);
        status = r.usage ? EXIT_USAGE : cli_fail(&err, 0);
    } else if (o.json) {
        status = cli_print_json(r.root);
    }
    cJSON_Delete(r.root);
    free(r.buf);
    tmlp_optim_free(r.opt);
    tmlp_net_free(r.net);
    tmlp_data_free(r.d);
    cli_dataset_free(&r.ds);
    return status;
}
