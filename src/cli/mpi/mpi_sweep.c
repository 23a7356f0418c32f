/* mpi_sweep.c: the Open MPI front end of `tinymlp sweep` and `compare` (see study.h).
 *
 * Built only when mpicc is found, into build/tinymlp-mpi; the library and build/tinymlp
 * never see MPI. Every rank parses the same command line and loads the data once; rank 0
 * broadcasts its data checksum and study description hash, and a rank whose own differ
 * (another file on another host, another build) stops the whole job with a message.
 * Then rank 0 deals run numbers one at a time: a rank asks for work by sending the record
 * of the run it finished (empty at first), so a rank that finishes early takes the next run.
 * Rank 0 trains runs too, answering the others between its own training steps (the poll
 * hook); it alone records each run in the report folder and writes the report. Results are
 * keyed by run, and every run trains on one thread, so results.csv is the same bytes for
 * any number of ranks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/study.h"

enum { TAG_RESULT = 17, TAG_JOB = 18 };

static int active;

void study_mpi_handoff(char **argv)
{
    (void)argv; /* this is the binary with MPI */
}

int study_mpi_begin(int *argc, char ***argv, int *rank)
{
    *rank = 0;
    const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
    int launched = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        launched |= getenv(vars[i]) != NULL;
    if (!launched || getenv("TINYMLP_NO_MPI")) /* not started by mpirun, or told: one process */
        return 1;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "tinymlp: MPI_Init failed\n");
        return -1;
    }
    active = 1;
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

int study_mpi_active(void)
{
    return active;
}

void study_mpi_end(void)
{
    if (active)
        MPI_Finalize();
    active = 0;
}

typedef struct dealer {
    const compare_setup *su;
    const char *dir;
    int quiet, size, next, total, finished, stopped, failed;
    int serving;                   /* no re-entry from the poll hook */
} dealer;

/* The next run nobody has, or -1. */
static int take(dealer *d)
{
    while (d->next < d->total && d->su->s->run[d->next].done)
        d->next++;
    return d->next < d->total ? d->next++ : -1;
}

static void finished_run(dealer *d, int job)
{
    cmp_study *s = d->su->s;
    tmlp_err err = { 0 };
    if (study_record(s, d->dir, job, &s->run[job], &err)) {
        fprintf(stderr, "tinymlp: %s\n", err.msg);
        d->failed = 1;
    }
    d->finished++;
    if (!d->quiet)
        study_report_run(s, job, d->finished + s->n_resumed, d->total);
}

/* Answers the ranks waiting for work: takes their results, deals them the next run. */
static void serve(dealer *d, int block)
{
    if (d->serving)
        return;
    d->serving = 1;
    cmp_study *s = d->su->s;
    for (;;) {
        int flag = 0, len;
        MPI_Status st;
        if (block)
            MPI_Probe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st), flag = 1;
        else
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            break;
        MPI_Get_count(&st, MPI_BYTE, &len);
        unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
        MPI_Recv(b, len, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (len >= 16) { /* a run's record: its number sits after the magic and version */
            uint32_t job;
            memcpy(&job, b + 12, 4);
            tmlp_err err = { 0 };
            if (job < (uint32_t)d->total &&
                study_unpack(s, (int)job, b, (size_t)len, &s->run[job], &err) == TMLP_OK) {
                s->run[job].done = 0;
                finished_run(d, (int)job);
            } else {
                fprintf(stderr, "tinymlp: rank %d sent an unreadable result: %s\n", st.MPI_SOURCE, err.msg);
                d->failed = 1;
            }
        }
        free(b);
        int job = take(d);
        MPI_Send(&job, 1, MPI_INT, st.MPI_SOURCE, TAG_JOB, MPI_COMM_WORLD);
        d->stopped += job < 0;
        block = 0;
    }
    d->serving = 0;
}

static void poll_hook(void *ctx)
{
    serve(ctx, 0);
}

int study_mpi_run_all(const compare_setup *su_in, const char *dir, int quiet, int ok)
{
    compare_setup su = *su_in;
    cmp_study *s = su.s;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* rank 0's verdict on its set-up, data checksum and study hash, checked by every rank */
    unsigned long long head[3] = { (unsigned long long)ok, (unsigned long long)s->data_sum,
                                   (unsigned long long)s->key_hash };
    MPI_Bcast(head, 3, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    int mine = 1;
    if (rank != 0 && head[0] && head[1] != (unsigned long long)s->data_sum) {
        char host[256] = "?";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = '\0';
        fprintf(stderr, "tinymlp: rank %d on %s: the data '%s' differs from rank 0's (checksum "
                "%016llx, rank 0 has %016llx): every host needs the same files\n", rank, host,
                s->data, (unsigned long long)s->data_sum, head[1]);
        mine = 0;
    } else if (rank != 0 && head[0] && head[2] != (unsigned long long)s->key_hash) {
        fprintf(stderr, "tinymlp: rank %d: the study's settings differ from rank 0's (another "
                "tinymlp build or command line?)\n", rank);
        mine = 0;
    }
    int all = 0;
    mine = mine && head[0];
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all) {
        if (rank == 0 && head[0])
            fprintf(stderr, "tinymlp: stopped: not every rank has the same data and settings\n");
        return -1;
    }
    if (rank != 0) { /* a worker: ask, train, send, until told to stop */
        su.progress = 0;
        unsigned char *b = NULL;
        size_t len = 0;
        for (;;) {
            int job;
            MPI_Send(b, (int)len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
            free(b);
            b = NULL;
            len = 0;
            MPI_Recv(&job, 1, MPI_INT, 0, TAG_JOB, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (job < 0)
                break;
            cmp_run run = { 0 };
            study_train_one(&su, job, &run);
            if (study_pack(s, job, &run, &b, &len)) {
                fprintf(stderr, "tinymlp: rank %d: no memory for a result\n", rank);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            free(run.epoch);
            free(run.layer);
        }
        return 0;
    }
    dealer d = { .su = &su, .dir = dir, .quiet = quiet, .size = size,
                 .total = s->n_cfg * s->n_seeds };
    su.poll = poll_hook;
    su.poll_ctx = &d;
    for (;;) {
        serve(&d, 0);
        int job = take(&d);
        if (job >= 0) { /* rank 0's own share */
            study_train_one(&su, job, &s->run[job]);
            finished_run(&d, job);
            continue;
        }
        if (d.stopped == size - 1)
            break;
        serve(&d, 1);
    }
    return d.failed ? -1 : 0;
}
