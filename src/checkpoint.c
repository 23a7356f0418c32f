/* checkpoint.c: a training run as a model file with the optimizer, schedule and position.
 *
 * model_io writes and checks the file (through model_io_impl.h): this file only turns the
 * optimizer's moments and early stopping's best weights into extra tensors, and the rest of
 * the run into metadata strings, and back. Floats are written with 9 significant digits and
 * doubles with 17, which read back the same bits; integers are decimal. Reading takes every
 * key out of the caller's metadata and refuses any it does not know. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/checkpoint.h"
#include "model_io_impl.h"

/* Key prefixes that belong to the checkpoint, not to the caller. */
static const char *const own_prefix[] = { "checkpoint.", "optim.", "train.", "state.", "rng.",
                                          "schedule." };
#define N_PREFIX ((int)(sizeof own_prefix / sizeof own_prefix[0]))

/* Extra tensors, in file order. */
enum { X_M = 0, X_V, X_BEST, N_X };
static const char *const x_name[N_X] = { "optim.m", "optim.v", "train.best" };

#define MAX_BATCH (1 << 24) /* a larger saved batch size is refused (and must be asked for) */

static int is_own(const char *key)
{
    for (int i = 0; i < N_PREFIX; i++)
        if (!strncmp(key, own_prefix[i], strlen(own_prefix[i])))
            return 1;
    return 0;
}

/* ---- writing ---- */

