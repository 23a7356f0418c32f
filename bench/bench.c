/* bench.c: tinymlp's training speed against the GEMM-bound floor and against PyTorch.
 *
 * For each configuration it trains on real MNIST (or XOR) and reports, in one run on one
 * machine: seconds per epoch (median of the measured epochs after one warm-up epoch), the
 * floor (the same GEMMs a training epoch performs, timed alone on the same shapes right after
 * each epoch), their ratio (the median of the epoch-by-epoch ratios), test accuracy, peak
 * resident memory and heap allocations per training step.
 * bench/torch_ref.py runs the same configurations in PyTorch; `make bench` runs both and
 * prints the ratios. This machine is shared and noisy: read ratios, not absolute seconds.
 *
 * Threads: by default each configuration trains with the team `tinymlp train` would choose
 * for it (tmlp_train_threads_auto), OpenBLAS on one thread; --threads N forces a team of N.
 * The floor is the fastest of three ways to run its GEMMs: OpenBLAS on one thread, OpenBLAS on
 * two threads of its own, and split between a team of two (tmlp_gemm_team).
 *
 *   build/bench/bench [--quick] [--threads N] [--only CONFIG] [--profile] [--json FILE]
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

static double now(void);

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
static double gemm_seconds;
static int force_threads; /* 0: as tmlp_train_threads_auto chooses */
static tmlp_team *floor_team; /* the floor's split GEMMs: a team of two */

/* The team a run of net at this batch uses (see the top of the file), given to net and opt;
 * NULL for one thread. */
static tmlp_team *make_team(tmlp_net *net, tmlp_optim *opt, int batch, int *threads)
{
    tmlp_team *team = tmlp_train_team(net, opt, batch, force_threads, NULL);
    *threads = tmlp_team_threads(team);
    return team;
}

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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct config {
    const char *name, *data, *layers; /* hidden layers; output follows from the data */
    int batch, epochs;                 /* epochs measured after the warm-up epoch */
    int subset;                        /* train on the first `subset` rows (0: all) */
    int seeds;                         /* test accuracy: the mean over seeds 1..seeds */
} config;

enum { MAX_EPOCHS = 4096 };

typedef struct epoch_log {
    double seconds[MAX_EPOCHS];
    double floor[MAX_EPOCHS];    /* the floor measured right after each epoch */
    int floor_way[MAX_EPOCHS];   /* which way of running the GEMMs was fastest (FLOOR_*) */
    double floor_blas[MAX_EPOCHS]; /* the faster of the two OpenBLAS ways: whole products */
    int n;
    long allocs_epoch2;          /* allocations counted when epoch 2's first batch ran */
    long floor_allocs;           /* ...and those the floor measurements made since */
    double cols_used;            /* input columns the first layer multiplied, summed over batches */
    long batches;
    const tmlp_net_spec *spec;   /* what the floor is measured for */
    int rows, batch;
} epoch_log;

/* The ways the floor runs its GEMMs, fastest kept */
enum { FLOOR_BLAS1, FLOOR_BLAS2, FLOOR_TEAM2, FLOOR_WAYS };
static const char *const floor_way_name[FLOOR_WAYS] = { "openblas-1", "openblas-2", "team-2" };

static double gemm_floor(const tmlp_net_spec *spec, int n, int batch, tmlp_team *team);

/* After each epoch (outside its timed part), the floor on the same shapes, each way, keeping
 * the fastest: measured next to the epoch it is compared with, so that the ratio does not
 * drift with whatever else the machine is doing over the run. */
