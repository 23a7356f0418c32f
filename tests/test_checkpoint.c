/* test_checkpoint.c: checkpoints and everything a run needs to survive a stop: the
 * optimizer's state accessors, checkpoint round trips, resuming after any epoch or batch with
 * bit-identical final weights (XOR, a batch-norm net with every stateful option, MNIST), the
 * NaN/Inf checks of the training loop and its skip mode, and hostile checkpoint files. Each
 * test works in its own mkdtemp directory and removes it. */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "testutil.h"

/* ---- helpers ---- */

static void make_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/tmlp_ckpt_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        chmod(p, 0644);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* n samples of n_in features in `classes` Gaussian blobs, labels 0..classes-1. */
static tmlp_data *blobs(int n, int n_in, int classes, uint64_t seed)
{
    tmlp_err err;
    tmlp_data *d = tmlp_data_new(n, n_in, classes, 0, &err);
    ck_assert_ptr_nonnull(d);
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 7);
    for (int i = 0; i < n; i++) {
        d->label[i] = i % classes;
        for (int j = 0; j < n_in; j++)
            d->x[(size_t)i * n_in + j] = (float)((j % classes == d->label[i]) * 2.0) +
                                         tmlp_rng_normal(&r);
    }
    return d;
}

/* Everything one training run holds. */
typedef struct run {
    tmlp_net *net;
    tmlp_optim *opt;
    tmlp_schedule sched;
    tmlp_train_cfg cfg;
    tmlp_train_state st;
} run;

static void run_new(run *r, const char *layers, int n_in, int n_out, int loss, int opt_kind,
                    float lr, int batch, int epochs, int sched_kind, uint64_t seed)
{
    tmlp_err err = { 0 };
    memset(r, 0, sizeof *r);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, n_in, loss);
    ck_assert_msg(tmlp_net_spec_parse(&spec, layers, &err) == TMLP_OK, "%s", err.msg);
    tmlp_net_spec_add(&spec, n_out, NULL, 0.0f, &err);
    ck_assert_ptr_nonnull(r->net = tmlp_net_new(&spec, batch, &err));
    tmlp_rng rng;
    tmlp_rng_seed(&rng, seed, 1);
    ck_assert_int_eq(tmlp_net_init(r->net, &rng, &err), TMLP_OK);
    tmlp_optim_cfg oc = tmlp_optim_defaults(opt_kind);
    oc.lr = lr;
    size_t np;
    tmlp_net_params(r->net, &np);
    ck_assert_ptr_nonnull(r->opt = tmlp_optim_new(&oc, np, &err));
    r->sched = tmlp_schedule_defaults(sched_kind, lr);
    r->sched.warmup = 1.5f;
    r->sched.patience = 2;
    r->cfg = tmlp_train_defaults();
    r->cfg.epochs = epochs;
    r->cfg.batch = batch;
    r->cfg.seed = seed;
    r->cfg.schedule = &r->sched;
    r->cfg.state = &r->st;
}

static void run_free(run *r)
{
    tmlp_net_free(r->net);
    tmlp_optim_free(r->opt);
    tmlp_train_state_free(&r->st);
}

/* Params, batch-norm statistics and optimizer moments of two runs are the same bits. */
static void assert_same(tmlp_net *a, const tmlp_optim *oa, tmlp_net *b, const tmlp_optim *ob,
                        const char *what)
{
    size_t na, nb, sa, sb;
    float *pa = tmlp_net_params(a, &na), *pb = tmlp_net_params(b, &nb);
    float *qa = tmlp_net_state(a, &sa), *qb = tmlp_net_state(b, &sb);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_eq(sa, sb);
    ck_assert_msg(!memcmp(pa, pb, na * sizeof *pa), "%s: parameters differ", what);
    ck_assert_msg(!memcmp(qa, qb, sa * sizeof *qa), "%s: batch-norm statistics differ", what);
    const float *ma, *va, *mb, *vb;
    long ta, tb;
    tmlp_optim_state(oa, &ma, &va, &ta);
    tmlp_optim_state(ob, &mb, &vb, &tb);
    ck_assert_int_eq(ta, tb);
    ck_assert(!ma == !mb && !va == !vb);
    ck_assert_msg(!ma || !memcmp(ma, mb, na * sizeof *ma), "%s: first moments differ", what);
    ck_assert_msg(!va || !memcmp(va, vb, na * sizeof *va), "%s: second moments differ", what);
}

/* An observer that saves a checkpoint and stops at (epoch, batch); batch 0 means at the end
 * of that epoch. */
typedef struct stopper {
    run *r;
    const char *path;
    int epoch, batch;
    tmlp_model_meta *meta;
    int wrote;
} stopper;

static int save_and_stop(stopper *s)
{
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_checkpoint_write(s->path, s->r->net, s->r->opt, &s->r->cfg, &s->r->st,
                                        s->meta, &err) == TMLP_OK, "%s", err.msg);
    s->wrote = 1;
    return 1;
}

static int stop_at_batch(void *ctx, const tmlp_batch_info *b)
{
    stopper *s = ctx;
    return s->batch && b->epoch == s->epoch && b->batch == s->batch ? save_and_stop(s) : 0;
}

static int stop_at_epoch(void *ctx, const tmlp_epoch_info *e)
{
    stopper *s = ctx;
    return !s->batch && e->epoch == s->epoch ? save_and_stop(s) : 0;
}

/* Trains the way `make` describes once straight through, then for each stop point: trains
 * to it, saves, reads the checkpoint back into a new net and optimizer, continues to the end,
 * and compares the bits with the straight run. */
typedef void (*maker)(run *r);

