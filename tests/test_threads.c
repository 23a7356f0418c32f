/* test_threads.c: no hidden global state. Two different nets trained at the same time in two
 * threads of one process end with the same bits as each trained alone; so do two identical
 * ones; and each thread's errors, checkpoints and registry look-ups stay its own. `make tsan`
 * runs this suite under ThreadSanitizer (CI does), which also reports any data race. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "testutil.h"

typedef struct job {
    const char *layers;  /* hidden layers */
    int loss, opt, n_in, classes, n, batch, epochs;
    uint64_t seed;
    const char *ckpt;    /* a checkpoint written after every epoch, or NULL */
    float *out;          /* (n_params) the final parameters */
    size_t n_params;
    int failed;
    char msg[TMLP_ERR_MSG];
} job;

static tmlp_data *blobs(int n, int n_in, int classes, uint64_t seed)
{
    tmlp_data *d = tmlp_data_new(n, n_in, classes, 0, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 7);
    for (int i = 0; i < n; i++) {
        d->label[i] = i % classes;
        for (int j = 0; j < n_in; j++)
            d->x[(size_t)i * n_in + j] = (float)(j % classes == d->label[i]) + tmlp_rng_normal(&r);
    }
    return d;
}

typedef struct ctx { job *j; tmlp_net *net; tmlp_optim *opt; tmlp_train_cfg *cfg; } ctx;

static int save_each_epoch(void *p, const tmlp_epoch_info *e)
{
    ctx *c = p;
    tmlp_err err;
    (void)e;
    if (tmlp_checkpoint_write(c->j->ckpt, c->net, c->opt, c->cfg, c->cfg->state, NULL, &err)) {
        snprintf(c->j->msg, sizeof c->j->msg, "%s", err.msg);
        c->j->failed = 1;
        return 1;
    }
    return 0;
}

/* Everything a run touches is made here, in the calling thread. */
static void *run(void *arg)
{
    job *j = arg;
    tmlp_err err = { 0 };
    tmlp_data *d = blobs(j->n, j->n_in, j->classes, j->seed);
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, j->n_in, j->loss);
    tmlp_net *net = NULL;
    tmlp_optim *opt = NULL;
    if (tmlp_net_spec_parse(&spec, j->layers, &err) ||
        tmlp_net_spec_add(&spec, j->loss == TMLP_LOSS_SIGMOID_BCE ? 1 : j->classes, NULL, 0, &err) ||
        !(net = tmlp_net_new(&spec, j->batch, &err)))
        goto fail;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, j->seed, 1);
    if (tmlp_net_init(net, &rng, &err))
        goto fail;
    tmlp_optim_cfg oc = tmlp_optim_defaults(j->opt);
    tmlp_net_params(net, &j->n_params);
    if (!(opt = tmlp_optim_new(&oc, j->n_params, &err)))
        goto fail;
    tmlp_schedule sched = tmlp_schedule_defaults(TMLP_SCHED_COSINE, oc.lr);
    tmlp_train_state st = { 0 };
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = j->epochs;
    tc.batch = j->batch;
    tc.seed = j->seed;
    tc.schedule = &sched;
    tc.state = &st;
    ctx c = { j, net, opt, &tc };
    tmlp_observer obs = { NULL, j->ckpt ? save_each_epoch : NULL, &c };
    /* a failing call in this thread says what failed here, whatever the other thread does */
    int kind;
    if (tmlp_optim_find(j->layers, &kind, &err) != TMLP_ENOTFOUND || !strstr(err.msg, j->layers)) {
        snprintf(j->msg, sizeof j->msg, "error message of another thread: %.200s", err.msg);
        j->failed = 1;
    }
    if (tmlp_train(net, opt, d, NULL, &tc, &obs, &err))
        goto fail;
    tmlp_train_state_free(&st);
    j->out = malloc(j->n_params * sizeof *j->out);
    memcpy(j->out, tmlp_net_params(net, NULL), j->n_params * sizeof *j->out);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
    return NULL;
fail:
    snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    j->failed = 1;
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
    return NULL;
}

static void run_pair(job *a, job *b, int together)
{
    if (together) {
        pthread_t ta, tb;
        ck_assert_int_eq(pthread_create(&ta, NULL, run, a), 0);
        ck_assert_int_eq(pthread_create(&tb, NULL, run, b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
    } else {
        run(a);
        run(b);
    }
    ck_assert_msg(!a->failed, "%s", a->msg);
    ck_assert_msg(!b->failed, "%s", b->msg);
}

static void check(job ja, job jb)
{
    tmlp_blas_threads(1);
    job a1 = ja, b1 = jb, a2 = ja, b2 = jb;
    run_pair(&a1, &b1, 0);
    run_pair(&a2, &b2, 1);
    ck_assert_uint_eq(a1.n_params, a2.n_params);
    ck_assert_uint_eq(b1.n_params, b2.n_params);
    ck_assert_msg(!memcmp(a1.out, a2.out, a1.n_params * sizeof(float)),
                  "net A differs when trained beside net B");
    ck_assert_msg(!memcmp(b1.out, b2.out, b1.n_params * sizeof(float)),
                  "net B differs when trained beside net A");
    free(a1.out);
    free(a2.out);
    free(b1.out);
    free(b2.out);
}

START_TEST(two_different_nets_in_two_threads_match_each_alone)
{
    char dir[] = "/tmp/tmlp_threads_XXXXXX", pa[64], pb[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(pa, sizeof pa, "%s/a.ckpt", dir);
    snprintf(pb, sizeof pb, "%s/b.ckpt", dir);
    job a = { .layers = "16:tanh,8:relu", .loss = TMLP_LOSS_SIGMOID_BCE, .opt = TMLP_OPT_ADAM,
              .n_in = 5, .classes = 2, .n = 300, .batch = 16, .epochs = 15, .seed = 3,
              .ckpt = pa };
    job b = { .layers = "24:gelu:bn,12:sigmoid:l2=0.001", .loss = TMLP_LOSS_SOFTMAX_CE,
              .opt = TMLP_OPT_NESTEROV, .n_in = 7, .classes = 4, .n = 400, .batch = 32,
              .epochs = 12, .seed = 4, .ckpt = pb };
    check(a, b);
    unlink(pa);
    unlink(pb);
    rmdir(dir);
}
END_TEST

START_TEST(two_identical_nets_in_two_threads_match_one_alone)
{
    job a = { .layers = "32:relu,16:elu", .loss = TMLP_LOSS_SOFTMAX_CE, .opt = TMLP_OPT_RMSPROP,
              .n_in = 9, .classes = 3, .n = 360, .batch = 24, .epochs = 10, .seed = 5 };
    check(a, a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("threads");
    TMLP_ADD(s, two_different_nets_in_two_threads_match_each_alone);
    TMLP_ADD(s, two_identical_nets_in_two_threads_match_one_alone);
    return s;
}

TMLP_TEST_MAIN()