static int on_epoch(void *ctx, const tmlp_epoch_info *e)
{
    epoch_log *l = ctx;
    if (l->n >= MAX_EPOCHS)
        return 0;
    long a0 = n_allocs;
    double best = INFINITY, blas2 = 0.0, best_blas = INFINITY;
    int best_way = FLOOR_BLAS1;
    for (int way = 0; way < FLOOR_WAYS; way++) {
        tmlp_blas_threads(way == FLOOR_BLAS2 ? 2 : 1);
        double f = gemm_floor(l->spec, l->rows, l->batch, way == FLOOR_TEAM2 ? floor_team : NULL);
        if (way == FLOOR_BLAS2)
            blas2 = f;
        if (way != FLOOR_TEAM2 && f < best_blas)
            best_blas = f;
        if (f < best) {
            best = f;
            best_way = way;
        }
    }
    tmlp_blas_threads(1);
    /* OpenBLAS's own threads spin (sched_yield) for about 0.1 s after a call before they
     * sleep: let them, so that they take nothing from the next epoch. (A floor of
     * microseconds hands OpenBLAS nothing big enough to thread: no wait then.) */
    double rest = blas2 > 0.0625 ? 0.25 : 4.0 * blas2;
    nanosleep(&(struct timespec){ 0, (long)(rest * 1e9) }, NULL);
    if (e->epoch >= 2)
        l->floor_allocs += n_allocs - a0;
    l->floor[l->n] = best;
    l->floor_way[l->n] = best_way;
    l->floor_blas[l->n] = best_blas;
    l->seconds[l->n++] = e->seconds;
    return 0;
}

static int on_batch(void *ctx, const tmlp_batch_info *b)
{
    epoch_log *l = ctx;
    if (b->batch == 1 && b->epoch == 2)
        l->allocs_epoch2 = n_allocs;
    l->cols_used += tmlp_net_input_cols_used(b->net);
    l->batches++;
    return 0;
}

/* The GEMMs of one training epoch of net on n rows, timed alone: forward Z = X·Wᵀ for every
 * layer, dW = dZᵀ·X for every layer, dX = dZ·W for every layer but the first. Each layer has
 * its own matrices, as in the net (a single shared set would sit in cache and flatter the
 * floor); a layer's Z is the next layer's X, and dX lands in the layer below's dZ. */
static double gemm_floor(const tmlp_net_spec *spec, int n, int batch, tmlp_team *team)
{
    enum { MAX_LAYERS = 64 };
    const int nl = spec->n_layers < MAX_LAYERS ? spec->n_layers : MAX_LAYERS;
    float *w[MAX_LAYERS], *dw[MAX_LAYERS], *z[MAX_LAYERS], *dz[MAX_LAYERS];
    float *x0 = calloc((size_t)batch * spec->n_in, sizeof *x0);
    int ok = x0 != NULL;
    for (int i = 0, n_in = spec->n_in; i < nl; n_in = spec->layer[i++].units) {
        size_t nw = (size_t)spec->layer[i].units * n_in, nz = (size_t)batch * spec->layer[i].units;
        w[i] = malloc(nw * sizeof **w);
        dw[i] = malloc(nw * sizeof **dw);
        z[i] = calloc(nz, sizeof **z);
        dz[i] = malloc(nz * sizeof **dz);
        ok = ok && w[i] && dw[i] && z[i] && dz[i];
        for (size_t k = 0; w[i] && k < nw; k++)
            w[i][k] = 0.001f * (float)(k % 89) - 0.04f;
        for (size_t k = 0; dz[i] && k < nz; k++)
            dz[i][k] = 0.01f * (float)(k % 97) - 0.5f;
    }
    for (size_t k = 0; x0 && k < (size_t)batch * spec->n_in; k++)
        x0[k] = 0.01f * (float)(k % 101);
    int steps = (n + batch - 1) / batch;
    double t0 = now();
    if (ok) {
        for (int s = 0; s < steps; s++) {
            int rows = s == steps - 1 && n % batch ? n % batch : batch;
            for (int i = 0, n_in = spec->n_in; i < nl; n_in = spec->layer[i++].units) {
                int n_out = spec->layer[i].units;
                tmlp_mat X = tmlp_mat_view(i ? z[i - 1] : x0, rows, n_in);
                tmlp_gemm_team(team, TMLP_SPLIT_COLS, TMLP_NOTRANS, TMLP_TRANS, 1.0f, X,
                               tmlp_mat_view(w[i], n_out, n_in), 1.0f,
                               tmlp_mat_view(z[i], rows, n_out));
            }
            for (int i = nl - 1; i >= 0; i--) {
                int n_out = spec->layer[i].units, n_in = i ? spec->layer[i - 1].units : spec->n_in;
                tmlp_mat X = tmlp_mat_view(i ? z[i - 1] : x0, rows, n_in);
                tmlp_mat dZ = tmlp_mat_view(dz[i], rows, n_out);
                tmlp_gemm_team(team, TMLP_SPLIT_ROWS, TMLP_TRANS, TMLP_NOTRANS, 1.0f, dZ, X, 0.0f,
                               tmlp_mat_view(dw[i], n_out, n_in));
                if (i > 0)
                    tmlp_gemm_team(team, TMLP_SPLIT_COLS, TMLP_NOTRANS, TMLP_NOTRANS, 1.0f, dZ,
                                   tmlp_mat_view(w[i], n_out, n_in), 0.0f,
                                   tmlp_mat_view(dz[i - 1], rows, n_in));
            }
        }
    }
    double t = ok ? now() - t0 : INFINITY;
    for (int i = 0; i < nl; i++) {
        free(w[i]); free(dw[i]); free(z[i]); free(dz[i]);
    }
    free(x0);
    return t;
}

