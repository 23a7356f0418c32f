/* bench.c: tinymlp's training speed against the GEMM-bound floor, against itself on one
 * thread, and against PyTorch (issue 20's measurements).
 *
 * For each configuration it trains on real MNIST (or XOR) twice, side by side in one process:
 * on one thread (no team) and on the team `tinymlp train` would choose (T threads,
 * tmlp_train_threads_auto; --threads N forces T = N), two nets from the same seed, one epoch
 * of each per round (a tmlp_train call resumed through tmlp_train_state), the order of the two
 * alternating from round to round, so that both see the same machine. After each epoch,
 * outside its timed part, it times the floor: the same GEMMs alone on the same shapes. After
 * a one-thread epoch, OpenBLAS on one thread (whole products, no team): the one-thread floor.
 * After a T-thread epoch (or the only run's, when T = 1), that and two more ways: OpenBLAS on
 * two threads of its own, and the products split between a team of two (tmlp_gemm_team); the
 * fastest is the best floor. Reported: seconds per epoch (the median of the measured epochs,
 * after one warm-up round), each ratio as the median of the epoch-by-epoch (or round-by-round)
 * ratios, test accuracy (both runs' seed 1, which must be equal; the mean over seeds), peak
 * resident memory, heap allocations per training step and the latency of one prediction.
 * --busy then measures A again, both runs interleaved, with a competitor process spinning on
 * one core. The targets close the output, computed from these figures.
 * bench/torch_ref.py runs the same configurations in PyTorch; `make bench` runs both. This
 * machine is shared and noisy: read ratios, not absolute seconds.
 *
 *   build/bench/bench [--quick] [--threads N] [--only CONFIG] [--busy] [--profile] [--json FILE]
 *   build/bench/bench --replay INIT STEPS OUT     (see replay(), for bench/torch_ref.py)     */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "bench.h"
#include "tinymlp.h"
#include "net_impl.h" /* tmlp_skip_forward and _backward, wrapped for --profile */

/* Every heap allocation libtinymlp.a makes passes through here (linked with --wrap). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
static long n_allocs;
void *__wrap_malloc(size_t n) { n_allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { n_allocs++; return __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { n_allocs++; return __real_realloc(p, n); }

/* ...and every GEMM of the net through here (whole, however a team splits it), so that
 * --profile can tell GEMM time from the rest: tmlp_gemm_team, and the first layer's products
 * when it skips zero input columns (tmlp_skip_forward and tmlp_skip_backward, with the
 * gathers and the scatter they need). Only the caller's thread calls them. */
int __real_tmlp_gemm_team(tmlp_team *team, int split, int ta, int tb, float alpha, tmlp_mat a,
                          tmlp_mat b, float beta, tmlp_mat c);
int __wrap_tmlp_gemm_team(tmlp_team *team, int split, int ta, int tb, float alpha, tmlp_mat a,
                          tmlp_mat b, float beta, tmlp_mat c);
void __real_tmlp_skip_forward(tmlp_team *team, layer *l, const float *x, int batch);
void __wrap_tmlp_skip_forward(tmlp_team *team, layer *l, const float *x, int batch);
void __real_tmlp_skip_backward(tmlp_team *team, layer *l, int batch);
void __wrap_tmlp_skip_backward(tmlp_team *team, layer *l, int batch);
double gemm_seconds;
int force_threads;
static tmlp_team *floor_team; /* the floor's split GEMMs: a team of two */

int __wrap_tmlp_gemm_team(tmlp_team *team, int split, int ta, int tb, float alpha, tmlp_mat a,
                          tmlp_mat b, float beta, tmlp_mat c)
{
    double t0 = now();
    int rc = __real_tmlp_gemm_team(team, split, ta, tb, alpha, a, b, beta, c);
    gemm_seconds += now() - t0;
    return rc;
}

void __wrap_tmlp_skip_forward(tmlp_team *team, layer *l, const float *x, int batch)
{
    double t0 = now();
    __real_tmlp_skip_forward(team, l, x, batch);
    gemm_seconds += now() - t0;
}