static int put(tmlp_model_meta *m, const char *key, tmlp_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int put(tmlp_model_meta *m, const char *key, tmlp_err *err, const char *fmt, ...)
{
    char v[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    return tmlp_model_meta_set(m, key, v, err);
}

/* Every key the checkpoint adds, after the caller's. */
static int put_all(tmlp_model_meta *m, const tmlp_optim *opt, const tmlp_train_cfg *c,
                   const tmlp_train_state *st, const tmlp_rng *drop, tmlp_err *err)
{
    tmlp_optim_cfg o = tmlp_optim_config(opt);
    const tmlp_schedule *s = c->schedule;
    int rc = put(m, "checkpoint.version", err, "%d", TMLP_CHECKPOINT_VERSION);
    rc = rc ? rc : put(m, "optim.kind", err, "%s", tmlp_optim_name(o.kind));
    rc = rc ? rc : put(m, "optim.lr", err, "%.9g", (double)o.lr);
    rc = rc ? rc : put(m, "optim.momentum", err, "%.9g", (double)o.momentum);
    rc = rc ? rc : put(m, "optim.beta1", err, "%.9g", (double)o.beta1);
    rc = rc ? rc : put(m, "optim.beta2", err, "%.9g", (double)o.beta2);
    rc = rc ? rc : put(m, "optim.eps", err, "%.9g", (double)o.eps);
    rc = rc ? rc : put(m, "optim.weight_decay", err, "%.9g", (double)o.weight_decay);
    rc = rc ? rc : put(m, "optim.steps", err, "%ld", tmlp_optim_steps(opt));
    rc = rc ? rc : put(m, "train.epochs", err, "%d", c->epochs);
    rc = rc ? rc : put(m, "train.batch", err, "%d", c->batch);
    rc = rc ? rc : put(m, "train.seed", err, "%" PRIu64, c->seed);
    rc = rc ? rc : put(m, "train.shuffle", err, "%d", c->shuffle ? 1 : 0);
    rc = rc ? rc : put(m, "train.clip_norm", err, "%.9g", (double)c->clip_norm);
    rc = rc ? rc : put(m, "train.clip_value", err, "%.9g", (double)c->clip_value);
    rc = rc ? rc : put(m, "train.early_stop", err, "%d", c->early_stop);
    rc = rc ? rc : put(m, "train.early_metric", err, "%s",
                       c->early_metric == TMLP_METRIC_VAL_ACC ? "val_acc" : "val_loss");
    rc = rc ? rc : put(m, "train.min_delta", err, "%.9g", (double)c->min_delta);
    rc = rc ? rc : put(m, "train.on_nan", err, "%s", c->on_nan == TMLP_ON_NAN_SKIP ? "skip" : "stop");
    rc = rc ? rc : put(m, "state.epoch", err, "%d", st->epoch);
    rc = rc ? rc : put(m, "state.batch", err, "%d", st->batch);
    rc = rc ? rc : put(m, "rng.state", err, "%" PRIu64, st->rng.state);
    rc = rc ? rc : put(m, "rng.inc", err, "%" PRIu64, st->rng.inc);
    rc = rc ? rc : put(m, "rng.drop_state", err, "%" PRIu64, drop->state);
    rc = rc ? rc : put(m, "rng.drop_inc", err, "%" PRIu64, drop->inc);
    rc = rc ? rc : put(m, "state.skipped", err, "%ld", st->skipped);
    rc = rc ? rc : put(m, "state.finished", err, "%d", st->finished ? 1 : 0);
    rc = rc ? rc : put(m, "state.sum_loss", err, "%.17g", st->sum_loss);
    rc = rc ? rc : put(m, "state.counted", err, "%d", st->counted);
    rc = rc ? rc : put(m, "state.rows", err, "%ld", st->rows);
    rc = rc ? rc : put(m, "state.correct", err, "%ld", st->correct);
    rc = rc ? rc : put(m, "state.best_epoch", err, "%d", st->best_epoch);
    rc = rc ? rc : put(m, "state.best_metric", err, "%.17g", st->best_epoch ? st->best_metric : 0.0);
    rc = rc ? rc : put(m, "state.diverge_base", err, "%.17g", st->diverge_base);
    if (rc || !s)
        return rc;
    rc = put(m, "schedule.kind", err, "%s", tmlp_schedule_name(s->kind));
    rc = rc ? rc : put(m, "schedule.base_lr", err, "%.9g", (double)s->base_lr);
    rc = rc ? rc : put(m, "schedule.warmup", err, "%.9g", (double)s->warmup);
    rc = rc ? rc : put(m, "schedule.step_size", err, "%.9g", (double)s->step_size);
    rc = rc ? rc : put(m, "schedule.gamma", err, "%.9g", (double)s->gamma);
    rc = rc ? rc : put(m, "schedule.min_lr", err, "%.9g", (double)s->min_lr);
    rc = rc ? rc : put(m, "schedule.patience", err, "%d", s->patience);
    rc = rc ? rc : put(m, "schedule.best", err, "%.17g", s->best);
    rc = rc ? rc : put(m, "schedule.bad_epochs", err, "%d", s->bad_epochs);
    rc = rc ? rc : put(m, "schedule.current", err, "%.9g", (double)s->current);
    return rc;
}

int tmlp_checkpoint_write(const char *path, const tmlp_net *net, const tmlp_optim *opt,
                          const tmlp_train_cfg *cfg, const tmlp_train_state *st,
                          const tmlp_model_meta *meta, tmlp_err *err)
{
    if (!path || !net || !opt || !cfg || !st)
        return tmlp_fail(err, TMLP_EINVAL, "checkpoint: path, net, optimizer, configuration "
                         "and state are all needed");
    size_t n_params;
    tmlp_net_params((tmlp_net *)net, &n_params);
    if (tmlp_optim_size(opt) != n_params)
        return tmlp_fail(err, TMLP_EINVAL, "%s: optimizer made for %zu parameters, net has %zu",
                         path, tmlp_optim_size(opt), n_params);
    if (cfg->schedule && tmlp_schedule_check(cfg->schedule, err) != TMLP_OK)
        return err ? err->code : TMLP_EINVAL;
    for (int i = 0; meta && i < meta->n; i++)
        if (is_own(meta->kv[i].key))
            return tmlp_fail(err, TMLP_EINVAL, "%s: metadata key '%.40s' is the checkpoint's "
                             "own", path, meta->kv[i].key);
    tmlp_model_meta all = { 0 };
    int rc = TMLP_OK;
    for (int i = 0; rc == TMLP_OK && meta && i < meta->n; i++)
        rc = tmlp_model_meta_set(&all, meta->kv[i].key, meta->kv[i].value, err);
    if (rc == TMLP_OK) {
        tmlp_rng drop = *tmlp_net_dropout_rng((tmlp_net *)net); /* read only */
        rc = put_all(&all, opt, cfg, st, &drop, err);
    }
    if (rc == TMLP_OK) {
        const float *m, *v;
        tmlp_optim_state(opt, &m, &v, NULL);
        tmlp_io_extra x[N_X];
        int n_x = 0;
        if (m)
            x[n_x++] = (tmlp_io_extra){ .name = x_name[X_M], .n = n_params, .src = m };
        if (v)
            x[n_x++] = (tmlp_io_extra){ .name = x_name[X_V], .n = n_params, .src = v };
        if (st->best_epoch > 0 && st->best && st->n_best > 0)
            x[n_x++] = (tmlp_io_extra){ .name = x_name[X_BEST], .n = st->n_best, .src = st->best };
        rc = tmlp_model_write_ex(path, net, &all, x, n_x, err);
    }
    tmlp_model_meta_free(&all);
    return rc;
}

/* ---- reading ---- */

typedef struct reader {
    const char *path;
    tmlp_model_meta *meta;
    tmlp_err *err;
    int rc;             /* the first failure; later gets do nothing */
} reader;

/* The value of key (which must be there), or NULL with r->rc set. */
static const char *get(reader *r, const char *key)
{
    if (r->rc)
        return NULL;
    const char *v = tmlp_model_meta_get(r->meta, key);
    if (!v)
        r->rc = tmlp_fail(r->err, TMLP_EFORMAT, "%s: checkpoint key '%s' is missing", r->path, key);
    return v;
}

/* At most 32 bytes of s with control characters as '?': fit to echo in a one-line error. */
static const char *shown(const char *s, char buf[33])
{
    size_t i = 0;
    for (; s[i] && i < 32; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static void bad(reader *r, const char *key, const char *v, const char *want)
{
    char b[33];
    r->rc = tmlp_fail(r->err, TMLP_EFORMAT, "%s: checkpoint key '%s' is \"%s\", expected %s",
                      r->path, key, shown(v, b), want);
}

static long long get_int(reader *r, const char *key, long long lo, long long hi)
{
    const char *v = get(r, key);
    if (!v)
        return lo;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi || !(*v == '-' || (*v >= '0' && *v <= '9'))) {
        char want[64];
        snprintf(want, sizeof want, "an integer in %lld..%lld", lo, hi);
        bad(r, key, v, want);
        return lo;
    }
    return x;
}

static uint64_t get_u64(reader *r, const char *key)
{
    const char *v = get(r, key);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end || errno || !(*v >= '0' && *v <= '9')) {
        bad(r, key, v, "an unsigned 64-bit integer");
        return 0;
    }
    return (uint64_t)x;
}

/* A double; only finite values unless any is set. */
static double get_double(reader *r, const char *key, int any)
{
    const char *v = get(r, key);
    if (!v)
        return 0.0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || (!any && !isfinite(x))) {
        bad(r, key, v, any ? "a number" : "a finite number");
        return 0.0;
    }
    return x;
}

static float get_float(reader *r, const char *key)
{
    const char *v = get(r, key);
    if (!v)
        return 0.0f;
    char *end;
    float x = strtof(v, &end);
    if (end == v || *end || !isfinite(x)) {
        bad(r, key, v, "a finite number");
        return 0.0f;
    }
    return x;
}

/* One of names[0..n) by name: its index. */
static int get_name(reader *r, const char *key, const char *const *names, int n, const char *want)
{
    const char *v = get(r, key);
    for (int i = 0; v && i < n; i++)
        if (names[i] && !strcmp(v, names[i]))
            return i;
    if (v)
        bad(r, key, v, want);
    return 0;
}

/* Every checkpoint key a reader of this version knows; any other key with an own prefix is
 * refused, so a newer or damaged file is not half understood. */
static const char *const known[] = {
    "checkpoint.version", "optim.kind", "optim.lr", "optim.momentum", "optim.beta1",
    "optim.beta2", "optim.eps", "optim.weight_decay", "optim.steps", "train.epochs",
    "train.batch", "train.seed", "train.shuffle", "train.clip_norm", "train.clip_value",
    "train.early_stop", "train.early_metric", "train.min_delta", "train.on_nan", "state.epoch",
    "state.batch", "rng.state", "rng.inc", "rng.drop_state", "rng.drop_inc", "state.skipped", "state.finished", "state.sum_loss",
    "state.counted", "state.rows", "state.correct", "state.best_epoch", "state.best_metric",
    "state.diverge_base",
    "schedule.kind", "schedule.base_lr", "schedule.warmup", "schedule.step_size",
    "schedule.gamma", "schedule.min_lr", "schedule.patience", "schedule.best",
    "schedule.bad_epochs", "schedule.current",
};
#define N_KNOWN ((int)(sizeof known / sizeof known[0]))

/* Parses every checkpoint key of meta into ck (all but net and opt) and *oc, then removes
 * them from meta, leaving the caller's. */
static int parse_meta(const char *path, tmlp_model_meta *meta, tmlp_checkpoint *ck,
                      tmlp_optim_cfg *oc, long *steps, tmlp_rng *drop, int *has_drop,
                      tmlp_err *err)
{
    for (int i = 0; i < meta->n; i++) {
        int k = 0;
        while (k < N_KNOWN && strcmp(meta->kv[i].key, known[k]))
            k++;
        char b[33];
        if (k == N_KNOWN && is_own(meta->kv[i].key))
            return tmlp_fail(err, TMLP_EFORMAT, "%s: unknown checkpoint key '%s'", path,
                             shown(meta->kv[i].key, b));
    }
    if (!tmlp_model_meta_get(meta, "checkpoint.version"))
        return tmlp_fail(err, TMLP_EFORMAT, "%s: a model file, not a checkpoint (no "
                         "checkpoint.version)", path);
    reader r = { path, meta, err, TMLP_OK };
    const long long IMAX = INT_MAX;
    if (get_int(&r, "checkpoint.version", 1, IMAX) != TMLP_CHECKPOINT_VERSION && !r.rc)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: checkpoint.version %s is not one this reader "
                         "knows (%d)", path, tmlp_model_meta_get(meta, "checkpoint.version"),
                         TMLP_CHECKPOINT_VERSION);   /* a number: checked by get_int */
    const char *opt_names[TMLP_OPT_COUNT], *sched_names[TMLP_SCHED_COUNT];
    for (int i = 0; i < TMLP_OPT_COUNT; i++)
        opt_names[i] = tmlp_optim_name(i);
    for (int i = 0; i < TMLP_SCHED_COUNT; i++)
        sched_names[i] = tmlp_schedule_name(i);
    static const char *const metrics[2] = { "val_loss", "val_acc" }, *const on_nan[2] = { "stop", "skip" };

    oc->kind = get_name(&r, "optim.kind", opt_names, TMLP_OPT_COUNT, "an optimizer name");
    oc->lr = get_float(&r, "optim.lr");
    oc->momentum = get_float(&r, "optim.momentum");
    oc->beta1 = get_float(&r, "optim.beta1");
    oc->beta2 = get_float(&r, "optim.beta2");
    oc->eps = get_float(&r, "optim.eps");
    oc->weight_decay = get_float(&r, "optim.weight_decay");

    tmlp_train_cfg *c = &ck->cfg;
    *c = tmlp_train_defaults();
    /* Every counter is bounded by the others (issue 15), so continuing the run can never
     * overflow one: an epoch has at most INT_MAX batches (and rows), training stops at
     * train.epochs < INT_MAX, and the optimizer may have stepped before this run began. */
    c->epochs = (int)get_int(&r, "train.epochs", 1, IMAX - 1);
    c->batch = (int)get_int(&r, "train.batch", 1, MAX_BATCH);
    c->seed = get_u64(&r, "train.seed");
    c->shuffle = (int)get_int(&r, "train.shuffle", 0, 1);
    c->clip_norm = get_float(&r, "train.clip_norm");
    c->clip_value = get_float(&r, "train.clip_value");
    c->early_stop = (int)get_int(&r, "train.early_stop", 0, IMAX);
    c->early_metric = get_name(&r, "train.early_metric", metrics, 2, "val_loss or val_acc");
    c->min_delta = get_float(&r, "train.min_delta");
    c->on_nan = get_name(&r, "train.on_nan", on_nan, 2, "stop or skip");
    if (!r.rc && (c->clip_norm < 0 || c->clip_value < 0 || c->min_delta < 0))
        return tmlp_fail(err, TMLP_EFORMAT, "%s: checkpoint clipping or min_delta is negative",
                         path);

    tmlp_train_state *st = &ck->state;
    st->epoch = (int)get_int(&r, "state.epoch", 0, c->epochs);
    st->batch = (int)get_int(&r, "state.batch", 0, IMAX - 1);
    st->rng.state = get_u64(&r, "rng.state");
    st->rng.inc = get_u64(&r, "rng.inc");
    st->finished = (int)get_int(&r, "state.finished", 0, 1);
    st->counted = (int)get_int(&r, "state.counted", 0, st->batch);
    const long long most_rows = (long long)st->counted * c->batch;
    st->rows = (long)get_int(&r, "state.rows", 0, most_rows < IMAX ? most_rows : IMAX);
    st->correct = (long)get_int(&r, "state.correct", 0, st->rows);
    st->skipped = (long)get_int(&r, "state.skipped", 0,
                                (long long)st->epoch * IMAX + (st->batch - st->counted));
    st->best_epoch = (int)get_int(&r, "state.best_epoch", 0, st->epoch);
    st->best_metric = get_double(&r, "state.best_metric", 1);
    *steps = (long)get_int(&r, "optim.steps", 0, TMLP_OPTIM_MAX_STEPS);
    st->sum_loss = get_double(&r, "state.sum_loss", 0);
    /* every loss is >= 0, and no batch counted means nothing summed */
    if (!r.rc && !(st->sum_loss >= 0.0 && (st->counted > 0 || st->sum_loss == 0.0)))
        bad(&r, "state.sum_loss", tmlp_model_meta_get(meta, "state.sum_loss"),
            st->counted ? "a number >= 0" : "0 (state.counted is 0)");
    if (!r.rc && !(st->rng.inc & 1))
        return tmlp_fail(err, TMLP_EFORMAT, "%s: checkpoint rng.inc %" PRIu64 " is even (a "
                         "PCG stream is always odd)", path, st->rng.inc);
    /* The divergence yardstick: 0 (not yet measured) or at least 1; absent from files written
     * before it was saved, which then measure it again at their first batch. */
    if (!r.rc && tmlp_model_meta_get(meta, "state.diverge_base")) {
        st->diverge_base = get_double(&r, "state.diverge_base", 0);
        if (!r.rc && !(st->diverge_base == 0.0 || st->diverge_base >= 1.0))
            bad(&r, "state.diverge_base", tmlp_model_meta_get(meta, "state.diverge_base"),
                "0 or a number >= 1");
    }
    /* The dropout generator: absent from files written before it was saved, which then
     * continue with fresh masks (see seed_dropout). */
    *has_drop = tmlp_model_meta_get(meta, "rng.drop_state") ||
                tmlp_model_meta_get(meta, "rng.drop_inc");
    if (*has_drop) {
        drop->state = get_u64(&r, "rng.drop_state");
        drop->inc = get_u64(&r, "rng.drop_inc");
        if (!r.rc && !(drop->inc & 1))
            return tmlp_fail(err, TMLP_EFORMAT, "%s: checkpoint rng.drop_inc %" PRIu64 " is "
                             "even (a PCG stream is always odd)", path, drop->inc);
    }

    c->schedule = NULL;
    if (!r.rc && tmlp_model_meta_get(meta, "schedule.kind")) {
        tmlp_schedule *s = &ck->schedule;
        s->kind = get_name(&r, "schedule.kind", sched_names, TMLP_SCHED_COUNT, "a schedule name");
        s->base_lr = get_float(&r, "schedule.base_lr");
        s->warmup = get_float(&r, "schedule.warmup");
        s->step_size = get_float(&r, "schedule.step_size");
        s->gamma = get_float(&r, "schedule.gamma");
        s->min_lr = get_float(&r, "schedule.min_lr");
        s->patience = (int)get_int(&r, "schedule.patience", 1, IMAX);
        s->best = get_double(&r, "schedule.best", 1);
        s->bad_epochs = (int)get_int(&r, "schedule.bad_epochs", 0, s->patience - 1);
        s->current = get_float(&r, "schedule.current");
        tmlp_err e = { 0 };
        if (!r.rc && tmlp_schedule_check(s, &e) != TMLP_OK)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: checkpoint %s", path, e.msg);
        c->schedule = s;
    }
    if (r.rc)
        return r.rc;
    c->state = st;
    for (int i = 0; i < N_KNOWN; i++)   /* what is left is the caller's */
        tmlp_model_meta_set(meta, known[i], NULL, NULL);
    return TMLP_OK;
}

