/* test_train.c: the training loop end to end on XOR, reproducibility, and refusals. */
#include <unistd.h>

#include "testutil.h"

/* Trains a 2-4-1 net on XOR; returns 1 if all four outputs are right. */
static int xor_run(const char *hidden, int opt_kind, float lr, uint64_t seed, float *params_out)
{
    tmlp_err err = { 0 };
    tmlp_data *d = tmlp_data_xor(&err);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, hidden, &err), TMLP_OK);
    tmlp_net_spec_add(&spec, 1, NULL, 0.0f, &err);
    tmlp_net *net = tmlp_net_new(&spec, 4, &err);
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 1);
    tmlp_net_init(net, &r, &err);
    tmlp_optim_cfg oc = tmlp_optim_defaults(opt_kind);
    oc.lr = lr;
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = 2000;
    tc.batch = 4;
    tc.seed = seed;
    ck_assert_msg(tmlp_train(net, opt, d, NULL, &tc, NULL, &err) == TMLP_OK, "%s", err.msg);
    int cls[4], right = 0;
    tmlp_classify(net, d->x, 4, cls, &err);
    for (int i = 0; i < 4; i++)
        right += cls[i] == d->label[i];
    if (params_out)
        memcpy(params_out, tmlp_net_params(net, NULL), np * sizeof(float));
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
    return right == 4;
}

START_TEST(xor_tanh_adam_solves_95_of_100_seeds)
{
    int solved = 0;
    for (uint64_t seed = 1; seed <= 100; seed++)
        solved += xor_run("4:tanh", TMLP_OPT_ADAM, 0.05f, seed, NULL);
    ck_assert_msg(solved >= 95, "solved %d of 100", solved);
}
END_TEST

START_TEST(xor_sigmoid_momentum_solves_95_of_100_seeds)
{
    int solved = 0;
    for (uint64_t seed = 1; seed <= 100; seed++)
        solved += xor_run("4:sigmoid", TMLP_OPT_MOMENTUM, 0.5f, seed, NULL);
    ck_assert_msg(solved >= 95, "solved %d of 100", solved);
}
END_TEST

START_TEST(same_seed_gives_identical_weights)
{
    tmlp_blas_threads(1);
    float a[17], b[17], c[17];
    xor_run("4:tanh", TMLP_OPT_ADAM, 0.05f, 7, a);
    xor_run("4:tanh", TMLP_OPT_ADAM, 0.05f, 7, b);
    xor_run("4:tanh", TMLP_OPT_ADAM, 0.05f, 8, c);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
}
END_TEST

typedef struct { int epochs_seen, batches_seen, stop_after; } counter;

static int count_batch(void *ctx, const tmlp_batch_info *b)
{
    counter *c = ctx;
    c->batches_seen++;
    ck_assert(b->batch >= 1 && b->batch <= b->n_batches);
    ck_assert(isfinite(b->loss));
    return 0;
}

static int count_epoch(void *ctx, const tmlp_epoch_info *e)
{
    counter *c = ctx;
    c->epochs_seen++;
    ck_assert_int_eq(e->epoch, c->epochs_seen);
    ck_assert(!isnan(e->val_loss));
    return c->epochs_seen == c->stop_after;
}

/* A small separable problem: label = x0 > x1. */
static tmlp_data *two_blobs(int n)
{
    tmlp_data *d = tmlp_data_new(n, 2, 2, 0, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 3, 3);
    for (int i = 0; i < n; i++) {
        d->x[2 * i] = tmlp_rng_normal(&r);
        d->x[2 * i + 1] = tmlp_rng_normal(&r);
        d->label[i] = d->x[2 * i] > d->x[2 * i + 1];
    }
    return d;
}

