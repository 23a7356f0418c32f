/* tinymlp/train.h: the training loop and evaluation.
 *
 * tmlp_train runs epochs of minibatch gradient descent: each epoch shuffles the sample order
 * (Fisher-Yates from the seeded RNG, starting from 0..n-1 every epoch), gathers each batch
 * into a buffer allocated once, then forward, loss, backward and one optimizer step. Given the
 * same net, data, configuration and seed, it produces the same weights bit for bit (with one
 * BLAS thread). Its position (epoch, batch, RNG, early-stopping record) lives in a
 * tmlp_train_state the caller may keep: saved with the net and optimizer (checkpoint.h) it
 * lets a stopped run continue as if it had never stopped. A loss or gradient that is not
 * finite is caught at the batch where it appears. It never prints: progress goes to
 * observers, which the CLI turns into progress bars and logs. */
#ifndef TINYMLP_TRAIN_H
#define TINYMLP_TRAIN_H

#include <stdint.h>
#include "data.h"
#include "err.h"
#include "net.h"
#include "optim.h"
#include "reduce.h"
#include "schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_train_cfg {
    int epochs;    /* > 0 */
    int batch;     /* rows per step, 1 .. the net's max_batch */
    uint64_t seed; /* drives the shuffle */
    int shuffle;   /* nonzero: reshuffle every epoch (the default from tmlp_train_defaults) */
    tmlp_schedule *schedule; /* learning rate per step; NULL keeps the optimizer's. The loop
                              * updates reduce-on-plateau's state in it. */
    float clip_norm;     /* > 0: scale the whole gradient down to this global L2 norm */
    float clip_value;    /* > 0: clamp every gradient element to [-clip_value, clip_value] */
    int early_stop;      /* > 0: stop after this many epochs without a better validation
                          * metric, and end with the best epoch's weights; needs validation */
    int early_metric;    /* TMLP_METRIC_VAL_LOSS (default) or TMLP_METRIC_VAL_ACC */
    float min_delta;     /* an improvement must exceed this to count */
    int on_nan;          /* TMLP_ON_NAN_STOP (default): a non-finite loss or gradient, or a
                          * diverged loss (TMLP_DIVERGE_FACTOR), ends training with
                          * TMLP_ENUMERIC; TMLP_ON_NAN_SKIP: that batch is skipped (no step)
                          * and training goes on */
    struct tmlp_train_state *state; /* NULL, or where the run starts and where the loop keeps
                          * its position as it goes (see tmlp_train_state) */
    const tmlp_reducer *reducer; /* NULL (one process), or data-parallel training across
                          * reducer->size ranks (reduce.h): each rank calls tmlp_train with
                          * the same net, data, configuration and seed; every global batch
                          * of `batch` rows is cut into contiguous shards, one per rank;
                          * the loss, the gradient block, batch-norm statistics, the
                          * non-finite check, clipping's norm and the validation metrics
                          * are those of the whole batch (or set), so every rank takes the
                          * same step as one process would, up to float rounding */
} tmlp_train_cfg;

enum { TMLP_ON_NAN_STOP = 0, TMLP_ON_NAN_SKIP = 1 };

/* A batch whose loss (before penalties) exceeds this many times the loss of the first batch
 * the run trained (tmlp_train_state.diverge_base, so a resumed run keeps it), or this many
 * times 1 when that was smaller, has diverged:
 * it is handled as a non-finite loss (cfg->on_nan). A healthy run's loss falls from its
 * untrained value and never grows a thousandfold; the floor of 1 keeps a near-zero first loss
 * from making ordinary noise look like divergence. */
#define TMLP_DIVERGE_FACTOR 1e3

/* Where a run is. A zeroed state is the start of a run; tmlp_train keeps it current after
 * every step and epoch, so an observer can save it (with the net and optimizer) at any
 * batch, and a later tmlp_train given the saved state continues at the next batch with the
 * same results, bit for bit, as a run that never stopped (same data, configuration and net
 * kind; nets with dropout draw their masks from the net's own generator, which this does not
 * hold). Free with tmlp_train_state_free. */
typedef struct tmlp_train_state {
    int epoch;          /* epochs completed */
    int batch;          /* batches done (trained or skipped) of epoch `epoch + 1` */
    tmlp_rng rng;       /* the batch-order generator as at the start of epoch `epoch + 1`;
                         * inc == 0 (zeroed) means not started: seeded from cfg->seed */
    long skipped;       /* batches skipped for non-finite values (TMLP_ON_NAN_SKIP), in all */
    int finished;       /* early stopping ended the run: continuing trains nothing */
    /* the unfinished epoch so far, for its reported loss and accuracy */
    double sum_loss;    /* sum of the trained batches' losses */
    int counted;        /* batches trained (not skipped) */
    long rows, correct; /* rows trained, and how many of them the net classified right */
    /* early stopping */
    int best_epoch;     /* the best epoch so far, 0 before the first */
    double best_metric; /* its metric (lower is better: val_loss or -val_acc) */
    float *best;        /* (n_best) its parameters then batch-norm statistics; allocated by
                         * tmlp_train when early stopping needs it */
    size_t n_best;
    /* divergence: max(1, the loss of the first batch the run trained), the yardstick of the
     * TMLP_DIVERGE_FACTOR check; 0 until that batch, so a resumed run checks against the same
     * yardstick as one that never stopped */
    double diverge_base;
} tmlp_train_state;

