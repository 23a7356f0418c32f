/* sweep_cfg.c: `tinymlp train`'s settings as `tinymlp sweep` takes them, and one
 * configuration resolved from them exactly as `tinymlp train` resolves its flags.
 *
 * Every flag of `train` is in the table below: the ones that shape a run can be swept
 * (--grid KEY=...) or set for every run (--KEY VALUE); the data's are set once for the whole
 * study; the rest (outputs, checkpoints, threads, the seed) are refused with the reason.
 * tests/sweep.sh checks the table against `train --help`, so a new train flag cannot be
 * forgotten here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sweep.h"

const sweep_key sweep_keys[] = {
    { "layers", SK_STR, NULL }, { "loss", SK_STR, NULL }, { "init", SK_STR, NULL },
    { "opt", SK_STR, NULL }, { "lr", SK_NUM, NULL }, { "momentum", SK_NUM, NULL },
    { "beta1", SK_NUM, NULL }, { "beta2", SK_NUM, NULL }, { "eps", SK_NUM, NULL },
    { "weight-decay", SK_NUM, NULL }, { "l1", SK_NUM, NULL }, { "l2", SK_NUM, NULL },
    { "clip-norm", SK_NUM, NULL }, { "clip-value", SK_NUM, NULL }, { "early-stop", SK_INT, NULL },
    { "early-metric", SK_STR, NULL }, { "min-delta", SK_NUM, NULL }, { "schedule", SK_STR, NULL },
    { "warmup", SK_NUM, NULL }, { "step-size", SK_NUM, NULL }, { "gamma", SK_NUM, NULL },
    { "min-lr", SK_NUM, NULL }, { "patience", SK_INT, NULL }, { "epochs", SK_INT, NULL },
    { "batch", SK_INT, NULL }, { "on-nan", SK_STR, NULL },
    /* the data: one split and one preprocessing for the whole study */
    { "data", SK_STUDY, "the data is loaded once for the whole study" },
    { "val", SK_STUDY, "the validation split is made once, with the first seed" },
    { "standardize", SK_FLAG, "the data is prepared once for the whole study" },
    { "csv-header", SK_STUDY, "the data is loaded once for the whole study" },
    { "label-col", SK_STUDY, "the data is loaded once for the whole study" },
    { "classes", SK_STUDY, "the data is loaded once for the whole study" },
    /* not settings of a run */
    { "seed", SK_NO, "the seeds are sweep's own --seed S and --seeds N" },
    { "threads", SK_NO, "every run trains on one thread, so results do not depend on --jobs" },
    { "every", SK_NO, "sweep prints its own progress" },
    { "log", SK_NO, "results.csv holds every epoch of every run" },
    { "save", SK_NO, "a sweep keeps results, not models: train the chosen configuration" },
    { "diag", SK_NO, "layers.csv holds the per-layer statistics of every run" },
    { "diag-every", SK_NO, "layers.csv holds the per-layer statistics of every run" },
    { "checkpoint", SK_NO, "a sweep records each finished run and resumes by itself" },
    { "checkpoint-every", SK_NO, "a sweep records each finished run and resumes by itself" },
    { "resume", SK_NO, "run the same sweep again with the same --report to resume it" },
    { NULL, 0, NULL },
};

const sweep_key *sweep_key_find(const char *name)
{
    for (const sweep_key *k = sweep_keys; k->name; k++)
        if (!strcmp(k->name, name))
            return k;
    return NULL;
}

int sweep_check_value(const sweep_key *k, const char *value, char *why, size_t size)
{
    double d;
    long l;
    if (k->kind == SK_NUM && !cli_float(value, &d)) {
        snprintf(why, size, "--%s wants a finite number, got '%.60s'", k->name, value);
        return 0;
    }
    int lo = !strcmp(k->name, "early-stop") ? 0 : 1;
    if (k->kind == SK_INT && !cli_int(value, lo, 1L << 30, &l)) {
        snprintf(why, size, "--%s wants an integer in %d..%ld, got '%.60s'", k->name, lo,
                 1L << 30, value);
        return 0;
    }
    return 1;
}

const char *sweep_get(const sweep_set *set, const char *name)
{
    for (int i = set->n - 1; i >= 0; i--)
        if (!strcmp(set->key[i], name))
            return set->value[i];
    return NULL;
}

static double num(const sweep_set *set, const char *name, double dflt)
{
    const char *v = sweep_get(set, name);
    return v ? strtod(v, NULL) : dflt;
}

