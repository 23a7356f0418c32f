/* test_dist.c: data-parallel training (reduce.h) simulated in one process: N threads are the
 * ranks, each with its own copy of the net and optimizer, and a barrier-based reducer sums
 * their blocks. The weights they train must equal one process's to float rounding. */
#include <pthread.h>

#include "testutil.h"

/* ---- a reducer over threads: every rank publishes its block, then each adds all of them
 * up in rank order (so every rank gets the same bits) before anyone overwrites its own ---- */

typedef struct group {
    int size;
    pthread_barrier_t bar;
    void *buf[4];
    long calls[4];
} group;

typedef struct member {
    group *g;
    int rank;
} member;

static int thread_sum(void *ctx, void *buf, size_t n, int type)
{
    member *m = ctx;
    group *g = m->g;
    size_t es = type == TMLP_REDUCE_DOUBLE ? sizeof(double) : sizeof(float);
    void *tmp = malloc(n > 0 ? n * es : 1);
    ck_assert_ptr_nonnull(tmp);
    g->buf[m->rank] = buf;
    g->calls[m->rank]++;
    pthread_barrier_wait(&g->bar);
    for (size_t k = 0; k < n; k++) {
        if (type == TMLP_REDUCE_DOUBLE) {
            double s = 0.0;
            for (int r = 0; r < g->size; r++)
                s += ((const double *)g->buf[r])[k];
            ((double *)tmp)[k] = s;
        } else {
            float s = 0.0f;
            for (int r = 0; r < g->size; r++)
                s += ((const float *)g->buf[r])[k];
            ((float *)tmp)[k] = s;
        }
    }
    pthread_barrier_wait(&g->bar);
    memcpy(buf, tmp, n * es);
    free(tmp);
    return 0;
}

/* ---- one training run, on one process (red NULL) or as one rank ---- */

typedef struct run_cfg {
    const char *layers;
    int opt, epochs, batch, sched, early_stop, on_nan, with_val;
    float lr, l1, l2, clip_norm;
} run_cfg;

typedef struct run_out {
    float *params, *state;   /* copies, owned */
    size_t n_params, n_state;
    int rc;
    long skipped;
    int epochs_run;
    double last_val_loss;
    char msg[TMLP_ERR_MSG];
} run_out;

typedef struct rank_job {
    const run_cfg *c;
    const tmlp_data *train, *val;
    const tmlp_reducer *red;
    run_out out;
} rank_job;

static int count_epoch(void *ctx, const tmlp_epoch_info *e)
{
    run_out *o = ctx;
    o->epochs_run = e->epoch;
    o->last_val_loss = e->val_loss;
    return 0;
}

static void train_one(rank_job *j)
{
    const run_cfg *c = j->c;
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, j->train->n_in, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, c->layers, &err), TMLP_OK);
    tmlp_net_spec_add(&spec, 3, NULL, 0.0f, &err);
    for (int i = 0; i < spec.n_layers; i++) {
        spec.layer[i].l1 = c->l1;
        spec.layer[i].l2 = c->l2;
    }
    tmlp_net *net = tmlp_net_new(&spec, c->batch, &err);
    ck_assert_ptr_nonnull(net);
    tmlp_rng r;
    tmlp_rng_seed(&r, 7, 1);
    tmlp_net_init(net, &r, &err);
    tmlp_optim_cfg oc = tmlp_optim_defaults(c->opt);
    oc.lr = c->lr;
    size_t np, ns;
    tmlp_net_params(net, &np);
    tmlp_net_state(net, &ns);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    tmlp_schedule sc = tmlp_schedule_defaults(c->sched, c->lr);
    if (c->sched == TMLP_SCHED_PLATEAU)
        sc.patience = 1;
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = c->epochs;
    tc.batch = c->batch;
    tc.seed = 11;
    tc.schedule = &sc;
    tc.clip_norm = c->clip_norm;
    tc.early_stop = c->early_stop;
    tc.on_nan = c->on_nan;
    tc.reducer = j->red;
    tmlp_train_state st = { 0 };
    tc.state = &st;
    tmlp_observer obs = { NULL, count_epoch, &j->out };
    j->out.rc = tmlp_train(net, opt, j->train, c->with_val ? j->val : NULL, &tc, &obs, &err);
    memcpy(j->out.msg, err.msg, sizeof err.msg);
    j->out.skipped = st.skipped;
    tmlp_train_state_free(&st);
    j->out.n_params = np;
    j->out.n_state = ns;
    j->out.params = malloc(np * sizeof(float));
    j->out.state = malloc((ns ? ns : 1) * sizeof(float));
    memcpy(j->out.params, tmlp_net_params(net, NULL), np * sizeof(float));
    memcpy(j->out.state, tmlp_net_state(net, NULL), ns * sizeof(float));
    tmlp_optim_free(opt);
    tmlp_net_free(net);
}