static void check_resume(maker make, const tmlp_data *train, const tmlp_data *val,
                         int (*stops)[2], int n_stops)
{
    tmlp_err err = { 0 };
    char dir[64], path[96];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    run full;
    make(&full);
    ck_assert_msg(tmlp_train(full.net, full.opt, train, val, &full.cfg, NULL, &err) == TMLP_OK,
                  "%s", err.msg);
    for (int i = 0; i < n_stops; i++) {
        run part;
        make(&part);
        stopper s = { &part, path, stops[i][0], stops[i][1], NULL, 0 };
        tmlp_observer obs = { stop_at_batch, stop_at_epoch, &s };
        ck_assert_msg(tmlp_train(part.net, part.opt, train, val, &part.cfg, &obs, &err) == TMLP_OK,
                      "%s", err.msg);
        ck_assert_msg(s.wrote, "stop at epoch %d batch %d never came", s.epoch, s.batch);
        run_free(&part);

        tmlp_checkpoint ck;
        ck_assert_msg(tmlp_checkpoint_read(path, 0, &ck, &err) == TMLP_OK, "%s", err.msg);
        ck_assert_msg(tmlp_train(ck.net, ck.opt, train, val, &ck.cfg, NULL, &err) == TMLP_OK,
                      "%s", err.msg);
        char what[64];
        snprintf(what, sizeof what, "resumed after epoch %d batch %d", s.epoch, s.batch);
        assert_same(full.net, full.opt, ck.net, ck.opt, what);
        ck_assert_int_eq(ck.state.epoch, full.st.epoch);
        ck_assert_int_eq(ck.state.best_epoch, full.st.best_epoch);
        if (ck.cfg.schedule) {
            ck_assert_int_eq(ck.schedule.bad_epochs, full.sched.bad_epochs);
            ck_assert(ck.schedule.current == full.sched.current);
        }
        tmlp_checkpoint_free(&ck);
    }
    run_free(&full);
    remove_dir(dir);
}

/* ---- the optimizer's state ---- */

START_TEST(optim_state_round_trip_continues_identically)
{
    tmlp_err err = { 0 };
    for (int kind = 0; kind < TMLP_OPT_COUNT; kind++) {
        tmlp_optim_cfg c = tmlp_optim_defaults(kind);
        float p[5] = { 1, -2, 3, 0.5f, -0.25f }, g[5] = { 0.1f, -0.3f, 0.2f, 0.05f, 1.0f };
        tmlp_optim *a = tmlp_optim_new(&c, 5, &err), *b = tmlp_optim_new(&c, 5, &err);
        for (int s = 0; s < 3; s++)
            tmlp_optim_step(a, p, g);
        const float *m, *v;
        long t;
        tmlp_optim_state(a, &m, &v, &t);
        ck_assert_int_eq(t, 3);
        ck_assert_msg(tmlp_optim_set_state(b, m, v, t, &err) == TMLP_OK, "%s: %s",
                      tmlp_optim_name(kind), err.msg);
        float q[5];
        memcpy(q, p, sizeof p);
        for (int s = 0; s < 4; s++) {
            tmlp_optim_step(a, p, g);
            tmlp_optim_step(b, q, g);
        }
        ck_assert_msg(!memcmp(p, q, sizeof p), "%s continues differently", tmlp_optim_name(kind));
        ck_assert_int_eq(tmlp_optim_steps(b), 7);
        tmlp_optim_free(a);
        tmlp_optim_free(b);
    }
}
END_TEST

