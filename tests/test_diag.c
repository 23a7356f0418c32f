/* test_diag.c: the diag collector against statistics computed directly from the layer views,
 * records per epoch and per window, dead and saturated units, the vanishing index, chaining,
 * CSV/JSON output and "no allocation while training". */
#include "testutil.h"

#include <cJSON.h>
#include <stdio.h>

/* Counting every heap allocation of the process: the executable's malloc takes precedence
 * over libc's, and forwards to it. Not under AddressSanitizer, which owns malloc itself. */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 1
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
static long n_allocs;
void *malloc(size_t n) { n_allocs++; return __libc_malloc(n); }
void *calloc(size_t n, size_t size) { n_allocs++; return __libc_calloc(n, size); }
void *realloc(void *p, size_t n) { n_allocs++; return __libc_realloc(p, n); }
#endif

/* n samples of n_in normal features, labels from a fixed linear rule (learnable). */
static tmlp_data *blobs(int n, int n_in, int classes)
{
    tmlp_data *d = tmlp_data_new(n, n_in, classes, 0, NULL);
    tmlp_rng r;
    tmlp_rng_seed(&r, 7, 3);
    for (int i = 0; i < n * n_in; i++)
        d->x[i] = tmlp_rng_normal(&r);
    for (int i = 0; i < n; i++) {
        float s = 0.0f;
        for (int j = 0; j < n_in; j++)
            s += d->x[i * n_in + j] * (float)(j % 3 - 1);
        d->label[i] = s > 0.0f ? 1 : 0;
        if (classes > 2 && d->x[i * n_in] > 1.0f)
            d->label[i] = 2;
    }
    return d;
}

static tmlp_net *make_net(int n_in, const char *layers, int loss, int max_batch, uint64_t seed)
{
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, n_in, loss);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, layers, NULL), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, max_batch, NULL);
    ck_assert_ptr_nonnull(net);
    tmlp_rng r;
    tmlp_rng_seed(&r, seed, 1);
    ck_assert_int_eq(tmlp_net_init(net, &r, NULL), TMLP_OK);
    return net;
}

static tmlp_optim *make_opt(tmlp_net *net, int kind, float lr)
{
    size_t n;
    tmlp_net_params(net, &n);
    tmlp_optim_cfg oc = tmlp_optim_defaults(kind);
    oc.lr = lr;
    tmlp_optim *o = tmlp_optim_new(&oc, n, NULL);
    ck_assert_ptr_nonnull(o);
    return o;
}

/* What on_record saw: copies of up to 64 records of up to 12 layers. */
#define MAXREC 64
typedef struct seen {
    int n, stop_after;
    tmlp_diag_record rec[MAXREC];
    tmlp_diag_layer layer[MAXREC][12];
} seen;

