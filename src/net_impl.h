/* net_impl.h (internal): a net's layer, shared by net.c and skip.c, and zero-column skipping
 * (skip.c), which net.c runs on its first layer. */
#ifndef TMLP_NET_IMPL_H
#define TMLP_NET_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlp/act.h"
#include "tinymlp/reduce.h"
#include "tinymlp/team.h"

typedef struct layer {
    int n_in, n_out;
    const tmlp_act *act; /* never NULL */
    float arg;
    int init;
    int identity;        /* act is identity: A aliases U */
    int bn;              /* batch norm on Z */
    float drop, l1, l2;
    float *W, *b, *ap;   /* views into the parameter block: (n_out, n_in), (n_out), (n_ap) */
    float *dW, *db, *dap;
    float *gamma, *beta, *dgamma, *dbeta; /* (n_out) each, when bn */
    float *run_mean, *run_var;            /* (n_out) each, in the state block, when bn */
    int n_ap;
    /* (max_batch, n_out) each; u == z without bn, a == u when identity, out == a without
     * dropout, du == dz without bn */
    float *z, *u, *a, *out, *dz, *du;
    float *mask;         /* (max_batch, n_out) 0 or 1/(1-p), when dropout */
    float *xhat;         /* (max_batch, n_out) normalised Z, when bn */
    float *inv_std;      /* (n_out) batch 1/sqrt(var + eps) of the last training forward */
    const float *x;      /* (batch, n_in) input of the last forward */
    /* Zero-column skipping, the first layer only (skip.c): whether the last forward
     * skipped the input's zero columns, the columns it kept as runs of consecutive ones, and
     * those columns gathered; NULL buffers where the layer cannot skip. */
    int skipping, n_runs, n_kept;
    int *run;            /* (2 n_in) start and length of each run */
    uint32_t *nz;        /* (n_in) nonzero where the batch has a nonzero in the column */
    float *xs;           /* (max_batch, n_kept) X's kept columns */
    float *ws;           /* (n_out, n_kept) W's kept columns in the forward, dW's in backward */
} layer;

/* Zero-column skipping keeps the batch's kept input columns (max_batch·n_in floats) and the
 * first layer's weights' (n_out·n_in); a net makes them only when together they are at most
 * SKIP_MAX_BUF floats (32 MB), so a net with a larger first layer or batch never skips. */
#define SKIP_MAX_BUF ((size_t)1 << 23)

/* Finds the runs of x's (batch, n_in) nonzero columns into l->run, l->n_runs and l->n_kept,
 * and says whether skipping the others pays; l->run, l->nz, l->xs and l->ws must be set. */
int tmlp_skip_plan(layer *l, const float *x, int batch);
/* After a plan that said yes: Z += x's kept columns · W's (Z holds the bias), on the team. */
void tmlp_skip_forward(tmlp_team *team, layer *l, const float *x, int batch);
/* After that forward: dW = dZᵀ·X with zeros in the skipped columns, on the team. */
void tmlp_skip_backward(tmlp_team *team, layer *l, int batch);

/* Batch norm across ranks (bn.c): rows of a global batch of `total`, sums through red, buf
 * (2 n_out doubles) the scratch. */
typedef struct bn_sync {
    const tmlp_reducer *red;
    int total;
    double *buf;
} bn_sync;
/* Batch norm of l->z into l->xhat and l->u; sync NULL: over this batch alone. Returns nonzero
 * when the reducer failed. */
int tmlp_bn_forward(layer *l, int batch, int mode, const bn_sync *sync);
/* Its backward from l->du into l->dz, l->dgamma and l->dbeta. */
int tmlp_bn_backward(layer *l, int batch, const bn_sync *sync);

#endif
