/* tinymlp/checkpoint.h: a training run saved so that it can continue as if it had never
 * stopped.
 *
 * A checkpoint is a model file (model_io.h, docs/file-format.md) with more in it: the
 * optimizer's moments as tensors "optim.m" and "optim.v", early stopping's best weights as
 * "train.best", and metadata keys for the optimizer's configuration and step count, the
 * training configuration, the learning-rate schedule and its state, and the loop's position
 * (epoch, batch, the batch-order generator as decimal "rng.state" and "rng.inc", the net's
 * dropout generator as "rng.drop_state" and "rng.drop_inc"). Every float is written with
 * enough digits to read back the same bits, so a run stopped at any batch and continued from
 * its checkpoint ends with the same weights, bit for bit, as one that never stopped (with one
 * BLAS thread). docs/reliability.md lists every key.
 *
 * Writing is atomic like tmlp_model_write; reading checks every field (and every size
 * against the real file size) before it allocates anything. tmlp_model_read also reads a
 * checkpoint, as the model it holds. */
#ifndef TINYMLP_CHECKPOINT_H
#define TINYMLP_CHECKPOINT_H

#include "err.h"
#include "model_io.h"
#include "net.h"
#include "optim.h"
#include "schedule.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change an older reader would get wrong; readers refuse other versions. */
#define TMLP_CHECKPOINT_VERSION 1

/* A checkpoint read back. tmlp_checkpoint_read fills every field; tmlp_checkpoint_peek all
 * but net and opt (NULL) and state.best (NULL). Free with tmlp_checkpoint_free. */
typedef struct tmlp_checkpoint {
    tmlp_net *net;            /* the weights and batch-norm statistics */
    tmlp_optim *opt;          /* its configuration (lr as last set), moments and step count */
    tmlp_train_cfg cfg;       /* as saved; cfg.schedule points at .schedule when the run had
                               * one (else NULL) and cfg.state at .state: do not copy the
                               * struct, or point them again */
    tmlp_schedule schedule;
    tmlp_train_state state;   /* where to continue */
    tmlp_model_meta meta;     /* the caller's metadata */
} tmlp_checkpoint;

/* Saves a run: net, opt, the training configuration cfg (cfg->schedule may be NULL;
 * cfg->state is ignored) and its position st, with the caller's meta (may be NULL; keys
 * starting with "checkpoint.", "optim.", "train.", "state.", "rng." or "schedule." are the
 * checkpoint's own and refused). Atomic: on failure an old file at path is untouched.
 * Returns TMLP_EIO (naming the path and the system's reason), TMLP_EINVAL (a bad argument,
 * or opt not made for net), TMLP_ENUMERIC (a parameter or moment that is not finite: the
 * last good checkpoint is kept). */
int tmlp_checkpoint_write(const char *path, const tmlp_net *net, const tmlp_optim *opt,
                          const tmlp_train_cfg *cfg, const tmlp_train_state *st,
                          const tmlp_model_meta *meta, tmlp_err *err);

/* Reads the checkpoint in path into *ck, with a net for batches of up to max_batch rows
 * (max_batch <= 0: the saved batch size; a saved batch size over max_batch is refused).
 * Returns TMLP_ENOTFOUND (no such file, or an activation that is not registered),
 * TMLP_EIO, TMLP_EFORMAT (anything not as documented: a model file without checkpoint
 * keys, a key that is missing, unknown or out of range, a tensor of the wrong size),
 * TMLP_ENOMEM. On failure *ck holds nothing. */
int tmlp_checkpoint_read(const char *path, int max_batch, tmlp_checkpoint *ck, tmlp_err *err);

/* Reads and checks only the header: the configuration, schedule, position and the
 * caller's metadata, for deciding how to continue (which data, what batch size) before
 * allocating a net. Same errors as tmlp_checkpoint_read. */
int tmlp_checkpoint_peek(const char *path, tmlp_checkpoint *ck, tmlp_err *err);

/* Frees everything *ck holds and zeroes it. ck may be NULL. */
void tmlp_checkpoint_free(tmlp_checkpoint *ck);

#ifdef __cplusplus
}
#endif
#endif