static int keep(void *ctx, const tmlp_diag_record *r)
{
    seen *s = ctx;
    if (s->n < MAXREC) {
        s->rec[s->n] = *r;
        memcpy(s->layer[s->n], r->layer, (size_t)r->n_layers * sizeof *r->layer);
        s->rec[s->n].layer = s->layer[s->n];
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

/* Trains net on d with a collector (cfg) and an optional next observer; returns the status. */
static int run(tmlp_net *net, tmlp_optim *opt, const tmlp_data *d, int epochs, int batch,
               tmlp_diag_cfg cfg, seen *s, const tmlp_observer *next)
{
    cfg.on_record = keep;
    cfg.ctx = s;
    tmlp_diag *dg = tmlp_diag_new(net, &cfg, NULL);
    ck_assert_ptr_nonnull(dg);
    tmlp_observer obs = tmlp_diag_observer(dg, next);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = epochs;
    tc.batch = batch;
    int rc = tmlp_train(net, opt, d, NULL, &tc, &obs, NULL);
    tmlp_diag_free(dg);
    return rc;
}

START_TEST(one_record_per_epoch_covering_every_batch)
{
    tmlp_data *d = blobs(40, 5, 2);
    tmlp_net *net = make_net(5, "6:tanh,1", TMLP_LOSS_SIGMOID_BCE, 8, 1);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.01f);
    static seen s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(run(net, opt, d, 3, 8, tmlp_diag_defaults(), &s, NULL), TMLP_OK);
    ck_assert_int_eq(s.n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(s.rec[i].seq, i);
        ck_assert_int_eq(s.rec[i].epoch, i + 1);
        ck_assert_int_eq(s.rec[i].whole_epoch, 1);
        ck_assert_int_eq(s.rec[i].steps, 5);
        ck_assert_int_eq(s.rec[i].first_batch, 1);
        ck_assert_int_eq(s.rec[i].last_batch, 5);
        ck_assert_int_eq((int)s.rec[i].samples, 40);
        ck_assert_int_eq(s.rec[i].n_layers, 2);
        ck_assert_str_eq(s.rec[i].layer[0].act, "tanh");
        ck_assert_str_eq(s.rec[i].layer[1].act, "identity");
        ck_assert_int_eq(s.rec[i].layer[0].units, 6);
        ck_assert(isfinite(s.rec[i].loss) && s.rec[i].loss > 0.0);
        ck_assert(isnan(s.rec[i].val_loss));
    }
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

START_TEST(every_n_batches_adds_window_records)
{
    tmlp_data *d = blobs(40, 5, 2);
    tmlp_net *net = make_net(5, "6:relu,1", TMLP_LOSS_SIGMOID_BCE, 8, 1);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.01f);
    static seen s;
    memset(&s, 0, sizeof s);
    tmlp_diag_cfg cfg = tmlp_diag_defaults();
    cfg.every = 2; /* 5 batches: windows 1-2, 3-4, 5, then the epoch */
    ck_assert_int_eq(run(net, opt, d, 2, 8, cfg, &s, NULL), TMLP_OK);
    ck_assert_int_eq(s.n, 8);
    const int first[4] = { 1, 3, 5, 1 }, last[4] = { 2, 4, 5, 5 };
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(s.rec[i].epoch, i / 4 + 1);
        ck_assert_int_eq(s.rec[i].whole_epoch, i % 4 == 3);
        ck_assert_int_eq(s.rec[i].first_batch, first[i % 4]);
        ck_assert_int_eq(s.rec[i].last_batch, last[i % 4]);
    }
    /* The epoch's gradient norm is the step-weighted mean of its windows'. */
    double w = (2 * s.layer[0][0].grad_norm + 2 * s.layer[1][0].grad_norm + s.layer[2][0].grad_norm) / 5;
    ck_assert_close(s.layer[3][0].grad_norm, w, 1e-12);
    /* Every step's update is measured once: windows 1-2 and 3-4 see two updates each. */
    double u = (2 * s.layer[0][0].update_ratio + 2 * s.layer[1][0].update_ratio +
                s.layer[2][0].update_ratio) / 5;
    ck_assert_close(s.layer[3][0].update_ratio, u, 1e-12);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

/* A second observer that computes the statistics straight from the layer views. */
typedef struct direct {
    tmlp_optim *opt;      /* for SGD's update: lr * ||dW|| */
    int n_layers, steps, stop_at_epoch, batches, epochs;
    double grad[4], dz[4], weight[4], upd[4];
    double u_sum[4], u_sq[4], a_sum[4], a_sq[4];
    long n[4];
    unsigned char alive[4][64];
    long sat[4][64], samples;
} direct;

static double norm(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return sqrt(s);
}

static int direct_batch(void *ctx, const tmlp_batch_info *b)
{
    direct *t = ctx;
    t->batches++;
    t->steps++;
    for (int i = 0; i < t->n_layers; i++) {
        tmlp_layer_view v;
        tmlp_net_layer(b->net, i, &v, NULL);
        size_t nw = (size_t)v.n_out * v.n_in, nz = (size_t)v.batch * v.n_out;
        double g = norm(v.dW, nw), w = norm(v.W, nw);
        t->grad[i] += g;
        t->dz[i] += norm(v.dz, nz);
        t->weight[i] += w;
        t->upd[i] += (double)tmlp_optim_lr(t->opt) * g / w; /* plain SGD: ΔW = -lr dW */
        for (size_t k = 0; k < nz; k++) {
            t->u_sum[i] += v.u[k];
            t->u_sq[i] += (double)v.u[k] * v.u[k];
            t->a_sum[i] += v.a[k];
            t->a_sq[i] += (double)v.a[k] * v.a[k];
            int j = (int)(k % (size_t)v.n_out);
            if (v.a[k] != 0.0f)
                t->alive[i][j] = 1;
            float s = 1.0f / (1.0f + expf(-v.u[k]));
            if (s * (1.0f - s) < 0.01f)
                t->sat[i][j]++;
        }
        t->n[i] += (long)nz;
    }
    tmlp_layer_view v0;
    tmlp_net_layer(b->net, 0, &v0, NULL);
    t->samples += v0.batch;
    return 0;
}

static int direct_epoch(void *ctx, const tmlp_epoch_info *e)
{
    direct *t = ctx;
    t->epochs++;
    return t->stop_at_epoch && e->epoch >= t->stop_at_epoch;
}

START_TEST(statistics_match_a_direct_computation)
{
    tmlp_data *d = blobs(48, 6, 3);
    tmlp_net *net = make_net(6, "10:sigmoid,7:relu,3", TMLP_LOSS_SOFTMAX_CE, 12, 2);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_SGD, 0.1f);
    static direct t;
    memset(&t, 0, sizeof t);
    t.opt = opt;
    t.n_layers = 3;
    tmlp_observer next = { direct_batch, direct_epoch, &t };
    static seen s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(run(net, opt, d, 1, 12, tmlp_diag_defaults(), &s, &next), TMLP_OK);
    ck_assert_int_eq(s.n, 1);
    const tmlp_diag_layer *L = s.rec[0].layer;
    for (int i = 0; i < 3; i++) {
        ck_assert_close(L[i].grad_norm, t.grad[i] / t.steps, 1e-9);
        ck_assert_close(L[i].dz_norm, t.dz[i] / t.steps, 1e-9);
        ck_assert_close(L[i].weight_norm, t.weight[i] / t.steps, 1e-9);
        ck_assert_close(L[i].update_ratio, t.upd[i] / t.steps, 1e-4);
        double m = t.u_sum[i] / t.n[i], a = t.a_sum[i] / t.n[i];
        ck_assert_close(L[i].pre_mean, m, 1e-9);
        ck_assert_close(L[i].pre_std, sqrt(t.u_sq[i] / t.n[i] - m * m), 1e-9);
        ck_assert_close(L[i].out_mean, a, 1e-9);
        ck_assert_close(L[i].out_std, sqrt(t.a_sq[i] / t.n[i] - a * a), 1e-9);
        ck_assert(L[i].grad_norm > 1e-4); /* not a trivial pass */
    }
    ck_assert_close(s.rec[0].vanish_index, L[0].grad_norm / L[2].grad_norm, 1e-12);
    ck_assert(isnan(L[0].dead_frac) && !isnan(L[0].sat_frac)); /* sigmoid saturates, cannot die */
    ck_assert(!isnan(L[1].dead_frac) && isnan(L[1].sat_frac)); /* relu dies, does not saturate */
    ck_assert(isnan(L[2].dead_frac) && isnan(L[2].sat_frac));  /* identity: neither */
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

START_TEST(dead_and_saturated_units_are_counted)
{
    tmlp_data *d = blobs(48, 6, 2);
    tmlp_net *net = make_net(6, "8:relu,10:sigmoid,1", TMLP_LOSS_SIGMOID_BCE, 16, 3);
    tmlp_layer_view v;
    tmlp_net_layer(net, 0, &v, NULL);
    for (int j = 0; j < 3; j++)
        v.b[j] = -1000.0f;      /* never positive: dead, and no gradient can revive them */
    tmlp_net_layer(net, 1, &v, NULL);
    for (int j = 0; j < 4; j++)
        v.b[j] = j % 2 ? 60.0f : -60.0f; /* sigmoid'(±60) ~ 1e-26: saturated */
    tmlp_optim *opt = make_opt(net, TMLP_OPT_SGD, 0.05f);
    static direct t;
    memset(&t, 0, sizeof t);
    t.opt = opt;
    t.n_layers = 3;
    tmlp_observer next = { direct_batch, direct_epoch, &t };
    static seen s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(run(net, opt, d, 1, 16, tmlp_diag_defaults(), &s, &next), TMLP_OK);
    int dead = 0, sat = 0;
    for (int j = 0; j < 8; j++)
        dead += !t.alive[0][j];
    for (int j = 0; j < 10; j++)
        sat += t.sat[1][j] > t.samples / 2;
    ck_assert_int_ge(dead, 3);
    ck_assert_int_ge(sat, 4);
    ck_assert_close(s.rec[0].layer[0].dead_frac, dead / 8.0, 1e-12);
    ck_assert_close(s.rec[0].layer[1].sat_frac, sat / 10.0, 1e-12);

    /* A threshold of 0 counts nothing as saturated. */
    tmlp_diag_cfg cfg = tmlp_diag_defaults();
    cfg.sat_threshold = 0.0f;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(run(net, opt, d, 1, 16, cfg, &s, NULL), TMLP_OK);
    ck_assert_close(s.rec[0].layer[1].sat_frac, 0.0, 0.0);
    ck_assert(s.rec[0].layer[0].dead_frac >= 3 / 8.0); /* still dead */
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

static double index_for(const char *layers)
{
    tmlp_data *d = blobs(64, 16, 2);
    tmlp_net *net = make_net(16, layers, TMLP_LOSS_SIGMOID_BCE, 16, 4);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.001f);
    static seen s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(run(net, opt, d, 1, 16, tmlp_diag_defaults(), &s, NULL), TMLP_OK);
    double idx = s.rec[0].vanish_index;
    int last = s.rec[0].n_layers - 1;
    ck_assert_close(idx, s.rec[0].layer[0].grad_norm / s.rec[0].layer[last].grad_norm, 1e-12);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
    return idx;
}

START_TEST(vanishing_index_exposes_deep_sigmoid_stacks)
{
    double sig = index_for("16:sigmoid,16:sigmoid,16:sigmoid,16:sigmoid,16:sigmoid,16:sigmoid,"
                           "16:sigmoid,16:sigmoid,1");
    double relu = index_for("16:relu,16:relu,16:relu,16:relu,16:relu,16:relu,16:relu,16:relu,1");
    ck_assert_msg(sig * 100.0 < relu, "sigmoid index %g, relu index %g", sig, relu);
}
END_TEST

START_TEST(chained_observer_runs_and_either_side_can_stop)
{
    tmlp_data *d = blobs(32, 4, 2);
    tmlp_net *net = make_net(4, "5:elu,1", TMLP_LOSS_SIGMOID_BCE, 8, 1);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.01f);
    static direct t;
    static seen s;
    memset(&t, 0, sizeof t);
    memset(&s, 0, sizeof s);
    t.opt = opt;
    t.n_layers = 2;
    t.stop_at_epoch = 2;
    tmlp_observer next = { direct_batch, direct_epoch, &t };
    ck_assert_int_eq(run(net, opt, d, 5, 8, tmlp_diag_defaults(), &s, &next), TMLP_OK);
    ck_assert_int_eq(t.batches, 8);
    ck_assert_int_eq(t.epochs, 2);
    ck_assert_int_eq(s.n, 2);
    /* on_record asking to stop ends training too, before next hears of that epoch */
    memset(&t, 0, sizeof t);
    memset(&s, 0, sizeof s);
    t.opt = opt;
    t.n_layers = 2;
    s.stop_after = 3;
    ck_assert_int_eq(run(net, opt, d, 5, 8, tmlp_diag_defaults(), &s, &next), TMLP_OK);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(t.epochs, 2);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

START_TEST(last_and_reset)
{
    tmlp_data *d = blobs(16, 3, 2);
    tmlp_net *net = make_net(3, "4:relu,1", TMLP_LOSS_SIGMOID_BCE, 8, 1);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.01f);
    tmlp_diag *dg = tmlp_diag_new(net, NULL, NULL);
    ck_assert_ptr_null(tmlp_diag_last(dg));
    tmlp_observer obs = tmlp_diag_observer(dg, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = 2;
    tc.batch = 8;
    ck_assert_int_eq(tmlp_train(net, opt, d, d, &tc, &obs, NULL), TMLP_OK);
    const tmlp_diag_record *r = tmlp_diag_last(dg);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->epoch, 2);
    ck_assert_int_eq(r->seq, 1);
    ck_assert(isfinite(r->val_loss) && isfinite(r->val_acc)); /* taken from the loop */
    tmlp_diag_reset(dg);
    ck_assert_ptr_null(tmlp_diag_last(dg));
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, &obs, NULL), TMLP_OK);
    ck_assert_int_eq(tmlp_diag_last(dg)->seq, 1);
    tmlp_diag_free(dg);
    tmlp_diag_free(NULL);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