START_TEST(optim_set_state_refuses_wrong_state)
{
    tmlp_err err = { 0 };
    tmlp_optim_cfg c = tmlp_optim_defaults(TMLP_OPT_ADAM);
    tmlp_optim *o = tmlp_optim_new(&c, 3, &err);
    float m[3] = { 1, 2, 3 }, v[3] = { 1, 2, 3 }, bad[3] = { 1, NAN, 3 }, neg[3] = { 1, -1, 3 };
    ck_assert_int_eq(tmlp_optim_set_state(o, m, NULL, 1, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "first and second moments"));
    ck_assert_int_eq(tmlp_optim_set_state(o, m, v, -1, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_optim_set_state(o, bad, v, 1, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "element 1"));
    ck_assert_int_eq(tmlp_optim_set_state(o, m, neg, 1, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_optim_set_state(o, m, v, LONG_MAX, &err), TMLP_EINVAL); /* issue 15 */
    ck_assert_ptr_nonnull(strstr(err.msg, "9223372036854775807"));
    const float *mm;
    tmlp_optim_state(o, &mm, NULL, NULL);
    ck_assert(mm[0] == 0.0f);                       /* unchanged after each refusal */
    ck_assert_int_eq(tmlp_optim_steps(o), 0);
    tmlp_optim_free(o);
    c = tmlp_optim_defaults(TMLP_OPT_SGD);
    o = tmlp_optim_new(&c, 3, &err);
    ck_assert_int_eq(tmlp_optim_set_state(o, m, NULL, 1, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_optim_set_state(o, NULL, NULL, 5, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_optim_steps(o), 5);
    tmlp_optim_free(o);
}
END_TEST

/* ---- round trips ---- */

static void make_rich(run *r)
{
    run_new(r, "12:relu:bn,8:tanh", 6, 3, TMLP_LOSS_SOFTMAX_CE, TMLP_OPT_ADAMW, 0.02f, 16, 12,
            TMLP_SCHED_PLATEAU, 5);
    r->cfg.clip_norm = 2.0f;
    r->cfg.early_stop = 4;
    r->cfg.min_delta = 1e-4f;
}

START_TEST(checkpoint_round_trip_keeps_everything)
{
    tmlp_err err = { 0 };
    char dir[64], path[96];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    tmlp_data *d = blobs(120, 6, 3, 1), *v = blobs(30, 6, 3, 2);
    run r;
    make_rich(&r);
    r.cfg.epochs = 3;
    r.cfg.on_nan = TMLP_ON_NAN_SKIP;
    ck_assert_msg(tmlp_train(r.net, r.opt, d, v, &r.cfg, NULL, &err) == TMLP_OK, "%s", err.msg);
    r.st.batch = 2;                                 /* as if stopped inside epoch 4 */
    r.st.sum_loss = 1.0 / 3.0;
    r.st.diverge_base = 2.302585092994046; /* the first batch's loss, kept for the resumed run */
    r.st.counted = 2;
    r.st.rows = 32;
    r.st.correct = 17;
    r.st.skipped = 5;
    tmlp_model_meta meta = { 0 };
    tmlp_model_meta_set(&meta, "config", "{\"data\": \"blobs\"}", &err);
    tmlp_model_meta_set(&meta, "input_scale", "0.00392156886", &err);
    ck_assert_msg(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, &meta, &err) ==
                  TMLP_OK, "%s", err.msg);

    tmlp_checkpoint ck;
    ck_assert_msg(tmlp_checkpoint_read(path, 0, &ck, &err) == TMLP_OK, "%s", err.msg);
    assert_same(r.net, r.opt, ck.net, ck.opt, "read back");
    ck_assert_int_eq(tmlp_net_max_batch(ck.net), 16);
    tmlp_optim_cfg a = tmlp_optim_config(r.opt), b = tmlp_optim_config(ck.opt);
    ck_assert(!memcmp(&a, &b, sizeof a));
    ck_assert_int_eq(ck.cfg.epochs, 3);
    ck_assert_int_eq(ck.cfg.batch, 16);
    ck_assert(ck.cfg.seed == 5 && ck.cfg.shuffle == 1);
    ck_assert(ck.cfg.clip_norm == 2.0f && ck.cfg.early_stop == 4 && ck.cfg.min_delta == 1e-4f);
    ck_assert_int_eq(ck.cfg.on_nan, TMLP_ON_NAN_SKIP);
    ck_assert_ptr_eq(ck.cfg.schedule, &ck.schedule);
    ck_assert_ptr_eq(ck.cfg.state, &ck.state);
    ck_assert_int_eq(ck.schedule.kind, TMLP_SCHED_PLATEAU);
    ck_assert(ck.schedule.best == r.sched.best && ck.schedule.current == r.sched.current);
    ck_assert(ck.schedule.bad_epochs == r.sched.bad_epochs && ck.schedule.warmup == 1.5f);
    ck_assert(ck.state.rng.state == r.st.rng.state && ck.state.rng.inc == r.st.rng.inc);
    ck_assert(ck.state.epoch == 3 && ck.state.batch == 2 && ck.state.sum_loss == 1.0 / 3.0);
    ck_assert(ck.state.counted == 2 && ck.state.rows == 32 && ck.state.correct == 17);
    ck_assert(ck.state.skipped == 5 && ck.state.best_epoch == r.st.best_epoch);
    ck_assert(ck.state.best_epoch > 0 && ck.state.best_metric == r.st.best_metric);
    ck_assert(ck.state.diverge_base == r.st.diverge_base);
    ck_assert_uint_eq(ck.state.n_best, r.st.n_best);
    ck_assert(!memcmp(ck.state.best, r.st.best, r.st.n_best * sizeof(float)));
    /* only the caller's keys come back as metadata */
    ck_assert_int_eq(ck.meta.n, 2);
    ck_assert_str_eq(tmlp_model_meta_get(&ck.meta, "input_scale"), "0.00392156886");
    tmlp_checkpoint_free(&ck);

    tmlp_checkpoint pk;                             /* the header alone */
    ck_assert_msg(tmlp_checkpoint_peek(path, &pk, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_ptr_null(pk.net);
    ck_assert_ptr_null(pk.opt);
    ck_assert_int_eq(pk.cfg.batch, 16);
    ck_assert_int_eq(pk.state.epoch, 3);
    ck_assert_str_eq(tmlp_model_meta_get(&pk.meta, "config"), "{\"data\": \"blobs\"}");
    tmlp_checkpoint_free(&pk);

    /* a checkpoint also reads as the model it holds */
    tmlp_model_meta got;
    tmlp_net *m = tmlp_model_read(path, 4, &got, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    size_t n1, n2;
    const float *p1 = tmlp_net_params(m, &n1), *p2 = tmlp_net_params(r.net, &n2);
    ck_assert(n1 == n2 && !memcmp(p1, p2, n2 * sizeof *p2));
    ck_assert_str_eq(tmlp_model_meta_get(&got, "state.epoch"), "3");
    tmlp_model_meta_free(&got);
    tmlp_net_free(m);

    /* a smaller max_batch than the run's is refused, a larger one is fine */
    ck_assert_int_eq(tmlp_checkpoint_read(path, 8, &ck, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "batches of 16"));
    ck_assert_int_eq(tmlp_checkpoint_read(path, 64, &ck, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_net_max_batch(ck.net), 64);
    tmlp_checkpoint_free(&ck);
    tmlp_checkpoint_free(NULL);

    /* the checkpoint's own keys cannot be the caller's */
    tmlp_model_meta_set(&meta, "optim.lr", "1", &err);
    ck_assert_int_eq(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, &meta, &err),
                     TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "optim.lr"));
    tmlp_model_meta_free(&meta);
    run_free(&r);
    tmlp_data_free(d);
    tmlp_data_free(v);
    remove_dir(dir);
}
END_TEST

/* ---- resuming gives the same bits ---- */

static tmlp_data *g_train, *g_val;

static void make_xor(run *r)
{
    run_new(r, "8:tanh", 2, 1, TMLP_LOSS_SIGMOID_BCE, TMLP_OPT_ADAM, 0.05f, 2, 25,
            TMLP_SCHED_COSINE, 3);
}

START_TEST(xor_resumed_after_any_epoch_or_batch_is_bit_identical)
{
    tmlp_blas_threads(1);
    g_train = tmlp_data_xor(NULL);
    int stops[25 + 10][2], n = 0;
    for (int e = 1; e < 25; e++)                    /* after every epoch */
        stops[n][0] = e, stops[n++][1] = 0;
    for (int e = 1; e <= 5; e++)                    /* inside epochs: before batch 2 of 2 */
        stops[n][0] = e, stops[n++][1] = 2;
    stops[n][0] = 25, stops[n++][1] = 0;            /* after the last: nothing left to do */
    check_resume(make_xor, g_train, NULL, stops, n);
    tmlp_data_free(g_train);
}
END_TEST

START_TEST(batchnorm_plateau_early_stop_clip_run_resumes_bit_identical)
{
    tmlp_blas_threads(1);
    g_train = blobs(150, 6, 3, 11);
    g_val = blobs(45, 6, 3, 12);
    int stops[][2] = { { 1, 0 }, { 2, 0 }, { 3, 5 }, { 4, 0 }, { 5, 1 }, { 6, 0 }, { 7, 10 },
                       { 8, 0 } };
    check_resume(make_rich, g_train, g_val, stops, (int)(sizeof stops / sizeof stops[0]));
    tmlp_data_free(g_train);
    tmlp_data_free(g_val);
}
END_TEST

/* Dropout draws from the net's own generator: the checkpoint keeps it, so masks continue. */
static void make_dropout(run *r)
{
    run_new(r, "16:relu:drop0.3,12:tanh:drop0.2", 6, 3, TMLP_LOSS_SOFTMAX_CE, TMLP_OPT_ADAM,
            0.01f, 16, 6, TMLP_SCHED_COSINE, 21);
}

START_TEST(dropout_run_resumes_bit_identical)
{
    tmlp_blas_threads(1);
    g_train = blobs(100, 6, 3, 13);
    int stops[][2] = { { 1, 0 }, { 2, 3 }, { 3, 0 }, { 4, 5 }, { 5, 0 } };
    check_resume(make_dropout, g_train, NULL, stops, (int)(sizeof stops / sizeof stops[0]));
    tmlp_data_free(g_train);
}
END_TEST

static void make_mnist(run *r)
{
    run_new(r, "32:relu", 784, 10, TMLP_LOSS_SOFTMAX_CE, TMLP_OPT_ADAM, 2e-3f, 64, 3,
            TMLP_SCHED_COSINE, 9);
}

START_TEST(mnist_resumed_after_each_epoch_is_bit_identical)
{
    const char *env = getenv("TINYMLP_DATA");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/mnist", env && *env ? env : "data");
    tmlp_data *tr = NULL, *te = NULL;
    tmlp_err err = { 0 };
    if (tmlp_idx_load_folder(dir, &tr, &te, &err) != TMLP_OK) {
        fprintf(stderr, "skip: MNIST not in %s (make data)\n", dir);
        return;
    }
    tmlp_blas_threads(1);
    int idx[2000];
    for (int i = 0; i < 2000; i++)
        idx[i] = i * 29;                            /* a spread-out subset */
    g_train = tmlp_data_subset(tr, idx, 2000, &err);
    ck_assert_ptr_nonnull(g_train);
    int stops[][2] = { { 1, 0 }, { 2, 0 }, { 2, 17 } };
    check_resume(make_mnist, g_train, NULL, stops, 3);
    tmlp_data_free(g_train);
    tmlp_data_free(tr);
    tmlp_data_free(te);
}
END_TEST

START_TEST(train_state_that_does_not_fit_is_refused)
{
    tmlp_err err = { 0 };
    g_train = tmlp_data_xor(NULL);
    run r;
    make_xor(&r);
    tmlp_rng_seed(&r.st.rng, 1, 1);
    r.st.batch = 2;                                 /* XOR in batches of 2: only 0 and 1 */
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "batch 2"));
    r.st.batch = 0;
    r.st.rows = LONG_MAX;                           /* counters at the limit (issue 15) */
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_EINVAL);
    r.st.rows = 0;
    r.st.skipped = LONG_MAX;
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_EINVAL);
    r.st.skipped = 0;
    r.cfg.epochs = INT_MAX;                         /* the epoch loop would overflow */
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "epochs in 1..2147483646"));
    r.cfg.epochs = 25;
    r.st.best_epoch = 1;                            /* a best epoch after the current one */
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_EINVAL);
    r.st.best_epoch = 0;
    r.st.epoch = 25;                                /* done: trains nothing */
    size_t np;
    float before[64], *p = tmlp_net_params(r.net, &np);
    memcpy(before, p, np * sizeof *p);
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_OK);
    ck_assert(!memcmp(before, p, np * sizeof *p));
    run_free(&r);
    tmlp_data_free(g_train);
}
END_TEST