void __wrap_tmlp_skip_backward(tmlp_team *team, layer *l, int batch)
{
    double t0 = now();
    __real_tmlp_skip_backward(team, l, batch);
    gemm_seconds += now() - t0;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

enum { MAX_EPOCHS = 4096 };

/* One of the runs a configuration's measurement interleaves: a net with its optimizer and
 * team, where its training stands, and what each of its epochs measured. */
typedef struct trun {
    tmlp_net *net;
    tmlp_optim *opt;
    tmlp_team *team;             /* NULL: one thread */
    int threads;
    tmlp_train_state st;
    int n;                       /* epochs trained */
    double seconds[MAX_EPOCHS];  /* epoch k's training time at [k - 1] */
    double fl_one[MAX_EPOCHS], fl_blas[MAX_EPOCHS], fl_best[MAX_EPOCHS]; /* right after it */
    double fl_cut[MAX_EPOCHS];   /* one-thread runs: the floor cut as training cuts it */
    int fl_way[MAX_EPOCHS];      /* which way gave fl_best (FLOOR_*) */
    long a0, step_allocs;        /* allocations in the steps of epochs 2.. (see on_epoch) */
    long call_allocs;            /* ...and in its tmlp_train calls, all of them */
    double cols_used;            /* input columns the first layer multiplied, over batches */
    long batches;
    double acc;                  /* test accuracy at the end */
    tmlp_team_stats timed_stats; /* the team's record over the timed epochs alone */
} trun;

static int on_batch(void *ctx, const tmlp_batch_info *b)
{
    trun *r = ctx;
    if (b->batch == 1)
        r->a0 = n_allocs;
    r->cols_used += tmlp_net_input_cols_used(b->net);
    r->batches++;
    return 0;
}

/* Counts the allocations from the end of the epoch's first backward to the epoch's end:
 * every optimizer step, and every forward and backward but the first (the tmlp_train call
 * around the epoch, which a run without rounds makes once, is left out). */
static int on_epoch(void *ctx, const tmlp_epoch_info *e)
{
    trun *r = ctx;
    if (e->epoch >= 2)
        r->step_allocs += n_allocs - r->a0;
    if (r->n < MAX_EPOCHS)
        r->seconds[r->n++] = e->seconds;
    return 0;
}

static void trun_free(trun *r)
{
    if (!r)
        return;
    tmlp_optim_free(r->opt);
    tmlp_net_free(r->net);
    tmlp_team_free(r->team);
    tmlp_train_state_free(&r->st);
    free(r);
}

/* A run of spec from seed 1 on `threads` threads (1: no team); NULL and err on failure. A
 * team that cannot be made leaves the run on one thread (r->threads says). */
static trun *trun_new(const tmlp_net_spec *spec, const tmlp_optim_cfg *oc, int batch,
                      int threads, tmlp_err *err)
{
    trun *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err->msg, sizeof err->msg, "no memory");
        return NULL;
    }
    r->net = tmlp_net_new(spec, batch, err);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 1, 1);
    size_t np = 0;
    if (r->net && !tmlp_net_init(r->net, &rng, err)) {
        tmlp_net_params(r->net, &np);
        r->opt = tmlp_optim_new(oc, np, err);
    }
    if (!r->opt) {
        trun_free(r);
        return NULL;
    }
    r->team = tmlp_train_team(r->net, r->opt, batch, threads, err);
    r->threads = tmlp_team_threads(r->team);
    return r;
}

/* Trains the runs side by side for 1 + c->epochs rounds (the first a warm-up), one epoch of
 * each per round (tmlp_train resumed from its state), the first run first in odd rounds and
 * last in even ones. With floors, after each epoch: the one-thread floor after a one-thread
 * run's epoch beside a multi-thread run, all the floors otherwise. */
static int interleave(const config *c, const tmlp_data *train, const tmlp_net_spec *spec,
                      trun **runs, int nruns, int floors_on, tmlp_err *err)
{
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = c->batch;
    tc.seed = 1;
    for (int k = 1; k <= 1 + c->epochs && k <= MAX_EPOCHS; k++)
        for (int i = 0; i < nruns; i++) {
            trun *r = runs[k % 2 ? i : nruns - 1 - i];
            tmlp_observer obs = { on_batch, on_epoch, r };
            tc.epochs = k;
            tc.state = &r->st;
            long a = n_allocs;
            if (tmlp_train(r->net, r->opt, train, NULL, &tc, &obs, err))
                return 1;
            r->call_allocs += n_allocs - a;
            if (r->n != k) {
                snprintf(err->msg, sizeof err->msg, "round %d did not train one epoch", k);
                return 1;
            }
            if (!floors_on)
                continue;
            floors f = measure_floors(spec, train->n, c->batch, nruns == 1 || r->threads > 1,
                                      floor_team);
            r->fl_one[k - 1] = f.one;
            r->fl_cut[k - 1] = f.one_cut;
            r->fl_blas[k - 1] = f.blas;
            r->fl_best[k - 1] = f.best;
            r->fl_way[k - 1] = f.way;
        }
    return 0;
}

