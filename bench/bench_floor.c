/* bench_floor.c: bench/bench.c's helpers: the clock, the GEMM floor and the ways of running
 * it, the CPU's identity from /proc/cpuinfo, the spinning competitor of --busy, and the
 * summary of the issue-20 targets. Declarations and contracts in bench/bench.h. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double now(void)
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

double median(double *v, int n)
{
    if (n < 1)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

const char *const floor_way_name[FLOOR_WAYS] = { "openblas-1", "openblas-2", "team-2" };

/* The GEMMs of one training epoch of net on n rows, timed alone: forward Z = X·Wᵀ for every
 * layer, dW = dZᵀ·X for every layer, dX = dZ·W for every layer but the first. Each layer has
 * its own matrices, as in the net (a single shared set would sit in cache and flatter the
 * floor); a layer's Z is the next layer's X, and dX lands in the layer below's dZ. */
/* One product of the floor: split by the team, or with none whole through OpenBLAS (whole)
 * or cut the way one-thread training cuts it (tmlp_gemm_team with no team). */
static void floor_gemm(tmlp_team *team, int whole, int split, int ta, int tb, float beta,
                       tmlp_mat a, tmlp_mat b, tmlp_mat c)
{
    if (!team && whole)
        tmlp_gemm(ta, tb, 1.0f, a, b, beta, c);
    else
        tmlp_gemm_team(team, split, ta, tb, 1.0f, a, b, beta, c);
}