/* ---- NaN and Inf ---- */

/* An activation whose derivative is NaN: finite outputs and loss, poisoned gradient. */
static void poison_forward(int rows, int cols, const float *x, float *y, float arg,
                           const float *param)
{
    (void)arg, (void)param;
    for (int i = 0; i < rows * cols; i++)
        y[i] = x[i];
}

static void poison_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                            float *dx, float arg, const float *param, float *dparam)
{
    (void)y, (void)arg, (void)param, (void)dparam;
    for (int i = 0; i < rows * cols; i++)
        dx[i] = x[i] > -1e30f ? NAN : dy[i];
}

static const tmlp_act poison = { .name = "poison", .forward = poison_forward,
                                 .backward = poison_backward };

START_TEST(nan_gradient_stops_at_its_batch_naming_layer_and_tensor)
{
    tmlp_err err = { 0 };
    tmlp_data *d = blobs(64, 4, 2, 3);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 4, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "6:tanh", &err);
    tmlp_net_spec_add(&spec, 5, &poison, 0.0f, &err);
    tmlp_net_spec_add(&spec, 2, NULL, 0.0f, &err);
    tmlp_net *net = tmlp_net_new(&spec, 8, &err);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 2, 1);
    tmlp_net_init(net, &rng, &err);
    size_t np;
    float *p = tmlp_net_params(net, &np), *before = malloc(np * sizeof *before);
    memcpy(before, p, np * sizeof *p);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_SGD);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = 8;
    tc.epochs = 2;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_ENUMERIC);
    ck_assert_msg(strstr(err.msg, "epoch 1, batch 1") && strstr(err.msg, "layer 2 weight gradient")
                  && strstr(err.msg, "layers.1.weight") && strstr(err.msg, "is nan") &&
                  strstr(err.msg, "lower learning rate"), "%s", err.msg);
    ck_assert(!strchr(err.msg, '\n'));
    ck_assert_msg(!memcmp(before, p, np * sizeof *p), "the bad step was taken");
    ck_assert_int_eq(tmlp_optim_steps(opt), 0);
    /* skipping cannot get past a batch that is always bad: every batch is skipped */
    tc.on_nan = TMLP_ON_NAN_SKIP;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(err.msg, "every batch"));
    tc.on_nan = 7;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, NULL, &err), TMLP_EINVAL);
    free(before);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

