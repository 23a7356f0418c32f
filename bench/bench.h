/* bench.h: what bench/bench.c and its helpers in bench/bench_floor.c share. Not part of the
 * library: the benchmark's own clock, the GEMM floor, the CPU's identity, the competitor
 * process of --busy, and the summary of the issue-20 targets. */
#ifndef TINYMLP_BENCH_H
#define TINYMLP_BENCH_H

#include <sys/types.h>

#include <cJSON.h>

#include "tinymlp.h"

/* bench.c's settings and the GEMM time its wrappers count (for --profile) */
extern int force_threads;    /* --threads N; 0: as tmlp_train_threads_auto chooses */
extern double gemm_seconds;

typedef struct config {
    const char *name, *data, *layers; /* hidden layers; output follows from the data */
    int batch, epochs;                 /* epochs measured after the warm-up epoch */
    int subset;                        /* train on the first `subset` rows (0: all) */
    int seeds;                         /* test accuracy: the mean over seeds 1..seeds */
} config;

/* bench_modes.c: --profile prints one epoch of c taken apart and adds it to out; --replay
 * (see there); write_whole writes n bytes to path whole (a temporary file, then renamed),
 * 1 and a message on failure. */
int profile_epoch(const config *c, const tmlp_data *train, cJSON *out);
int replay(const char *init_path, int steps, const char *out_path);
int write_whole(const char *path, const void *data, size_t n);

double now(void);                  /* CLOCK_MONOTONIC, seconds */
double median(double *v, int n);   /* sorts v */

/* The ways the floor runs its GEMMs; the best floor is the fastest of them */
enum { FLOOR_BLAS1, FLOOR_BLAS2, FLOOR_TEAM2, FLOOR_WAYS };
extern const char *const floor_way_name[FLOOR_WAYS];

/* The GEMMs of one training epoch of spec on n rows, timed alone, run by team (NULL and
 * whole: whole products through OpenBLAS on however many threads it has; NULL and !whole:
 * cut as one-thread training cuts them, small products in a team of two's blocks);
 * INFINITY without memory. */
double gemm_floor(const tmlp_net_spec *spec, int n, int batch, tmlp_team *team, int whole);

/* The floors measured after one epoch. one: OpenBLAS on one thread, whole products, no team.
 * With all set, also OpenBLAS on two threads of its own and a team of two (team2) splitting
 * the products; blas is the faster OpenBLAS way, best the fastest of all, way which one.
 * Without all, blas = best = one, and one_cut is one thread with the products cut as
 * one-thread training cuts them (NAN with all). Leaves OpenBLAS on one thread. */
typedef struct floors {
    double one, blas, best;
    int way;
    double one_cut;
} floors;
floors measure_floors(const tmlp_net_spec *spec, int n, int batch, int all, tmlp_team *team2);

/* /proc/cpuinfo's first processor, and a best-effort name for its microarchitecture */
typedef struct cpu_info {
    char model_name[128];
    int family, model;   /* -1 when not found */
    int avx512f;
    const char *uarch;   /* inferred from vendor, family and model; NULL when unknown */
} cpu_info;
cpu_info cpu_read(void);
void cpu_print(const cpu_info *c);
cJSON *cpu_json(const cpu_info *c);

/* --busy: a child process spinning on one core (not pinned) until competitor_stop; it also
 * dies with the bench (PR_SET_PDEATHSIG). Returns its pid, or -1 (with a message). */
pid_t competitor_start(void);
void competitor_stop(pid_t pid);

/* The issue-20 targets: adds each to out ("target", "value" or null, "limit", "pass") and
 * prints them, from the figures bench.c measured (NAN: not measured). */
typedef struct targets {
    double a_one_floor;    /* A, 1 thread: epoch / one-thread floor */
    double a_one_cut;      /* A, 1 thread: epoch / one-thread floor of products cut as trained */
    double a_one_free_s;   /* A, 1 thread, machine free: seconds per epoch (for --busy) */
    int a_threads;         /* T for A (1: no multi-thread run) */
    double a_multi_one;    /* A, T threads / 1 thread, machine free */
    double a_busy;         /* A, T threads / 1 thread, one core busy */
    double a_busy_free;    /* A, 1 thread busy / 1 thread free (context, no target) */
    int b_threads;
    double b_best_floor;   /* B, T threads: epoch / best floor */
    double allocs_step;    /* the most of any configuration and run */
    int cpus;
} targets;
void targets_report(const targets *t, cJSON *out);

#endif