int sweep_resolve(const sweep_set *set, const tmlp_data *train, int has_val, int is_xor,
                  cmp_cfg *g, tmlp_err *err)
{
    const char *v;
    int opt_kind, loss = 0, init = TMLP_INIT_AUTO, sched_kind;
    if (tmlp_optim_find((v = sweep_get(set, "opt")) ? v : "adam", &opt_kind, err) ||
        ((v = sweep_get(set, "init")) && strcmp(v, "auto") && tmlp_init_find(v, &init, err)) ||
        ((v = sweep_get(set, "loss")) && tmlp_loss_find(v, &loss, err)))
        return err->code;
    g->opt = tmlp_optim_defaults(opt_kind);
    g->opt.lr = (float)num(set, "lr", is_xor ? 0.05 : g->opt.lr);
    g->opt.momentum = (float)num(set, "momentum", g->opt.momentum);
    g->opt.beta1 = (float)num(set, "beta1", g->opt.beta1);
    g->opt.beta2 = (float)num(set, "beta2", g->opt.beta2);
    g->opt.eps = (float)num(set, "eps", g->opt.eps);
    g->opt.weight_decay = (float)num(set, "weight-decay", g->opt.weight_decay);
    tmlp_optim *probe = tmlp_optim_new(&g->opt, 1, err); /* the settings' own checks, now */
    if (!probe)
        return err->code;
    tmlp_optim_free(probe);
    sched_kind = is_xor ? TMLP_SCHED_CONSTANT : TMLP_SCHED_COSINE;
    if ((v = sweep_get(set, "schedule")) && tmlp_schedule_find(v, &sched_kind, err))
        return err->code;
    g->sched = tmlp_schedule_defaults(sched_kind, g->opt.lr);
    g->sched.warmup = (float)num(set, "warmup", g->sched.warmup);
    g->sched.step_size = (float)num(set, "step-size", g->sched.step_size);
    g->sched.gamma = (float)num(set, "gamma", g->sched.gamma);
    g->sched.min_lr = (float)num(set, "min-lr", g->sched.min_lr);
    g->sched.patience = (int)num(set, "patience", g->sched.patience);
    if (tmlp_schedule_check(&g->sched, err))
        return err->code;
    int classes = train->n_classes;
    if (!sweep_get(set, "loss"))
        loss = classes == 2 ? TMLP_LOSS_SIGMOID_BCE : TMLP_LOSS_SOFTMAX_CE;
    int n_out = (classes == 2 && loss != TMLP_LOSS_SOFTMAX_CE) ? 1 : classes;
    tmlp_net_spec_init(&g->spec, train->n_in, loss);
    v = sweep_get(set, "layers");
    if (tmlp_net_spec_parse(&g->spec, v ? v : is_xor ? "4:tanh" : "256:relu,128:relu", err) ||
        tmlp_net_spec_add(&g->spec, n_out, NULL, 0.0f, err))
        return err->code;
    double l1 = num(set, "l1", 0), l2 = num(set, "l2", 0);
    if (l1 < 0 || l2 < 0 || num(set, "clip-norm", 0) < 0 || num(set, "clip-value", 0) < 0 ||
        num(set, "min-delta", 0) < 0)
        return tmlp_fail(err, TMLP_EINVAL, "--l1, --l2, --clip-norm, --clip-value and "
                         "--min-delta must be >= 0");
    for (int i = 0; i < g->spec.n_layers; i++) {
        g->spec.layer[i].init = init;
        if (g->spec.layer[i].l1 == 0.0f)
            g->spec.layer[i].l1 = (float)l1;
        if (g->spec.layer[i].l2 == 0.0f)
            g->spec.layer[i].l2 = (float)l2;
    }
    const tmlp_act *a0 = g->spec.layer[0].act;
    g->init_name = tmlp_init_name(init != TMLP_INIT_AUTO ? init : a0 && a0->init ? a0->init
                                                                          : TMLP_INIT_GLOROT_UNIFORM);
    g->train = tmlp_train_defaults();
    g->train.epochs = (int)num(set, "epochs", is_xor ? 2000 : 10);
    long batch = (long)num(set, "batch", 32);
    g->train.batch = (int)(batch > train->n ? train->n : batch);
    g->train.clip_norm = (float)num(set, "clip-norm", 0);
    g->train.clip_value = (float)num(set, "clip-value", 0);
    g->train.early_stop = (int)num(set, "early-stop", 0);
    g->train.min_delta = (float)num(set, "min-delta", 0);
    v = sweep_get(set, "early-metric");
    if (v && strcmp(v, "val_loss") && strcmp(v, "val_acc"))
        return tmlp_fail(err, TMLP_EINVAL, "--early-metric wants val_loss or val_acc, got '%s'", v);
    g->train.early_metric = v && !strcmp(v, "val_acc") ? TMLP_METRIC_VAL_ACC : TMLP_METRIC_VAL_LOSS;
    if (g->train.early_stop && !has_val)
        return tmlp_fail(err, TMLP_EINVAL, "--early-stop needs a validation set: give --val");
    v = sweep_get(set, "on-nan");
    if (v && strcmp(v, "stop") && strcmp(v, "skip"))
        return tmlp_fail(err, TMLP_EINVAL, "--on-nan wants stop or skip, got '%s'", v);
    g->train.on_nan = v && !strcmp(v, "skip") ? TMLP_ON_NAN_SKIP : TMLP_ON_NAN_STOP;
    return TMLP_OK;
}
