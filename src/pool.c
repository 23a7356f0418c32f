/* pool.c: the worker pool behind the threaded optimizer update (see pool.h).
 *
 * A job is published by writing its fields, marking its generation g open (`open = g`) and
 * then setting `gen = g`. A worker that sees a new generation g announces itself in `active`,
 * checks that g is still the open job, and claims chunks from `next` until none are left. The
 * caller claims chunks too; when it runs out it closes the job (`open = 0`) and waits until
 * `active` is zero. With sequentially consistent atomics a late worker either is seen in
 * `active` (and waited for) or finds its g no longer open (and touches nothing), so the caller
 * may return and reuse the fields at once. A worker delayed across several jobs holds a stale
 * g, which is never open again (generations skip 0 and would take 2^32 jobs to come round). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "pool.h"

/* Spin iterations a worker waits for the next job before it sleeps: a few microseconds, for
 * jobs that come back to back. Longer spins were measured to cost more than they save here: a
 * spinning worker slows the GEMMs running beside it (docs/performance.md). */
#define SPIN 256

struct tmlp_pool {
    int n_workers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;    /* the latest job's generation, never 0 once a job is published */
    atomic_uint open;   /* the generation of the job workers may join; 0 when none */
    atomic_int active;  /* workers inside the current job */
    atomic_size_t next; /* next chunk to claim */
    atomic_uint flags;  /* OR of the chunk functions' results */
    atomic_int stop;
    /* the job, written before gen is bumped */
    tmlp_pool_fn fn;
    void *ctx;
    size_t n, chunk, n_chunks;
};

static void relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#endif
}

static void work(tmlp_pool *p)
{
    unsigned f = 0;
    size_t c;
    while ((c = atomic_fetch_add(&p->next, 1)) < p->n_chunks) {
        size_t begin = c * p->chunk, end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
        f |= p->fn(p->ctx, begin, end);
    }
    if (f)
        atomic_fetch_or(&p->flags, f);
}

static void *worker(void *arg)
{
    tmlp_pool *p = arg;
    /* From 0, not from the current gen: a job (or the stop) published before this thread got
     * here must still be seen. A job already closed is recognised as such and skipped. */
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load(&p->gen);
        for (int s = 0; s < SPIN && g == seen; s++) {
            relax();
            g = atomic_load(&p->gen);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->gen)) == seen)
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load(&p->stop))
            return NULL;
        atomic_fetch_add(&p->active, 1);
        if (atomic_load(&p->open) == g)
            work(p);
        atomic_fetch_sub(&p->active, 1);
    }
}

/* Wakes the workers for a new generation; `open` says whether it is a job or the stop. */
static void publish(tmlp_pool *p, int job)
{
    unsigned g = atomic_load(&p->gen) + 1;
    if (g == 0)
        g = 1;
    if (job)
        atomic_store(&p->open, g);
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->gen, g);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

tmlp_pool *tmlp_pool_new(int threads)
{
    if (threads < 2)
        return NULL;
    tmlp_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->tid = calloc((size_t)threads - 1, sizeof *p->tid);
    if (!p->tid || pthread_mutex_init(&p->mu, NULL)) {
        free(p->tid);
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        free(p->tid);
        free(p);
        return NULL;
    }
    atomic_init(&p->gen, 0);
    atomic_init(&p->open, 0);
    atomic_init(&p->active, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->flags, 0);
    atomic_init(&p->stop, 0);
    for (int i = 0; i < threads - 1; i++) {
        if (pthread_create(&p->tid[i], NULL, worker, p)) {
            tmlp_pool_free(p); /* stops the n_workers already started */
            return NULL;
        }
        p->n_workers++;
    }
    return p;
}

void tmlp_pool_free(tmlp_pool *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    publish(p, 0);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p);
}

int tmlp_pool_threads(const tmlp_pool *p) { return p ? p->n_workers + 1 : 1; }

unsigned tmlp_pool_run(tmlp_pool *p, tmlp_pool_fn fn, void *ctx, size_t n, size_t chunk)
{
    if (!p || n <= chunk || chunk == 0)
        return fn(ctx, 0, n);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    p->n_chunks = (n + chunk - 1) / chunk;
    atomic_store(&p->next, 0);
    atomic_store(&p->flags, 0);
    publish(p, 1);
    work(p);
    atomic_store(&p->open, 0);
    while (atomic_load(&p->active) > 0)
        relax();
    return atomic_load(&p->flags);
}