typedef struct seen { int epochs; long skipped; } seen;

static int count_skips(void *ctx, const tmlp_epoch_info *e)
{
    seen *s = ctx;
    s->epochs++;
    s->skipped = e->skipped;
    ck_assert(isfinite(e->train_loss));
    return 0;
}

START_TEST(nan_in_the_data_stops_or_is_skipped)
{
    tmlp_err err = { 0 };
    tmlp_data *d = blobs(40, 3, 2, 4);
    d->x[3 * 17 + 2] = NAN;                         /* sample 18, feature 3 */
    run r;
    run_new(&r, "5:relu", 3, 1, TMLP_LOSS_SIGMOID_BCE, TMLP_OPT_ADAM, 0.01f, 4, 6,
            TMLP_SCHED_CONSTANT, 1);
    r.cfg.schedule = NULL;
    ck_assert_int_eq(tmlp_train(r.net, r.opt, d, NULL, &r.cfg, NULL, &err), TMLP_ENUMERIC);
    ck_assert_msg(strstr(err.msg, "epoch 1, batch ") && strstr(err.msg, "sample 18, feature 3") &&
                  strstr(err.msg, "every input must be finite") && !strstr(err.msg, "learning"),
                  "%s", err.msg);
    int bad_batch = r.st.batch + 1;                 /* the state stopped before it */
    char want[32];
    snprintf(want, sizeof want, "batch %d:", bad_batch);
    ck_assert_msg(strstr(err.msg, want), "%s (state says batch %d)", err.msg, bad_batch);
    tmlp_train_state_free(&r.st);

    r.cfg.on_nan = TMLP_ON_NAN_SKIP;                /* one batch an epoch skipped */
    tmlp_optim_reset(r.opt);
    seen s = { 0, 0 };
    tmlp_observer obs = { NULL, count_skips, &s };
    ck_assert_msg(tmlp_train(r.net, r.opt, d, NULL, &r.cfg, &obs, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(s.epochs, 6);
    ck_assert_int_eq(s.skipped, 6);
    ck_assert_int_eq(r.st.skipped, 6);
    ck_assert_int_eq(tmlp_optim_steps(r.opt), 6 * (10 - 1));
    size_t np;
    float *p = tmlp_net_params(r.net, &np);
    for (size_t i = 0; i < np; i++)
        ck_assert(isfinite(p[i]));
    run_free(&r);
    tmlp_data_free(d);
}
END_TEST

START_TEST(divergence_stops_with_the_last_good_weights)
{
    tmlp_err err = { 0 };
    tmlp_data *d = blobs(64, 4, 2, 5);
    for (int i = 0; i < 64 * 4; i++)
        d->x[i] *= 1e3f;
    run r;
    run_new(&r, "16:relu,16:relu", 4, 1, TMLP_LOSS_MSE, TMLP_OPT_SGD, 1e3f, 8, 50,
            TMLP_SCHED_CONSTANT, 1);
    r.cfg.schedule = NULL;
    ck_assert_int_eq(tmlp_train(r.net, r.opt, d, NULL, &r.cfg, NULL, &err), TMLP_ENUMERIC);
    ck_assert_msg(strstr(err.msg, "lower learning rate (it was 1000)") && strstr(err.msg, "layer "),
                  "%s", err.msg);
    /* the weights are those of the last good step: finite, and a checkpoint takes them */
    size_t np;
    float *p = tmlp_net_params(r.net, &np);
    int finite = 1;
    for (size_t i = 0; i < np; i++)
        finite &= isfinite(p[i]) != 0;
    if (finite) {
        char dir[64], path[96];
        make_dir(dir, sizeof dir);
        snprintf(path, sizeof path, "%s/c", dir);
        ck_assert_msg(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, NULL, &err) ==
                      TMLP_OK, "%s", err.msg);
        remove_dir(dir);
    } else {  /* the last step overflowed the weights: said so, and not saved */
        ck_assert_msg(strstr(err.msg, "weight") || strstr(err.msg, "bias"), "%s", err.msg);
    }
    run_free(&r);
    tmlp_data_free(d);
}
END_TEST

static int poison_weights(void *ctx, const tmlp_batch_info *b)
{
    (void)ctx;
    if (b->epoch == 2 && b->batch == 3)
        tmlp_net_params(b->net, NULL)[1] = INFINITY;
    return 0;
}

START_TEST(skip_mode_still_stops_when_the_weights_are_not_finite)
{
    tmlp_err err = { 0 };
    tmlp_data *d = blobs(40, 3, 2, 6);
    run r;
    run_new(&r, "5:tanh", 3, 1, TMLP_LOSS_SIGMOID_BCE, TMLP_OPT_SGD, 0.1f, 4, 5,
            TMLP_SCHED_CONSTANT, 1);
    r.cfg.on_nan = TMLP_ON_NAN_SKIP;
    tmlp_observer obs = { poison_weights, NULL, NULL };
    ck_assert_int_eq(tmlp_train(r.net, r.opt, d, NULL, &r.cfg, &obs, &err), TMLP_ENUMERIC);
    ck_assert_msg(strstr(err.msg, "epoch 2, batch 3: after the update") &&
                  strstr(err.msg, "layer 1 weight") &&
                  strstr(err.msg, "layers.0.weight") && strstr(err.msg, "element 1 is"),
                  "%s", err.msg);
    /* and a net that starts non-finite is refused before any step */
    ck_assert_int_eq(tmlp_train(r.net, r.opt, d, NULL, &r.cfg, NULL, &err), TMLP_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(err.msg, "before training"));
    run_free(&r);
    tmlp_data_free(d);
}
END_TEST

/* ---- files ---- */

START_TEST(failed_checkpoint_write_keeps_the_last_good_one)
{
    tmlp_err err = { 0 };
    char dir[64], path[96];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    g_train = tmlp_data_xor(NULL);
    run r;
    make_xor(&r);
    r.cfg.epochs = 3;
    ck_assert_int_eq(tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, NULL, &err), TMLP_OK);
    struct stat st1, st2;
    stat(path, &st1);
    size_t np;
    float *p = tmlp_net_params(r.net, &np), keep = p[0];
    p[0] = NAN;                                     /* a diverged net is not saved */
    ck_assert_int_eq(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, NULL, &err),
                     TMLP_ENUMERIC);
    p[0] = keep;
    chmod(path, 0444);                              /* nor is a read-only file replaced */
    ck_assert_int_eq(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, NULL, &err), TMLP_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "read-only"));
    ck_assert_int_eq(tmlp_model_write(path, r.net, NULL, &err), TMLP_EIO);
    chmod(path, 0644);
    char sub[128];                                  /* nor a folder, nor into a missing one */
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    ck_assert_int_eq(tmlp_checkpoint_write(sub, r.net, r.opt, &r.cfg, &r.st, NULL, &err), TMLP_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/no/such/c.ckpt", dir);
    ck_assert_int_eq(tmlp_checkpoint_write(sub, r.net, r.opt, &r.cfg, &r.st, NULL, &err), TMLP_EIO);
    stat(path, &st2);
    ck_assert(st1.st_size == st2.st_size && st1.st_mtime == st2.st_mtime);
    tmlp_checkpoint ck;
    ck_assert_msg(tmlp_checkpoint_read(path, 0, &ck, &err) == TMLP_OK, "%s", err.msg);
    assert_same(r.net, r.opt, ck.net, ck.opt, "kept");
    tmlp_checkpoint_free(&ck);
    DIR *dd = opendir(dir);                         /* nothing else left behind */
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dd)))
        n += e->d_name[0] != '.';
    closedir(dd);
    ck_assert_int_eq(n, 1);
    run_free(&r);
    tmlp_data_free(g_train);
    remove_dir(dir);
}
END_TEST