/* --profile: one epoch of the same steps tmlp_train takes (shuffle and gather, forward, loss,
 * backward, optimizer), each phase timed on its own, GEMMs separated from the elementwise work
 * around them by the tmlp_gemm_team wrapper. Its total is printed, not checked, beside
 * tmlp_train's own epoch in the table above it; on a noisy machine the two can differ by a
 * third. */
typedef struct phases {
    double data, fwd, fwd_gemm, loss, bwd, bwd_gemm, optim;
} phases;

static int profile_epoch(const config *c, const tmlp_data *train, phases *ph, cJSON *out)
{
    tmlp_err err = { 0 };
    int n = c->subset && c->subset < train->n ? c->subset : train->n, b = c->batch;
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, train->n_in, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, c->layers, &err);
    tmlp_net_spec_add(&spec, train->n_classes, NULL, 0.0f, &err);
    tmlp_net *net = tmlp_net_new(&spec, b, &err);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 1, 1);
    tmlp_net_init(net, &rng, &err);
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    size_t np;
    float *params = tmlp_net_params(net, &np), *grads = tmlp_net_grads(net, NULL);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    int threads;
    tmlp_team *team = make_team(net, opt, b, &threads);
    int n_out = train->n_classes, *idx = malloc((size_t)n * sizeof *idx), *lb = malloc((size_t)b * sizeof *lb);
    float *xb = malloc((size_t)b * train->n_in * sizeof *xb), *dz = malloc((size_t)b * n_out * sizeof *dz);
    if (!net || !opt || !idx || !lb || !xb || !dz) {
        fprintf(stderr, "bench: profile %s: %s\n", c->name, err.msg[0] ? err.msg : "no memory");
        return 1;
    }
    for (int epoch = 0; epoch < 2; epoch++) { /* the first warms caches and page tables */
        memset(ph, 0, sizeof *ph);
        double t = now();
        for (int i = 0; i < n; i++)
            idx[i] = i;
        tmlp_rng_shuffle(&rng, idx, n);
        ph->data += now() - t;
        for (int start = 0; start < n; start += b) {
            int rows = n - start < b ? n - start : b;
            double t0 = now();
            for (int i = 0; i < rows; i++) {
                int j = idx[start + i];
                memcpy(xb + (size_t)i * train->n_in, train->x + (size_t)j * train->n_in,
                       (size_t)train->n_in * sizeof *xb);
                lb[i] = train->label[j];
            }
            double t1 = now(), g0 = gemm_seconds;
            const float *z = tmlp_net_forward(net, xb, rows, &err);
            double t2 = now(), g1 = gemm_seconds;
            double loss;
            tmlp_targets tg = { lb, NULL };
            tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, rows, n_out, tg, &loss, dz, &err);
            double t3 = now();
            tmlp_net_backward(net, dz, rows, &err);
            double t4 = now(), g2 = gemm_seconds;
            tmlp_optim_step(opt, params, grads);
            double t5 = now();
            ph->data += t1 - t0;
            ph->fwd += t2 - t1;
            ph->fwd_gemm += g1 - g0;
            ph->loss += t3 - t2;
            ph->bwd += t4 - t3;
            ph->bwd_gemm += g2 - g1;
            ph->optim += t5 - t4;
        }
    }
    double total = ph->data + ph->fwd + ph->loss + ph->bwd + ph->optim;
    double gemm = ph->fwd_gemm + ph->bwd_gemm, elem = ph->fwd + ph->bwd - gemm + ph->loss;
    printf("%-8s %9.3f %9.3f %6.1f%% %9.3f %6.1f%% %9.3f %6.1f%% %9.3f %6.1f%%\n", c->name, total,
           gemm, 100 * gemm / total, elem, 100 * elem / total, ph->optim, 100 * ph->optim / total,
           ph->data, 100 * ph->data / total);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "config", c->name);
    cJSON_AddNumberToObject(j, "epoch_seconds", total);
    cJSON_AddNumberToObject(j, "gemm_seconds", gemm);
    cJSON_AddNumberToObject(j, "gemm_forward_seconds", ph->fwd_gemm);
    cJSON_AddNumberToObject(j, "gemm_backward_seconds", ph->bwd_gemm);
    cJSON_AddNumberToObject(j, "elementwise_seconds", elem);
    cJSON_AddNumberToObject(j, "loss_seconds", ph->loss);
    cJSON_AddNumberToObject(j, "optimizer_seconds", ph->optim);
    cJSON_AddNumberToObject(j, "data_seconds", ph->data);
    cJSON_AddItemToArray(out, j);
    free(idx); free(lb); free(xb); free(dz);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_team_free(team);
    return 0;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* Runs one configuration; adds its figures to out. */
