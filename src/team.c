/* team.c: the worker threads of a team (tinymlp/team.h, team_impl.h).
 *
 * A job is published by writing its fields, marking its generation g open (`open = g`) and
 * then setting `gen = g`. A worker that sees a new generation g announces itself in `active`,
 * checks that g is still the open job, and claims chunks until none are left (see `share`). The
 * caller claims chunks too; when it runs out it closes the job (`open = 0`) and waits until
 * `active` is zero. With sequentially consistent atomics a late worker either is seen in
 * `active` (and waited for) or finds its g no longer open (and touches nothing), so the caller
 * may return and reuse the fields at once. A worker delayed across several jobs holds a stale
 * g, which is never open again (generations skip 0 and would take 2^32 jobs to come round).
 *
 * Waking: a worker spins on `gen` for SPIN_NS, then counts itself in `sleepers` and sleeps on
 * the condition variable. The publisher stores `gen` before it reads `sleepers`, and a worker
 * counts itself before it reads `gen` under the mutex (the store-load pattern of Dekker's
 * algorithm, sound with sequentially consistent atomics): either the publisher sees the sleeper
 * and broadcasts under the mutex, or the worker sees the new generation and does not sleep.
 * So a job published while every worker spins costs no system call at all. */
#define _GNU_SOURCE /* sched_getcpu, sched_[gs]etaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "tinymlp/err.h"
#include "team_impl.h"

/* How long a worker waits for the next job before it sleeps. The jobs of one training step
 * come a few microseconds apart (a GEMM's blocks, then the elementwise work between them on
 * the caller's thread, then the next GEMM); a step of a small net is 100-300 microseconds.
 * Spinning through those gaps saves a wake-up (tens of microseconds on a VM) per job; an idle
 * team still sleeps almost at once. */
#define SPIN_NS 100000L

/* Choosing between the team and the caller alone (see pace) */
#define WINDOW_NS INT64_C(25000000)        /* the pace of jobs is taken over windows of 25 ms */
#define WINDOW_JOBS 16                     /* and 16 jobs (a step of a large net), */
#define WARM_NS INT64_C(2000000)           /* after 2 ms of jobs (caches, waking workers); */
#define GAP_NS INT64_C(5000000)            /* a pause longer than this starts a new window */
#define HOLD_MIN_NS INT64_C(100000000)     /* a choice holds 100 ms of jobs, doubling while */
#define HOLD_TEAM_NS INT64_C(4000000000)   /* trials agree, up to 4 s for the team */
#define HOLD_ALONE_NS INT64_C(1000000000)  /* and 1 s alone; the longest at once when */
#define CLEAR_WIN 1.25                     /* the winner was this much faster */
#define ALARM 1.5      /* a team this much slower than at its trial is tried again */
#define SWITCH 0.9     /* leaving the team: only when alone took at most this share of its time */
enum { TRY_TEAM, TRY_SOLO, HOLD };

/* Each thread owns a run of a job's chunks: thread t (the caller is 0, worker i is i + 1)
 * owns chunks [t·n/T, (t+1)·n/T). It claims its own first, in order, then those left in the
 * others' runs. So the same thread handles the same part of every job of the same shape (its
 * block of a GEMM's units, its slice of the parameters), and the data it wrote last step is
 * still in its cache; yet a thread the machine slows down only delays the chunk it is on. */
struct share {
    _Alignas(64) atomic_size_t next; /* the run's next unclaimed chunk */
    size_t end;                      /* one past the run's last chunk */
};

struct worker_arg {
    struct tmlp_team *team;
    int self;
};

