/* compare_run.c: training the runs of a study (`tinymlp sweep`, `tinymlp compare`).
 *
 * study_train_one trains one (configuration, seed) run on one BLAS thread with a diag
 * collector attached (timed, so its cost can be taken out of the epoch time) and evaluates
 * the test set after every epoch. compare_run_all forks up to s->jobs workers at a time; each
 * trains one run and records it in the report folder (study_io.c) the moment it ends; the
 * parent reads the records back by run, so nothing depends on which worker finished first or
 * how many ran at once, and a study stopped half-way keeps every run that ended. */
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

#include "study.h"

double compare_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct worker {
    const compare_setup *su;
    int job;
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
    if (w->su->poll)
        w->su->poll(w->su->poll_ctx);
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
    int nl = cmp_layers(s, w->job / s->n_seeds);
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
    for (int i = 0; i < nl - 1; i++) { /* hidden layers, pooled by units */
        const tmlp_diag_layer *l = &r->layer[i];
        if (!isnan(l->dead_frac))
            dead += l->dead_frac * l->units, dead_n += l->units;
        if (!isnan(l->sat_frac))
            sat += l->sat_frac * l->units, sat_n += l->units;
    }
    ce->dead = dead_n > 0 ? dead / dead_n : NAN;
    ce->sat = sat_n > 0 ? sat / sat_n : NAN;
    memcpy(w->run->layer + (size_t)(e->epoch - 1) * nl, r->layer, (size_t)nl * sizeof *r->layer);
    w->run->n_epochs = e->epoch;
    if (w->su->progress) { /* progress within a run: one whole line, one write */
        char line[400];
        int n = snprintf(line, sizeof line, "    %s seed %llu: epoch %d/%d  loss %.4f%s",
                         s->cfg[w->job / s->n_seeds].name,
                         (unsigned long long)(s->seed0 + (uint64_t)(w->job % s->n_seeds)),
                         e->epoch, s->cfg[w->job / s->n_seeds].train.epochs, e->train_loss,
                         s->n_val ? "  val acc " : "");
        if (s->n_val && n > 0 && n < (int)sizeof line)
            n += snprintf(line + n, sizeof line - (size_t)n, "%.2f%%", 100.0 * e->val_acc);
        if (n > 0 && n < (int)sizeof line - 40)
            n += snprintf(line + n, sizeof line - (size_t)n, "  %s acc %.2f%%\n", s->eval_name,
                          100.0 * ce->eval_acc);
        if (n > 0 && n < (int)sizeof line && write(2, line, (size_t)n) < 0)
            n = 0;
    }
    return 0;
}

static int train_run(const compare_setup *su, int job, cmp_run *run, tmlp_err *err)
{
    const cmp_study *s = su->s;
    const cmp_cfg *g = &s->cfg[job / s->n_seeds];
    uint64_t seed = s->seed0 + (uint64_t)(job % s->n_seeds);
    int rc = TMLP_ENOMEM;
    tmlp_net *net = tmlp_net_new(&g->spec, g->train.batch, err);
    tmlp_optim *opt = NULL;
    worker w = { .su = su, .job = job, .run = run };
    if (!net)
        return err->code;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, seed, 1);                 /* the weights: as `tinymlp train --seed` */
    size_t np;
    tmlp_net_params(net, &np);
    if ((rc = tmlp_net_init(net, &rng, err)) || !(opt = tmlp_optim_new(&g->opt, np, err)) ||
        !(w.diag = tmlp_diag_new(net, NULL, err))) {
        rc = rc ? rc : err->code;
        goto done;
    }
    tmlp_observer rec = { NULL, record_epoch, &w };
    w.diag_obs = tmlp_diag_observer(w.diag, &rec);
    tmlp_observer obs = { timed_batch, timed_epoch, &w };
    tmlp_schedule sched = g->sched;               /* plateau keeps state: a copy per run */
    tmlp_train_cfg tc = g->train;
    tc.seed = seed;                               /* the batch order */
    tc.schedule = &sched;
    tc.state = NULL;
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

