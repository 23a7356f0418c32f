/* tinymlp/loss.h: losses, fused with the output link where that is what keeps them stable.
 *
 * Each loss takes the network's raw outputs (logits) and returns the mean loss and, when
 * asked, its gradient with respect to those outputs. Conventions follow PyTorch:
 *   softmax_ce   CrossEntropyLoss on logits, mean over the batch       dz = (softmax(z) - onehot(y)) / batch
 *   sigmoid_bce  BCEWithLogitsLoss, mean over every element            dz = (sigmoid(z) - t) / (batch * n_out)
 *   mse          MSELoss, mean over every element                      dz = 2 (z - t) / (batch * n_out) */
#ifndef TINYMLP_LOSS_H
#define TINYMLP_LOSS_H

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { TMLP_LOSS_SOFTMAX_CE = 0, TMLP_LOSS_SIGMOID_BCE, TMLP_LOSS_MSE, TMLP_LOSS_COUNT };

/* Targets for a batch: `label` holds class ids (one per row), `target` holds float targets
 * (batch, n_out). softmax_ce needs label. sigmoid_bce and mse use target when it is given,
 * otherwise label: as the 0/1 target of a single output, or one-hot across n_out outputs. */
typedef struct tmlp_targets {
    const int *label;    /* (batch) or NULL */
    const float *target; /* (batch, n_out) or NULL */
} tmlp_targets;

/* Mean loss of logits z (batch, n_out) against t into *loss; when dz is not NULL also
 * writes dL/dz (batch, n_out). Returns TMLP_EINVAL for a label out of [0, n_out) (or not 0/1
 * for a single output), naming the row, or missing targets. */
int tmlp_loss_eval(int kind, const float *z, int batch, int n_out, tmlp_targets t,
                   double *loss, float *dz, tmlp_err *err);

/* Applies the loss's output link row by row: softmax, sigmoid, or identity (mse).
 * out may equal z. */
void tmlp_loss_link(int kind, const float *z, int batch, int n_out, float *out);

/* "softmax_ce", "sigmoid_bce", "mse"; NULL for an unknown kind. */
const char *tmlp_loss_name(int kind);

/* The kind called name (also accepts "ce", "bce"), or TMLP_ENOTFOUND. */
int tmlp_loss_find(const char *name, int *kind, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