START_TEST(new_rejects_bad_settings)
{
    tmlp_net *net = make_net(3, "4:relu,1", TMLP_LOSS_SIGMOID_BCE, 8, 1);
    tmlp_err err;
    tmlp_diag_cfg c = tmlp_diag_defaults();
    c.every = -1;
    ck_assert_ptr_null(tmlp_diag_new(net, &c, &err));
    ck_assert_int_eq(err.code, TMLP_EINVAL);
    c = tmlp_diag_defaults();
    c.sat_fraction = 1.0f;
    ck_assert_ptr_null(tmlp_diag_new(net, &c, &err));
    c = tmlp_diag_defaults();
    c.sat_threshold = NAN;
    ck_assert_ptr_null(tmlp_diag_new(net, &c, &err));
    ck_assert_ptr_null(tmlp_diag_new(NULL, NULL, &err));
    tmlp_net_free(net);
}
END_TEST

/* Reads all of f into a new string. */
static char *slurp(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    ck_assert_int_eq((long)fread(s, 1, (size_t)n, f), n);
    return s;
}

START_TEST(csv_and_json_output)
{
    tmlp_data *d = blobs(32, 4, 2);
    tmlp_net *net = make_net(4, "5:relu,3:tanh,1", TMLP_LOSS_SIGMOID_BCE, 8, 1);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.01f);
    static seen s;
    memset(&s, 0, sizeof s);
    tmlp_diag_cfg cfg = tmlp_diag_defaults();
    cfg.every = 3;
    ck_assert_int_eq(run(net, opt, d, 2, 8, cfg, &s, NULL), TMLP_OK);
    ck_assert_int_eq(s.n, 6); /* per epoch: windows 1-3, 4, the epoch */

    FILE *f = tmpfile();
    ck_assert_int_eq(tmlp_diag_write_begin(f, TMLP_DIAG_CSV, NULL), TMLP_OK);
    for (int i = 0; i < s.n; i++)
        ck_assert_int_eq(tmlp_diag_write(f, TMLP_DIAG_CSV, &s.rec[i], i, NULL), TMLP_OK);
    ck_assert_int_eq(tmlp_diag_write_end(f, TMLP_DIAG_CSV, NULL), TMLP_OK);
    char *csv = slurp(f);
    fclose(f);
    int lines = 0, commas_header = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    for (char *p = csv; *p != '\n'; p++)
        commas_header += *p == ',';
    ck_assert_int_eq(lines, 1 + 6 * 3);
    ck_assert(strncmp(csv, "kind,epoch,", 11) == 0);
    ck_assert_ptr_nonnull(strstr(csv, "\nwindow,1,1,3,3,24,"));
    ck_assert_ptr_nonnull(strstr(csv, "\nepoch,2,1,4,4,32,"));
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        int c = 0;
        for (char *p = line; *p != '\n'; p++)
            c += *p == ',';
        ck_assert_int_eq(c, commas_header);
    }
    free(csv);

    f = tmpfile();
    tmlp_diag_write_begin(f, TMLP_DIAG_JSON, NULL);
    for (int i = 0; i < s.n; i++)
        tmlp_diag_write(f, TMLP_DIAG_JSON, &s.rec[i], i, NULL);
    tmlp_diag_write_end(f, TMLP_DIAG_JSON, NULL);
    char *json = slurp(f);
    fclose(f);
    cJSON *j = cJSON_Parse(json);
    ck_assert_msg(j != NULL, "not JSON: %.200s", json);
    ck_assert_int_eq(cJSON_GetArraySize(j), 6);
    cJSON *e = cJSON_GetArrayItem(j, 2);
    ck_assert_str_eq(cJSON_GetObjectItem(e, "kind")->valuestring, "epoch");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "val_loss")));
    cJSON *layers = cJSON_GetObjectItem(e, "layers");
    ck_assert_int_eq(cJSON_GetArraySize(layers), 3);
    cJSON *l0 = cJSON_GetArrayItem(layers, 0), *l1 = cJSON_GetArrayItem(layers, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(l1, "act")->valuestring, "tanh");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l1, "dead_frac")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(l0, "dead_frac")));
    ck_assert_close(cJSON_GetObjectItem(l0, "grad_norm")->valuedouble, s.rec[2].layer[0].grad_norm, 1e-8);
    cJSON_Delete(j);
    free(json);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
}
END_TEST

