/* compare_run.c: the worker processes behind `tinymlp compare`.
 *
 * run_all forks up to s->jobs workers at a time. Each trains one (activation, seed) run on one
 * BLAS thread with a diag collector attached (timed, so its cost can be taken out of the epoch
 * time), evaluates the test set after every epoch, and writes what it measured as raw structs
 * to a file of its own; the parent reads the files back in job order, so nothing depends on
 * which worker finished first or how many ran at once. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compare.h"

double compare_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct worker {
    const compare_setup *su;
    cmp_run *run;
    tmlp_diag *diag;
    tmlp_observer diag_obs;
    double diag_seconds;             /* spent in the collector this epoch */
    tmlp_err err;
    int failed;
} worker;

static int timed_batch(void *ctx, const tmlp_batch_info *b)
{
    worker *w = ctx;
    double t = compare_now();
    int r = w->diag_obs.on_batch(w->diag_obs.ctx, b);
    w->diag_seconds += compare_now() - t;
    return r;
}

static int timed_epoch(void *ctx, const tmlp_epoch_info *e)
{
    worker *w = ctx;
    return w->diag_obs.on_epoch(w->diag_obs.ctx, e);
}

/* Called by the collector after its epoch record: keeps the epoch, evaluates the test set. */
static int record_epoch(void *ctx, const tmlp_epoch_info *e)
{
    worker *w = ctx;
    const cmp_study *s = w->su->s;
    const tmlp_diag_record *r = tmlp_diag_last(w->diag);
    cmp_epoch *ce = &w->run->epoch[e->epoch - 1];
    *ce = (cmp_epoch){ .train_loss = e->train_loss, .train_acc = e->train_acc,
                       .val_loss = e->val_loss, .val_acc = e->val_acc,
                       .seconds = e->seconds - w->diag_seconds, .vanish = r->vanish_index };
    w->diag_seconds = 0.0;
    if (tmlp_evaluate(e->net, w->su->eval, &ce->eval_loss, &ce->eval_acc, &w->err) != TMLP_OK) {
        w->failed = 1;
        return 1;
    }
    double dead = 0, dead_n = 0, sat = 0, sat_n = 0;
    for (int i = 0; i < s->n_layers - 1; i++) { /* hidden layers, pooled by units */
        const tmlp_diag_layer *l = &r->layer[i];
        if (!isnan(l->dead_frac))
            dead += l->dead_frac * l->units, dead_n += l->units;
        if (!isnan(l->sat_frac))
            sat += l->sat_frac * l->units, sat_n += l->units;
    }
    ce->dead = dead_n > 0 ? dead / dead_n : NAN;
    ce->sat = sat_n > 0 ? sat / sat_n : NAN;
    memcpy(w->run->layer + (size_t)(e->epoch - 1) * s->n_layers, r->layer,
           (size_t)s->n_layers * sizeof *r->layer);
    w->run->n_epochs = e->epoch;
    return 0;
}

static int train_one(const compare_setup *su, int job, cmp_run *run, tmlp_err *err)
{
    const cmp_study *s = su->s;
    int a = job / s->n_seeds;
    uint64_t seed = s->seed0 + (uint64_t)(job % s->n_seeds);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, s->n_in, su->loss);
    for (int i = 0; i < s->n_layers - 1; i++)
        if (tmlp_net_spec_add(&spec, s->width[i], s->act[a], s->act_arg[a], err))
            return err->code;
    if (tmlp_net_spec_add(&spec, s->n_out, NULL, 0.0f, err))
        return err->code;
    for (int i = 0; i < spec.n_layers; i++)
        spec.layer[i].init = su->init;
    int rc = TMLP_ENOMEM;
    tmlp_net *net = tmlp_net_new(&spec, s->batch, err);
    tmlp_optim *opt = NULL;
    worker w = { .su = su, .run = run };
    if (!net)
        return err->code;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, seed, 1);                 /* the weights: as `tinymlp train --seed` */
    tmlp_optim_cfg oc = tmlp_optim_defaults(su->opt_kind);
    oc.lr = (float)s->lr;
    size_t np;
    tmlp_net_params(net, &np);
    if ((rc = tmlp_net_init(net, &rng, err)) || !(opt = tmlp_optim_new(&oc, np, err)) ||
        !(w.diag = tmlp_diag_new(net, NULL, err))) {
        rc = rc ? rc : err->code;
        goto done;
    }
    tmlp_observer rec = { NULL, record_epoch, &w };
    w.diag_obs = tmlp_diag_observer(w.diag, &rec);
    tmlp_observer obs = { timed_batch, timed_epoch, &w };
    tmlp_schedule sched = su->sched;              /* plateau keeps state: a copy per run */
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = s->epochs;
    tc.batch = s->batch;
    tc.seed = seed;                               /* the batch order */
    tc.schedule = &sched;
    rc = tmlp_train(net, opt, su->train, su->val, &tc, &obs, err);
    if (!rc && w.failed) {
        *err = w.err;
        rc = w.err.code;
    }
done:
    tmlp_diag_free(w.diag);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    return rc;
}

/* The worker: trains job and writes status, message, epochs and layers to path.
 * Exits 0 when the file was written (whatever the run's status), 1 otherwise. */
