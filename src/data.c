/* data.c: in-memory datasets, the built-in XOR set, subsets and seeded splits. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/data.h"

tmlp_data *tmlp_data_new(int n, int n_in, int n_classes, int n_targets, tmlp_err *err)
{
    if (n <= 0 || n_in <= 0 || n_classes < 0 || n_targets < 0) {
        tmlp_fail(err, TMLP_EINVAL, "dataset: bad sizes (n %d, inputs %d, classes %d, targets %d)",
                  n, n_in, n_classes, n_targets);
        return NULL;
    }
    if ((size_t)n > SIZE_MAX / sizeof(float) / (size_t)n_in ||
        (n_targets && (size_t)n > SIZE_MAX / sizeof(float) / (size_t)n_targets)) {
        tmlp_fail(err, TMLP_ENOMEM, "dataset: %d x %d floats overflow", n, n_in);
        return NULL;
    }
    tmlp_data *d = calloc(1, sizeof *d);
    if (!d)
        goto nomem;
    d->n = n;
    d->n_in = n_in;
    d->n_classes = n_classes;
    d->n_targets = n_targets;
    if (!(d->x = calloc((size_t)n * (size_t)n_in, sizeof *d->x)))
        goto nomem;
    if (n_classes && !(d->label = calloc((size_t)n, sizeof *d->label)))
        goto nomem;
    if (n_targets && !(d->target = calloc((size_t)n * (size_t)n_targets, sizeof *d->target)))
        goto nomem;
    return d;
nomem:
    tmlp_data_free(d);
    tmlp_fail(err, TMLP_ENOMEM, "dataset: no memory for %d samples of %d inputs", n, n_in);
    return NULL;
}

void tmlp_data_free(tmlp_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->label);
    free(d->target);
    free(d);
}

tmlp_data *tmlp_data_xor(tmlp_err *err)
{
    tmlp_data *d = tmlp_data_new(4, 2, 2, 0, err);
    if (!d)
        return NULL;
    for (int i = 0; i < 4; i++) {
        int a = i >> 1, b = i & 1;
        d->x[2 * i] = (float)a;
        d->x[2 * i + 1] = (float)b;
        d->label[i] = a ^ b;
    }
    return d;
}

tmlp_data *tmlp_data_subset(const tmlp_data *d, const int *idx, int n, tmlp_err *err)
{
    tmlp_data *s = tmlp_data_new(n, d->n_in, d->n_classes, d->n_targets, err);
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++) {
        int k = idx[i];
        if (k < 0 || k >= d->n) {
            tmlp_data_free(s);
            tmlp_fail(err, TMLP_EINVAL, "subset: index %d at position %d outside 0..%d", k, i,
                      d->n - 1);
            return NULL;
        }
        memcpy(s->x + (size_t)i * d->n_in, d->x + (size_t)k * d->n_in, (size_t)d->n_in * sizeof(float));
        if (d->label)
            s->label[i] = d->label[k];
        if (d->target)
            memcpy(s->target + (size_t)i * d->n_targets, d->target + (size_t)k * d->n_targets,
                   (size_t)d->n_targets * sizeof(float));
    }
    return s;
}

int tmlp_data_split(const tmlp_data *d, double frac, tmlp_rng *rng, tmlp_data **train,
                    tmlp_data **val, tmlp_err *err)
{
    *train = *val = NULL;
    if (!(frac >= 0.0 && frac < 1.0))
        return tmlp_fail(err, TMLP_EINVAL, "split: validation fraction %g outside [0, 1)", frac);
    int n_val = (int)lround(frac * d->n);
    if (n_val >= d->n)
        n_val = d->n - 1;
    int *idx = malloc((size_t)d->n * sizeof *idx);
    if (!idx)
        return tmlp_fail(err, TMLP_ENOMEM, "split: no memory");
    for (int i = 0; i < d->n; i++)
        idx[i] = i;
    tmlp_rng_shuffle(rng, idx, d->n);
    int rc = TMLP_OK;
    *train = tmlp_data_subset(d, idx + n_val, d->n - n_val, err);
    if (!*train)
        rc = err ? err->code : TMLP_ENOMEM;
    else if (n_val > 0 && !(*val = tmlp_data_subset(d, idx, n_val, err))) {
        rc = err ? err->code : TMLP_ENOMEM;
        tmlp_data_free(*train);
        *train = NULL;
    }
    free(idx);
    return rc;
}
