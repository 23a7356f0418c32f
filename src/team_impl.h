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

#endif