/* The median over the measured epochs 2..1+m of num[k] / den[k], or of num[k] (den NULL) */
static double med(const double *num, const double *den, int m)
{
    static double v[MAX_EPOCHS];
    for (int i = 0; i < m && i + 1 < MAX_EPOCHS; i++)
        v[i] = den ? num[1 + i] / den[1 + i] : num[1 + i];
    return median(v, m);
}

/* "-" for NAN, else v printed with f */
static const char *num(char *buf, const char *f, double v)
{
    if (isnan(v))
        return "-";
    snprintf(buf, 32, f, v);
    return buf;
}

static void print_header(void)
{
    printf("%-7s %-19s %5s %3s %8s %8s %7s %8s %7s %6s %8s %2s %5s %6s %9s %7s\n", "config",
           "hidden layers", "batch", "thr", "s/epoch", "1thr fl", "ratio", "best fl", "ratio",
           "/1thr", "test acc", "n", "cols", "RSS MB", "allocs/st", "pred us");
}

/* One line of the table: NAN prints as "-" */
static void print_row(const config *c, int thr, double s, double fl1, double r1, double flb,
                      double rb, double vs1, double acc, int n_acc, double cols, double allocs,
                      double lat_us)
{
    char b[10][32];
    printf("%-7s %-19s %5d %3d %8.3f %8s %7s %8s %7s %6s %7.2f%% %2d %4.0f%% %6ld %9s %7s\n",
           c->name, c->layers, c->batch, thr, s, num(b[0], "%.3f", fl1), num(b[1], "%.2fx", r1),
           num(b[2], "%.3f", flb), num(b[3], "%.2fx", rb), num(b[4], "%.2fx", vs1), 100.0 * acc,
           n_acc, 100.0 * cols, peak_rss_mb(), num(b[5], "%.2f", allocs),
           num(b[6], "%.1f", lat_us));
}

/* Batch-1 prediction latency of r's net, microseconds: the median over 1000 rows */
static double latency_us(trun *r, const tmlp_data *test, tmlp_err *err)
{
    static double lat[1000];
    float probs[16];
    for (int i = 0; i < 1000; i++) {
        double a = now();
        tmlp_net_predict(r->net, test->x + (size_t)(i % test->n) * test->n_in, 1, probs, err);
        lat[i] = now() - a;
    }
    return 1e6 * median(lat, 1000);
}

/* Seed 1's test accuracy and weights of both runs, printed beside each other; 1 when the
 * accuracies differ. Small nets train to the same bits on one thread and on two (one thread
 * cuts small products as a team of two does); where a team cuts a product differently the
 * weights may differ in the last bits (docs/reliability.md), and the accuracy by a few
 * hundredths of a percent. */
static int same_results(const char *what, trun *one, trun *multi, cJSON *j)
{
    size_t np;
    float *p1 = tmlp_net_params(one->net, &np), *pt = tmlp_net_params(multi->net, NULL);
    int same_w = !memcmp(p1, pt, np * sizeof *p1), same_acc = one->acc == multi->acc;
    printf("%-7s seed 1: test accuracy %.2f%% on 1 thread, %.2f%% on %d threads: %s%s\n", what,
           100.0 * one->acc, 100.0 * multi->acc, multi->threads,
           same_acc ? "the same" : "different",
           same_w ? "; weights identical bit for bit"
                  : "; weights differ (products cut into other blocks: last bits)");
    cJSON_AddNumberToObject(j, "test_accuracy_seed1_one_thread", one->acc);
    cJSON_AddNumberToObject(j, "test_accuracy_seed1_multi_thread", multi->acc);
    cJSON_AddBoolToObject(j, "same_accuracy", same_acc);
    cJSON_AddBoolToObject(j, "same_weights", same_w);
    return !same_acc;
}

/* Each run's team record over the interleaved (timed) epochs: what it counted since `before` */
static void timed_stats(trun **runs, int nruns)
{
    for (int i = 0; i < nruns; i++) {
        tmlp_team_stats now_st = tmlp_team_get_stats(runs[i]->team), *t = &runs[i]->timed_stats;
        t->jobs_shared = now_st.jobs_shared - t->jobs_shared;
        t->jobs_alone = now_st.jobs_alone - t->jobs_alone;
        t->trials = now_st.trials - t->trials;
        t->trials_alone = now_st.trials_alone - t->trials_alone;
    }
}

