/* test_team.c: a team's workers (tinymlp/team.h, src/team_impl.h).
 *
 * Every element of every job is worked on exactly once, whatever the thread count and chunk
 * size; flags are OR-ed over chunks; teams started and stopped at once (before a worker has
 * even run) shut down cleanly. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <time.h>

#include "testutil.h"
#include "team_impl.h"

typedef struct visits {
    unsigned char *count;
    size_t flag_at; /* the element whose chunk returns flag 4 */
} visits;

static unsigned visit(void *ctx, size_t begin, size_t end)
{
    visits *v = ctx;
    unsigned f = 1;
    for (size_t i = begin; i < end; i++) {
        v->count[i]++;
        if (i == v->flag_at)
            f |= 4;
    }
    return f;
}

/* `jobs` jobs over [0, n) in chunks of `chunk`, pause_ns apart: each returns the flags of its
 * chunks (1), and each element is done once per job. */
static void jobs_do_each_element(tmlp_team *p, size_t n, size_t chunk, int jobs, long pause_ns)
{
    unsigned char *count = calloc(n, 1);
    ck_assert_ptr_nonnull(count);
    visits v = { count, n };
    for (int job = 0; job < jobs; job++) {
        if (pause_ns)
            nanosleep(&(struct timespec){ 0, pause_ns }, NULL);
        ck_assert_uint_eq(tmlp_team_run(p, visit, &v, n, chunk), 1);
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(count[i] == (unsigned char)jobs, "element %zu done %d times, not %d", i,
                      count[i], jobs);
    free(count);
}

START_TEST(every_element_once_per_job)
{
    enum { N = 10007 };
    static unsigned char count[N];
    visits v = { count, 0 };
    for (int threads = 1; threads <= 4; threads++) {
        tmlp_team *p = tmlp_team_new(threads, NULL);
        ck_assert_int_eq(tmlp_team_threads(p), threads);
        ck_assert_ptr_nonnull(p);
        tmlp_team_set_trials(p, 0); /* every job shared: these tests are about sharing */
        static const size_t chunks[] = { 1, 7, 64, 1000, N, 2 * N };
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            memset(count, 0, sizeof count);
            for (int job = 0; job < 50; job++) {
                v.flag_at = (size_t)job * 997 % N;
                unsigned f = tmlp_team_run(p, visit, &v, N, chunks[c]);
                ck_assert_uint_eq(f, 5);
            }
            for (size_t i = 0; i < N; i++)
                ck_assert_msg(count[i] == 50, "%d threads, chunk %zu: element %zu done %d times",
                              threads, chunks[c], i, count[i]);
        }
        tmlp_team_free(p);
    }
}
END_TEST

START_TEST(start_and_stop_at_once)
{
    for (int i = 0; i < 200; i++) {
        tmlp_team *p = tmlp_team_new(2 + i % 3, NULL);
        ck_assert_ptr_nonnull(p);
        tmlp_team_free(p);
    }
    tmlp_team_free(NULL);
    ck_assert_int_eq(tmlp_team_threads(NULL), 1);
}
END_TEST

static unsigned nothing(void *ctx, size_t begin, size_t end)
{
    (void)ctx; (void)begin; (void)end;
    return 0;
}

/* Many tiny jobs back to back: a worker still waking for one job must not run into the next. */
START_TEST(many_tiny_jobs)
{
    enum { N = 64 };
    static unsigned char count[N];
    visits v = { count, N };
    tmlp_team *p = tmlp_team_new(3, NULL);
    tmlp_team_set_trials(p, 0);
    for (int job = 0; job < 20000; job++)
        ck_assert_uint_eq(tmlp_team_run(p, visit, &v, N, 4), 1);
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(count[i], 20000 % 256);
    ck_assert_uint_eq(tmlp_team_run(p, nothing, NULL, 0, 4), 0); /* an empty range */
    tmlp_team_free(p);
}
END_TEST

/* Counts outside 1..256 are refused with the range in the message; a team of one has no
 * workers and runs every job on the caller. */
START_TEST(bad_counts_are_refused)
{
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_team_new(0, &err));
    ck_assert_int_eq(err.code, TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "1..256"));
    ck_assert_ptr_null(tmlp_team_new(257, NULL));
    tmlp_team *one = tmlp_team_new(1, NULL);
    ck_assert_int_eq(tmlp_team_threads(one), 1);
    jobs_do_each_element(one, 100, 7, 1, 0);
    tmlp_team_free(one);
}
END_TEST

