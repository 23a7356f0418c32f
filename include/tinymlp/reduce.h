/* tinymlp/reduce.h: the one thing data-parallel training asks of its transport.
 *
 * N processes (ranks) train one net: each global batch is cut into N contiguous shards, each
 * rank runs forward and backward on its own, and whatever the step sums over the batch (the
 * gradient block, the loss, batch-norm statistics, validation metrics) is summed across ranks
 * by the reducer. The library calls nothing else and knows no MPI: the CLI's MPI build wraps
 * MPI_Allreduce(MPI_IN_PLACE, ..., MPI_SUM), the unit tests a barrier between threads. */
#ifndef TINYMLP_REDUCE_H
#define TINYMLP_REDUCE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { TMLP_REDUCE_FLOAT = 0, TMLP_REDUCE_DOUBLE = 1 };

typedef struct tmlp_reducer {
    int rank, size; /* this process's rank in 0..size-1, size >= 1 */
    /* Replaces buf[0..n) (floats or doubles, as type says) on every rank by the elementwise
     * sum over all ranks, the same bits on every rank. Every rank calls it the same times
     * with the same n and type. Returns 0, or nonzero when the transport failed (training
     * then ends with TMLP_EIO). */
    int (*sum)(void *ctx, void *buf, size_t n, int type);
    void *ctx;
} tmlp_reducer;

/* Rank `rank`'s shard of `rows` rows cut into `size` contiguous shards, the first rows % size
 * of them one row longer: its first row into *offset and its length (0 when size > rows)
 * into *count. */
void tmlp_reduce_shard(int rows, int rank, int size, int *offset, int *count);

#ifdef __cplusplus
}
#endif
#endif
