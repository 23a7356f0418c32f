/* train_dist_none.c: train_dist.h in a tinymlp built without Open MPI: one process, nothing
 * to reduce (study_mpi_begin already refuses a multi-rank mpirun). */
#include "train_dist.h"

const tmlp_reducer *train_dist_reducer(void)
{
    return NULL;
}

int train_dist_ready(int ok, uint64_t data_sum, const char *data)
{
    (void)data_sum, (void)data;
    return ok ? 0 : -1;
}

int train_dist_same_params(const float *params, size_t n_params, const float *state,
                           size_t n_state, const char *when)
{
    (void)params, (void)n_params, (void)state, (void)n_state, (void)when;
    return 0;
}

tmlp_observer train_dist_observer(const tmlp_observer *inner)
{
    return *inner;
}

void train_dist_abort(int status)
{
    (void)status;
}
