/* gradcheck_net.c: `tinymlp gradcheck --layers SPEC`: every parameter of a small net built
 * with those hidden layers, through the chosen loss, against central differences of the loss,
 * as one row per tensor (tmlp_gradcheck_net_tensors does the work). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "gradcheck_net.h"

enum { N_IN = 4, BATCH = 8, MAX_TRIES = 50 };
/* The draw sought: every activation input this far from a kink, so that no probe (a
 * parameter moved by 5e-3) carries one across a corner of relu or prelu. */
#define KINK_MARGIN 0.05

static void add_num(cJSON *obj, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(obj, key, v);
    else
        cJSON_AddNullToObject(obj, key);
}

/* One draw of weights (seed s) and of a batch, then the training-mode forward the check
 * replays. Returns the margin of the activation inputs to the nearest kink, or -1 on error. */
static double draw_one(tmlp_net *net, int loss, int k_out, uint64_t s, float *x, int *label,
                       float *target, tmlp_err *err)
{
    tmlp_rng rng;
    tmlp_rng_seed(&rng, s, 2);
    if (tmlp_net_init(net, &rng, err))
        return -1;
    for (int i = 0; i < BATCH * N_IN; i++)
        x[i] = 2.0f * tmlp_rng_uniform(&rng) - 1.0f;
    for (int i = 0; i < BATCH; i++)
        label[i] = (int)(tmlp_rng_uniform(&rng) * (float)k_out) % k_out;
    for (int i = 0; i < BATCH * k_out; i++) /* bce: in (0, 1); mse: any value */
        target[i] = loss == TMLP_LOSS_MSE ? 2.0f * tmlp_rng_uniform(&rng) - 1.0f
                                          : tmlp_rng_uniform(&rng);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    if (!tmlp_net_forward(net, x, BATCH, err))
        return -1;
    return tmlp_gradcheck_kink_margin(net);
}

/* Draws weights and a batch from seed, seed + 1, ... until no activation input lies within
 * KINK_MARGIN of a kink (up to MAX_TRIES; else the draw with the widest margin is kept and the
 * checker skips the few parameters whose probes cross a kink). 0 or an exit status. */
static int draw(tmlp_net *net, int loss, int k_out, uint64_t seed, float *x, int *label,
                float *target, uint64_t *used)
{
    tmlp_err err = { 0 };
    double best = -1;
    for (uint64_t s = seed; s < seed + MAX_TRIES; s++) {
        double m = draw_one(net, loss, k_out, s, x, label, target, &err);
        if (m < 0)
            return cli_fail(&err, 0);
        if (m > best) {
            best = m;
            *used = s;
        }
        if (m > KINK_MARGIN)
            break;
    }
    if (!(best > KINK_MARGIN) && draw_one(net, loss, k_out, *used, x, label, target, &err) < 0)
        return cli_fail(&err, 0);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN_REPLAY);
    return 0;
}

int gradcheck_net_run(const char *layers, int loss, long k_out, uint64_t seed, int json)
{
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    if (k_out <= 0)
        k_out = loss == TMLP_LOSS_SIGMOID_BCE ? 1 : 3;
    tmlp_net_spec_init(&spec, N_IN, loss);
    if (tmlp_net_spec_parse_hidden(&spec, layers, NULL, 0.0f, &err) ||
        tmlp_net_spec_add(&spec, (int)k_out, NULL, 0.0f, &err)) {
        fprintf(stderr, "tinymlp gradcheck: --layers: %s\n", err.msg);
        return EXIT_USAGE;
    }
    tmlp_net *net = tmlp_net_new(&spec, BATCH, &err);
    if (!net) {
        fprintf(stderr, "tinymlp gradcheck: --layers: %s\n", err.msg);
        return EXIT_USAGE;
    }
    float x[BATCH * N_IN], *target = malloc((size_t)BATCH * k_out * sizeof *target);
    int label[BATCH], n_t = 0, failed = 0, rc;
    uint64_t used = seed;
    tmlp_gradcheck_tensor t[TMLP_GRADCHECK_MAX_TENSORS];
    if (!target) {
        rc = cli_fail(NULL, EXIT_RUNTIME);
        goto done;
    }
    if ((rc = draw(net, loss, (int)k_out, seed, x, label, target, &used)))
        goto done;
    if (tmlp_gradcheck_net_tensors(net, x, BATCH, label, target, 0.0, t, &n_t, &err)) {
        rc = cli_fail(&err, 0);
        goto done;
    }
    char spec_text[1024];
    tmlp_net_spec_format(&spec, 1, spec_text, sizeof spec_text);
    cJSON *root = json ? cJSON_CreateObject() : NULL, *arr = NULL;
    if (json) {
        cJSON_AddStringToObject(root, "layers", spec_text);
        cJSON_AddStringToObject(root, "loss", tmlp_loss_name(loss));
        cJSON_AddNumberToObject(root, "seed", (double)used);
        cJSON_AddNumberToObject(root, "tol", TMLP_GRADCHECK_NET_TOL);
        arr = cJSON_AddArrayToObject(root, "tensors");
    } else {
        printf("net %d-%s (the last is the output layer), loss %s\n"
               "batch of %d in training mode, dropout masks held fixed; weights and inputs "
               "from seed %llu\n"
               "off: |analytic - numeric| > %g * max(1e-2, |analytic|, |numeric|)\n\n", N_IN,
               spec_text, tmlp_loss_name(loss), BATCH, (unsigned long long)used,
               TMLP_GRADCHECK_NET_TOL);
        printf("%-20s %-16s %6s %6s %7s %10s %10s %8s  %s\n", "tensor", "activation", "size",
               "failed", "skipped", "max_abs", "max_rel", "tol", "result");
    }
    for (int k = 0; k < n_t; k++) {
        const tmlp_layer_spec *l = &spec.layer[t[k].layer];
        char act[64] = "-";
        if (l->act)
            tmlp_act_format(l->act, l->act_arg, act, sizeof act);
        /* An all-zero tensor passes when the loss does not move either (a bias before batch
         * norm: the mean subtraction cancels it); one whose every probe crossed a kink was
         * not checked at all, and fails. */
        int ok = t[k].n_failed == 0 && (size_t)t[k].n_skipped < t[k].n;
        failed += !ok;
        if (json) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddItemToArray(arr, c);
            cJSON_AddStringToObject(c, "tensor", t[k].name);
            cJSON_AddStringToObject(c, "activation", act);
            cJSON_AddNumberToObject(c, "size", (double)t[k].n);
            cJSON_AddNumberToObject(c, "failed", t[k].n_failed);
            cJSON_AddNumberToObject(c, "skipped", t[k].n_skipped);
            add_num(c, "max_abs", t[k].max_abs);
            add_num(c, "max_rel", t[k].max_rel);
            cJSON_AddBoolToObject(c, "ok", ok);
        } else {
            printf("%-20s %-16s %6zu %6d %7d %10.2e %10.2e %8.0e  %s\n", t[k].name, act,
                   t[k].n, t[k].n_failed, t[k].n_skipped, t[k].max_abs, t[k].max_rel, TMLP_GRADCHECK_NET_TOL,
                   ok ? "ok" : "FAIL");
        }
    }
    if (json) {
        cJSON_AddNumberToObject(root, "passed", n_t - failed);
        cJSON_AddNumberToObject(root, "total", n_t);
        rc = cli_print_json(root);
        cJSON_Delete(root);
    } else {
        printf("\n%d of %d tensors passed\n", n_t - failed, n_t);
    }
    if (!rc && failed)
        rc = EXIT_RUNTIME;
done:
    free(target);
    tmlp_net_free(net);
    return rc;
}