/* Rewrites the checkpoint at path with mutate() applied to its header and the last g_cut
 * bytes of data dropped. */
static size_t g_cut;

static void rewrite(const char *path, const char *out, void (*mutate)(cJSON *root))
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char n8[8];
    ck_assert_int_eq(fread(n8, 1, 8, f), 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | n8[i];
    char *hdr = malloc(n + 1);
    ck_assert_int_eq(fread(hdr, 1, n, f), n);
    hdr[n] = '\0';
    char data[1 << 16];
    size_t n_data = fread(data, 1, sizeof data, f);
    fclose(f);
    cJSON *root = cJSON_Parse(hdr);
    ck_assert_ptr_nonnull(root);
    mutate(root);
    char *json = cJSON_PrintUnformatted(root);
    uint64_t len = strlen(json), padded = (len + 7) & ~(uint64_t)7;
    f = fopen(out, "wb");
    for (int i = 0; i < 8; i++)
        fputc((int)(padded >> (8 * i)) & 0xff, f);
    fwrite(json, 1, len, f);
    for (uint64_t i = len; i < padded; i++)
        fputc(' ', f);
    fwrite(data, 1, n_data - g_cut, f);
    fclose(f);
    free(json);
    free(hdr);
    cJSON_Delete(root);
}

static void set_md(cJSON *root, const char *key, const char *value)
{
    cJSON *md = cJSON_GetObjectItem(root, "__metadata__");
    cJSON_DeleteItemFromObject(md, key);
    if (value)
        cJSON_AddStringToObject(md, key, value);
}

