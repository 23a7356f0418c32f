/* train_dist.h: `tinymlp train` as one of N ranks of data-parallel training (docs/distributed.md).
 *
 * mpi/mpi_train.c implements it with Open MPI in build/tinymlp-mpi; train_dist_none.c is the
 * one-process stand-in in build/tinymlp. MPI itself is started and ended by study_mpi_begin
 * and study_mpi_end (study.h), which also make the plain build refuse a multi-rank mpirun. */
#ifndef TMLP_CLI_TRAIN_DIST_H
#define TMLP_CLI_TRAIN_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlp/train.h"

/* After study_mpi_begin: the reducer over every rank (an in-place MPI_Allreduce), or NULL
 * with one rank. */
const tmlp_reducer *train_dist_reducer(void);

/* Every rank calls it once before training, also after a failed set-up (ok 0): rank 0's
 * verdict and its data checksum go to every rank, and a rank whose checksum differs says so.
 * 0 when every rank is ready with rank 0's data; -1 (after saying why) otherwise. */
int train_dist_ready(int ok, uint64_t data_sum, const char *data);

/* Compares a hash of the parameters and batch-norm statistics across ranks: 0 when every
 * rank holds the same bits, -1 after a message (rank 0's) saying `when` they differ. */
int train_dist_same_params(const float *params, size_t n_params, const float *state,
                           size_t n_state, const char *when);

/* An observer that calls inner, then checks after every epoch that every rank holds the same
 * parameters (stopping training when they do not; train_dist_same_params then fails). */
tmlp_observer train_dist_observer(const tmlp_observer *inner);

/* A rank that fails once training began takes the job down (MPI_Abort with status), since the
 * other ranks would wait for it in a sum forever. No-op with one rank. */
void train_dist_abort(int status);

#endif
