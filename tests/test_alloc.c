/* test_alloc.c: a training step allocates nothing.
 *
 * This binary is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so every heap
 * allocation made by libtinymlp.a (linked statically here) passes through the counters below.
 * OpenBLAS, a shared library, is not wrapped: only tinymlp's own allocations are counted. */
#include "testutil.h"

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

static tmlp_data *blobs(int n)
{
    tmlp_data *d = tmlp_data_new(n, 8, 3, 0, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 2);
    for (int i = 0; i < n * 8; i++)
        d->x[i] = tmlp_rng_normal(&r);
    for (int i = 0; i < n; i++)
        d->label[i] = (int)tmlp_rng_below(&r, 3);
    return d;
}

START_TEST(forward_loss_backward_and_update_never_allocate)
{
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 8, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "16:relu,16:tanh,3", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 32, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 1);
    tmlp_net_init(net, &r, NULL);
    size_t np;
    float *p = tmlp_net_params(net, &np), *g = tmlp_net_grads(net, NULL);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAMW);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_data *d = blobs(32);
    static float dz[32 * 3];
    long before = n_allocs;
    for (int step = 0; step < 50; step++) {
        int rows = step % 2 ? 32 : 7; /* full and partial batches */
        const float *z = tmlp_net_forward(net, d->x, rows, NULL);
        double loss;
        tmlp_loss_eval(TMLP_LOSS_SOFTMAX_CE, z, rows, 3, (tmlp_targets){ d->label, NULL }, &loss, dz, NULL);
        tmlp_net_backward(net, dz, rows, NULL);
        tmlp_optim_step(opt, p, g);
    }
    ck_assert_int_eq(n_allocs - before, 0);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

/* Allocations made by one tmlp_train call of the given number of epochs. */
static long allocs_for(int epochs)
{
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 8, TMLP_LOSS_SOFTMAX_CE);
    tmlp_net_spec_parse(&spec, "16:relu,3", NULL);
    tmlp_net *net = tmlp_net_new(&spec, 16, NULL);
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, NULL);
    tmlp_data *d = blobs(100);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = epochs;
    tc.batch = 16;
    long before = n_allocs;
    ck_assert_int_eq(tmlp_train(net, opt, d, d, &tc, NULL, NULL), TMLP_OK);
    long used = n_allocs - before;
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
    return used;
}

START_TEST(training_allocates_once_per_run_not_per_step)
{
    long one = allocs_for(1), twenty = allocs_for(20);
    ck_assert_int_eq(one, twenty);
    ck_assert_int_gt(one, 0); /* the wrap is live */
    ck_assert_int_le(one, 8);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("alloc");
    TMLP_ADD(s, forward_loss_backward_and_update_never_allocate);
    TMLP_ADD(s, training_allocates_once_per_run_not_per_step);
    return s;
}

TMLP_TEST_MAIN()