START_TEST(observers_see_every_batch_and_can_stop_early)
{
    tmlp_data *d = two_blobs(100);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "8:relu,2", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 16, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 1);
    tmlp_net_init(net, &r, NULL);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    oc.lr = 0.01f;
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = 16;
    tc.epochs = 50;
    counter c = { 0, 0, 20 };
    tmlp_observer obs = { count_batch, count_epoch, &c };
    ck_assert_int_eq(tmlp_train(net, opt, d, d, &tc, &obs, NULL), TMLP_OK);
    ck_assert_int_eq(c.epochs_seen, 20);
    ck_assert_int_eq(c.batches_seen, 20 * 7); /* 100 rows in batches of 16: 6 full + 1 of 4 */
    ck_assert_int_eq(tmlp_optim_steps(opt), 20 * 7);
    double acc;
    tmlp_evaluate(net, d, NULL, &acc, NULL);
    ck_assert_msg(acc > 0.95, "accuracy %g", acc);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

START_TEST(bad_inputs_are_refused_with_a_reason)
{
    tmlp_data *d = two_blobs(10);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 3, TMLP_LOSS_SOFTMAX_CE); /* 3 inputs, data has 2 */
    tmlp_net_spec_parse(&spec, "4:tanh,2", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 8, NULL);
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL), *wrong = tmlp_optim_new(&oc, np + 1, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tmlp_err err;
    tc.batch = 8;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "2 inputs per sample, the net takes 3"));
    ck_assert_int_eq(tmlp_train(net, wrong, d, NULL, &tc, NULL, &err), TMLP_EINVAL);
    tc.batch = 9; /* larger than the net's max batch */
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_EINVAL);
    tc.batch = 8;
    tc.epochs = 0;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_EINVAL);
    tmlp_optim_free(opt);
    tmlp_optim_free(wrong);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

START_TEST(non_finite_loss_stops_training_naming_epoch_and_batch)
{
    tmlp_data *d = two_blobs(8);
    d->x[5] = NAN; /* row 2 */
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "4:tanh,2", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 8, NULL);
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = 8;
    tmlp_err err;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(err.msg, "epoch 1, batch 1"));
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

/* Counts epochs and keeps the last loss, for the divergence test. */
/* XOR's 2-4 tanh-1 net with a sigmoid output, initialised from seed 1. */
static tmlp_net *xor_tanh_net(void)
{
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "4:tanh,1", &err), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, 4, &err);
    ck_assert_ptr_nonnull(net);
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 1);
    ck_assert_int_eq(tmlp_net_init(net, &r, &err), TMLP_OK);
    return net;
}

static int diverge_epoch(void *ctx, const tmlp_epoch_info *e)
{
    double *seen = ctx;
    seen[0] = e->epoch;
    seen[1] = e->train_loss;
    return 0;
}

START_TEST(a_diverging_loss_stops_training_or_is_skipped)
{
    for (int policy = TMLP_ON_NAN_STOP; policy <= TMLP_ON_NAN_SKIP; policy++) {
        tmlp_err err = { 0 };
        tmlp_data *d = tmlp_data_xor(&err);
        tmlp_net *net = xor_tanh_net();
        size_t np;
        tmlp_net_params(net, &np);
        tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
        oc.lr = 1e38f; /* finite, but every step flings the weights far out */
        tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
        tmlp_train_cfg tc = tmlp_train_defaults();
        tc.epochs = 50;
        tc.batch = 4;
        tc.on_nan = policy;
        double seen[2] = { 0, 0 };
        tmlp_observer obs = { NULL, diverge_epoch, seen };
        ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, &obs, &err), TMLP_ENUMERIC);
        ck_assert_msg(strstr(err.msg, "epoch 2") &&
                      (policy != TMLP_ON_NAN_STOP || strstr(err.msg, "(layers.0.weight)")) &&
                      strstr(err.msg, policy == TMLP_ON_NAN_STOP ?
                      "training diverged; try a lower learning rate" : "diverged loss; try a "
                      "lower learning rate"), "%s", err.msg);
        ck_assert_int_eq((int)seen[0], 1); /* epoch 1 (one step from the start) was reported */
        ck_assert(seen[1] < 1.0);
        ck_assert(tmlp_optim_steps(opt) == 1); /* no step was taken on a diverged batch */
        tmlp_optim_free(opt);
        tmlp_net_free(net);
        tmlp_data_free(d);
    }
    /* a healthy run with a big but sane rate is not taken for divergence: xor_run fails the
     * test unless tmlp_train returns TMLP_OK */
    xor_run("4:tanh", TMLP_OPT_SGD, 5.0f, 3, NULL);
}
END_TEST