/* How the multi-thread run's team ran its jobs (tmlp_team_get_stats): on the team, or on the
 * caller alone where its trials found that faster (a busy machine). */
static void team_report(const char *what, const trun *multi, cJSON *j)
{
    tmlp_team_stats ts = multi->timed_stats;
    printf("%-7s team of %d, timed epochs: %ld jobs shared, %ld run by the caller alone; %ld of "
           "%ld trials chose the caller alone\n", what, multi->threads, ts.jobs_shared, ts.jobs_alone,
           ts.trials_alone, ts.trials);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "jobs_shared", (double)ts.jobs_shared);
    cJSON_AddNumberToObject(o, "jobs_alone", (double)ts.jobs_alone);
    cJSON_AddNumberToObject(o, "trials", (double)ts.trials);
    cJSON_AddNumberToObject(o, "trials_alone", (double)ts.trials_alone);
    cJSON_AddItemToObject(j, "team_stats", o);
}

/* Builds c's net spec for train's shape */
static void make_spec(const config *c, const tmlp_data *train, int xor, tmlp_net_spec *spec,
                      tmlp_err *err)
{
    tmlp_net_spec_init(spec, train->n_in, xor ? TMLP_LOSS_SIGMOID_BCE : TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(spec, c->layers, err);
    tmlp_net_spec_add(spec, xor ? 1 : train->n_classes, NULL, 0.0f, err);
}

/* Runs one configuration, one thread and T threads interleaved; adds its figures to out and
 * to the targets. */
static int run(const config *c, tmlp_data *mtrain, tmlp_data *mtest, cJSON *out, targets *tg)
{
    tmlp_err err = { 0 };
    tmlp_data *train = mtrain, *test = mtest, *own = NULL;
    if (!strcmp(c->data, "xor")) {
        own = tmlp_data_xor(&err);
        if (!own) {
            fprintf(stderr, "bench: %s: %s\n", c->name, err.msg);
            return 1;
        }
        train = test = own;
    }
    int n = c->subset && c->subset < train->n ? c->subset : train->n;
    int saved_n = train->n, xor = own != NULL, rc = 1, nruns = 1;
    train->n = n; /* the first n rows */
    tmlp_net_spec spec;
    make_spec(c, train, xor, &spec, &err);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    if (xor)
        oc.lr = 0.05f;
    trun *runs[2] = { trun_new(&spec, &oc, c->batch, 1, &err), NULL };
    if (!runs[0])
        goto fail;
    int want = force_threads > 0 ? force_threads : tmlp_train_threads_auto(runs[0]->net, c->batch);
    if (want > 1) {
        if (!(runs[1] = trun_new(&spec, &oc, c->batch, want, &err)))
            goto fail;
        if (runs[1]->threads != want)
            fprintf(stderr, "bench: %s: no team of %d (%s): the second run has one thread\n",
                    c->name, want, err.msg);
        nruns = 2;
    }
    trun *one = runs[0], *multi = runs[nruns - 1];
    double t0 = now();
    for (int i = 0; i < nruns; i++) /* the team may have served earlier runs: count from here */
        runs[i]->timed_stats = tmlp_team_get_stats(runs[i]->team);
    if (interleave(c, train, &spec, runs, nruns, 1, &err))
        goto fail;
    timed_stats(runs, nruns);
    double wall = now() - t0;
    const int m = c->epochs;
    double one_s = med(one->seconds, NULL, m), one_fl = med(one->fl_one, NULL, m);
    double one_ratio = med(one->seconds, one->fl_one, m);
    double one_cut_ratio = nruns == 2 ? med(one->seconds, one->fl_cut, m) : NAN;
    double multi_s = med(multi->seconds, NULL, m), multi_one_ratio = med(multi->seconds, multi->fl_one, m);
    double best_fl = med(multi->fl_best, NULL, m), best_ratio = med(multi->seconds, multi->fl_best, m);
    double blas_fl = med(multi->fl_blas, NULL, m), blas_ratio = med(multi->seconds, multi->fl_blas, m);
    double vs_one = nruns == 2 ? med(multi->seconds, one->seconds, m) : NAN;
    int ways[FLOOR_WAYS] = { 0 }, floor_way = 0; /* the way fastest most often */
    for (int i = 0; i < m; i++)
        ways[multi->fl_way[1 + i]]++;
    for (int w = 1; w < FLOOR_WAYS; w++)
        floor_way = ways[w] > ways[floor_way] ? w : floor_way;
    /* allocations in the steps of the measured epochs (see on_epoch) */
    double steps = (double)m * ((n + c->batch - 1) / c->batch);
    double one_allocs = (double)one->step_allocs / steps, multi_allocs = (double)multi->step_allocs / steps;
    double te0 = now();
    if (tmlp_evaluate(multi->net, test, NULL, &multi->acc, &err) ||
        (nruns == 2 && tmlp_evaluate(one->net, test, NULL, &one->acc, &err)))
        goto fail;
    double eval_s = now() - te0;
    /* One seed's accuracy is noise of a few tenths of a percent; the same run from other
     * seeds (weights and batch order), untimed, on T threads, gives the mean the comparison
     * uses. */
    enum { MAX_SEEDS = 32 };
    double accs[MAX_SEEDS] = { multi->acc }, acc_sum = multi->acc;
    int n_acc = 1;
    size_t np;
    tmlp_net_params(multi->net, &np);
    for (int sd = 2; sd <= c->seeds && sd <= MAX_SEEDS; sd++, n_acc++) {
        tmlp_net *net2 = tmlp_net_new(&spec, c->batch, &err);
        tmlp_optim *opt2 = tmlp_optim_new(&oc, np, &err);
        tmlp_rng rng2;
        tmlp_rng_seed(&rng2, (uint64_t)sd, 1);
        tmlp_train_cfg tc2 = tmlp_train_defaults();
        tc2.batch = c->batch;
        tc2.epochs = 1 + m;
        tc2.seed = (uint64_t)sd;
        if (net2 && opt2) {
            tmlp_net_set_team(net2, multi->team);
            tmlp_optim_set_team(opt2, multi->team);
        }
        int bad = !net2 || !opt2 || tmlp_net_init(net2, &rng2, &err) ||
                  tmlp_train(net2, opt2, train, NULL, &tc2, NULL, &err) ||
                  tmlp_evaluate(net2, test, NULL, &accs[n_acc], &err);
        tmlp_optim_free(opt2);
        tmlp_net_free(net2);
        if (bad) {
            fprintf(stderr, "bench: %s, seed %d: %s\n", c->name, sd, err.msg);
            goto fail;
        }
        acc_sum += accs[n_acc];
    }
    double acc = acc_sum / n_acc, acc_var = 0.0; /* the mean, and its standard error */
    for (int k = 0; k < n_acc; k++)
        acc_var += (accs[k] - acc) * (accs[k] - acc);
    double acc_se = n_acc > 1 ? sqrt(acc_var / (n_acc - 1) / n_acc) : 0.0;
    double cols = multi->batches ? multi->cols_used / (double)multi->batches : train->n_in;
    double lat_one = latency_us(one, test, &err), lat_multi = latency_us(multi, test, &err);

    if (nruns == 2)
        print_row(c, 1, one_s, one_fl, one_ratio, NAN, NAN, NAN, one->acc, 1, cols / train->n_in,
                  one_allocs, lat_one);
    print_row(c, multi->threads, multi_s, med(multi->fl_one, NULL, m), multi_one_ratio, best_fl,
              best_ratio, vs_one, acc, n_acc, cols / train->n_in, multi_allocs, lat_multi);
    cJSON *j = cJSON_CreateObject();
    if (nruns == 2) {
        same_results(c->name, one, multi, j);
        team_report(c->name, multi, j);
    }
    fflush(stdout);
    cJSON_AddStringToObject(j, "config", c->name);
    cJSON_AddStringToObject(j, "data", c->data);
    cJSON_AddStringToObject(j, "layers", c->layers);
    cJSON_AddNumberToObject(j, "batch", c->batch);
    cJSON_AddNumberToObject(j, "team_threads", multi->threads);
    cJSON_AddStringToObject(j, "floor_gemms_run_by", floor_way_name[floor_way]);
    cJSON_AddNumberToObject(j, "train_rows", n);
    cJSON_AddNumberToObject(j, "epochs_measured", m);
    /* the T-thread run (the only run when T = 1) */
    cJSON_AddNumberToObject(j, "epoch_seconds", multi_s);
    cJSON_AddItemToObject(j, "epoch_seconds_all", cJSON_CreateDoubleArray(multi->seconds, multi->n));
    cJSON_AddNumberToObject(j, "gemm_floor_seconds", best_fl);
    cJSON_AddNumberToObject(j, "ratio_to_floor", best_ratio);
    cJSON_AddItemToObject(j, "gemm_floor_seconds_all", cJSON_CreateDoubleArray(multi->fl_best, multi->n));
    cJSON_AddNumberToObject(j, "openblas_floor_seconds", blas_fl);
    cJSON_AddNumberToObject(j, "ratio_to_openblas_floor", blas_ratio);
    cJSON_AddNumberToObject(j, "ratio_to_one_thread_floor", multi_one_ratio);
    cJSON_AddNumberToObject(j, "allocs_per_step", multi_allocs);
    cJSON_AddNumberToObject(j, "allocs_per_run", (double)multi->call_allocs);
    cJSON_AddNumberToObject(j, "predict_latency_us", lat_multi);
    /* the one-thread run */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch_seconds", one_s);
    cJSON_AddItemToObject(o, "epoch_seconds_all", cJSON_CreateDoubleArray(one->seconds, one->n));
    cJSON_AddNumberToObject(o, "floor_seconds", one_fl);
    cJSON_AddItemToObject(o, "floor_seconds_all", cJSON_CreateDoubleArray(one->fl_one, one->n));
    cJSON_AddNumberToObject(o, "ratio_to_floor", one_ratio);
    if (!isnan(one_cut_ratio)) {
        cJSON_AddNumberToObject(o, "cut_floor_seconds", med(one->fl_cut, NULL, m));
        cJSON_AddNumberToObject(o, "ratio_to_cut_floor", one_cut_ratio);
    }
    cJSON_AddNumberToObject(o, "test_accuracy", one->acc);
    cJSON_AddNumberToObject(o, "allocs_per_step", one_allocs);
    cJSON_AddNumberToObject(o, "allocs_per_run", (double)one->call_allocs);
    cJSON_AddNumberToObject(o, "predict_latency_us", lat_one);
    cJSON_AddItemToObject(j, "one_thread", o);
    if (nruns == 2) {
        static double r[MAX_EPOCHS];
        for (int k = 0; k < one->n && k < multi->n; k++)
            r[k] = multi->seconds[k] / one->seconds[k];
        cJSON_AddNumberToObject(j, "ratio_to_one_thread", vs_one);
        cJSON_AddItemToObject(j, "ratio_to_one_thread_all", cJSON_CreateDoubleArray(r, one->n));
    }
    cJSON_AddNumberToObject(j, "test_accuracy", acc);
    cJSON_AddItemToObject(j, "test_accuracy_seeds", cJSON_CreateDoubleArray(accs, n_acc));
    cJSON_AddNumberToObject(j, "test_accuracy_stderr", acc_se);
    cJSON_AddNumberToObject(j, "input_cols_used_mean", cols);
    cJSON_AddNumberToObject(j, "n_in", train->n_in);
    cJSON_AddNumberToObject(j, "epochs_trained", 1 + m);
    cJSON_AddNumberToObject(j, "peak_rss_mb", (double)peak_rss_mb());
    cJSON_AddNumberToObject(j, "eval_seconds", eval_s);
    cJSON_AddNumberToObject(j, "wall_seconds", wall);
    cJSON_AddItemToArray(out, j);
    if (!strcmp(c->name, "A")) {
        tg->a_one_floor = one_ratio;
        tg->a_one_cut = one_cut_ratio;
        tg->a_one_free_s = one_s;
        tg->a_threads = multi->threads;
        tg->a_multi_one = vs_one;
    } else if (!strcmp(c->name, "B")) {
        tg->b_threads = multi->threads;
        tg->b_best_floor = best_ratio;
    }
    for (int k = 0; k < nruns; k++) {
        double a = k ? multi_allocs : one_allocs;
        tg->allocs_step = isnan(tg->allocs_step) || a > tg->allocs_step ? a : tg->allocs_step;
    }
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "bench: %s: %s\n", c->name, err.msg);
    train->n = saved_n;
    trun_free(runs[0]);
    trun_free(runs[1]);
    tmlp_data_free(own);
    return rc;
}

