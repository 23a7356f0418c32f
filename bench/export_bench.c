/* export_bench.c: single-row latency of an exported network (docs/deploy.md): the float
 * header, the int8 header and tmlp_net_predict on the same model and the same MNIST test rows,
 * in one run, as ratios. A benchmark, not a test: `make bench-export` builds the model, both
 * headers and this program, then runs it; read the ratios, on a quiet machine.
 *
 *   build/bench/export_bench MODEL [ROWS]    (ROWS: test rows timed per pass, default 1000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinymlp.h"
#include "digits.h"  /* tinymlp export MODEL --c BUILD/bench/digits.h --name digits */
#include "digits8.h" /* ... --int8 --calib mnist --c BUILD/bench/digits8.h --name digits8 */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* which: 0 float header, 1 int8 header, 2 tmlp_net_predict; returns seconds per row (the
 * best of 5 passes over n rows) and the classes' checksum into *sum. */
static double time_rows(int which, tmlp_net *net, const float *raw, const float *scaled, int n,
                        long *sum)
{
    double best = 1e30;
    float out[DIGITS_N_OUT];
    for (int pass = 0; pass < 5; pass++) {
        long s = 0;
        double t0 = now();
        for (int r = 0; r < n; r++) {
            if (which == 0) {
                s += digits_classify(raw + (size_t)r * DIGITS_N_IN);
            } else if (which == 1) {
                s += digits8_classify(raw + (size_t)r * DIGITS_N_IN);
            } else {
                tmlp_net_predict(net, scaled + (size_t)r * DIGITS_N_IN, 1, out, NULL);
                int k = 0;
                for (int j = 1; j < DIGITS_N_OUT; j++)
                    k = out[j] > out[k] ? j : k;
                s += k;
            }
        }
        double t = (now() - t0) / n;
        best = t < best ? t : best;
        *sum = s;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: export_bench MODEL [ROWS]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    tmlp_err err = { 0 };
    tmlp_data *train = NULL, *test = NULL;
    tmlp_net *net = tmlp_model_read(argv[1], 1, NULL, &err);
    if (!net || tmlp_idx_load_folder("data/mnist", &train, &test, &err)) {
        fprintf(stderr, "export_bench: %s\n", err.msg);
        return 1;
    }
    n = n < 1 || n > test->n ? test->n : n;
    float *raw = malloc((size_t)n * DIGITS_N_IN * sizeof *raw);
    if (!raw || test->n_in != DIGITS_N_IN)
        return 1;
    for (size_t k = 0; k < (size_t)n * DIGITS_N_IN; k++)
        raw[k] = test->x[k] * 255.0f; /* the loader scaled the pixels to [0, 1]; the headers take 0..255 */
    long s[3];
    double t[3];
    for (int w = 0; w < 3; w++)
        t[w] = time_rows(w, net, raw, test->x, n, &s[w]);
    printf("single-row latency on %d MNIST test rows (best of 5 passes)\n", n);
    printf("  float header      %8.2f us  %5.2fx tmlp_net_predict\n", 1e6 * t[0], t[0] / t[2]);
    printf("  int8 header       %8.2f us  %5.2fx tmlp_net_predict\n", 1e6 * t[1], t[1] / t[2]);
    printf("  tmlp_net_predict  %8.2f us\n", 1e6 * t[2]);
    printf("  class checksums   %ld %ld %ld\n", s[0], s[1], s[2]);
    free(raw);
    tmlp_data_free(train);
    tmlp_data_free(test);
    tmlp_net_free(net);
    return 0;
}