/* The divergence yardstick is the run's, not the call's: it lives in the state, so a resumed
 * run whose loss has exploded since its start is caught, where measuring it again at the
 * resumed call's first batch would take the exploded loss as normal. */
START_TEST(a_resumed_run_keeps_its_divergence_yardstick)
{
    for (int resumed = 0; resumed <= 1; resumed++) {
        tmlp_err err = { 0 };
        tmlp_data *d = tmlp_data_xor(&err);
        tmlp_net *net = xor_tanh_net();
        size_t np;
        float *p = tmlp_net_params(net, &np);
        for (size_t i = 0; i < np; i++) /* saturated units and huge logits: a loss in the 1000s */
            p[i] = (i % 2 ? -3000.0f : 3000.0f);
        tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
        oc.lr = 1e-6f;
        tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
        tmlp_train_cfg tc = tmlp_train_defaults();
        tmlp_train_state st = { 0 };
        if (resumed) { /* a run under way (a started generator) that began with a loss below 1 */
            tmlp_rng_seed(&st.rng, tc.seed, 0x5eed);
            st.diverge_base = 1.0;
        }
        tc.epochs = 1;
        tc.batch = 4;
        tc.state = &st;
        int rc = tmlp_train(net, opt, d, NULL, &tc, NULL, &err);
        if (resumed) {
            ck_assert_int_eq(rc, TMLP_ENUMERIC);
            ck_assert_msg(strstr(err.msg, "training diverged"), "%s", err.msg);
        } else {
            ck_assert_msg(rc == TMLP_OK, "%s", err.msg);
            ck_assert_msg(st.diverge_base > 1000.0, "%g", st.diverge_base); /* measured here */
        }
        tmlp_train_state_free(&st);
        tmlp_optim_free(opt);
        tmlp_net_free(net);
        tmlp_data_free(d);
    }
}
END_TEST

