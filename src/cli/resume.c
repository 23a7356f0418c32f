/* resume.c: --checkpoint, --checkpoint-every, --resume and clean stops on SIGINT/SIGTERM for
 * `tinymlp train` (see resume.h). */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "paths.h"
#include "resume.h"

/* ---- --resume: the saved run's settings as flags ---- */

static int push(cli_resume *r, const char *s)
{
    if (r->argc + 1 >= r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        char **v = realloc(r->argv, (size_t)cap * sizeof *v);
        if (!v)
            return 0;
        r->argv = v;
        r->cap = cap;
    }
    if (!(r->argv[r->argc] = strdup(s)))
        return 0;
    r->argv[++r->argc] = NULL;
    return 1;
}

/* Flags that may be given beside --resume: they do not change what is trained (or, for
 * --epochs and --lr, change it on purpose). */
static const char *const allowed[] = { "resume", "epochs", "lr", "checkpoint", "checkpoint-every",
                                       "on-nan", "save", "log", "diag", "diag-every", "quiet",
                                       "json", "every", "threads", "help", NULL };

static int is_allowed(const char *name, size_t len)
{
    for (int i = 0; allowed[i]; i++)
        if (strlen(allowed[i]) == len && !strncmp(allowed[i], name, len))
            return 1;
    return 0;
}

static const struct option *find_option(const struct option *options, const char *name)
{
    for (const struct option *op = options; op->name; op++)
        if (!strcmp(op->name, name))
            return op;
    return NULL;
}

/* The keys a checkpoint's stored configuration may set: training settings only. Its file is
 * data from elsewhere: it never chooses an output (save, log, diag, checkpoint) or another
 * file to read (config, resume); those come from the command line alone. */
static const char *const saved_keys[] = {
    "data", "csv_header", "label_col", "classes", "layers", "loss", "init", "opt", "lr",
    "momentum", "beta1", "beta2", "eps", "weight_decay", "schedule", "warmup", "step_size",
    "gamma", "min_lr", "patience", "epochs", "batch", "seed", "val", "standardize", "l1", "l2",
    "clip_norm", "clip_value", "early_stop", "early_metric", "min_delta", NULL
};

static int saved_key_allowed(const char *key)
{
    for (int i = 0; saved_keys[i]; i++)
        if (!strcmp(saved_keys[i], key))
            return 1;
    return 0;
}

/* One "key": value of the saved configuration as flags. Returns 0, or 1 after printing. */
static int push_setting(cli_resume *r, const struct option *options, const cJSON *x)
{
    if (!x->string || !saved_key_allowed(x->string)) {
        fprintf(stderr, "tinymlp: %s: its configuration sets '%.40s', which a checkpoint may "
                "not choose (only training settings; outputs come from the command line)\n",
                r->path, x->string ? x->string : "?");
        return 1;
    }
    char flag[64], num[40];
    snprintf(flag, sizeof flag, "--%.60s", x->string);
    for (char *p = flag; *p; p++)
        *p = *p == '_' ? '-' : *p;
    const struct option *op = find_option(options, flag + 2);
    const char *value = NULL;
    if (!op) {
        fprintf(stderr, "tinymlp: %s: its configuration has a setting '%.40s' this tinymlp does "
                "not know\n", r->path, x->string);
        return 1;
    }
    if (!strcmp(op->name, "seed")) {                /* exact: JSON numbers stop at 2^53 */
        snprintf(num, sizeof num, "%" PRIu64, r->ck.cfg.seed);
        value = num;
    } else if (!strcmp(op->name, "val") && tmlp_model_meta_get(&r->ck.meta, "val_fraction")) {
        value = tmlp_model_meta_get(&r->ck.meta, "val_fraction");  /* exact, not rounded */
    } else if (cJSON_IsString(x)) {
        value = x->valuestring;
    } else if (cJSON_IsNumber(x)) {
        snprintf(num, sizeof num, "%.17g", x->valuedouble);
        value = num;
    } else if (cJSON_IsTrue(x) && op->has_arg == no_argument) {
        return push(r, flag) ? 0 : (fprintf(stderr, "tinymlp: out of memory\n"), 1);
    } else if (cJSON_IsFalse(x) || cJSON_IsNull(x)) {
        return 0;
    }
    if (!value || op->has_arg == no_argument) {
        fprintf(stderr, "tinymlp: %s: its configuration's '%.40s' is not a value for %s\n",
                r->path, x->string, flag);
        return 1;
    }
    if (!push(r, flag) || !push(r, value)) {
        fprintf(stderr, "tinymlp: out of memory\n");
        return 1;
    }
    return 0;
}

