/* tinymlp/schedule.h: learning-rate schedules.
 *
 * A schedule maps training progress (epochs done, fractional within an epoch) to a learning
 * rate; tmlp_train applies it before every optimizer step (and, for reduce-on-plateau, after
 * every epoch's validation). With t = progress, T = total epochs, w = warm-up epochs:
 *   constant   lr = base
 *   step       lr = base * gamma^floor(t / step_size)
 *   exp        lr = base * gamma^t
 *   cosine     lr = min + (base - min) (1 + cos(pi (t - w) / (T - w))) / 2
 *   plateau    lr = base, times factor each time the validation loss has not improved by
 *              more than 1e-4 (relative) for `patience` epochs, never below min
 * and, for every kind, a linear warm-up from base/(w*steps) to base over the first w epochs. */
#ifndef TINYMLP_SCHEDULE_H
#define TINYMLP_SCHEDULE_H

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { TMLP_SCHED_CONSTANT = 0, TMLP_SCHED_STEP, TMLP_SCHED_EXP, TMLP_SCHED_COSINE,
       TMLP_SCHED_PLATEAU, TMLP_SCHED_COUNT };

typedef struct tmlp_schedule {
    int kind;          /* TMLP_SCHED_* */
    float base_lr;     /* > 0 */
    float warmup;      /* epochs of linear warm-up, >= 0 */
    float step_size;   /* step: epochs between decays, > 0 */
    float gamma;       /* step, exp, plateau: the factor, in (0, 1] */
    float min_lr;      /* cosine and plateau floor, >= 0 */
    int patience;      /* plateau: epochs without improvement before a cut, >= 1 */
    /* plateau state, updated by tmlp_schedule_epoch_end */
    double best;       /* best validation loss so far (starts at +inf) */
    int bad_epochs;
    float current;     /* the learning rate the plateau rule has reached */
} tmlp_schedule;

/* A schedule of kind for base_lr with defaults: warm-up 0, step_size 10, gamma 0.1 (step),
 * 0.95 (exp) or 0.5 (plateau), min_lr 0, patience 3. */
tmlp_schedule tmlp_schedule_defaults(int kind, float base_lr);

/* Checks the fields; TMLP_EINVAL names the first bad one. */
int tmlp_schedule_check(const tmlp_schedule *s, tmlp_err *err);

/* The learning rate at progress t epochs (fractional) of a run of `epochs` epochs, with
 * `steps_per_epoch` steps an epoch (for the warm-up's first step). */
float tmlp_schedule_lr(const tmlp_schedule *s, double t, int epochs, int steps_per_epoch);

/* Reduce-on-plateau's bookkeeping after an epoch with validation loss val_loss (NaN: no
 * validation, nothing changes). Returns 1 when it just cut the rate. Other kinds: no-op. */
int tmlp_schedule_epoch_end(tmlp_schedule *s, double val_loss);

/* "constant", "step", "exp", "cosine", "plateau"; NULL for an unknown kind. */
const char *tmlp_schedule_name(int kind);
int tmlp_schedule_find(const char *name, int *kind, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
