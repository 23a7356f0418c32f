/* tinymlp/team.h: threads that share each training step's work.
 *
 * A team is the caller's thread plus threads - 1 workers it starts. Given to a net
 * (tmlp_net_set_team), it splits every large GEMM of forward and backward into column or row
 * blocks, one OpenBLAS call per block; given to an optimizer (tmlp_optim_set_team), it splits
 * the update into chunks. One team serves a net and its optimizer together: their jobs come
 * one after another from the training thread, so the same workers carry the whole step.
 *
 * Each thread owns a fixed share of every job (thread t the t-th run of its chunks) and then
 * helps with what is left of the others', so the same thread updates the same parameters and
 * computes the same units every step, with their data still in its cache. Between jobs a
 * worker spins for about 100 microseconds, the gaps inside a step, and then sleeps; an idle
 * team costs nothing. A worker that finds itself on the caller's CPU moves to another (or,
 * where it may not, sleeps at once). A team runs one job at a time: two nets trained at once
 * on different threads need a team each. Which thread does which block changes nothing: the
 * update's result is the same bits for any team size; a GEMM split into blocks can differ from
 * the unsplit product in the last bits, as it can with OpenBLAS's own threads. One thread (a
 * NULL team) cuts small products (blocks of at most 2^20 multiply-adds) into the blocks a
 * team of two uses, which is faster there, so small nets train to the same bits on one thread
 * and on two. */
#ifndef TINYMLP_TEAM_H
#define TINYMLP_TEAM_H

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_team tmlp_team;

/* A team of `threads` threads in all, 1..256 (1: no workers; every job runs on the caller).
 * NULL + err for a count outside that range, no memory, or a worker that cannot start. */
tmlp_team *tmlp_team_new(int threads, tmlp_err *err);

/* Stops and joins the workers. Nothing may be using the team. NULL is fine. */
void tmlp_team_free(tmlp_team *team);

/* Threads in the team, the caller's included; 1 for NULL. */
int tmlp_team_threads(const tmlp_team *team);

/* How a team's jobs have run since it was made. On a busy machine (another process holding a
 * core) a worker is preempted in the middle of its share and the caller waits for it, so the
 * caller times a spell of jobs run by the team against a spell run by itself alone, every
 * 0.1 to 4 s of jobs (and at once when the team's jobs slow down), and runs them the faster
 * way until the next trial; the results are the same bits either way. jobs_shared: jobs handed to the workers; jobs_alone: jobs of more than one
 * chunk the caller ran alone because of that choice (or during a trial); trials: the choices
 * made, trials_alone of which chose the caller alone. */
typedef struct tmlp_team_stats {
    long jobs_shared, jobs_alone, trials, trials_alone;
} tmlp_team_stats;

/* The counts so far; all 0 for NULL. Only while no job runs (from the caller's thread). */
tmlp_team_stats tmlp_team_get_stats(const tmlp_team *team);

/* Trials on (the default) or off: off, every job of more than one chunk is shared, however
 * slow the workers (what a benchmark of the team itself wants). From the caller's thread,
 * between jobs. NULL is fine. */
void tmlp_team_set_trials(tmlp_team *team, int on);

#ifdef __cplusplus
}
#endif

#endif
