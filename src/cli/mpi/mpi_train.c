/* mpi_train.c: data-parallel `tinymlp train` on Open MPI (train_dist.h, docs/distributed.md).
 *
 * Built only into build/tinymlp-mpi. Every rank runs the same command line: it loads the data,
 * builds the same net from the same seed, and trains it with a reducer that sums blocks with
 * one in-place MPI_Allreduce; rank 0 alone prints, logs and writes files. Before training,
 * every rank checks its data against rank 0's checksum; after every epoch, a hash of the
 * parameters is compared across ranks (they must hold the same bits). */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/study.h"
#include "cli/train_dist.h"

static int reduce_sum(void *ctx, void *buf, size_t n, int type)
{
    (void)ctx;
    MPI_Datatype t = type == TMLP_REDUCE_DOUBLE ? MPI_DOUBLE : MPI_FLOAT;
    size_t size = type == TMLP_REDUCE_DOUBLE ? sizeof(double) : sizeof(float);
    char *p = buf;
    while (n > 0) { /* MPI counts are ints */
        int part = n > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, p, part, t, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return -1;
        p += (size_t)part * size;
        n -= (size_t)part;
    }
    return 0;
}

static tmlp_reducer reducer;

const tmlp_reducer *train_dist_reducer(void)
{
    if (!study_mpi_active())
        return NULL;
    MPI_Comm_rank(MPI_COMM_WORLD, &reducer.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &reducer.size);
    if (reducer.size < 2)
        return NULL;
    reducer.sum = reduce_sum;
    reducer.ctx = NULL;
    return &reducer;
}

int train_dist_ready(int ok, uint64_t data_sum, const char *data)
{
    if (!train_dist_reducer())
        return ok ? 0 : -1;
    int rank = reducer.rank;
    unsigned long long head[2] = { (unsigned long long)(ok != 0), (unsigned long long)data_sum };
    MPI_Bcast(head, 2, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    int mine = ok != 0;
    if (rank != 0 && ok && head[0] && head[1] != (unsigned long long)data_sum) {
        char host[256] = "?";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = '\0';
        fprintf(stderr, "tinymlp train: rank %d on %s: the data '%s' differs from rank 0's "
                "(checksum %016llx, rank 0 has %016llx): every rank needs the same files and "
                "settings\n", rank, host, data, (unsigned long long)data_sum, head[1]);
        mine = 0;
    }
    int all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all && rank == 0 && ok)
        fprintf(stderr, "tinymlp train: stopped: not every rank could start with rank 0's data "
                "and settings (see above)\n");
    return all ? 0 : -1;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

int train_dist_same_params(const float *params, size_t n_params, const float *state,
                           size_t n_state, const char *when)
{
    if (!train_dist_reducer())
        return 0;
    uint64_t h = fnv(0xcbf29ce484222325ULL, params, n_params * sizeof *params);
    h = fnv(h, state, n_state * sizeof *state);
    /* the smallest hash and the smallest complement (the largest hash) in one call */
    unsigned long long v[2] = { (unsigned long long)h, ~(unsigned long long)h };
    MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    if (v[0] == ~v[1])
        return 0;
    static int said; /* once: a run stopped by the epoch check is checked again at its end */
    if (reducer.rank == 0 && !said++)
        fprintf(stderr, "tinymlp train: the ranks' parameters differ %s (hashes from %016llx "
                "to %016llx)\n", when, v[0], ~v[1]);
    return -1;
}

static tmlp_observer inner_obs;

static int check_batch(void *ctx, const tmlp_batch_info *b)
{
    (void)ctx;
    return inner_obs.on_batch ? inner_obs.on_batch(inner_obs.ctx, b) : 0;
}

static int check_epoch(void *ctx, const tmlp_epoch_info *e)
{
    (void)ctx;
    int stop = inner_obs.on_epoch ? inner_obs.on_epoch(inner_obs.ctx, e) : 0;
    size_t np, ns;
    const float *p = tmlp_net_params(e->net, &np), *s = tmlp_net_state(e->net, &ns);
    char when[96];
    snprintf(when, sizeof when, "after epoch %d (other settings on a rank, or sums that were "
             "not the same bits everywhere)", e->epoch);
    return train_dist_same_params(p, np, s, ns, when) != 0 || stop;
}

tmlp_observer train_dist_observer(const tmlp_observer *inner)
{
    if (!train_dist_reducer())
        return *inner;
    inner_obs = *inner;
    return (tmlp_observer){ check_batch, check_epoch, NULL };
}

void train_dist_abort(int status)
{
    if (train_dist_reducer())
        MPI_Abort(MPI_COMM_WORLD, status ? status : 1);
}