/* --busy: c (A) again, one thread and T threads interleaved as in run() but without floors,
 * while a competitor process spins on one core (competitor_start). */
static int busy(const config *c, tmlp_data *train, tmlp_data *test, cJSON *root, targets *tg)
{
    tmlp_err err = { 0 };
    int n = c->subset && c->subset < train->n ? c->subset : train->n, saved_n = train->n, rc = 1;
    train->n = n;
    tmlp_net_spec spec;
    make_spec(c, train, 0, &spec, &err);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    trun *runs[2] = { trun_new(&spec, &oc, c->batch, 1, &err), NULL };
    if (!runs[0])
        goto fail;
    int want = force_threads > 0 ? force_threads : tmlp_train_threads_auto(runs[0]->net, c->batch);
    if (want <= 1) {
        printf("\n--busy: %s trains on one thread (T = 1): nothing to compare.\n", c->name);
        rc = 0;
        goto fail;
    }
    if (!(runs[1] = trun_new(&spec, &oc, c->batch, want, &err)))
        goto fail;
    pid_t pid = competitor_start();
    if (pid < 0)
        goto fail;
    for (int i = 0; i < 2; i++)
        runs[i]->timed_stats = tmlp_team_get_stats(runs[i]->team);
    int bad = interleave(c, train, &spec, runs, 2, 0, &err);
    timed_stats(runs, 2);
    competitor_stop(pid);
    if (bad || tmlp_evaluate(runs[0]->net, test, NULL, &runs[0]->acc, &err) ||
        tmlp_evaluate(runs[1]->net, test, NULL, &runs[1]->acc, &err))
        goto fail;
    const int m = c->epochs;
    double t1 = med(runs[0]->seconds, NULL, m), tt = med(runs[1]->seconds, NULL, m);
    double ratio = med(runs[1]->seconds, runs[0]->seconds, m), busy_free = t1 / tg->a_one_free_s;
    printf("\n%s with one core busy: a competitor process spinning on one core (not pinned) for\n"
           "the whole measurement; 1 thread and %d threads interleaved, %d measured round(s):\n",
           c->name, runs[1]->threads, m);
    printf("%-7s %3s %8s %6s  %s\n", "config", "thr", "s/epoch", "/1thr", "1 thread busy / free");
    printf("%-7s %3d %8.3f %6s  %.2fx\n", c->name, 1, t1, "-", busy_free);
    printf("%-7s %3d %8.3f %5.2fx\n", c->name, runs[1]->threads, tt, ratio);
    cJSON *j = cJSON_CreateObject();
    same_results(c->name, runs[0], runs[1], j);
    team_report(c->name, runs[1], j);
    cJSON_AddStringToObject(j, "config", c->name);
    cJSON_AddNumberToObject(j, "team_threads", runs[1]->threads);
    cJSON_AddNumberToObject(j, "epochs_measured", m);
    cJSON_AddNumberToObject(j, "one_thread_epoch_seconds", t1);
    cJSON_AddItemToObject(j, "one_thread_epoch_seconds_all",
                          cJSON_CreateDoubleArray(runs[0]->seconds, runs[0]->n));
    cJSON_AddNumberToObject(j, "epoch_seconds", tt);
    cJSON_AddItemToObject(j, "epoch_seconds_all",
                          cJSON_CreateDoubleArray(runs[1]->seconds, runs[1]->n));
    cJSON_AddNumberToObject(j, "ratio_to_one_thread", ratio);
    cJSON_AddNumberToObject(j, "one_thread_busy_over_free", busy_free);
    cJSON_AddItemToObject(root, "busy", j);
    tg->a_busy = ratio;
    tg->a_busy_free = busy_free;
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "bench: --busy %s: %s\n", c->name, err.msg);
    train->n = saved_n;
    trun_free(runs[0]);
    trun_free(runs[1]);
    return rc;
}