static void m_no_version(cJSON *r) { set_md(r, "checkpoint.version", NULL); }
static void m_version(cJSON *r) { set_md(r, "checkpoint.version", "2"); }
static void m_unknown(cJSON *r) { set_md(r, "optim.rho", "0.5"); }
static void m_even_inc(cJSON *r) { set_md(r, "rng.inc", "4"); }
static void m_even_drop_inc(cJSON *r) { set_md(r, "rng.drop_inc", "6"); }
static void m_half_drop(cJSON *r) { set_md(r, "rng.drop_inc", NULL); }
static void m_no_steps(cJSON *r) { set_md(r, "optim.steps", NULL); }
static void m_bad_lr(cJSON *r) { set_md(r, "optim.lr", "0.05x"); }
static void m_neg_lr(cJSON *r) { set_md(r, "optim.lr", "-1"); }
static void m_huge_batch(cJSON *r) { set_md(r, "train.batch", "1073741824"); }
static void m_epoch(cJSON *r) { set_md(r, "state.epoch", "99"); }
static void m_opt_kind(cJSON *r) { set_md(r, "optim.kind", "sgd"); }
static void m_sched(cJSON *r) { set_md(r, "schedule.gamma", "7"); }
static void m_best(cJSON *r) { set_md(r, "state.best_epoch", "1"); }
static void m_nan_loss(cJSON *r) { set_md(r, "state.sum_loss", "nan"); }
/* Counters at the limit (issue 15): each would overflow a signed counter once training went on. */
static void m_max_rows(cJSON *r) { set_md(r, "state.rows", "9223372036854775807"); }
static void m_max_steps(cJSON *r) { set_md(r, "optim.steps", "9223372036854775807"); }
static void m_max_skipped(cJSON *r) { set_md(r, "state.skipped", "9223372036854775807"); }
static void m_max_epochs(cJSON *r) { set_md(r, "train.epochs", "2147483647"); }
static void m_max_counted(cJSON *r) { set_md(r, "state.counted", "2147483647"); }
static void m_max_batch(cJSON *r) { set_md(r, "state.batch", "2147483647"); }
static void m_huge_loss(cJSON *r) { set_md(r, "state.sum_loss", "1e308"); }
static void m_neg_loss(cJSON *r) { set_md(r, "state.sum_loss", "-1"); }
static void m_diverge_base(cJSON *r) { set_md(r, "state.diverge_base", "0.5"); }
static void m_bad_epochs(cJSON *r)
{
    set_md(r, "schedule.kind", "plateau");
    set_md(r, "schedule.patience", "3");
    set_md(r, "schedule.bad_epochs", "2147483647");
}

static void m_short_m(cJSON *r)
{
    g_cut = 8;                                      /* m and v one float shorter each */
    cJSON *t = cJSON_GetObjectItem(r, "optim.m");
    cJSON *shape = cJSON_GetObjectItem(t, "shape");
    cJSON *offs = cJSON_GetObjectItem(t, "data_offsets");
    int n = cJSON_GetArrayItem(shape, 0)->valueint;
    cJSON_ReplaceItemInArray(shape, 0, cJSON_CreateNumber(n - 1));
    int end = cJSON_GetArrayItem(offs, 1)->valueint;
    cJSON_ReplaceItemInArray(offs, 1, cJSON_CreateNumber(end - 4));
    cJSON *v = cJSON_GetObjectItem(r, "optim.v");
    cJSON_ReplaceItemInArray(cJSON_GetObjectItem(v, "shape"), 0, cJSON_CreateNumber(n - 1));
    offs = cJSON_GetObjectItem(v, "data_offsets");
    cJSON_ReplaceItemInArray(offs, 0, cJSON_CreateNumber(end - 4));
    cJSON_ReplaceItemInArray(offs, 1, cJSON_CreateNumber(cJSON_GetArrayItem(offs, 1)->valueint - 8));
}