void study_train_one(const compare_setup *su, int job, cmp_run *run)
{
    const cmp_study *s = su->s;
    const cmp_cfg *g = &s->cfg[job / s->n_seeds];
    free(run->epoch);
    free(run->layer);
    *run = (cmp_run){ 0 };
    run->epoch = calloc((size_t)g->train.epochs, sizeof *run->epoch);
    run->layer = calloc((size_t)g->train.epochs * (size_t)g->spec.n_layers, sizeof *run->layer);
    tmlp_err err = { 0 };
    tmlp_blas_threads(1);
    if (!run->epoch || !run->layer)
        run->status = tmlp_fail(&err, TMLP_ENOMEM, "no memory for the run's records");
    else
        run->status = train_run(su, job, run, &err);
    snprintf(run->msg, sizeof run->msg, "%s", run->status ? err.msg : "");
}

void study_report_run(const cmp_study *s, int j, int finished, int total)
{
    int width = 0;
    for (int c = 0; c < s->n_cfg; c++)
        if ((int)strlen(s->cfg[c].name) > width)
            width = (int)strlen(s->cfg[c].name);
    const cmp_run *r = &s->run[j];
    const char *name = s->cfg[j / s->n_seeds].name;
    unsigned long long seed = (unsigned long long)(s->seed0 + (uint64_t)(j % s->n_seeds));
    int w = total >= 1000 ? 4 : total >= 100 ? 3 : 2;
    if (r->status == TMLP_OK && r->n_epochs > 0) {
        const cmp_epoch *e = &r->epoch[r->n_epochs - 1];
        double sec = 0;
        for (int k = 0; k < r->n_epochs; k++)
            sec += r->epoch[k].seconds;
        fprintf(stderr, "[%*d/%d] %-*s seed %-3llu %s acc %6.2f%%  loss %.4f  %.2f s/epoch\n",
                w, finished, total, width, name, seed, s->eval_name, 100.0 * e->eval_acc,
                e->train_loss, sec / r->n_epochs);
    } else {
        fprintf(stderr, "[%*d/%d] %-*s seed %-3llu stopped after %d epochs: %s\n", w, finished,
                total, width, name, seed, r->n_epochs, r->msg);
    }
}

/* The worker: trains job and records it in dir. Exits 0 when the record was written
 * (whatever the run's status), 1 otherwise. */
static int worker_main(const compare_setup *su, int job, const char *dir)
{
    cmp_run run = { 0 };
    tmlp_err err = { 0 };
    study_train_one(su, job, &run);
    int rc = study_record(su->s, dir, job, &run, &err);
    if (rc)
        fprintf(stderr, "tinymlp: %s\n", err.msg);
    free(run.epoch);
    free(run.layer);
    return rc ? 1 : 0;
}

int compare_run_all(const compare_setup *su, const char *dir, int quiet)
{
    cmp_study *s = su->s;
    int total = s->n_cfg * s->n_seeds, next = 0, running = 0, finished = 0;
    pid_t *pid = calloc((size_t)total + 1, sizeof *pid);
    if (!pid)
        return -1;
    for (int j = 0; j < total; j++)
        finished += s->run[j].done;
    while (finished < total) {
        while (running < s->jobs && next < total) {
            if (s->run[next].done) {
                next++;
                continue;
            }
            fflush(NULL);
            pid_t p = fork();
            if (p == 0) { /* a worker dies quietly: the parent says "stopped by SIGINT" once */
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                _exit(worker_main(su, next, dir));
            }
            if (p < 0) {
                if (running)
                    break; /* wait for one to finish, then try again */
                fprintf(stderr, "tinymlp: cannot start a worker: %s\n", strerror(errno));
                free(pid);
                return -1;
            }
            pid[next++] = p;
            running++;
        }
        if (!running)
            break;
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
        cmp_run *r = &s->run[j];
        tmlp_err err = { 0 };
        if (study_load(s, dir, j, r, &err) != TMLP_OK) {
            free(r->epoch);
            free(r->layer);
            *r = (cmp_run){ .status = TMLP_EIO };
            if (WIFSIGNALED(ws))
                snprintf(r->msg, sizeof r->msg, "the worker died of signal %d", WTERMSIG(ws));
            else
                snprintf(r->msg, sizeof r->msg, "the worker for this run left no readable "
                         "results: %.150s", err.msg);
        }
        r->done = 0; /* trained now, not resumed */
        if (!quiet)
            study_report_run(s, j, finished, total);
    }
    free(pid);
    return finished == total ? 0 : -1;
}