void tmlp_checkpoint_free(tmlp_checkpoint *ck)
{
    if (!ck)
        return;
    tmlp_net_free(ck->net);
    tmlp_optim_free(ck->opt);
    tmlp_train_state_free(&ck->state);
    tmlp_model_meta_free(&ck->meta);
    memset(ck, 0, sizeof *ck);
}

/* A net with dropout draws its masks from a generator of its own. Checkpoints written before
 * it was saved do not hold it: seed it from the run's seed and position, keeping the weights
 * read, so such a run continues correctly though with other masks. */
static int seed_dropout(tmlp_net *net, const tmlp_checkpoint *ck, tmlp_err *err)
{
    const tmlp_net_spec *spec = tmlp_net_get_spec(net);
    int drop = 0;
    for (int i = 0; i < spec->n_layers; i++)
        drop |= spec->layer[i].dropout > 0.0f;
    if (!drop)
        return TMLP_OK;
    size_t np, ns;
    float *p = tmlp_net_params(net, &np), *s = tmlp_net_state(net, &ns);
    float *keep = malloc((np + ns) * sizeof *keep);
    if (!keep)
        return tmlp_fail(err, TMLP_ENOMEM, "checkpoint: no memory");
    memcpy(keep, p, np * sizeof *p);
    memcpy(keep + np, s, ns * sizeof *s);
    tmlp_rng r;
    tmlp_rng_seed(&r, ck->cfg.seed ^ ((uint64_t)ck->state.epoch << 32 | (uint32_t)ck->state.batch),
                  0xc4ec);
    int rc = tmlp_net_init(net, &r, err);
    memcpy(p, keep, np * sizeof *p);
    memcpy(s, keep + np, ns * sizeof *s);
    free(keep);
    return rc;
}

