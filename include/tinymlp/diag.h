/* tinymlp/diag.h: gradient and activation statistics, collected as a training observer.
 *
 * A diag collector watches every step of tmlp_train through an observer (tmlp_diag_observer)
 * and summarises each layer over each epoch (and, optionally, over every `every` batches):
 *
 *   grad_norm     ||dW||_F, the weight gradient of one step, averaged over the steps
 *   dz_norm       ||dL/dZ||_F over the batch (the gradient reaching the pre-activations)
 *   weight_norm   ||W||_F as the step found it, averaged over the steps
 *   update_ratio  ||W_after - W_before||_F / ||W_before||_F of each optimizer step, averaged:
 *                 measured, not estimated, so it holds for every optimizer (Adam's update is
 *                 not lr * dW). The collector keeps a copy of every W to do it.
 *   pre_mean/std  mean and standard deviation of the activation's input U (= Z without batch
 *                 norm) over every sample and unit
 *   out_mean/std  the same for the activation's output A (before dropout)
 *   dead_frac     for TMLP_ACT_CAN_DIE activations (relu, relu6): the fraction of units whose
 *                 output was exactly 0 for every sample of the epoch (or window); NAN otherwise
 *   sat_frac      for elementwise TMLP_ACT_SATURATES activations (sigmoid, tanh, ...): the
 *                 fraction of units with |f'(u)| < sat_threshold on more than sat_fraction of
 *                 their samples; NAN otherwise
 *
 * and, per record, the vanishing/exploding index grad_norm(first layer) / grad_norm(last
 * layer): far below 1 means the first layers hardly learn (vanishing gradients), far above 1
 * that they get the largest updates (exploding).
 *
 * Everything is allocated by tmlp_diag_new; the observer allocates nothing. When no collector
 * is attached, training pays nothing. Attached, a step costs one extra pass over dW, one over
 * W and its copy, and a few over the (batch, units) activations. The collector never prints:
 * records go to the on_record callback, and tmlp_diag_write formats them as CSV or JSON. */
#ifndef TINYMLP_DIAG_H
#define TINYMLP_DIAG_H

#include <stdio.h>
#include "err.h"
#include "net.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One layer summarised over one record's steps. */
typedef struct tmlp_diag_layer {
    int units;            /* the layer's outputs */
    const char *act;      /* its activation's name ("identity" for a plain affine layer) */
    double grad_norm;     /* mean over steps of ||dW||_F */
    double dz_norm;       /* mean over steps of ||dL/dZ||_F (batch rows) */
    double weight_norm;   /* mean over steps of ||W||_F, before each step's update */
    double update_ratio;  /* mean over steps of ||ΔW||_F / ||W||_F */
    double pre_mean, pre_std;  /* activation input U, over every sample and unit */
    double out_mean, out_std;  /* activation output A */
    double dead_frac;     /* NAN unless the activation can die */
    double sat_frac;      /* NAN unless the activation saturates (and is elementwise) */
} tmlp_diag_layer;

typedef struct tmlp_diag_record {
    int seq;              /* 0, 1, 2, ...: records delivered so far */
    int epoch;            /* 1-based */
    int first_batch, last_batch; /* the batches summarised (1-based, inclusive) */
    int whole_epoch;      /* 1: an epoch record; 0: a window of cfg.every batches */
    int steps;            /* batches summarised */
    long samples;         /* rows in them */
    double loss;          /* mean batch loss over them */
    double val_loss, val_acc; /* epoch records, from the loop; NAN otherwise */
    double vanish_index;  /* layer[0].grad_norm / layer[n_layers - 1].grad_norm */
    int n_layers;
    const tmlp_diag_layer *layer; /* (n_layers), owned by the collector, valid until the next
                                   * record (copy what you keep) */
} tmlp_diag_record;

typedef struct tmlp_diag_cfg {
    int every;            /* > 0: a record every `every` batches too; 0: per epoch only [0] */
    float sat_threshold;  /* |f'(u)| below this counts as saturated                 [0.01] */
    float sat_fraction;   /* ... on more than this fraction of a unit's samples       [0.5] */
    /* Called with each record as it completes (windows first, then the epoch). A nonzero
     * return stops training, like an observer's. May be NULL: tmlp_diag_last still works. */
    int (*on_record)(void *ctx, const tmlp_diag_record *rec);
    void *ctx;
} tmlp_diag_cfg;

/* every 0, sat_threshold 0.01, sat_fraction 0.5, no callback. */
tmlp_diag_cfg tmlp_diag_defaults(void);

typedef struct tmlp_diag tmlp_diag;

/* A collector for net (which must outlive it and be the net trained). Allocates every buffer
 * it will need. The caller frees it with tmlp_diag_free. NULL + err on a bad configuration
 * (every < 0, sat_fraction outside [0, 1), sat_threshold < 0) or no memory. */
tmlp_diag *tmlp_diag_new(const tmlp_net *net, const tmlp_diag_cfg *cfg, tmlp_err *err);
void tmlp_diag_free(tmlp_diag *d);

/* The observer to hand tmlp_train. It calls the collector, then next (may be NULL; it is
 * copied), and stops training when either asks to. */
tmlp_observer tmlp_diag_observer(tmlp_diag *d, const tmlp_observer *next);

/* Forgets everything collected (record count, partial sums, the last record), as if new:
 * for training the same collector's net again. */
void tmlp_diag_reset(tmlp_diag *d);

/* The last epoch record, or NULL before the first epoch ends. Valid until the next one. */
const tmlp_diag_record *tmlp_diag_last(const tmlp_diag *d);

enum { TMLP_DIAG_CSV = 0, TMLP_DIAG_JSON = 1 };

/* Writing records: tmlp_diag_write_begin once (the CSV header, or "[" for JSON), then
 * tmlp_diag_write for each record (CSV: one row per layer; JSON: one object per record with a
 * "layers" array), index counting the records written so far (0 for the first), then
 * tmlp_diag_write_end (JSON's "]"). NAN is written as an empty CSV field or JSON null.
 * f stays open. TMLP_EIO when the stream reports an error. */
int tmlp_diag_write_begin(FILE *f, int format, tmlp_err *err);
int tmlp_diag_write(FILE *f, int format, const tmlp_diag_record *rec, int index, tmlp_err *err);
int tmlp_diag_write_end(FILE *f, int format, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
