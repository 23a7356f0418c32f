/* bench_modes.c: bench/bench.c's other modes: --profile (one epoch taken apart, phase by
 * phase) and --replay (config A's steps from given weights, for bench/torch_ref.py), and the
 * whole-file writer both bench.c and replay use. Declarations in bench/bench.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "bench.h"
#include "tinymlp.h"

/* The team --profile uses for net at this batch (T threads, as bench.c's runs), given to net
 * and opt; NULL for one thread. */
static tmlp_team *make_team(tmlp_net *net, tmlp_optim *opt, int batch, int *threads)
{
    tmlp_team *team = tmlp_train_team(net, opt, batch, force_threads, NULL);
    *threads = tmlp_team_threads(team);
    return team;
}

/* --profile: one epoch of the same steps tmlp_train takes (shuffle and gather, forward, loss,
 * backward, optimizer), each phase timed on its own, GEMMs separated from the elementwise work
 * around them by the tmlp_gemm_team wrapper. Its total is printed, not checked, beside
 * tmlp_train's own epoch in the table above it; on a noisy machine the two can differ by a
 * third. */
typedef struct phases {
    double data, fwd, fwd_gemm, loss, bwd, bwd_gemm, optim;
} phases;

int profile_epoch(const config *c, const tmlp_data *train, cJSON *out)
{
    phases phs, *ph = &phs;
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



/* Writes n bytes to path whole (a temporary file, then renamed: a reader never sees half a
 * file); 1 and a message on failure. */
int write_whole(const char *path, const void *data, size_t n)
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
int replay(const char *init_path, int steps, const char *out_path)
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