START_TEST(data_split_is_seeded_and_complete)
{
    tmlp_data *d = two_blobs(50), *tr, *va, *tr2, *va2;
    tmlp_rng r1, r2;
    tmlp_rng_seed(&r1, 4, 0);
    tmlp_rng_seed(&r2, 4, 0);
    ck_assert_int_eq(tmlp_data_split(d, 0.2, &r1, &tr, &va, NULL), TMLP_OK);
    ck_assert_int_eq(tmlp_data_split(d, 0.2, &r2, &tr2, &va2, NULL), TMLP_OK);
    ck_assert_int_eq(tr->n, 40);
    ck_assert_int_eq(va->n, 10);
    ck_assert_int_eq(memcmp(va->x, va2->x, 20 * sizeof(float)), 0);
    double sum = 0, want = 0; /* every row lands in exactly one part */
    for (int i = 0; i < 100; i++)
        want += d->x[i];
    for (int i = 0; i < 80; i++)
        sum += tr->x[i];
    for (int i = 0; i < 20; i++)
        sum += va->x[i];
    ck_assert_close(sum, want, 1e-5);
    tmlp_data_free(tr2);
    tmlp_data_free(va2);
    tmlp_err err;
    ck_assert_int_eq(tmlp_data_split(d, 1.0, &r1, &tr2, &va2, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_data_split(d, NAN, &r1, &tr2, &va2, &err), TMLP_EINVAL);
    tmlp_data_free(d);
    tmlp_data_free(tr);
    tmlp_data_free(va);
    ck_assert_ptr_null(tr2);
    ck_assert_ptr_null(va2);
}
END_TEST

/* Snapshots the parameters and validation loss after every epoch. */
typedef struct history {
    float params[20][64];
    double val_loss[20];
    int epochs, best;
} history;

static int snapshot(void *ctx, const tmlp_epoch_info *e)
{
    history *h = ctx;
    size_t n;
    float *p = tmlp_net_params(e->net, &n);
    memcpy(h->params[e->epoch - 1], p, n * sizeof *p);
    h->val_loss[e->epoch - 1] = e->val_loss;
    h->epochs = e->epoch;
    h->best = e->best_epoch;
    return 0;
}

START_TEST(early_stopping_stops_and_restores_the_best_epoch)
{
    /* Validation labels are the training labels flipped: the better the net fits the
     * training set, the worse it does on validation, so the best epoch comes early. */
    tmlp_data *tr = two_blobs(64), *va = two_blobs(64);
    for (int i = 0; i < va->n; i++)
        va->label[i] = !va->label[i];
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "4:tanh,2", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 16, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 2, 2);
    tmlp_net_init(net, &r, NULL);
    size_t np;
    float *p = tmlp_net_params(net, &np);
    ck_assert_uint_le(np, 64);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    oc.lr = 0.05f;
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = 16;
    tc.epochs = 20;
    tc.early_stop = 3;
    static history h;
    memset(&h, 0, sizeof h);
    tmlp_observer obs = { NULL, snapshot, &h };
    ck_assert_int_eq(tmlp_train(net, opt, tr, va, &tc, &obs, NULL), TMLP_OK);
    ck_assert_int_ge(h.best, 1);
    ck_assert_int_lt(h.epochs, 20);               /* it stopped early */
    ck_assert_int_eq(h.epochs, h.best + 3);       /* after exactly `patience` worse epochs */
    for (int e = 0; e < h.epochs; e++)            /* the best is the lowest validation loss */
        ck_assert(h.val_loss[h.best - 1] <= h.val_loss[e]);
    ck_assert_int_eq(memcmp(p, h.params[h.best - 1], np * sizeof *p), 0); /* restored */
    ck_assert_int_ne(memcmp(p, h.params[h.epochs - 1], np * sizeof *p), 0);
    tmlp_err err;
    ck_assert_int_eq(tmlp_train(net, opt, tr, NULL, &tc, NULL, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "validation"));
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(tr);
    tmlp_data_free(va);
}
END_TEST

/* One plain-SGD step with lr 1 on one batch, clipped as given; returns the update in delta. */
static void one_clipped_step(float clip_norm, float clip_value, float *delta, size_t *np)
{
    tmlp_data *d = two_blobs(16);
    for (int i = 0; i < 32; i++)
        d->x[i] *= 50.0f; /* large inputs: large gradients */
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "8:relu,2", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 16, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 5, 5);
    tmlp_net_init(net, &r, NULL);
    float *p = tmlp_net_params(net, np), before[64];
    memcpy(before, p, *np * sizeof *p);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
    oc.lr = 1.0f;
    tmlp_optim *opt = tmlp_optim_new(&oc, *np, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = 16;
    tc.epochs = 1;
    tc.clip_norm = clip_norm;
    tc.clip_value = clip_value;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, NULL), TMLP_OK);
    for (size_t i = 0; i < *np; i++)
        delta[i] = p[i] - before[i];
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}

START_TEST(gradient_clipping_by_norm_and_by_value)
{
    float delta[64];
    size_t np;
    one_clipped_step(0.0f, 0.0f, delta, &np);
    double raw = tmlp_norm2(delta, np);
    ck_assert(raw > 1.0); /* the unclipped step is large */
    one_clipped_step(0.5f, 0.0f, delta, &np);
    ck_assert_close(tmlp_norm2(delta, np), 0.5, 1e-4);
    one_clipped_step(0.0f, 0.01f, delta, &np);
    int at_limit = 0;
    for (size_t i = 0; i < np; i++) {
        ck_assert(fabsf(delta[i]) <= 0.01f + 1e-6f);
        at_limit += fabsf(delta[i]) > 0.0099f;
    }
    ck_assert_int_gt(at_limit, 0);
}
END_TEST