static int run(const config *c, tmlp_data *mtrain, tmlp_data *mtest, cJSON *out)
{
    tmlp_err err = { 0 };
    tmlp_data *train, *test;
    tmlp_data *own = NULL;
    if (!strcmp(c->data, "xor")) {
        own = tmlp_data_xor(&err);
        train = test = own;
    } else {
        train = mtrain;
        test = mtest;
    }
    int n = c->subset && c->subset < train->n ? c->subset : train->n;
    int saved_n = train->n;
    train->n = n; /* the first n rows */
    int xor = own != NULL;
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, train->n_in, xor ? TMLP_LOSS_SIGMOID_BCE : TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, c->layers, &err);
    tmlp_net_spec_add(&spec, xor ? 1 : train->n_classes, NULL, 0.0f, &err);
    tmlp_net *net = tmlp_net_new(&spec, c->batch, &err);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 1, 1);
    tmlp_net_init(net, &rng, &err);
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    if (xor)
        oc.lr = 0.05f;
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    int threads;
    tmlp_team *team = make_team(net, opt, c->batch, &threads);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = c->batch;
    tc.epochs = 1 + c->epochs;
    tc.seed = 1;
    static epoch_log log;
    memset(&log, 0, sizeof log);
    log.spec = &spec;
    log.rows = n;
    log.batch = c->batch;
    tmlp_observer obs = { on_batch, on_epoch, &log };
    long allocs_before = n_allocs;
    double t0 = now();
    if (tmlp_train(net, opt, train, NULL, &tc, &obs, &err)) {
        fprintf(stderr, "bench: %s: %s\n", c->name, err.msg);
        return 1;
    }
    double wall = now() - t0;
    long allocs_train = n_allocs - allocs_before;
    /* every step after the first epoch: from epoch 2's first batch to the end of training */
    long step_allocs = n_allocs - log.allocs_epoch2 - log.floor_allocs;
    int steps_per_epoch = (n + c->batch - 1) / c->batch;
    double per_step = (double)step_allocs / ((double)(tc.epochs - 1) * steps_per_epoch);
    /* medians over the measured epochs (the first is the warm-up): of the epoch, of the floor
     * measured after it, and of their ratio, epoch by epoch */
    static double measured[MAX_EPOCHS], floors[MAX_EPOCHS], ratios[MAX_EPOCHS];
    static double floors_blas[MAX_EPOCHS], ratios_blas[MAX_EPOCHS];
    int ways[FLOOR_WAYS] = { 0 };
    for (int i = 0; i < c->epochs; i++) {
        measured[i] = log.seconds[1 + i];
        floors[i] = log.floor[1 + i];
        ratios[i] = log.seconds[1 + i] / log.floor[1 + i];
        floors_blas[i] = log.floor_blas[1 + i];
        ratios_blas[i] = log.seconds[1 + i] / log.floor_blas[1 + i];
        ways[log.floor_way[1 + i]]++;
    }
    double epoch_s = median(measured, c->epochs), floor_s = median(floors, c->epochs);
    double floor_blas_s = median(floors_blas, c->epochs), ratio_blas = median(ratios_blas, c->epochs);
    double ratio = median(ratios, c->epochs);
    int floor_way = 0; /* the way fastest most often */
    for (int w = 1; w < FLOOR_WAYS; w++)
        floor_way = ways[w] > ways[floor_way] ? w : floor_way;
    double acc;
    double te0 = now();
    tmlp_evaluate(net, test, NULL, &acc, &err);
    double eval_s = now() - te0;
    /* One seed's accuracy is noise of a few tenths of a percent; the same run from other
     * seeds (weights and batch order), untimed, gives the mean the comparison uses. */
    enum { MAX_SEEDS = 32 };
    double accs[MAX_SEEDS] = { acc }, acc_sum = acc;
    int n_acc = 1;
    for (int sd = 2; sd <= c->seeds && sd <= MAX_SEEDS; sd++, n_acc++) {
        tmlp_net *net2 = tmlp_net_new(&spec, c->batch, &err);
        tmlp_optim *opt2 = tmlp_optim_new(&oc, np, &err);
        tmlp_rng rng2;
        tmlp_rng_seed(&rng2, (uint64_t)sd, 1);
        tmlp_train_cfg tc2 = tc;
        tc2.seed = (uint64_t)sd;
        if (net2 && opt2) {
            tmlp_net_set_team(net2, team);
            tmlp_optim_set_team(opt2, team);
        }
        if (!net2 || !opt2 || tmlp_net_init(net2, &rng2, &err) ||
            tmlp_train(net2, opt2, train, NULL, &tc2, NULL, &err) ||
            tmlp_evaluate(net2, test, NULL, &accs[n_acc], &err)) {
            fprintf(stderr, "bench: %s, seed %d: %s\n", c->name, sd, err.msg);
            return 1;
        }
        acc_sum += accs[n_acc];
        tmlp_optim_free(opt2);
        tmlp_net_free(net2);
    }
    acc = acc_sum / n_acc;
    double acc_var = 0.0; /* the standard error of that mean */
    for (int k = 0; k < n_acc; k++)
        acc_var += (accs[k] - acc) * (accs[k] - acc);
    double acc_se = n_acc > 1 ? sqrt(acc_var / (n_acc - 1) / n_acc) : 0.0;
    double cols = log.batches ? log.cols_used / (double)log.batches : train->n_in;
    /* batch-1 prediction latency: median over 1000 rows */
    double lat[1000];
    float probs[16];
    for (int i = 0; i < 1000; i++) {
        double a = now();
        tmlp_net_predict(net, test->x + (size_t)(i % test->n) * test->n_in, 1, probs, &err);
        lat[i] = now() - a;
    }
    double latency_us = 1e6 * median(lat, 1000);

    printf("%-8s %-20s %5d %3d %8.3f %8.3f %6.2fx %8.3f %6.2fx %7.2f%% %2d %4.0f%% %6ld %8.2f %8.1f\n",
           c->name, c->layers, c->batch, threads, epoch_s, floor_blas_s, ratio_blas, floor_s, ratio,
           100.0 * acc, n_acc, 100.0 * cols / train->n_in, peak_rss_mb(), per_step, latency_us);
    fflush(stdout);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "config", c->name);
    cJSON_AddStringToObject(j, "data", c->data);
    cJSON_AddStringToObject(j, "layers", c->layers);
    cJSON_AddNumberToObject(j, "batch", c->batch);
    cJSON_AddNumberToObject(j, "team_threads", threads);
    cJSON_AddStringToObject(j, "floor_gemms_run_by", floor_way_name[floor_way]);
    cJSON_AddNumberToObject(j, "train_rows", n);
    cJSON_AddNumberToObject(j, "epochs_measured", c->epochs);
    cJSON_AddNumberToObject(j, "epoch_seconds", epoch_s);
    cJSON_AddItemToObject(j, "epoch_seconds_all", cJSON_CreateDoubleArray(log.seconds, log.n));
    cJSON_AddNumberToObject(j, "gemm_floor_seconds", floor_s);
    cJSON_AddNumberToObject(j, "ratio_to_floor", ratio);
    cJSON_AddNumberToObject(j, "openblas_floor_seconds", floor_blas_s);
    cJSON_AddNumberToObject(j, "ratio_to_openblas_floor", ratio_blas);
    cJSON_AddItemToObject(j, "gemm_floor_seconds_all", cJSON_CreateDoubleArray(log.floor, log.n));
    cJSON_AddNumberToObject(j, "test_accuracy", acc);
    cJSON_AddItemToObject(j, "test_accuracy_seeds", cJSON_CreateDoubleArray(accs, n_acc));
    cJSON_AddNumberToObject(j, "test_accuracy_stderr", acc_se);
    cJSON_AddNumberToObject(j, "input_cols_used_mean", cols);
    cJSON_AddNumberToObject(j, "n_in", train->n_in);
    cJSON_AddNumberToObject(j, "epochs_trained", tc.epochs);
    cJSON_AddNumberToObject(j, "peak_rss_mb", (double)peak_rss_mb());
    cJSON_AddNumberToObject(j, "allocs_per_step", per_step);
    cJSON_AddNumberToObject(j, "allocs_per_run", (double)allocs_train);
    cJSON_AddNumberToObject(j, "eval_seconds", eval_s);
    cJSON_AddNumberToObject(j, "predict_latency_us", latency_us);
    cJSON_AddNumberToObject(j, "wall_seconds", wall);
    cJSON_AddItemToArray(out, j);
    train->n = saved_n;
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_team_free(team);
    tmlp_data_free(own);
    return 0;
}