/* The saved setting for flag name (its key: '-' as '_'), or NULL. */
static const cJSON *saved_setting(const cJSON *cfg, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%.60s", name);
    for (char *p = key; *p; p++)
        *p = *p == '-' ? '_' : *p;
    return cJSON_GetObjectItemCaseSensitive(cfg, key);
}

/* Whether a flag's value on the command line is the run's own (saved) setting: the same
 * text, the same number (as the float the run uses), the same seed, or the same data file. */
static int same_setting(const cli_resume *r, const struct option *op, const cJSON *saved,
                        const char *value)
{
    if (!strcmp(op->name, "seed")) {
        uint64_t seed;
        return cli_u64(value, &seed) && seed == r->ck.cfg.seed;
    }
    if (op->has_arg == no_argument)
        return cJSON_IsTrue(saved);
    if (cJSON_IsString(saved))
        return !strcmp(saved->valuestring, value) ||
               (!strcmp(op->name, "data") && cli_same_file(saved->valuestring, value));
    double v;
    if (cJSON_IsNumber(saved) && cli_float(value, &v))
        return (float)v == (float)saved->valuedouble;
    return 0;
}

/* The saved setting as text, for a message. */
static void setting_text(const cJSON *saved, char *buf, size_t size)
{
    if (cJSON_IsString(saved))
        snprintf(buf, size, "'%.60s'", saved->valuestring);
    else if (cJSON_IsNumber(saved))
        snprintf(buf, size, "%.9g", saved->valuedouble);
    else if (cJSON_IsBool(saved))
        snprintf(buf, size, "%s", cJSON_IsTrue(saved) ? "on" : "off");
    else
        snprintf(buf, size, "not set");
}

/* Flags beside --resume that are not free to change must equal the run's own: then they are
 * accepted (the command the run was started with works as it is); a real change is refused,
 * naming the setting and both values. Returns 0 or EXIT_USAGE after printing. */
static int check_user_flags(cli_resume *r, int argc, char **argv, const struct option *options,
                            const cJSON *cfg, unsigned char *same)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || !argv[i][2])
            continue;
        int flag_at = i;
        const char *name = argv[i] + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int shown = (int)(len > 40 ? 40 : len);
        const struct option *op = NULL;
        for (const struct option *o = options; o->name && !op; o++)
            if (strlen(o->name) == len && !strncmp(o->name, name, len))
                op = o;
        const char *value = eq ? eq + 1 : NULL;
        if (op && op->has_arg == required_argument && !eq && i + 1 < argc)
            value = argv[++i];
        if (is_allowed(name, len)) {
            r->lr_given |= len == 2 && !strncmp(name, "lr", 2);
            continue;
        }
        if (!op || !strcmp(op->name, "config") || (op->has_arg == required_argument && !value))
            return cli_usage_error("train", "--%.*s cannot be given when resuming: the checkpoint "
                                   "fixes the run (beside --resume: --epochs, --lr, --checkpoint, "
                                   "--checkpoint-every, --on-nan, output flags, and the run's own "
                                   "settings unchanged)", shown, name);
        const cJSON *saved = saved_setting(cfg, op->name);
        if (same_setting(r, op, saved, value ? value : "true")) {
            same[flag_at] = 1;                      /* the saved text is used, not this one */
            if (value && !eq)
                same[i] = 1;
            continue;
        }
        char was[80];
        if (!strcmp(op->name, "seed"))
            snprintf(was, sizeof was, "%" PRIu64, r->ck.cfg.seed);
        else
            setting_text(saved, was, sizeof was);
        return cli_usage_error("train", "--%s cannot change when resuming: the run has %s, the "
                               "command line %s%.60s%s", op->name, was, value ? "'" : "",
                               value ? value : "sets it", value ? "'" : "");
    }
    return 0;
}