/* The CLI's default team: one thread for a small net at batch 1; every CPU (up to 8) for the
 * classic net at batch 32 (its first GEMM has 3.2M multiply-adds) and for a 1024-wide net,
 * even at batch 1 (1.9M parameters to update). */
START_TEST(threads_are_chosen_by_size)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int cap = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 784, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "128:relu,64:tanh", NULL), TMLP_OK);
    tmlp_net_spec_add(&spec, 10, NULL, 0.0f, NULL);
    tmlp_net *small = tmlp_net_new(&spec, 32, NULL);
    ck_assert_int_eq(tmlp_train_threads_auto(small, 32), cap);
    ck_assert_int_eq(tmlp_train_threads_auto(small, 1), 1);
    tmlp_net_free(small);
    tmlp_net_spec_init(&spec, 784, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "1024:relu,1024:relu", NULL), TMLP_OK);
    tmlp_net_spec_add(&spec, 10, NULL, 0.0f, NULL);
    tmlp_net *big = tmlp_net_new(&spec, 256, NULL);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(tmlp_train_threads_auto(big, 256), cap);
    ck_assert_int_eq(tmlp_train_threads_auto(big, 1), cap);

    /* tmlp_train_team makes that team (or the one asked for) and hands it out */
    size_t np;
    tmlp_net_params(big, &np);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_err err = { TMLP_EINVAL, "stale" };
    tmlp_blas_threads(2);
    tmlp_team *team = tmlp_train_team(big, opt, 256, 3, &err);
    ck_assert_ptr_nonnull(team);
    ck_assert_int_eq(err.code, TMLP_OK);
    ck_assert_int_eq(tmlp_team_threads(team), 3);
    ck_assert_ptr_eq(tmlp_net_team(big), team);
    ck_assert_ptr_eq(tmlp_optim_team(opt), team);
    ck_assert_int_eq(tmlp_blas_threads_get(), 1);
    /* one thread asked for: no team, and net and optimizer lose the old one */
    ck_assert_ptr_null(tmlp_train_team(big, opt, 256, 1, &err));
    ck_assert_int_eq(err.code, TMLP_OK);
    ck_assert_ptr_null(tmlp_net_team(big));
    ck_assert_ptr_null(tmlp_optim_team(opt));
    tmlp_team_free(team);
    /* a size out of range: no team, a reason, training still possible on one thread */
    ck_assert_ptr_null(tmlp_train_team(big, NULL, 256, 1000, &err));
    ck_assert_int_eq(err.code, TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "1000"));
    ck_assert_ptr_null(tmlp_net_team(big));
    tmlp_optim_free(opt);
    tmlp_net_free(big);
}
END_TEST

/* An activation whose derivative is infinite everywhere: the loss stays finite, every gradient
 * below it does not. */
static void ident_fwd(int rows, int cols, const float *x, float *y, float arg, const float *param)
{
    (void)arg;
    (void)param;
    memcpy(y, x, (size_t)rows * cols * sizeof *y);
}

static void inf_bwd(int rows, int cols, const float *x, const float *y, const float *dy,
                    float *dx, float arg, const float *param, float *dparam)
{
    (void)x, (void)y, (void)dy, (void)arg, (void)param, (void)dparam;
    for (size_t k = 0; k < (size_t)rows * cols; k++)
        dx[k] = INFINITY;
}

static const tmlp_act inf_grad = { .name = "inf_grad", .formula = "x, with f' = inf",
                                   .range = "(-inf, inf)", .forward = ident_fwd,
                                   .backward = inf_bwd };

/* 200 inputs, 128 units, 2 classes: GEMMs of 2^16 multiply-adds and more (split), batches of
 * 32 rows (gathered in shares of 16), 26k parameters (scanned in two chunks). */
static tmlp_net *wide_net(const tmlp_act *act, tmlp_team *team)
{
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 200, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_add(&spec, 128, act, 0.0f, NULL);
    tmlp_net_spec_add(&spec, 2, NULL, 0.0f, NULL);
    tmlp_net *net = tmlp_net_new(&spec, 32, NULL);
    ck_assert_ptr_nonnull(net);
    tmlp_rng r;
    tmlp_rng_seed(&r, 5, 5);
    tmlp_net_init(net, &r, NULL);
    tmlp_net_set_team(net, team);
    return net;
}