struct tmlp_team {
    int n_workers;
    pthread_t *tid;
    struct worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;     /* the latest job's generation, never 0 once a job is published */
    atomic_uint open;    /* the generation of the job workers may join; 0 when none */
    atomic_int active;   /* workers inside the current job */
    atomic_int sleepers; /* workers asleep on cv, or about to be */
    struct share *share; /* (n_workers + 1) each thread's own run of chunks */
    atomic_uint flags;   /* OR of the chunk functions' results */
    atomic_int stop;
    atomic_int caller_cpu; /* the CPU the caller last published from, or -1 */
    /* the job, written before gen is bumped */
    tmlp_team_fn fn;
    void *ctx;
    size_t n, chunk;
    /* The caller's own bookkeeping, which only the caller's thread touches (see pace). */
    int phase;                 /* TRY_TEAM, TRY_SOLO or HOLD */
    int solo;                  /* HOLD: the caller runs every job alone */
    int64_t win_start_ns;      /* when the window's first counted job began (or may begin) */
    long win_jobs;             /* jobs counted in the window so far; -1 warming up */
    int64_t last_end_ns;       /* when the last job ended */
    int64_t hold_until_ns, hold_ns;
    double team_ns_per_job;    /* the team's pace at its last trial */
    int no_trials;             /* tmlp_team_set_trials(team, 0): always share */
    tmlp_team_stats stats;
};

static void relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#endif
}

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void work(tmlp_team *p, int self)
{
    const int threads = p->n_workers + 1;
    unsigned f = 0;
    for (int k = 0; k < threads; k++) {
        struct share *r = &p->share[(self + k) % threads];
        size_t c;
        while ((c = atomic_fetch_add(&r->next, 1)) < r->end) {
            size_t begin = c * p->chunk, end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
            f |= p->fn(p->ctx, begin, end);
        }
    }
    if (f)
        atomic_fetch_or(&p->flags, f);
}

/* The CPU this thread runs on, or -1 where that cannot be asked. */
static int this_cpu(void)
{
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Moves this thread off CPU `cpu` (the caller's) when it is allowed elsewhere: its affinity is
 * narrowed to exclude that CPU, which migrates it at once, and then given back whole, so the
 * scheduler stays free to place it. 1 if it moved. A worker woken by the caller is often put on
 * the caller's CPU, and, since it sleeps more than it runs, the load balancer may never move it:
 * then the caller does every job alone, and pays a wake-up for each. */
static int move_off(int cpu)
{
#ifdef __linux__
    cpu_set_t all, others;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof all, &all))
        return 0;
    others = all;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others))
        return 0;
    sched_setaffinity(0, sizeof all, &all);
    return 1;
#else
    (void)cpu;
    return 0;
#endif
}

/* The next generation after `seen`: spins for SPIN_NS, then sleeps until one is published.
 * A worker that finds itself on the caller's CPU moves to another one; where it cannot, it
 * sleeps at once, since spinning there would only take turns with the caller. */