/* Writes n bytes to path whole (a temporary file, then renamed: a reader never sees half a
 * file); 1 and a message on failure. */
static int write_whole(const char *path, const void *data, size_t n)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fflush(f) || fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "bench: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* --replay INIT STEPS OUT: Config A's net starts from the parameters in INIT (raw float32, in
 * the net's block order, which is PyTorch's parameters() order for these layers), takes STEPS
 * Adam steps on MNIST's first 32·STEPS training rows in order, 32 at a time, and writes its
 * parameters to OUT. bench/torch_ref.py does the same in PyTorch and compares the two: the
 * same model on the same batches must end with the same weights, to float rounding. */
static int replay(const char *init_path, int steps, const char *out_path)
{
    tmlp_err err = { 0 };
    tmlp_data *train = NULL, *test = NULL;
    if (tmlp_idx_load_folder("data/mnist", &train, &test, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, train->n_in, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "128:relu,64:tanh", &err);
    tmlp_net_spec_add(&spec, train->n_classes, NULL, 0.0f, &err);
    tmlp_net *net = tmlp_net_new(&spec, 32, &err);
    size_t np;
    float *params = tmlp_net_params(net, &np), *grads = tmlp_net_grads(net, NULL);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    FILE *f = fopen(init_path, "rb");
    size_t got = f ? fread(params, sizeof *params, np, f) : 0;
    if (f)
        fclose(f);
    if (got != np || steps < 1 || (size_t)steps * 32 > (size_t)train->n) {
        fprintf(stderr, "bench: replay: %s holds %zu of %zu parameters, or %d steps is too many\n",
                init_path, got, np, steps);
        return 1;
    }
    float dz[32 * 10];
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    for (int k = 0; k < steps; k++) {
        const float *z = tmlp_net_forward(net, train->x + (size_t)k * 32 * train->n_in, 32, &err);
        double loss;
        tmlp_targets t = { train->label + (size_t)k * 32, NULL };
        if (!z || tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, 32, 10, t, &loss, dz, &err) ||
            tmlp_net_backward(net, dz, 32, &err) || !tmlp_optim_step(opt, params, grads)) {
            fprintf(stderr, "bench: replay step %d: %s\n", k + 1, err.msg);
            return 1;
        }
    }
    if (write_whole(out_path, params, np * sizeof *params))
        return 1;
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(train);
    tmlp_data_free(test);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--replay"))
        return replay(argv[2], atoi(argv[3]), argv[4]);
    int quick = 0, profile = 0;
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
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: bench [--quick] [--threads N] [--only CONFIG] [--profile] [--json FILE]\n"
                            "       bench --replay INIT STEPS OUT\n");
            return 2;
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* PyTorch (bench/torch_ref.py) runs with every CPU, its own default, or with --threads */
    int torch_threads = force_threads ? force_threads : cpus > 0 ? (int)cpus : 1;
    const config configs[] = {
        { "A", "mnist", "128:relu,64:tanh", 32, quick ? 1 : 3, 0, quick ? 1 : 20 },
        { "B", "mnist", "1024:relu,1024:relu", 256, quick ? 1 : 2, quick ? 10000 : 0, 1 },
        { "online", "mnist", "128:relu", 1, 1, quick ? 2000 : 10000, quick ? 1 : 10 },
        { "xor", "xor", "4:tanh", 4, quick ? 100 : 2000, 0, 1 },
    };
    tmlp_err err = { 0 };
    tmlp_data *train = NULL, *test = NULL;
    if (tmlp_idx_load_folder("data/mnist", &train, &test, &err)) {
        fprintf(stderr, "bench: %s (run make data)\n", err.msg);
        return 1;
    }
    printf("tinymlp bench: medians over the epochs after a warm-up epoch; thr = the team's threads.\n"
           "Floors: the same GEMMs alone, timed right after each epoch: 'oblas' runs each whole\n"
           "product through OpenBLAS (the faster of 1 and 2 threads); 'best' is the fastest of\n"
           "that and a team of 2 splitting them into blocks. ratio = epoch / floor, epoch by epoch.\n"
           "test acc: the mean over n seeds. cols: the share of input columns the first layer\n"
           "multiplied in training (the rest were zero in the whole batch and skipped; the floors\n"
           "multiply them all).\n\n");
    printf("%-8s %-20s %5s %3s %8s %8s %7s %8s %7s %8s %2s %5s %6s %8s %8s\n", "config", "hidden layers",
           "batch", "thr", "s/epoch", "oblas fl", "ratio", "best fl", "ratio", "test acc", "n", "cols",
           "RSS MB", "allocs/st", "pred us");
    floor_team = tmlp_team_new(2, NULL);
    cJSON *root = cJSON_CreateObject(), *runs = cJSON_CreateArray();
    cJSON_AddNumberToObject(root, "threads", torch_threads);
    cJSON_AddItemToObject(root, "tinymlp", runs);
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
        if ((!only || !strcmp(only, configs[i].name)) && run(&configs[i], train, test, runs))
            return 1;
    if (profile) {
        printf("\nwhere one epoch's time goes (seconds, threads as above):\n"
               "%-8s %9s %9s %7s %9s %7s %9s %7s %9s %7s\n", "config", "epoch", "GEMM",
               "", "elemwise", "", "optim", "", "data", "");
        cJSON *prof = cJSON_CreateArray();
        cJSON_AddItemToObject(root, "profile", prof);
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
            phases ph;
            if (strcmp(configs[i].data, "mnist") || configs[i].batch == 1 ||
                (only && strcmp(only, configs[i].name)))
                continue;
            if (profile_epoch(&configs[i], train, &ph, prof))
                return 1;
        }
    }
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