int cli_resume_argv(int argc, char **argv, const struct option *options, cli_resume *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 1; i < argc; i++) {
        const char *p = NULL;
        if (!strcmp(argv[i], "--resume") && i + 1 < argc)
            p = argv[++i];
        else if (!strncmp(argv[i], "--resume=", 9))
            p = argv[i] + 9;
        else if (!strcmp(argv[i], "--resume"))
            return cli_usage_error("train", "--resume needs a checkpoint file");
        if (p && r->path)
            return cli_usage_error("train", "--resume is given twice");
        if (p)
            r->path = p;
    }
    if (!r->path)
        return 0;
    if (!*r->path)
        return cli_usage_error("train", "--resume needs a checkpoint file, got ''");
    tmlp_err err = { 0 };
    if (tmlp_checkpoint_peek(r->path, &r->ck, &err) != TMLP_OK)
        return cli_fail(&err, EXIT_RUNTIME);
    const char *text = tmlp_model_meta_get(&r->ck.meta, "config");
    cJSON *cfg = text ? cJSON_Parse(text) : NULL;
    int bad = 0, nomem = 0;
    if (!cJSON_IsObject(cfg)) {
        fprintf(stderr, "tinymlp: %s: not a checkpoint of tinymlp train (its config metadata "
                "is %s)\n", r->path, text ? "not a JSON object" : "missing");
        bad = 1;
    }
    unsigned char *same = calloc((size_t)argc, 1);  /* user flags equal to the run's */
    if (!same) {
        cJSON_Delete(cfg);
        fprintf(stderr, "tinymlp: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (!bad && check_user_flags(r, argc, argv, options, cfg, same)) {
        cJSON_Delete(cfg);
        free(same);
        return EXIT_USAGE;
    }
    nomem = !bad && !push(r, argv[0]);
    const cJSON *x;
    if (!bad && !nomem)
        cJSON_ArrayForEach(x, cfg)
            if ((bad = push_setting(r, options, x)) != 0)
                break;
    cJSON_Delete(cfg);
    /* it keeps saving where it was saving, as often, unless told otherwise */
    const char *every = tmlp_model_meta_get(&r->ck.meta, "checkpoint_every");
    if (!bad && !nomem)
        nomem = !push(r, "--checkpoint") || !push(r, r->path) ||
                (every && strcmp(every, "0") && (!push(r, "--checkpoint-every") || !push(r, every)));
    for (int i = 1; !bad && !nomem && i < argc; i++)
        if (!same[i])
            nomem = !push(r, argv[i]);
    free(same);
    if (nomem)
        fprintf(stderr, "tinymlp: out of memory\n");
    return bad || nomem ? EXIT_RUNTIME : 0;
}

/* ---- continuing the run ---- */

void cli_data_fingerprint(const tmlp_data *d, char out[17])
{
    /* a multiply-xorshift hash of every value, 8 bytes at a time: fast on MNIST's 47M floats */
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)d->n ^ ((uint64_t)d->n_in << 32);
    const void *blocks[3] = { d->x, d->label, d->target };
    size_t sizes[3] = { (size_t)d->n * d->n_in * sizeof(float),
                        d->label ? (size_t)d->n * sizeof(int) : 0,
                        d->target ? (size_t)d->n * d->n_targets * sizeof(float) : 0 };
    for (int k = 0; k < 3; k++) {
        const unsigned char *p = blocks[k];
        size_t n = sizes[k], i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
        }
        for (; i < n; i++)
            h = (h ^ p[i]) * 0x100000001b3ull;
    }
    snprintf(out, 17, "%016" PRIx64, h);
}

