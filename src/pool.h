/* pool.h (internal): a few worker threads that split one loop over a range between them.
 *
 * Built for the optimizer's update, which runs once per training step over every parameter.
 * The caller always works on the job too and chunks are claimed dynamically, so a worker that
 * is slow to wake costs nothing but its share. Workers spin only briefly after a job, then
 * sleep: a spinning thread slows the GEMMs beside it.
 *
 * The range is cut into fixed chunks claimed in any order, so a chunk function must give the
 * same result whichever thread runs it and whatever ran before: elementwise work. */
#ifndef TMLP_POOL_H
#define TMLP_POOL_H

#include <stddef.h>

typedef struct tmlp_pool tmlp_pool;

/* Work on [begin, end); returns flags, OR-ed over all chunks into tmlp_pool_run's result. */
typedef unsigned (*tmlp_pool_fn)(void *ctx, size_t begin, size_t end);

/* A pool in which `threads` threads (the caller and threads - 1 workers) share each job.
 * NULL when threads < 2 or a thread cannot be started (the caller then runs jobs alone). */
tmlp_pool *tmlp_pool_new(int threads);
void tmlp_pool_free(tmlp_pool *p);
int tmlp_pool_threads(const tmlp_pool *p); /* 1 for NULL */

/* fn over [0, n) in chunks of `chunk`, claimed in any order; returns when every chunk is done.
 * With p NULL (or chunk 0, or n <= chunk) one call fn(ctx, 0, n) on the caller's thread. */
unsigned tmlp_pool_run(tmlp_pool *p, tmlp_pool_fn fn, void *ctx, size_t n, size_t chunk);

#endif
