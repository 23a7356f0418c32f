/* team_impl.h (internal): running a job on a team (tinymlp/team.h).
 *
 * A job is one loop over [0, n) cut into chunks of `chunk`. Thread t (the caller is 0) owns
 * the t-th of T equal runs of chunks and claims them first; then it claims what is left of the
 * others' runs, so a worker that is slow to wake costs only the chunk it is on. Which thread
 * runs a chunk is not fixed: a chunk function must give the same result whichever thread runs
 * it and whatever ran before (elementwise work, or disjoint blocks of a product). */
#ifndef TMLP_TEAM_IMPL_H
#define TMLP_TEAM_IMPL_H

#include <stddef.h>

#include "tinymlp/team.h"

/* Work on [begin, end); returns flags, OR-ed over all chunks into tmlp_team_run's result. */
typedef unsigned (*tmlp_team_fn)(void *ctx, size_t begin, size_t end);

/* fn over [0, n) in chunks of `chunk`; returns when every chunk is done. With a team of one
 * thread (or NULL, or chunk 0, or n <= chunk) one call fn(ctx, 0, n) on the caller's thread. */
unsigned tmlp_team_run(tmlp_team *team, tmlp_team_fn fn, void *ctx, size_t n, size_t chunk);

/* A chunk size for a job over n elements of at most max_chunk each that gives every thread of
 * the team the same number of chunks (the last one short), in multiples of 16 elements:
 * 109,386 parameters in chunks of at most 16,384 on two threads are 8 chunks of 13,680, four
 * each, not 7 of 16,384 (three and four). max_chunk itself for one thread, or when n fits. */
size_t tmlp_team_chunk(const tmlp_team *team, size_t n, size_t max_chunk);

/* Work on the block [lo, hi) of something cut along one dimension (a product's rows or
 * columns, a layer's units). */
typedef void (*tmlp_block_fn)(void *ctx, int lo, int hi);

/* How many blocks to cut n into for the team: two per thread (a thread slowed by the machine
 * leaves its second block to a faster one), each at least 16 wide; 1 (no split) for a team
 * of one thread (or NULL), or when the work (multiply-adds of a product, values of
 * elementwise work) is under 2^16, where handing out costs more than it saves. */
int tmlp_team_parts(const tmlp_team *team, int n, double work);
/* The same for a team of `threads` threads. */
int tmlp_team_parts_for(int threads, int n, double work);

/* fn over [0, n) cut into `parts` blocks whose edges are multiples of 16 (64 bytes of floats:
 * in row-major rows that start on a 64-byte boundary, blocks of columns then share no cache
 * line), the last ending at n; parts <= 1 is one call fn(ctx, 0, n) on the caller's thread. */
void tmlp_team_blocks(tmlp_team *team, int n, int parts, tmlp_block_fn fn, void *ctx);

/* tmlp_team_parts for a product (tensor.c): 1 also while OpenBLAS runs more than one thread
 * of its own, whose threads would fight the team's. A team of one (or NULL) cuts a product
 * into the blocks of a team of two when each block has at most TMLP_SMALL_BLOCK_MACS
 * multiply-adds, and runs them one after another: OpenBLAS multiplies such blocks with its
 * small-matrix kernels, without packing, faster than the whole product (MNIST 784-128-64-10
 * at batch 32: 0.51 -> 0.45 s an epoch on one thread), while larger products run whole (B's
 * 256x1024x1024 products were 5% slower cut in four). */
#define TMLP_SMALL_BLOCK_MACS 1048576.0
int tmlp_gemm_parts(const tmlp_team *team, int n, double macs);

#endif