static void *rank_main(void *arg)
{
    train_one(arg);
    return NULL;
}

/* Three blobs in 8 dimensions; n rows; a NaN in row nan_row (-1: none). */
static tmlp_data *blobs(int n, uint64_t seed, int nan_row)
{
    tmlp_data *d = tmlp_data_new(n, 8, 3, 0, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 3);
    for (int i = 0; i < n; i++) {
        int cls = (int)tmlp_rng_below(&r, 3);
        d->label[i] = cls;
        for (int k = 0; k < 8; k++)
            d->x[(size_t)i * 8 + k] = tmlp_rng_normal(&r) + (k % 3 == cls ? 1.5f : 0.0f);
    }
    if (nan_row >= 0)
        d->x[(size_t)nan_row * 8 + 3] = NAN;
    return d;
}

/* How far a is from the reference b: max |a - b| / max |b| (the difference relative to the
 * block's largest value, in the infinity norm), and into *loose the number of elements that
 * fail numpy.allclose(a, b, rtol=1e-5, atol=1e-6). */
static double max_rel(const float *a, const float *b, size_t n, size_t *loose)
{
    double worst = 0.0, scale = 0.0;
    *loose = 0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)a[k] - b[k]);
        worst = fmax(worst, d);
        scale = fmax(scale, fabs((double)b[k]));
        *loose += !(d <= 1e-6 + 1e-5 * fabs((double)b[k]));
    }
    return scale > 0.0 ? worst / scale : worst;
}

/* Trains c on one process, then on `size` ranks; checks every rank against one process.
 * Returns what one process's tmlp_train returned, with its skipped batches in *skipped. */
static int compare_ranks(const run_cfg *c, int n, int size, int nan_row, double tol,
                         long *skipped)
{
    tmlp_data *train = blobs(n, 5, nan_row), *val = blobs(61, 6, -1);
    rank_job one = { c, train, val, NULL, { 0 } };
    train_one(&one);

    group g = { .size = size };
    pthread_barrier_init(&g.bar, NULL, (unsigned)size);
    member m[4];
    tmlp_reducer red[4];
    rank_job job[4];
    pthread_t th[4];
    for (int r = 0; r < size; r++) {
        m[r] = (member){ &g, r };
        red[r] = (tmlp_reducer){ r, size, thread_sum, &m[r] };
        job[r] = (rank_job){ c, train, val, &red[r], { 0 } };
        ck_assert_int_eq(pthread_create(&th[r], NULL, rank_main, &job[r]), 0);
    }
    for (int r = 0; r < size; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&g.bar);

    for (int r = 0; r < size; r++) {
        run_out *o = &job[r].out;
        ck_assert_msg(o->rc == one.out.rc, "rank %d of %d: rc %d (%s), one process %d (%s)", r,
                      size, o->rc, o->msg, one.out.rc, one.out.msg);
        ck_assert_int_eq(o->skipped, one.out.skipped);
        ck_assert_int_eq(o->epochs_run, one.out.epochs_run);
        ck_assert_int_eq(g.calls[r], g.calls[0]);
        size_t lp, ls;
        double dp = max_rel(o->params, one.out.params, o->n_params, &lp);
        double ds = max_rel(o->state, one.out.state, o->n_state, &ls);
        ck_assert_msg(dp <= tol && ds <= tol && lp == 0 && ls == 0, "%s, rank %d of %d: max "
                      "relative difference %.3g in the parameters, %.3g in the BN statistics "
                      "(tol %g); %zu and %zu elements not allclose", c->layers, r, size, dp, ds,
                      tol, lp, ls);
        /* the ranks agree with each other bit for bit */
        ck_assert_int_eq(memcmp(o->params, job[0].out.params, o->n_params * sizeof(float)), 0);
        if (c->with_val)
            ck_assert_close(o->last_val_loss, one.out.last_val_loss, 1e-6);
    }
    for (int r = 0; r < size; r++) {
        free(job[r].out.params);
        free(job[r].out.state);
    }
    free(one.out.params);
    free(one.out.state);
    tmlp_data_free(train);
    tmlp_data_free(val);
    if (skipped)
        *skipped = one.out.skipped;
    return one.out.rc;
}

