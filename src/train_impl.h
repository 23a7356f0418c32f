/* train_impl.h (internal): what the training loop (train.c) shares with evaluation
 * (evaluate.c). */
#ifndef TMLP_TRAIN_IMPL_H
#define TMLP_TRAIN_IMPL_H

#include "tinymlp/loss.h"
#include "tinymlp/train.h"

/* The class a row of raw outputs z votes for. */
static inline int tmlp_vote(int loss, const float *z, int n_out)
{
    if (n_out == 1) /* a single output: logit > 0 for bce, value > 0.5 for mse */
        return z[0] > (loss == TMLP_LOSS_SIGMOID_BCE ? 0.0f : 0.5f);
    int best = 0;
    for (int j = 1; j < n_out; j++)
        if (z[j] > z[best])
            best = j;
    return best;
}

/* Checks that d can be fed to net; what names the data in the message. */
int tmlp_check_data(const tmlp_net *net, const tmlp_data *d, const char *what, tmlp_err *err);

/* tmlp_evaluate over the ranks of red: each evaluates its contiguous share of d's rows and
 * the sums of loss and right answers are reduced, so every rank gets the whole set's mean
 * loss and accuracy. red NULL: tmlp_evaluate. */
int tmlp_evaluate_sharded(tmlp_net *net, const tmlp_data *d, const tmlp_reducer *red,
                          double *loss, double *acc, tmlp_err *err);

#endif