int cli_resume_load(cli_resume *r, tmlp_net **net, tmlp_optim **opt, tmlp_schedule *sched,
                    tmlp_train_cfg *tcfg, const tmlp_data *train, float lr, tmlp_err *err)
{
    tmlp_checkpoint *ck = &r->ck;
    if (ck->cfg.batch > train->n)
        return tmlp_fail(err, TMLP_EINVAL, "%s: the run trains batches of %d rows, but the "
                         "training data has %d rows: not the data it was trained on",
                         r->path, ck->cfg.batch, train->n);
    tmlp_checkpoint_free(ck);
    int rc = tmlp_checkpoint_read(r->path, 0, ck, err);
    if (rc != TMLP_OK)
        return rc;
    char want[17], a[1024], b[1024];
    const char *saved = tmlp_model_meta_get(&ck->meta, "data_fingerprint");
    cli_data_fingerprint(train, want);
    if (saved && strcmp(saved, want))
        return tmlp_fail(err, TMLP_EINVAL, "%s: the training data differs from the data the run "
                         "was trained on (fingerprint %s, saved %.16s)", r->path, want, saved);
    tmlp_net_spec_format(tmlp_net_get_spec(*net), 1, a, sizeof a);
    tmlp_net_spec_format(tmlp_net_get_spec(ck->net), 1, b, sizeof b);
    if (strcmp(a, b) || tmlp_net_n_in(*net) != tmlp_net_n_in(ck->net) ||
        tmlp_net_get_spec(*net)->loss != tmlp_net_get_spec(ck->net)->loss)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: its net (%.80s) is not the one its settings "
                         "build (%.80s)", r->path, b, a);
    tmlp_net_free(*net);
    tmlp_optim_free(*opt);
    *net = ck->net;
    *opt = ck->opt;
    ck->net = NULL;
    ck->opt = NULL;
    if (ck->cfg.schedule)
        *sched = ck->schedule;
    int epochs = tcfg->epochs, on_nan = tcfg->on_nan;
    *tcfg = ck->cfg;
    tcfg->epochs = epochs;
    tcfg->on_nan = on_nan;
    tcfg->schedule = ck->cfg.schedule ? sched : NULL;
    tcfg->state = &ck->state;
    if (r->lr_given && lr > 0.0f) {                 /* a new base rate, from here on */
        tmlp_optim_set_lr(*opt, lr);
        sched->base_lr = lr;
        if (sched->kind == TMLP_SCHED_PLATEAU)
            sched->current = lr;
        if (sched->min_lr > lr)
            sched->min_lr = lr;
        /* a new rate is a new start for the divergence check: the run is being rescued from
         * weights that may already be far from where it began, so its next batch is the new
         * yardstick (resuming with the same rate keeps the run's own) */
        ck->state.diverge_base = 0.0;
    }
    return TMLP_OK;
}

void cli_resume_free(cli_resume *r)
{
    for (int i = 0; i < r->argc; i++)
        free(r->argv[i]);
    free(r->argv);
    tmlp_checkpoint_free(&r->ck);
    memset(r, 0, sizeof *r);
}

/* ---- saving while training ---- */