/* 200 rows in batches of 21 (odd; the last batch 11 rows): 10 steps an epoch, 20 epochs */
static const run_cfg sgd = { "16:relu,12:tanh", TMLP_OPT_SGD, 20, 21, TMLP_SCHED_CONSTANT, 0,
                             TMLP_ON_NAN_STOP, 0, 0.1f, 0.0f, 0.0f, 0.0f };

START_TEST(sgd_2_and_3_ranks_equal_one_process)
{
    ck_assert_int_eq(compare_ranks(&sgd, 200, 2, -1, 1e-5, NULL), TMLP_OK);
    ck_assert_int_eq(compare_ranks(&sgd, 200, 3, -1, 1e-5, NULL), TMLP_OK);
}
END_TEST

START_TEST(momentum_2_and_3_ranks_equal_one_process)
{
    run_cfg c = sgd;
    c.opt = TMLP_OPT_MOMENTUM;
    c.lr = 0.05f;
    ck_assert_int_eq(compare_ranks(&c, 200, 2, -1, 1e-5, NULL), TMLP_OK);
    ck_assert_int_eq(compare_ranks(&c, 200, 3, -1, 1e-5, NULL), TMLP_OK);
}
END_TEST

START_TEST(adam_2_and_3_ranks_equal_one_process)
{
    run_cfg c = sgd;
    c.opt = TMLP_OPT_ADAM;
    c.lr = 0.01f;
    c.sched = TMLP_SCHED_COSINE;
    ck_assert_int_eq(compare_ranks(&c, 200, 2, -1, 1e-5, NULL), TMLP_OK);
    ck_assert_int_eq(compare_ranks(&c, 200, 3, -1, 1e-5, NULL), TMLP_OK);
}
END_TEST

/* Every optimizer with every schedule (the step's learning rate is the same on every rank,
 * so each sees the one summed gradient), on 2 ranks. */
START_TEST(every_optimizer_and_schedule_on_2_ranks)
{
    static const float lr[TMLP_OPT_COUNT] = { 0.1f, 0.05f, 0.05f, 0.01f, 0.01f, 0.005f, 0.05f };
    for (int k = 0; k < TMLP_OPT_COUNT; k++) {
        run_cfg c = sgd;
        c.opt = k;
        c.lr = lr[k];
        c.sched = k % TMLP_SCHED_COUNT;
        c.with_val = 1; /* the plateau schedule reads the validation loss */
        ck_assert_int_eq(compare_ranks(&c, 200, 2, -1, 1e-5, NULL), TMLP_OK);
    }
}
END_TEST

/* Batch norm (global statistics) and dropout (the single process's masks), L1 and L2, clipping
 * by the global norm, validation metrics driving a plateau schedule and early stopping; 190
 * rows in batches of 21 leave a last batch of one row, so ranks 1 and 2 have empty shards. */
