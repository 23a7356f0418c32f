/* tinymlp/data.h: in-memory datasets.
 *
 * A dataset is n samples of n_in floats (row-major), with class labels, float targets, or
 * both. The built-in XOR set lives here; file loaders (IDX, CSV) add to this module. */
#ifndef TINYMLP_DATA_H
#define TINYMLP_DATA_H

#include "err.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_data {
    int n;         /* samples */
    int n_in;      /* features per sample */
    int n_classes; /* label takes values in [0, n_classes); 0 when there are no labels */
    int n_targets; /* columns of target; 0 when there are no float targets */
    float *x;      /* (n, n_in) */
    int *label;    /* (n) or NULL */
    float *target; /* (n, n_targets) or NULL */
} tmlp_data;

/* A zeroed dataset with room for labels when n_classes > 0 and targets when n_targets > 0.
 * Free with tmlp_data_free. NULL + err on bad sizes or no memory. */
tmlp_data *tmlp_data_new(int n, int n_in, int n_classes, int n_targets, tmlp_err *err);
void tmlp_data_free(tmlp_data *d);

/* The four XOR samples: inputs {0,1}², label = a xor b, two classes. */
tmlp_data *tmlp_data_xor(tmlp_err *err);

/* A new dataset holding rows idx[0..n) of d, in that order. */
tmlp_data *tmlp_data_subset(const tmlp_data *d, const int *idx, int n, tmlp_err *err);

/* Splits d at random (seeded) into *train and *val with round(frac * n) validation rows.
 * Both are new datasets; d is unchanged. frac in [0, 1). */
int tmlp_data_split(const tmlp_data *d, double frac, tmlp_rng *rng, tmlp_data **train,
                    tmlp_data **val, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