int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--replay"))
        return replay(argv[2], atoi(argv[3]), argv[4]);
    int quick = 0, profile = 0, busy_on = 0;
    const char *json_path = "bench/results.json", *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            force_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json_path = argv[++i];
        else if (!strcmp(argv[i], "--profile"))
            profile = 1;
        else if (!strcmp(argv[i], "--busy"))
            busy_on = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: bench [--quick] [--threads N] [--only CONFIG] [--busy] [--profile] "
                            "[--json FILE]\n"
                            "       bench --replay INIT STEPS OUT\n");
            return 2;
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* PyTorch (bench/torch_ref.py) runs each configuration on 1 thread and on as many as
     * tinymlp's T-thread run, or (where T = 1) on this many: every CPU, or --threads */
    int torch_threads = force_threads ? force_threads : cpus > 0 ? (int)cpus : 1;
    const config configs[] = {
        { "A", "mnist", "128:relu,64:tanh", 32, quick ? 1 : 3, 0, quick ? 1 : 20 },
        { "B", "mnist", "1024:relu,1024:relu", 256, quick ? 1 : 3, quick ? 10000 : 0, 1 },
        { "online", "mnist", "128:relu", 1, 1, quick ? 2000 : 10000, quick ? 1 : 10 },
        { "xor", "xor", "4:tanh", 4, quick ? 100 : 2000, 0, 1 },
    };
    enum { N_CONFIGS = sizeof configs / sizeof configs[0] };
    tmlp_err err = { 0 };
    tmlp_data *train = NULL, *test = NULL;
    if (tmlp_idx_load_folder("data/mnist", &train, &test, &err)) {
        fprintf(stderr, "bench: %s (run make data)\n", err.msg);
        return 1;
    }
    printf("tinymlp bench: each configuration trains twice from the same seed, on 1 thread and on\n"
           "thr = T threads (the team tinymlp train chooses), one epoch of each per round, after a\n"
           "warm-up round; medians over the measured epochs. Floors: the same GEMMs alone, timed\n"
           "right after each epoch: '1thr fl' whole products through OpenBLAS on one thread; 'best\n"
           "fl' the fastest of that, OpenBLAS on 2 threads and a team of 2 splitting the products\n"
           "(after T-thread epochs only). ratio = epoch / floor, /1thr = T-thread epoch / one-thread\n"
           "epoch of the same round: medians of the epoch-by-epoch ratios. test acc: 1 thread, seed\n"
           "1; T threads, the mean over n seeds. cols: the share of input columns the first layer\n"
           "multiplied in training (the rest were zero in the whole batch and skipped; the floors\n"
           "multiply them all). allocs/st: heap allocations per training step.\n\n");
    cpu_info cpu = cpu_read();
    cpu_print(&cpu);
    print_header();
    floor_team = tmlp_team_new(2, NULL);
    tmlp_team_set_trials(floor_team, 0); /* the floor is the team's products, never the caller's alone */
    cJSON *root = cJSON_CreateObject(), *runs = cJSON_CreateArray();
    cJSON_AddNumberToObject(root, "threads", torch_threads);
    cJSON_AddItemToObject(root, "cpu", cpu_json(&cpu));
    cJSON_AddItemToObject(root, "tinymlp", runs);
    targets tg = { .a_one_floor = NAN, .a_one_cut = NAN, .a_one_free_s = NAN, .a_multi_one = NAN, .a_busy = NAN,
                    .a_busy_free = NAN, .b_best_floor = NAN, .allocs_step = NAN,
                    .cpus = (int)cpus };
    for (int i = 0; i < N_CONFIGS; i++)
        if ((!only || !strcmp(only, configs[i].name)) && run(&configs[i], train, test, runs, &tg))
            return 1;
    if (busy_on && (only && strcmp(only, "A")))
        printf("\n--busy measures A, which --only left out.\n");
    else if (busy_on && busy(&configs[0], train, test, root, &tg))
        return 1;
    if (profile) {
        printf("\nwhere one epoch's time goes (seconds, T threads as above):\n"
               "%-8s %9s %9s %7s %9s %7s %9s %7s %9s %7s\n", "config", "epoch", "GEMM",
               "", "elemwise", "", "optim", "", "data", "");
        cJSON *prof = cJSON_CreateArray();
        cJSON_AddItemToObject(root, "profile", prof);
        for (int i = 0; i < N_CONFIGS; i++) {
            if (strcmp(configs[i].data, "mnist") || configs[i].batch == 1 ||
                (only && strcmp(only, configs[i].name)))
                continue;
            if (profile_epoch(&configs[i], train, prof))
                return 1;
        }
    }
    cJSON *summary = cJSON_CreateArray();
    cJSON_AddItemToObject(root, "summary", summary);
    targets_report(&tg, summary);
    char *text = cJSON_Print(root);
    if (!text || write_whole(json_path, text, strlen(text)))
        return 1;
    free(text);
    cJSON_Delete(root);
    tmlp_data_free(train);
    tmlp_data_free(test);
    tmlp_team_free(floor_team);
    return 0;
}