START_TEST(bn_dropout_l2_clip_2_and_3_ranks_equal_one_process)
{
    run_cfg c = { "16:relu:bn:drop0.2,12:tanh:bn:drop0.1", TMLP_OPT_MOMENTUM, 20, 21,
                  TMLP_SCHED_PLATEAU, 6, TMLP_ON_NAN_STOP, 1, 0.05f, 1e-4f, 1e-3f, 0.5f };
    ck_assert_int_eq(compare_ranks(&c, 190, 2, -1, 1e-5, NULL), TMLP_OK);
    ck_assert_int_eq(compare_ranks(&c, 190, 3, -1, 1e-5, NULL), TMLP_OK);
    ck_assert_int_eq(compare_ranks(&c, 200, 3, -1, 1e-5, NULL), TMLP_OK);
}
END_TEST

/* A NaN in one row is in one rank's shard: every rank skips that batch (or every rank stops),
 * as one process does. */
START_TEST(nan_on_one_rank_is_seen_by_all)
{
    run_cfg c = sgd;
    c.on_nan = TMLP_ON_NAN_SKIP;
    c.epochs = 3;
    long skipped = 0;
    ck_assert_int_eq(compare_ranks(&c, 200, 3, 150, 1e-5, &skipped), TMLP_OK);
    ck_assert_int_eq(skipped, 3); /* the NaN row's batch, once an epoch */
    c.on_nan = TMLP_ON_NAN_STOP;
    ck_assert_int_eq(compare_ranks(&c, 200, 3, 150, 1e-5, NULL), TMLP_ENUMERIC);
    ck_assert_int_eq(compare_ranks(&c, 200, 2, 3, 1e-5, NULL), TMLP_ENUMERIC);
}
END_TEST

START_TEST(shards_cover_the_batch_and_differ_by_at_most_one)
{
    for (int rows = 0; rows <= 40; rows++)
        for (int size = 1; size <= 7; size++) {
            int next = 0, lo = rows, hi = 0;
            for (int r = 0; r < size; r++) {
                int off, count;
                tmlp_reduce_shard(rows, r, size, &off, &count);
                ck_assert_int_eq(off, next);
                next += count;
                lo = count < lo ? count : lo;
                hi = count > hi ? count : hi;
            }
            ck_assert_int_eq(next, rows);
            ck_assert_int_le(hi - lo, 1);
        }
}
END_TEST

START_TEST(bad_shard_is_refused)
{
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_add(&spec, 3, NULL, 0.0f, &err);
    tmlp_net *net = tmlp_net_new(&spec, 4, &err);
    tmlp_reducer red = { 2, 2, thread_sum, NULL };
    ck_assert_int_eq(tmlp_net_set_shard(net, &red, 0, 4, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "rank 2 of 2"));
    red.rank = 1;
    ck_assert_int_eq(tmlp_net_set_shard(net, &red, 5, 4, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_net_set_shard(net, &red, 2, 4, &err), TMLP_OK);
    /* without a shard, an empty batch is still refused */
    ck_assert_int_eq(tmlp_net_set_shard(net, NULL, 0, 0, &err), TMLP_OK);
    float x[2] = { 0 };
    tmlp_net_set_mode(net, TMLP_MODE_TRAIN);
    ck_assert_ptr_null(tmlp_net_forward(net, x, 0, &err));
    tmlp_net_free(net);
}
END_TEST

static Suite *suite(void)
{
    tmlp_blas_threads(1); /* the ranks are threads: one BLAS thread each */
    Suite *s = suite_create("dist");
    TMLP_ADD(s, shards_cover_the_batch_and_differ_by_at_most_one);
    TMLP_ADD(s, bad_shard_is_refused);
    TMLP_ADD(s, sgd_2_and_3_ranks_equal_one_process);
    TMLP_ADD(s, momentum_2_and_3_ranks_equal_one_process);
    TMLP_ADD(s, adam_2_and_3_ranks_equal_one_process);
    TMLP_ADD(s, every_optimizer_and_schedule_on_2_ranks);
    TMLP_ADD(s, bn_dropout_l2_clip_2_and_3_ranks_equal_one_process);
    TMLP_ADD(s, nan_on_one_rank_is_seen_by_all);
    return s;
}

TMLP_TEST_MAIN()