/* A worker that has gone to sleep (after its spin) still wakes for the next job. */
START_TEST(sleeping_workers_wake)
{
    tmlp_team *p = tmlp_team_new(2, NULL);
    tmlp_team_set_trials(p, 0);
    jobs_do_each_element(p, 4096, 16, 5, 2000000L); /* 2 ms apart: far past the spin */
    tmlp_team_free(p);
}
END_TEST

/* Pins this thread (and the workers a team started next inherits it) to its first allowed
 * CPU; *all receives the affinity to restore. */
static void pin_to_one_cpu(cpu_set_t *all)
{
    cpu_set_t one;
    ck_assert_int_eq(sched_getaffinity(0, sizeof *all, all), 0);
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, all)) {
            CPU_SET(c, &one);
            break;
        }
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
}

/* A team whose threads all run on one CPU (as when the scheduler puts a woken worker beside
 * the caller) still finishes every job, each element once. */
START_TEST(a_team_on_one_cpu_finishes_every_job)
{
    cpu_set_t all;
    pin_to_one_cpu(&all);
    tmlp_team *p = tmlp_team_new(3, NULL);
    ck_assert_ptr_nonnull(p);
    tmlp_team_set_trials(p, 0);
    jobs_do_each_element(p, 5000, 64, 2000, 0);
    tmlp_team_free(p);
    ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
}
END_TEST

/* A worker that can only run when the caller stops (all on one CPU, so each shared job costs
 * a wake-up the job does not repay): the trials between the team and the caller alone choose
 * the caller, and jobs run alone do each element once and return the chunks' flags, as shared
 * ones do. */
START_TEST(trials_choose_the_caller_alone_when_the_team_loses)
{
    cpu_set_t all;
    pin_to_one_cpu(&all);
    tmlp_team *p = tmlp_team_new(2, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(tmlp_team_get_stats(p).trials, 0);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tmlp_team_stats st;
    do { /* a trial takes 25 ms of jobs of each kind, with no pause of 5 ms between them:
          * batches of 20000 back-to-back jobs (a few hundred ms) (the checks between batches are such a pause
          * under the sanitizers); give it up to 10 s on a loaded machine */
        jobs_do_each_element(p, 256, 16, 20000, 0);
        st = tmlp_team_get_stats(p);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (st.trials < 1 && t.tv_sec - t0.tv_sec < 10);
    ck_assert_msg(st.trials >= 1, "no trial in 10 s");
    /* the choice then holds: the jobs after it run alone too */
    jobs_do_each_element(p, 256, 16, 200, 0);
    tmlp_team_stats after = tmlp_team_get_stats(p);
    ck_assert_msg(st.trials_alone == st.trials && after.jobs_alone >= st.jobs_alone + 200,
                  "%ld of %ld trials chose the "
                  "caller alone (%ld jobs alone, %ld shared)", st.trials_alone, st.trials,
                  after.jobs_alone, after.jobs_shared);
    ck_assert_int_gt(st.jobs_shared, 0); /* the team's own trials */
    /* trials off: every job is shared again, however slow */
    tmlp_team_set_trials(p, 0);
    jobs_do_each_element(p, 256, 16, 100, 0);
    tmlp_team_stats off = tmlp_team_get_stats(p);
    ck_assert_int_eq(off.jobs_shared, after.jobs_shared + 100);
    ck_assert_int_eq(off.jobs_alone, after.jobs_alone);
    tmlp_team_set_trials(NULL, 0); /* NULL is fine */
    tmlp_team_free(p);
    ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
    ck_assert_int_eq(tmlp_team_get_stats(NULL).jobs_shared, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("team");
    TMLP_ADD(s, every_element_once_per_job);
    TMLP_ADD(s, start_and_stop_at_once);
    TMLP_ADD(s, many_tiny_jobs);
    TMLP_ADD(s, bad_counts_are_refused);
    TMLP_ADD(s, sleeping_workers_wake);
    TMLP_ADD(s, a_team_on_one_cpu_finishes_every_job);
    TMLP_ADD(s, trials_choose_the_caller_alone_when_the_team_loses);
    return s;
}

TMLP_TEST_MAIN()