static int worker_main(const compare_setup *su, int job, const char *path)
{
    const cmp_study *s = su->s;
    tmlp_blas_threads(1);
    cmp_run run = { 0 };
    run.epoch = calloc((size_t)s->epochs, sizeof *run.epoch);
    run.layer = calloc((size_t)s->epochs * (size_t)s->n_layers, sizeof *run.layer);
    tmlp_err err = { 0 };
    if (!run.epoch || !run.layer)
        run.status = tmlp_fail(&err, TMLP_ENOMEM, "no memory for the run's records");
    else
        run.status = train_one(su, job, &run, &err);
    snprintf(run.msg, sizeof run.msg, "%s", run.status ? err.msg : "");
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(&run.status, sizeof run.status, 1, f) == 1 &&
             fwrite(run.msg, sizeof run.msg, 1, f) == 1 &&
             fwrite(&run.n_epochs, sizeof run.n_epochs, 1, f) == 1 &&
             fwrite(run.epoch, sizeof *run.epoch, (size_t)run.n_epochs, f) == (size_t)run.n_epochs &&
             fwrite(run.layer, sizeof *run.layer, (size_t)run.n_epochs * s->n_layers, f) ==
                 (size_t)run.n_epochs * s->n_layers;
    if (f && fclose(f) != 0)
        ok = 0;
    free(run.epoch);
    free(run.layer);
    return ok ? 0 : 1;
}

/* Reads what worker_main wrote into run (allocating its arrays). */
static void read_run(const cmp_study *s, int job, const char *path, cmp_run *run)
{
    FILE *f = fopen(path, "rb");
    int ok = f && fread(&run->status, sizeof run->status, 1, f) == 1 &&
             fread(run->msg, sizeof run->msg, 1, f) == 1 &&
             fread(&run->n_epochs, sizeof run->n_epochs, 1, f) == 1 &&
             run->n_epochs >= 0 && run->n_epochs <= s->epochs;
    size_t nl = ok ? (size_t)run->n_epochs * s->n_layers : 0;
    run->epoch = calloc((size_t)s->epochs, sizeof *run->epoch);
    run->layer = calloc((size_t)s->epochs * s->n_layers, sizeof *run->layer);
    ok = ok && run->epoch && run->layer &&
         fread(run->epoch, sizeof *run->epoch, (size_t)run->n_epochs, f) == (size_t)run->n_epochs &&
         fread(run->layer, sizeof *run->layer, nl, f) == nl;
    if (f)
        fclose(f);
    if (!ok) {
        run->n_epochs = 0;
        run->status = TMLP_EIO;
        snprintf(run->msg, sizeof run->msg, "the worker for this run left no readable results");
    }
    run->msg[sizeof run->msg - 1] = '\0';
    for (size_t i = 0; i < nl; i++) /* names from this process's tables */
        run->layer[i].act = (int)(i % s->n_layers) == s->n_layers - 1 ? "identity"
                                                                       : s->act[job / s->n_seeds]->name;
}

/* Runs every job, at most `jobs` at a time; fills s->run in job order. */
int compare_run_all(const compare_setup *su, const char *tmpdir, int quiet)
{
    cmp_study *s = su->s;
    int total = s->n_acts * s->n_seeds, next = 0, running = 0, finished = 0;
    pid_t *pid = calloc((size_t)total, sizeof *pid);
    if (!pid)
        return -1;
    char path[4300];
    int width = 0;
    for (int a = 0; a < s->n_acts; a++)
        if ((int)strlen(s->act_name[a]) > width)
            width = (int)strlen(s->act_name[a]);
    while (finished < total) {
        while (running < s->jobs && next < total) {
            snprintf(path, sizeof path, "%s/run-%04d.bin", tmpdir, next);
            fflush(NULL);
            pid_t p = fork();
            if (p == 0) { /* a worker dies quietly: the parent says "stopped by SIGINT" once */
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                _exit(worker_main(su, next, path));
            }
            if (p < 0) {
                if (running)
                    break; /* wait for one to finish, then try again */
                fprintf(stderr, "tinymlp compare: cannot start a worker: %s\n", strerror(errno));
                free(pid);
                return -1;
            }
            pid[next++] = p;
            running++;
        }
        int ws;
        pid_t p = waitpid(-1, &ws, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int j = 0;
        while (j < next && pid[j] != p)
            j++;
        if (j == next)
            continue;
        running--;
        finished++;
        snprintf(path, sizeof path, "%s/run-%04d.bin", tmpdir, j);
        cmp_run *r = &s->run[j];
        read_run(s, j, path, r);
        remove(path);
        if (WIFSIGNALED(ws))
            snprintf(r->msg, sizeof r->msg, "the worker died of signal %d", WTERMSIG(ws));
        if (quiet)
            continue;
        const char *name = s->act_name[j / s->n_seeds];
        unsigned long long seed = (unsigned long long)(s->seed0 + (uint64_t)(j % s->n_seeds));
        if (r->status == TMLP_OK && r->n_epochs > 0) {
            const cmp_epoch *e = &r->epoch[r->n_epochs - 1];
            double sec = 0;
            for (int k = 0; k < r->n_epochs; k++)
                sec += r->epoch[k].seconds;
            fprintf(stderr, "[%*d/%d] %-*s seed %-3llu %s acc %6.2f%%  loss %.4f  %.2f s/epoch\n",
                    total >= 100 ? 3 : 2, finished, total, width, name, seed, s->eval_name,
                    100.0 * e->eval_acc, e->train_loss, sec / r->n_epochs);
        } else {
            fprintf(stderr, "[%*d/%d] %-*s seed %-3llu stopped after %d epochs: %s\n",
                    total >= 100 ? 3 : 2, finished, total, width, name, seed, r->n_epochs, r->msg);
        }
    }
    free(pid);
    return finished == total ? 0 : -1;
}