START_TEST(checkpoint_read_rejects_bad_files)
{
    tmlp_err err = { 0 };
    char dir[64], path[96], bad[96];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/good", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    g_train = tmlp_data_xor(NULL);
    run r;
    make_xor(&r);
    r.cfg.epochs = 2;
    tmlp_train(r.net, r.opt, g_train, NULL, &r.cfg, NULL, &err);
    ck_assert_int_eq(tmlp_checkpoint_write(path, r.net, r.opt, &r.cfg, &r.st, NULL, &err), TMLP_OK);
    static const struct {
        void (*mutate)(cJSON *);
        int code;
        const char *says;
    } cases[] = {
        { m_no_version, TMLP_EFORMAT, "a model file, not a checkpoint" },
        { m_version, TMLP_EFORMAT, "checkpoint.version 2" },
        { m_unknown, TMLP_EFORMAT, "unknown checkpoint key 'optim.rho'" },
        { m_even_inc, TMLP_EFORMAT, "rng.inc 4 is even" },
        { m_even_drop_inc, TMLP_EFORMAT, "rng.drop_inc 6 is even" },
        { m_half_drop, TMLP_EFORMAT, "'rng.drop_inc' is missing" },
        { m_no_steps, TMLP_EFORMAT, "'optim.steps' is missing" },
        { m_bad_lr, TMLP_EFORMAT, "'optim.lr' is \"0.05x\"" },
        { m_neg_lr, TMLP_EFORMAT, "need lr > 0" },
        { m_huge_batch, TMLP_EFORMAT, "'train.batch'" },
        { m_epoch, TMLP_EFORMAT, "'state.epoch' is \"99\", expected an integer in 0..2" },
        { m_opt_kind, TMLP_EFORMAT, "state needs no moments" },
        { m_sched, TMLP_EFORMAT, "gamma" },
        { m_best, TMLP_EFORMAT, "train.best is missing" },
        { m_nan_loss, TMLP_EFORMAT, "'state.sum_loss'" },
        { m_diverge_base, TMLP_EFORMAT, "'state.diverge_base' is \"0.5\", expected 0 or a number >= 1" },
        { m_short_m, TMLP_EFORMAT, "optim.m holds" },
        { m_max_rows, TMLP_EFORMAT, "'state.rows' is \"9223372036854775807\", expected an integer in 0..0" },
        { m_max_steps, TMLP_EFORMAT, "'optim.steps' is \"9223372036854775807\", expected an integer in 0..9007199254740992" },
        { m_max_skipped, TMLP_EFORMAT, "'state.skipped' is \"9223372036854775807\", expected an integer in 0..4294967294" },
        { m_max_epochs, TMLP_EFORMAT, "'train.epochs' is \"2147483647\", expected an integer in 1..2147483646" },
        { m_max_counted, TMLP_EFORMAT, "'state.counted' is \"2147483647\", expected an integer in 0..0" },
        { m_max_batch, TMLP_EFORMAT, "'state.batch' is \"2147483647\", expected an integer in 0..2147483646" },
        { m_huge_loss, TMLP_EFORMAT, "'state.sum_loss' is \"1e308\"" },
        { m_neg_loss, TMLP_EFORMAT, "'state.sum_loss' is \"-1\"" },
        { m_bad_epochs, TMLP_EFORMAT, "'schedule.bad_epochs' is \"2147483647\", expected an integer in 0..2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g_cut = 0;
        rewrite(path, bad, cases[i].mutate);
        tmlp_checkpoint ck;
        int rc = tmlp_checkpoint_read(bad, 0, &ck, &err);
        ck_assert_msg(rc == cases[i].code && strstr(err.msg, cases[i].says) &&
                      !strncmp(err.msg, bad, strlen(bad)),
                      "case %zu: got %d '%s', want '%s'", i, rc, err.msg, cases[i].says);
        ck_assert_ptr_null(ck.net);
    }
    /* early stopping's best weights with a negative batch-norm variance (issue 15) */
    run rb;
    tmlp_data *d = blobs(40, 6, 3, 1);
    make_rich(&rb);
    rb.cfg.epochs = 2;
    ck_assert_msg(tmlp_train(rb.net, rb.opt, d, d, &rb.cfg, NULL, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(rb.st.best);
    size_t np, ns;
    tmlp_net_params(rb.net, &np);
    const float *state = tmlp_net_state(rb.net, &ns);
    tmlp_layer_view lv;
    ck_assert_int_eq(tmlp_net_layer(rb.net, 0, &lv, &err), TMLP_OK);
    size_t at = np + (size_t)(lv.bn_var - state) + 3;
    rb.st.best[at] = -0.5f;
    ck_assert_msg(tmlp_checkpoint_write(bad, rb.net, rb.opt, &rb.cfg, &rb.st, NULL, &err) == TMLP_OK,
                  "%s", err.msg);
    tmlp_checkpoint ckb;
    ck_assert_int_eq(tmlp_checkpoint_read(bad, 0, &ckb, &err), TMLP_EFORMAT);
    char want[96];
    snprintf(want, sizeof want, "train.best: element %zu (layer 0's running variance, unit 3) "
             "is -0.5", at);
    ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
    run_free(&rb);
    tmlp_data_free(d);
    /* a plain model file, a missing file, a truncated one */
    ck_assert_int_eq(tmlp_model_write(bad, r.net, NULL, &err), TMLP_OK);
    tmlp_checkpoint ck;
    ck_assert_int_eq(tmlp_checkpoint_read(bad, 0, &ck, &err), TMLP_EFORMAT);
    ck_assert_int_eq(tmlp_checkpoint_read("/nonexistent/ckpt", 0, &ck, &err), TMLP_ENOTFOUND);
    struct stat st;
    stat(path, &st);
    ck_assert_int_eq(truncate(path, st.st_size - 3), 0);
    ck_assert_int_eq(tmlp_checkpoint_read(path, 0, &ck, &err), TMLP_EFORMAT);
    ck_assert_int_eq(tmlp_checkpoint_peek(path, &ck, &err), TMLP_EFORMAT);
    run_free(&r);
    tmlp_data_free(g_train);
    remove_dir(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("checkpoint");
    TMLP_ADD(s, optim_state_round_trip_continues_identically);
    TMLP_ADD(s, optim_set_state_refuses_wrong_state);
    TMLP_ADD(s, checkpoint_round_trip_keeps_everything);
    TMLP_ADD(s, xor_resumed_after_any_epoch_or_batch_is_bit_identical);
    TMLP_ADD(s, batchnorm_plateau_early_stop_clip_run_resumes_bit_identical);
    TMLP_ADD(s, dropout_run_resumes_bit_identical);
    TMLP_ADD(s, mnist_resumed_after_each_epoch_is_bit_identical);
    TMLP_ADD(s, train_state_that_does_not_fit_is_refused);
    TMLP_ADD(s, nan_gradient_stops_at_its_batch_naming_layer_and_tensor);
    TMLP_ADD(s, nan_in_the_data_stops_or_is_skipped);
    TMLP_ADD(s, divergence_stops_with_the_last_good_weights);
    TMLP_ADD(s, skip_mode_still_stops_when_the_weights_are_not_finite);
    TMLP_ADD(s, failed_checkpoint_write_keeps_the_last_good_one);
    TMLP_ADD(s, checkpoint_read_rejects_bad_files);
    return s;
}

TMLP_TEST_MAIN()