START_TEST(a_team_trains_like_one_thread_and_catches_bad_gradients)
{
    tmlp_blas_threads(1); /* a team splits GEMMs only while OpenBLAS runs one thread */
    tmlp_data *d = tmlp_data_new(96, 200, 2, 0, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 6, 6);
    for (int i = 0; i < 96; i++) {
        float s = 0.0f;
        for (int c = 0; c < 200; c++)
            s += d->x[i * 200 + c] = tmlp_rng_normal(&r);
        d->label[i] = s > 0.0f;
    }
    tmlp_team *team = tmlp_team_new(2, NULL);
    ck_assert_ptr_nonnull(team);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = 3;
    tmlp_err err;
    float *p[2];
    size_t np;
    tmlp_net *net[2];
    tmlp_optim *opt[2];
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    for (int t = 0; t < 2; t++) {
        net[t] = wide_net(tmlp_act_find("relu"), t ? team : NULL);
        p[t] = tmlp_net_params(net[t], &np);
        opt[t] = tmlp_optim_new(&oc, np, NULL);
        tmlp_optim_set_team(opt[t], t ? team : NULL);
        ck_assert_msg(tmlp_train(net[t], opt[t], d, NULL, &tc, NULL, &err) == TMLP_OK, "%s", err.msg);
    }
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        double e = fabs((double)p[1][i] - p[0][i]) / (1e-3 + fabs((double)p[0][i]));
        worst = e > worst ? e : worst;
    }
    ck_assert_msg(worst < 1e-4, "a team of 2 trained weights %.3g (relative) away", worst);
    for (int t = 0; t < 2; t++) {
        tmlp_optim_free(opt[t]);
        tmlp_net_free(net[t]);
    }

    /* infinite gradients, found by the team's scan before any parameter changes */
    tmlp_net *bad = wide_net(&inf_grad, team);
    float *pb = tmlp_net_params(bad, &np), *before = malloc(np * sizeof *before);
    ck_assert_ptr_nonnull(before);
    memcpy(before, pb, np * sizeof *before);
    tmlp_optim *ob = tmlp_optim_new(&oc, np, NULL);
    tmlp_optim_set_team(ob, team);
    ck_assert_int_eq(tmlp_train(bad, ob, d, NULL, &tc, NULL, &err), TMLP_ENUMERIC);
    ck_assert_msg(strstr(err.msg, "epoch 1, batch 1") && strstr(err.msg, "weight gradient"), "%s", err.msg);
    ck_assert_int_eq(memcmp(before, pb, np * sizeof *before), 0);
    free(before);
    tmlp_optim_free(ob);
    tmlp_net_free(bad);
    tmlp_team_free(team);
    tmlp_data_free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TMLP_ADD(s, xor_tanh_adam_solves_95_of_100_seeds);
    TMLP_ADD(s, xor_sigmoid_momentum_solves_95_of_100_seeds);
    TMLP_ADD(s, same_seed_gives_identical_weights);
    TMLP_ADD(s, observers_see_every_batch_and_can_stop_early);
    TMLP_ADD(s, bad_inputs_are_refused_with_a_reason);
    TMLP_ADD(s, non_finite_loss_stops_training_naming_epoch_and_batch);
    TMLP_ADD(s, a_diverging_loss_stops_training_or_is_skipped);
    TMLP_ADD(s, a_resumed_run_keeps_its_divergence_yardstick);
    TMLP_ADD(s, data_split_is_seeded_and_complete);
    TMLP_ADD(s, early_stopping_stops_and_restores_the_best_epoch);
    TMLP_ADD(s, gradient_clipping_by_norm_and_by_value);
    TMLP_ADD(s, threads_are_chosen_by_size);
    TMLP_ADD(s, a_team_trains_like_one_thread_and_catches_bad_gradients);
    return s;
}

TMLP_TEST_MAIN()