/* Frees st->best and zeroes *st (a fresh start). st may be NULL. */
void tmlp_train_state_free(tmlp_train_state *st);

enum { TMLP_METRIC_VAL_LOSS = 0, TMLP_METRIC_VAL_ACC = 1 };

/* epochs 10, batch 32, seed 1, shuffle on, no schedule, clipping or early stopping. */
tmlp_train_cfg tmlp_train_defaults(void);

typedef struct tmlp_batch_info {
    int epoch, epochs;     /* 1-based epoch of total */
    int batch, n_batches;  /* 1-based batch within the epoch */
    double loss;           /* this batch's mean loss */
    double running_loss;   /* mean over the epoch's batches so far */
    double seconds;        /* since the epoch began */
    tmlp_net *net;         /* after backward, before the optimizer step */
} tmlp_batch_info;

typedef struct tmlp_epoch_info {
    int epoch, epochs;
    double train_loss;     /* mean of the epoch's batch losses (penalties included) */
    double train_acc;      /* accuracy on the batches as they were trained; NAN without labels */
    double val_loss;       /* NAN when there is no validation set */
    double val_acc;
    double seconds;        /* training time of the epoch, without the validation pass */
    long steps;            /* optimizer steps so far */
    float lr;              /* learning rate in force during the epoch */
    int best_epoch;        /* with early stopping: the best epoch so far, else 0 */
    double grad_norm;      /* global gradient norm of the epoch's last step (before clipping) */
    tmlp_net *net;
    long skipped;          /* batches skipped for non-finite values so far (TMLP_ON_NAN_SKIP) */
} tmlp_epoch_info;

/* Callbacks the loop calls; any may be NULL. A nonzero return stops training early, cleanly
 * (tmlp_train then returns TMLP_OK). */
typedef struct tmlp_observer {
    int (*on_batch)(void *ctx, const tmlp_batch_info *info);
    int (*on_epoch)(void *ctx, const tmlp_epoch_info *info);
    void *ctx;
} tmlp_observer;

/* Trains net on train (and reports on val, which may be NULL). obs may be NULL. The net is in
 * training mode (dropout, batch statistics) for the steps and in evaluation mode for
 * validation, and is left in evaluation mode.
 * Refuses nets with an activation that has no gradient (binary_step), data that does not fit
 * the net, parameters that are not finite, and a cfg->state that does not fit the data.
 * Each batch's loss, then its gradient block, is checked: the first non-finite value stops
 * training with TMLP_ENUMERIC and one line naming the epoch, batch, layer and tensor (or the
 * data row), before any step is taken with it, so the weights stay those of the last good
 * step. A finite loss over TMLP_DIVERGE_FACTOR times the first batch's stops it the same way
 * ("training diverged; try a lower learning rate"); with TMLP_ON_NAN_SKIP the batch is skipped instead (unless the parameters themselves
 * are no longer finite). An observer that stops training from on_batch leaves that batch
 * untrained; cfg->state then says so. */
int tmlp_train(tmlp_net *net, tmlp_optim *opt, const tmlp_data *train, const tmlp_data *val,
               const tmlp_train_cfg *cfg, const tmlp_observer *obs, tmlp_err *err);

/* The team size (tinymlp/team.h) worth using to train net at this batch size on this
 * machine, as the CLI chooses when not told (docs/performance.md has the measurements behind
 * it): every CPU online, at most 8, once the largest GEMM of a step has 2^20 multiply-adds or
 * the net 2^19 parameters; below both, 1 (handing a job to another thread would cost more than
 * it saves). Meant for a team whose GEMMs OpenBLAS runs on one thread (tmlp_blas_threads(1)). */
int tmlp_train_threads_auto(const tmlp_net *net, int batch);

/* A team to train net (and opt, unless NULL) at this batch size: `threads` threads, or
 * tmlp_train_threads_auto's choice when threads <= 0. Sets OpenBLAS to one thread (the team
 * splits the products itself) and gives the team to net and opt. Returns NULL, with net and
 * opt on one thread, when one thread is the choice (err->code TMLP_OK) or when the team cannot
 * be made (err says why; training still works, on one thread). Free the team with
 * tmlp_team_free once net and opt are done with it. */
tmlp_team *tmlp_train_team(tmlp_net *net, tmlp_optim *opt, int batch, int threads,
                           tmlp_err *err);

/* Mean loss (without penalties) and accuracy of net on d in evaluation mode (accuracy NAN
 * when d has no labels). Either output pointer may be NULL. The net's mode is restored. */
int tmlp_evaluate(tmlp_net *net, const tmlp_data *d, double *loss, double *acc, tmlp_err *err);

/* Class predicted for each row of x (n rows) into cls: argmax, or output > 0.5 for a single
 * sigmoid output. */
int tmlp_classify(tmlp_net *net, const float *x, int n, int *cls, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