double gemm_floor(const tmlp_net_spec *spec, int n, int batch, tmlp_team *team, int whole)
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
                floor_gemm(team, whole, TMLP_SPLIT_COLS, TMLP_NOTRANS, TMLP_TRANS, 1.0f, X,
                           tmlp_mat_view(w[i], n_out, n_in), tmlp_mat_view(z[i], rows, n_out));
            }
            for (int i = nl - 1; i >= 0; i--) {
                int n_out = spec->layer[i].units, n_in = i ? spec->layer[i - 1].units : spec->n_in;
                tmlp_mat X = tmlp_mat_view(i ? z[i - 1] : x0, rows, n_in);
                tmlp_mat dZ = tmlp_mat_view(dz[i], rows, n_out);
                floor_gemm(team, whole, TMLP_SPLIT_ROWS, TMLP_TRANS, TMLP_NOTRANS, 0.0f, dZ, X,
                           tmlp_mat_view(dw[i], n_out, n_in));
                if (i > 0)
                    floor_gemm(team, whole, TMLP_SPLIT_COLS, TMLP_NOTRANS, TMLP_NOTRANS, 0.0f, dZ,
                               tmlp_mat_view(w[i], n_out, n_in),
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

floors measure_floors(const tmlp_net_spec *spec, int n, int batch, int all, tmlp_team *team2)
{
    floors f = { INFINITY, INFINITY, INFINITY, FLOOR_BLAS1, NAN };
    double blas2 = 0.0;
    if (!all) {
        tmlp_blas_threads(1);
        f.one_cut = gemm_floor(spec, n, batch, NULL, 0);
    }
    for (int way = 0; way < (all ? FLOOR_WAYS : 1); way++) {
        tmlp_blas_threads(way == FLOOR_BLAS2 ? 2 : 1);
        double t = gemm_floor(spec, n, batch, way == FLOOR_TEAM2 ? team2 : NULL, 1);
        if (way == FLOOR_BLAS1)
            f.one = t;
        if (way == FLOOR_BLAS2)
            blas2 = t;
        if (way != FLOOR_TEAM2 && t < f.blas)
            f.blas = t;
        if (t < f.best) {
            f.best = t;
            f.way = way;
        }
    }
    tmlp_blas_threads(1);
    /* OpenBLAS's own threads spin (sched_yield) for about 0.1 s after a call before they
     * sleep: let them, so that they take nothing from the next epoch. (A floor of
     * microseconds hands OpenBLAS nothing big enough to thread: no wait then.) */
    if (all) {
        double rest = blas2 > 0.0625 ? 0.25 : 4.0 * blas2;
        nanosleep(&(struct timespec){ 0, (long)(rest * 1e9) }, NULL);
    }
    return f;
}

/* "key<tabs/spaces>: value" -> value (trimmed) when the key is `key`, else NULL */
static const char *cpuinfo_value(char *line, const char *key)
{
    size_t k = strlen(key);
    if (strncmp(line, key, k) || (line[k] != ' ' && line[k] != '\t' && line[k] != ':'))
        return NULL;
    char *colon = strchr(line + k, ':');
    if (!colon)
        return NULL;
    for (char *p = line + k; p < colon; p++)
        if (*p != ' ' && *p != '\t')
            return NULL;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    v[strcspn(v, "\n")] = '\0';
    return v;
}

/* A best-effort name from AMD's family and model numbers (those of the products known to
 * us); NULL for anything else. */
static const char *amd_uarch(int family, int model)
{
    if (family == 23)
        return model < 0x30 ? "Zen/Zen+" : "Zen 2";
    if (family == 25)
        return (model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) ||
                       (model >= 0xa0 && model <= 0xaf)
                   ? "Zen 4"
                   : "Zen 3";
    if (family == 26)
        return "Zen 5";
    return NULL;
}

cpu_info cpu_read(void)
{
    cpu_info c = { "unknown", -1, -1, 0, NULL };
    int amd = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char *line = NULL;
    size_t cap = 0;
    int seen = 0;
    while (f && getline(&line, &cap, f) > 0) {
        const char *v;
        if (line[0] == '\n' && seen)
            break; /* the end of the first processor's block */
        if ((v = cpuinfo_value(line, "vendor_id")))
            amd = !strcmp(v, "AuthenticAMD");
        else if ((v = cpuinfo_value(line, "model name")))
            snprintf(c.model_name, sizeof c.model_name, "%s", v);
        else if ((v = cpuinfo_value(line, "cpu family")))
            c.family = atoi(v);
        else if ((v = cpuinfo_value(line, "model")))
            c.model = atoi(v);
        else if ((v = cpuinfo_value(line, "flags"))) {
            for (const char *p = v; (p = strstr(p, "avx512f")); p += 7)
                if ((p == v || p[-1] == ' ') && (p[7] == ' ' || p[7] == '\0'))
                    c.avx512f = 1;
        }
        seen = 1;
    }
    free(line);
    if (f)
        fclose(f);
    c.uarch = amd ? amd_uarch(c.family, c.model) : NULL;
    return c;
}

void cpu_print(const cpu_info *c)
{
    printf("CPU: %s, family %d, model %d (0x%x), AVX-512F %s; microarchitecture %s%s\n",
           c->model_name, c->family, c->model, c->model > 0 ? (unsigned)c->model : 0u,
           c->avx512f ? "yes" : "no", c->uarch ? c->uarch : "unknown",
           c->uarch ? " (inferred from family and model)" : "");
}

cJSON *cpu_json(const cpu_info *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model_name", c->model_name);
    cJSON_AddNumberToObject(j, "family", c->family);
    cJSON_AddNumberToObject(j, "model", c->model);
    cJSON_AddBoolToObject(j, "avx512f", c->avx512f);
    if (c->uarch)
        cJSON_AddStringToObject(j, "microarch_inferred", c->uarch);
    else
        cJSON_AddNullToObject(j, "microarch_inferred");
    return j;
}

pid_t competitor_start(void)
{
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the bench died before prctl */
            _exit(0);
        volatile unsigned long spin = 0;
        for (;;)
            spin++;
    }
    nanosleep(&(struct timespec){ 0, 100000000L }, NULL); /* let it start spinning */
    return pid;
}

void competitor_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Prints "  text ... PASS" with text padded to a column (counting characters, not bytes)
 * and adds the target to out. v NAN: not measured. */
static void target(cJSON *out, const char *name, const char *text, double v, double limit)
{
    const char *verdict = isnan(v) ? "-" : v <= limit ? "PASS" : "MISS";
    int chars = 0;
    for (const char *p = text; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    printf("  %s%*s %s\n", text, chars < 66 ? 66 - chars : 0, "", verdict);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "target", name);
    if (isnan(v))
        cJSON_AddNullToObject(j, "value");
    else
        cJSON_AddNumberToObject(j, "value", v);
    cJSON_AddNumberToObject(j, "limit", limit);
    if (isnan(v))
        cJSON_AddNullToObject(j, "pass");
    else
        cJSON_AddBoolToObject(j, "pass", v <= limit);
    cJSON_AddStringToObject(j, "text", text);
    cJSON_AddStringToObject(j, "verdict", verdict);
    cJSON_AddItemToArray(out, j);
}

void targets_report(const targets *t, cJSON *out)
{
    char text[256];
    const char *cores = t->cpus == 2 ? "both cores" : "all cores";
    printf("\nIssue 20 targets (PASS: the measured value, unrounded, is within the target; "
           "-: not measured):\n");
    if (isnan(t->a_one_floor))
        snprintf(text, sizeof text, "A, 1 thread: not measured (target ≤ 1.3)");
    else
        snprintf(text, sizeof text, "A, 1 thread: %.2f× its one-thread floor (target ≤ 1.3)",
                 t->a_one_floor);
    target(out, "A one thread / one-thread floor", text, t->a_one_floor, 1.3);
    if (!isnan(t->a_one_cut))
        printf("    (for context, no target: A, 1 thread, against the same GEMMs cut into blocks "
               "as one-thread training cuts them: %.2f×)\n", t->a_one_cut);

    if (isnan(t->a_multi_one))
        snprintf(text, sizeof text, "A, T threads, %s free: not measured%s (target ≤ 0.7)",
                 cores, t->a_threads == 1 ? " (T = 1)" : "");
    else
        snprintf(text, sizeof text, "A, %d threads, %s free: %.2f× one thread (target ≤ 0.7)",
                 t->a_threads, cores, t->a_multi_one);
    target(out, "A T threads / one thread, machine free", text, t->a_multi_one, 0.7);

    if (isnan(t->a_busy))
        snprintf(text, sizeof text, "A, T threads, one core busy: not measured (target ≤ 1.1)");
    else
        snprintf(text, sizeof text,
                 "A, %d threads, one core busy: %.2f× one thread (target ≤ 1.1)", t->a_threads,
                 t->a_busy);
    target(out, "A T threads / one thread, one core busy", text, t->a_busy, 1.1);
    if (!isnan(t->a_busy_free))
        printf("    (for context, no target: A, 1 thread, one core busy / free: %.2f×)\n",
               t->a_busy_free);
    if (isnan(t->b_best_floor))
        snprintf(text, sizeof text, "B, T threads: not measured (target ≤ 1.1)");
    else
        snprintf(text, sizeof text, "B, %d thread%s: %.2f× its floor (target ≤ 1.1)",
                 t->b_threads, t->b_threads == 1 ? "" : "s", t->b_best_floor);
    target(out, "B T threads / best floor", text, t->b_best_floor, 1.1);

    if (isnan(t->allocs_step))
        snprintf(text, sizeof text, "allocations per step: not measured (target 0)");
    else
        snprintf(text, sizeof text, "allocations per step: %.4g (target 0)", t->allocs_step);
    target(out, "allocations per step", text, t->allocs_step, 0.0);
}