static unsigned wait_job(tmlp_team *p, unsigned seen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned g;
    for (int i = 1; (g = atomic_load(&p->gen)) == seen; i++) {
        relax();
        if (i % 64 == 0) {
            int cpu = this_cpu(), caller = atomic_load(&p->caller_cpu);
            if (elapsed_ns(&t0) > SPIN_NS || (cpu >= 0 && cpu == caller && !move_off(caller)))
                break;
        }
    }
    if (g != seen)
        return g;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while ((g = atomic_load(&p->gen)) == seen)
        pthread_cond_wait(&p->cv, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker(void *arg)
{
    tmlp_team *p = ((struct worker_arg *)arg)->team;
    const int self = ((struct worker_arg *)arg)->self;
    /* From 0, not from the current gen: a job (or the stop) published before this thread got
     * here must still be seen. A job already closed is recognised as such and skipped. */
    unsigned seen = 0;
    for (;;) {
        unsigned g = wait_job(p, seen);
        seen = g;
        if (atomic_load(&p->stop))
            return NULL;
        atomic_fetch_add(&p->active, 1);
        if (atomic_load(&p->open) == g)
            work(p, self);
        atomic_fetch_sub(&p->active, 1);
    }
}

/* Wakes the workers for a new generation; `job` says whether it is a job or the stop. */
static void publish(tmlp_team *p, int job)
{
    unsigned g = atomic_load(&p->gen) + 1;
    if (g == 0)
        g = 1;
    if (job)
        atomic_store(&p->open, g);
    atomic_store(&p->caller_cpu, this_cpu());
    atomic_store(&p->gen, g);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Frees what tmlp_team_new allocated (its mutex and condition variable already destroyed or
 * never made). */
static void free_parts(tmlp_team *p)
{
    free(p->share);
    free(p->tid);
    free(p->args);
    free(p);
}

tmlp_team *tmlp_team_new(int threads, tmlp_err *err)
{
    if (threads < 1 || threads > 256) {
        tmlp_fail(err, TMLP_EINVAL, "team: threads must be in 1..256 (got %d)", threads);
        return NULL;
    }
    tmlp_team *p = calloc(1, sizeof *p);
    if (!p) {
        tmlp_fail(err, TMLP_ENOMEM, "team: no memory for %d threads", threads);
        return NULL;
    }
    p->share = aligned_alloc(64, (size_t)threads * sizeof *p->share);
    p->tid = calloc((size_t)threads, sizeof *p->tid);
    p->args = calloc((size_t)threads, sizeof *p->args);
    const char *failed = !p->share || !p->tid || !p->args ? "no memory for its threads"
                         : pthread_mutex_init(&p->mu, NULL) ? "cannot create a mutex"
                         : NULL;
    if (!failed && pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        failed = "cannot create a condition variable";
    }
    if (failed) {
        free_parts(p);
        tmlp_fail(err, TMLP_ENOMEM, "team of %d: %s", threads, failed);
        return NULL;
    }
    atomic_init(&p->gen, 0);
    atomic_init(&p->open, 0);
    atomic_init(&p->active, 0);
    atomic_init(&p->sleepers, 0);
    for (int t = 0; t < threads; t++) {
        atomic_init(&p->share[t].next, 0);
        p->share[t].end = 0;
    }
    atomic_init(&p->flags, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->caller_cpu, -1);
    p->phase = TRY_TEAM; /* the first job finds a pause and opens the window (see pace) */
    p->win_jobs = -1;
    p->hold_ns = HOLD_MIN_NS;
    for (int i = 0; i < threads - 1; i++) {
        p->args[i] = (struct worker_arg){ p, i + 1 };
        if (pthread_create(&p->tid[i], NULL, worker, &p->args[i])) {
            tmlp_fail(err, TMLP_ENOMEM, "team: cannot start worker %d of %d", i + 1, threads - 1);
            tmlp_team_free(p); /* stops the n_workers already started */
            return NULL;
        }
        p->n_workers++;
    }
    return p;
}

void tmlp_team_free(tmlp_team *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    publish(p, 0);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free_parts(p);
}

int tmlp_team_threads(const tmlp_team *p) { return p ? p->n_workers + 1 : 1; }

void tmlp_team_set_trials(tmlp_team *p, int on)
{
    if (p)
        p->no_trials = !on;
}

tmlp_team_stats tmlp_team_get_stats(const tmlp_team *p)
{
    tmlp_team_stats none = { 0 };
    return p ? p->stats : none;
}

/* The team or the caller alone. A worker that shares its CPU with another busy process spins
 * for its share of that CPU and is preempted now and then in the middle of a chunk, which the
 * caller, done with everything else, must wait for: up to a scheduler time slice,
 * milliseconds, against jobs of tens of microseconds. With one of this machine's two cores
 * held by a busy loop, a team of two trained MNIST's 784-128-64-10 net 1.1-1.3 times slower
 * than one thread; and in the host's slow spells, when the second CPU runs at a fraction of
 * its speed, 1.35 times. The caller's own measure of its work cannot see this (the spinning
 * worker also slows the caller, so its own pace flatters the team), so the choice is made by
 * trial, on the wall clock from job to job (what a training step takes, the work between
 * jobs included), over windows of WINDOW_NS and WINDOW_JOBS that leave out their first
 * WARM_NS (after a pause or a switch caches refill and workers wake; counted, that made the
 * team look slow after every pause). A trial is one window of jobs run by the team, then
 * one run by the caller alone; the faster holds for HOLD_MIN_NS of jobs (pauses longer than
 * GAP_NS do not count), doubling while the trials agree, up to HOLD_TEAM_NS for the team and
 * HOLD_ALONE_NS alone, or that at once when the winner was CLEAR_WIN times faster. Leaving
 * the team takes a clear win (alone at most SWITCH of the team's time a job), staying alone
 * only a win: a wrong move to the caller alone costs the team's whole gain (1.4-1.7 times)
 * for its hold, and a window of 25 ms holds under two steps of a large net, whose jobs it
 * then mixes unevenly (B chose alone in one of four to six trials on an idle machine and
 * read 1.12 times its floor instead of 1.02-1.08). While the
 * team holds, its pace is still taken window by window: a window ALARM times slower than the
 * team's trial starts a new trial at once (a fresh one: taking the slow window as the team's
 * half sent a team alone for a whole hold after a passing stall). So on an idle
 * machine, where a team of two wins by 1.4 (A) to 1.7 times (B, 784-1024-1024-10 at batch
 * 256), a trial comes every 4 s and its solo half costs 0.2-0.3% (with holds of 1.6 s and
 * trials of at least 64 jobs it took 3.7% of B's jobs); a slow spell or a competitor that
 * starts mid-run is noticed within a window. Alone, the caller runs the same chunks (fn over
 * [0, n) in one call, which chunk functions must allow: they compute each element the same
 * way however the range is cut), so the choice changes who computes, never the results. The
 * workers meanwhile find no job and sleep. pace returns whether this job runs on the caller
 * alone; a team whose trials are off (tmlp_team_set_trials) always shares. */
static void window(tmlp_team *p, int64_t now)
{
    p->win_start_ns = now + WARM_NS;
    p->win_jobs = -1;
}

/* Counts the job beginning at `now`; when it closes a window, returns that window's time per
 * job (and the job opens the next), else 0. */
static double window_pace(tmlp_team *p, int64_t now)
{
    double per_job = 0.0;
    if (p->win_jobs < 0 && now >= p->win_start_ns) {
        p->win_start_ns = now;
        p->win_jobs = 0;
    } else if (p->win_jobs >= WINDOW_JOBS && now - p->win_start_ns >= WINDOW_NS) {
        per_job = (double)(now - p->win_start_ns) / (double)p->win_jobs;
        p->win_start_ns = now;
        p->win_jobs = 0;
    }
    if (p->win_jobs >= 0)
        p->win_jobs++;
    return per_job;
}

static void begin(tmlp_team *p, int phase, int64_t now)
{
    p->phase = phase;
    window(p, now);
}

/* The end of a trial: the caller alone took solo_pace a job, the team team_ns_per_job. */
static void decide(tmlp_team *p, double solo_pace, int64_t now)
{
    const int solo = solo_pace < (p->solo ? 1.0 : SWITCH) * p->team_ns_per_job;
    const double fast = solo ? solo_pace : p->team_ns_per_job;
    const double slow = solo ? p->team_ns_per_job : solo_pace;
    const int64_t most = solo ? HOLD_ALONE_NS : HOLD_TEAM_NS;
    p->hold_ns = slow > CLEAR_WIN * fast ? most
                 : solo != p->solo ? HOLD_MIN_NS
                 : 2 * p->hold_ns < most ? 2 * p->hold_ns : most;
    p->solo = solo;
    p->stats.trials++;
    p->stats.trials_alone += solo;
    p->hold_until_ns = now + p->hold_ns;
    begin(p, HOLD, now);
}

/* A trial that a pause interrupted is given up: the last choice holds again for HOLD_MIN_NS
 * of jobs. (Restarting its window instead left a team whose jobs came in bursts shorter than
 * a window stuck in the solo half of a trial for good.) */
static void decide_again(tmlp_team *p, int64_t now)
{
    p->phase = HOLD;
    p->hold_until_ns = now + HOLD_MIN_NS;
}

static int pace(tmlp_team *p, int64_t now)
{
    if (p->no_trials)
        return 0;
    if (now - p->last_end_ns > GAP_NS) {
        if (p->phase == HOLD)                /* the hold lasts through jobs, not pauses */
            p->hold_until_ns += now - p->last_end_ns;
        else                                 /* a trial cut by a pause: back to the last */
            decide_again(p, now);            /* choice, for a short hold */
        window(p, now);
    }
    if (p->phase == HOLD && now >= p->hold_until_ns)
        begin(p, TRY_TEAM, now);
    const double per_job = window_pace(p, now);
    if (p->phase == HOLD && !p->solo && per_job > ALARM * p->team_ns_per_job) {
        begin(p, TRY_TEAM, now);             /* the team slowed down: a new trial at once */
    } else if (p->phase == TRY_TEAM && per_job > 0.0) {
        p->team_ns_per_job = per_job;
        begin(p, TRY_SOLO, now);
    } else if (p->phase == TRY_SOLO && per_job > 0.0) {
        decide(p, per_job, now);
    }
    return p->phase == HOLD ? p->solo : p->phase == TRY_SOLO;
}

unsigned tmlp_team_run(tmlp_team *p, tmlp_team_fn fn, void *ctx, size_t n, size_t chunk)
{
    if (!p || p->n_workers == 0 || n <= chunk || chunk == 0)
        return fn(ctx, 0, n);
    if (pace(p, now_ns())) {
        p->stats.jobs_alone++;
        unsigned flags = fn(ctx, 0, n);
        p->last_end_ns = now_ns();
        return flags;
    }
    p->stats.jobs_shared++;
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    const size_t n_chunks = (n + chunk - 1) / chunk, threads = (size_t)p->n_workers + 1;
    for (size_t t = 0; t < threads; t++) {
        p->share[t].end = (t + 1) * n_chunks / threads;
        atomic_store(&p->share[t].next, t * n_chunks / threads);
    }
    atomic_store(&p->flags, 0);
    publish(p, 1);
    work(p, 0);
    atomic_store(&p->open, 0);
    while (atomic_load(&p->active) > 0)
        relax();
    p->last_end_ns = now_ns();
    return atomic_load(&p->flags);
}

size_t tmlp_team_chunk(const tmlp_team *p, size_t n, size_t max_chunk)
{
    const size_t threads = (size_t)tmlp_team_threads(p);
    if (threads < 2 || n <= max_chunk || max_chunk < 16)
        return max_chunk;
    size_t per_thread = (n + threads * max_chunk - 1) / (threads * max_chunk);
    size_t parts = per_thread * threads, chunk = (n + parts - 1) / parts;
    chunk = (chunk + 15) & ~(size_t)15;
    return chunk < max_chunk ? chunk : max_chunk;
}

int tmlp_team_parts_for(int threads, int n, double work)
{
    int parts = 2 * threads < n / 16 ? 2 * threads : n / 16;
    return threads < 2 || parts < 2 || work < 65536.0 ? 1 : parts;
}

int tmlp_team_parts(const tmlp_team *p, int n, double work)
{
    return tmlp_team_parts_for(tmlp_team_threads(p), n, work);
}

typedef struct blocks_job {
    tmlp_block_fn fn;
    void *ctx;
    int n, parts;
} blocks_job;

/* Start of block b: an even share, rounded down to a multiple of 16. */
static int block_start(int b, int parts, int n)
{
    return b >= parts ? n : (int)((long)n * b / parts) & ~15;
}

static unsigned run_blocks(void *ctx, size_t begin, size_t end)
{
    const blocks_job *j = ctx;
    for (size_t b = begin; b < end; b++) {
        int lo = block_start((int)b, j->parts, j->n), hi = block_start((int)b + 1, j->parts, j->n);
        if (hi > lo)
            j->fn(j->ctx, lo, hi);
    }
    return 0;
}

void tmlp_team_blocks(tmlp_team *p, int n, int parts, tmlp_block_fn fn, void *ctx)
{
    if (parts <= 1) {
        fn(ctx, 0, n);
        return;
    }
    blocks_job j = { fn, ctx, n, parts };
    tmlp_team_run(p, run_blocks, &j, (size_t)parts, 1);
}