int cli_ckpt_every(const char *s, long *every, int *batches)
{
    char *end;
    long v = strtol(s, &end, 10);
    *batches = *end == 'b';
    if (end == s || *s == '-' || v < 1 || v > (1L << 30) || (*end && strcmp(end, "b")))
        return 0;
    *every = v;
    return 1;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

void cli_ckpt_signals(int on)
{
    stop_signal = 0;
    if (!on) {                                      /* back to one line and the default */
        cli_signals_default();
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;                     /* a second signal kills as usual */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_ckpt_save(cli_ckpt *c, tmlp_err *err)
{
    return tmlp_checkpoint_write(c->path, c->net, c->opt, c->cfg, c->cfg->state, c->meta, err);
}

/* Saves; on failure remembers why and asks the loop to stop. */
static int save_or_stop(cli_ckpt *c)
{
    if (cli_ckpt_save(c, &c->err) == TMLP_OK)
        return 0;
    c->failed = 1;
    return 1;
}

static int ck_batch(void *ctx, const tmlp_batch_info *b)
{
    cli_ckpt *c = ctx;
    /* here the batch is not trained yet, and the state says so: a save continues with it */
    if (stop_signal) {
        c->stopped_by = stop_signal;
        save_or_stop(c);
        return 1;
    }
    if (c->every_batches && ++c->batches % c->every == 0 && save_or_stop(c))
        return 1;
    return c->inner.on_batch ? c->inner.on_batch(c->inner.ctx, b) : 0;
}

static int ck_epoch(void *ctx, const tmlp_epoch_info *e)
{
    cli_ckpt *c = ctx;
    int stop = c->inner.on_epoch ? c->inner.on_epoch(c->inner.ctx, e) : 0;
    if (stop_signal) {
        c->stopped_by = stop_signal;
        save_or_stop(c);
        return 1;
    }
    if (c->every && !c->every_batches && e->epoch % c->every == 0 && save_or_stop(c))
        return 1;
    return stop;
}

tmlp_observer cli_ckpt_observer(cli_ckpt *c, const tmlp_observer *inner)
{
    c->inner = *inner;
    tmlp_observer o = { ck_batch, ck_epoch, c };
    return o;
}

int cli_ckpt_begin(cli_ckpt *c, const char *path, const char *every, const char *config,
                   const char *data, const cli_prep *prep, double val_frac,
                   const tmlp_data *train, const tmlp_net *net, const tmlp_optim *opt,
                   const tmlp_train_cfg *tcfg, tmlp_err *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    if (every && !cli_ckpt_every(every, &c->every, &c->every_batches))
        return tmlp_fail(err, TMLP_EINVAL, "--checkpoint-every: '%s' is not N or Nb", every);
    c->net = net;
    c->opt = opt;
    c->cfg = tcfg;
    c->meta = &c->meta_own;
    char fp[17], vf[32];
    cli_data_fingerprint(train, fp);
    snprintf(vf, sizeof vf, "%.17g", val_frac);
    int rc = config ? TMLP_OK : tmlp_fail(err, TMLP_ENOMEM, "no memory");
    if (!rc)
        rc = tmlp_model_meta_set(&c->meta_own, "config", config, err);
    if (!rc)
        rc = tmlp_model_meta_set(&c->meta_own, "data", data, err);
    if (!rc)
        rc = tmlp_model_meta_set(&c->meta_own, "data_fingerprint", fp, err);
    if (!rc)
        rc = tmlp_model_meta_set(&c->meta_own, "val_fraction", vf, err);
    if (!rc)
        rc = tmlp_model_meta_set(&c->meta_own, "checkpoint_every", every ? every : "0", err);
    if (!rc)
        rc = cli_prep_save(prep, &c->meta_own, err);
    return rc;
}

int cli_ckpt_end(cli_ckpt *c)
{
    int sig = c->stopped_by;
    cli_ckpt_signals(0);
    if (c->failed)
        return cli_fail(&c->err, EXIT_RUNTIME);
    if (sig) {
        const tmlp_train_state *st = c->cfg->state;
        fprintf(stderr, "tinymlp: stopped by %s at epoch %d, batch %d; the run is saved in %s: "
                "continue it with  tinymlp train --resume %s\n",
                sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal", st->epoch + 1,
                st->batch + 1, c->path, c->path);
        return 128 + sig;
    }
    tmlp_err err = { 0 };
    if (cli_ckpt_save(c, &err) != TMLP_OK)
        return cli_fail(&err, EXIT_RUNTIME);
    return 0;
}

void cli_ckpt_free(cli_ckpt *c)
{
    tmlp_model_meta_free(&c->meta_own);
}