#ifdef COUNT_ALLOCS
static long allocs_for(int epochs)
{
    tmlp_data *d = blobs(64, 8, 3);
    tmlp_net *net = make_net(8, "12:relu,9:sigmoid,3", TMLP_LOSS_SOFTMAX_CE, 8, 1);
    tmlp_optim *opt = make_opt(net, TMLP_OPT_ADAM, 0.01f);
    static seen s;
    memset(&s, 0, sizeof s);
    tmlp_diag_cfg cfg = tmlp_diag_defaults();
    cfg.every = 3;
    cfg.on_record = keep;
    cfg.ctx = &s;
    tmlp_diag *dg = tmlp_diag_new(net, &cfg, NULL);
    tmlp_observer obs = tmlp_diag_observer(dg, NULL);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = epochs;
    tc.batch = 8;
    long before = n_allocs;
    ck_assert_int_eq(tmlp_train(net, opt, d, NULL, &tc, &obs, NULL), TMLP_OK);
    long used = n_allocs - before;
    ck_assert_int_eq(s.n, epochs * 4);
    tmlp_diag_free(dg);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(d);
    return used;
}
#endif

START_TEST(collecting_allocates_nothing_per_step)
{
#ifdef COUNT_ALLOCS
    long one = allocs_for(1), five = allocs_for(5);
    ck_assert_int_eq(one, five); /* the loop's own buffers only, however long it runs */
#endif
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("diag");
    TMLP_ADD(s, one_record_per_epoch_covering_every_batch);
    TMLP_ADD(s, every_n_batches_adds_window_records);
    TMLP_ADD(s, statistics_match_a_direct_computation);
    TMLP_ADD(s, dead_and_saturated_units_are_counted);
    TMLP_ADD(s, vanishing_index_exposes_deep_sigmoid_stacks);
    TMLP_ADD(s, chained_observer_runs_and_either_side_can_stop);
    TMLP_ADD(s, last_and_reset);
    TMLP_ADD(s, new_rejects_bad_settings);
    TMLP_ADD(s, csv_and_json_output);
    TMLP_ADD(s, collecting_allocates_nothing_per_step);
    return s;
}

TMLP_TEST_MAIN()