/* The best weights hold the net's state after its np parameters: a batch-norm running
 * variance there must be >= 0 like the net's own (model_io checks those), or restoring the
 * best epoch would make every prediction NaN. */
static int check_best_var(const char *path, const tmlp_net *net, const float *best, size_t np,
                          tmlp_err *err)
{
    const float *state = tmlp_net_state((tmlp_net *)net, NULL);
    for (int i = 0; i < tmlp_net_get_spec(net)->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, i, &v, NULL) != TMLP_OK || !v.bn_var)
            continue;
        size_t at = np + (size_t)(v.bn_var - state);
        for (int k = 0; k < v.n_out; k++)
            if (best[at + (size_t)k] < 0.0f)
                return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor train.best: element %zu (layer %d's "
                                 "running variance, unit %d) is %g, a negative variance; expected "
                                 ">= 0", path, at + (size_t)k, i, k, (double)best[at + (size_t)k]);
    }
    return TMLP_OK;
}

static int load(const char *path, int max_batch, int mode, tmlp_checkpoint *ck, tmlp_err *err)
{
    memset(ck, 0, sizeof *ck);
    tmlp_io_extra x[N_X];
    memset(x, 0, sizeof x);
    for (int i = 0; i < N_X; i++)
        x[i].name = x_name[i];
    tmlp_optim_cfg oc;
    long steps;
    tmlp_rng drop = { 0 };
    int rc, has_drop = 0;
    /* The header first: the net's batch size may come from it. */
    if ((rc = tmlp_model_read_ex(path, 1, TMLP_IO_HEADER, NULL, &ck->meta, x, N_X, err)) ||
        (rc = parse_meta(path, &ck->meta, ck, &oc, &steps, &drop, &has_drop, err)))
        goto fail;
    if (max_batch > 0 && ck->cfg.batch > max_batch) {
        rc = tmlp_fail(err, TMLP_EINVAL, "%s: the run trains batches of %d rows, more than the "
                       "%d asked for", path, ck->cfg.batch, max_batch);
        goto fail;
    }
    if (mode == TMLP_IO_HEADER)
        return TMLP_OK;

    /* Then everything, checked again from the start (the file may have been replaced). */
    tmlp_model_meta_free(&ck->meta);
    if ((rc = tmlp_model_read_ex(path, max_batch > 0 ? max_batch : ck->cfg.batch, TMLP_IO_ALL,
                                 &ck->net, &ck->meta, x, N_X, err)) ||
        (rc = parse_meta(path, &ck->meta, ck, &oc, &steps, &drop, &has_drop, err)))
        goto fail;
    if (ck->cfg.batch > tmlp_net_max_batch(ck->net)) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: changed while being read", path);
        goto fail;
    }
    size_t np, ns;
    tmlp_net_params(ck->net, &np);
    tmlp_net_state(ck->net, &ns);
    for (int i = 0; i < N_X; i++)
        if (x[i].dst && x[i].n != (i == X_BEST ? np + ns : np)) {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s holds %zu values, the net needs %zu",
                           path, x_name[i], x[i].n, i == X_BEST ? np + ns : np);
            goto fail;
        }
    if (x[X_BEST].dst && (rc = check_best_var(path, ck->net, x[X_BEST].dst, np, err)) != TMLP_OK)
        goto fail;
    if ((ck->state.best_epoch > 0) != (x[X_BEST].dst != NULL)) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: %s", path, x[X_BEST].dst
                       ? "tensor train.best without a best epoch"
                       : "state.best_epoch is set but tensor train.best is missing");
        goto fail;
    }
    tmlp_err e = { 0 };
    if (!(ck->opt = tmlp_optim_new(&oc, np, &e)) ||
        tmlp_optim_set_state(ck->opt, x[X_M].dst, x[X_V].dst, steps, &e) != TMLP_OK) {
        rc = tmlp_fail(err, e.code == TMLP_ENOMEM ? TMLP_ENOMEM : TMLP_EFORMAT,
                       "%s: checkpoint optimizer: %s", path, e.msg);
        goto fail;
    }
    ck->state.best = x[X_BEST].dst;
    ck->state.n_best = x[X_BEST].dst ? x[X_BEST].n : 0;
    x[X_BEST].dst = NULL;
    if (has_drop)
        *tmlp_net_dropout_rng(ck->net) = drop;
    else if ((rc = seed_dropout(ck->net, ck, err)) != TMLP_OK)
        goto fail;
    free(x[X_M].dst);
    free(x[X_V].dst);
    return TMLP_OK;
fail:
    for (int i = 0; i < N_X; i++)
        free(x[i].dst);
    tmlp_checkpoint_free(ck);
    return rc;
}

int tmlp_checkpoint_read(const char *path, int max_batch, tmlp_checkpoint *ck, tmlp_err *err)
{
    return load(path, max_batch, TMLP_IO_ALL, ck, err);
}

int tmlp_checkpoint_peek(const char *path, tmlp_checkpoint *ck, tmlp_err *err)
{
    return load(path, 0, TMLP_IO_HEADER, ck, err);
}
