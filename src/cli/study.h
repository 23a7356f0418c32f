/* study.h: the engine behind `tinymlp sweep` and `tinymlp compare`.
 *
 * A study is a list of configurations (cmp_cfg, report.h) times seeds; run j trains
 * configuration j / n_seeds with seed seed0 + j % n_seeds. Every run is fully described by
 * its configuration and seed, so any process (a forked worker, an MPI rank, a restarted
 * study) trains it the same way and results are keyed by run, never by who ran it.
 *   compare_run.c  trains one run in-process, or all of them in forked workers (--jobs)
 *   study_io.c     run records in the report folder: resuming, and the bytes MPI sends
 *   mpi_none.c / mpi/mpi_sweep.c   the Open MPI front end, or its absence
 * cmd_sweep.c and cmd_compare.c build the configurations; report*.c write the files. */
#ifndef TINYMLP_CLI_STUDY_H
#define TINYMLP_CLI_STUDY_H

#include "datasets.h"
#include "report.h"

typedef struct compare_setup {     /* what every run shares */
    cmp_study *s;
    const tmlp_data *train, *val, *eval;
    int progress;                  /* a line per epoch on stderr */
    void (*poll)(void *ctx);       /* called after every training step, or NULL (MPI's rank 0
                                    * answers the other ranks from here while it trains) */
    void *poll_ctx;
} compare_setup;

/* Trains run `job` in this process on one thread, filling *run (allocating its arrays; the
 * caller frees them). Always returns with run->status set. */
void study_train_one(const compare_setup *su, int job, cmp_run *run);

/* Trains every run not yet done (run[j].done), at most s->jobs at a time, each in a forked
 * worker on one thread that records it in dir (study_record) as soon as it ends; fills
 * s->run and prints one progress line per finished run unless quiet. -1 when workers could
 * not be started or waited for. */
int compare_run_all(const compare_setup *su, const char *dir, int quiet);

/* The line printed when a run ends ("[ 3/12] relu seed 2 test acc ..."), on stderr. */
void study_report_run(const cmp_study *s, int j, int finished, int total);

/* Seconds on the monotonic clock. */
double compare_now(void);

/* ---- study_run.c ---- */
/* After the configurations and data are ready: resumes from dir, trains what is left
 * (forked workers, or MPI ranks when ranks > 1), writes the report files, and on rank 0
 * prints the summary tables and verdict (or the JSON object). Returns the exit status. */
int study_execute(compare_setup *su, const char *dir, int quiet, int json, int ranks, int rank);
void study_free_runs(cmp_study *s);
/* mkdir -p; -1 with errno. */
int study_mkdir_p(const char *dir);
/* The command line, for the report. */
void study_command_line(int argc, char **argv, char *buf, size_t size);
/* Keeps the first n rows of *d (replacing it) when it has more. */
int study_limit_rows(tmlp_data **d, long n, tmlp_err *err);

/* ---- study_io.c ---- */
/* FNV-1a over a dataset's sizes, inputs and labels, chained from h (0 to start). */
uint64_t study_data_sum(uint64_t h, const tmlp_data *d);
/* The study's description: data and its checksum, seeds, every configuration's settings.
 * Caller frees; NULL without memory. */
char *study_key(const cmp_study *s);
/* s->key_hash from study_key. TMLP_ENOMEM without memory. */
int study_set_key_hash(cmp_study *s);
/* Sets s->key_hash and prepares dir/finished: *resumed = 1 when it already describes this
 * study (its run records can be loaded). A folder holding an unfinished different study is
 * refused (TMLP_EINVAL, saying what differs); a completed different one is cleared. */
int study_begin(cmp_study *s, const char *dir, int *resumed, tmlp_err *err);
/* Run records: a finished run, written atomically; read back and checked. */
int study_record(const cmp_study *s, const char *dir, int job, const cmp_run *r, tmlp_err *err);
int study_load(const cmp_study *s, const char *dir, int job, cmp_run *r, tmlp_err *err);
int study_pack(const cmp_study *s, int job, const cmp_run *r, unsigned char **out, size_t *len);
int study_unpack(const cmp_study *s, int job, const unsigned char *b, size_t len, cmp_run *r,
                 tmlp_err *err);
/* --report '' is refused (exit 2 from cmd's usage line), and so is a report file that would
 * overwrite one of --data's files (paths.h); 0 when the report may be written. */
int study_check_report(const char *cmd, const char *data_arg, const char *report);
/* The data every run of a study sees: ds->train split (val_frac of it to *val, drawn with the
 * first seed's generator, as `train --seed` splits) into *train, or ds->train itself when
 * val_frac is 0; standardised when asked (fitted on *train, applied to the three sets); and
 * labelled with two classes or more. 0, or EXIT_RUNTIME after one line naming cmd's data. */
int study_prepare_data(const char *cmd, const char *data_name, cli_dataset *ds, double val_frac,
                       uint64_t seed0, int standardize, cli_prep *prep, tmlp_data **train,
                       tmlp_data **val);
/* Hands the prepared sets to su and its study (evaluation on test, else on train), and, given
 * a report folder (rank 0), creates it. 0, or -1 after one line naming the folder. */
int study_use_sets(compare_setup *su, tmlp_data *train, tmlp_data *val, tmlp_data *test,
                   const char *report);
/* Marks the study in dir as run to the end. */
int study_complete(const char *dir, tmlp_err *err);

/* ---- the MPI front end (mpi/mpi_sweep.c with Open MPI, mpi_none.c without) ---- */
/* Starts MPI when this process was launched by mpirun with more than one rank (and this
 * build has MPI): returns the number of ranks (1 otherwise) and sets *rank. Without MPI
 * support but under a multi-rank mpirun, prints why and returns -1. */
int study_mpi_begin(int *argc, char ***argv, int *rank);
/* Every rank: learns from rank 0 whether to go on (ok: rank 0's own set-up succeeded),
 * checks its data checksum and study description against rank 0's (any mismatch stops
 * every rank), then trains the runs rank 0 deals, one at a time, as they free up; rank 0
 * trains too, records each result in dir and fills s->run. 0, or -1 after printing why. */
int study_mpi_run_all(const compare_setup *su, const char *dir, int quiet, int ok);
/* 1 when MPI was started (even with one rank): the runs then go through MPI, never fork. */
int study_mpi_active(void);
/* Ends MPI (no-op without it). */
void study_mpi_end(void);
/* Called first thing by main with its own argc/argv. A tinymlp built without MPI that finds
 * itself one of several mpirun ranks replaces itself (execv, same pid, same environment, so
 * mpirun still knows it) with the tinymlp-mpi beside its executable, when there is one:
 * `mpirun -np N build/tinymlp ...` then runs with MPI. Returns only when there is nothing to
 * hand over to (the commands then refuse a multi-rank launch themselves, naming the binary). */
void study_mpi_handoff(char **argv);

#endif
