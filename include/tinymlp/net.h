/* tinymlp/net.h: a sequential multilayer perceptron.
 *
 * A net is a chain of layers; layer i computes
 *     Z_i = X_i · W_iᵀ + b_i        (batch, n_out)   one cblas_sgemm and a bias add
 *     U_i = BN(Z_i)                 (batch, n_out)   optional batch normalisation, else U = Z
 *     A_i = f_i(U_i)                (batch, n_out)   its activation
 *     X_{i+1} = drop(A_i)                            optional inverted dropout, else A
 * with X_0 the input. The last layer's output is what the loss sees: for the
 * fused losses (softmax_ce, sigmoid_bce) it must have no activation, since the loss applies
 * the link itself.
 *
 * The net owns one parameter block (every W, b and activation parameter, in layer order) and
 * one gradient block of the same layout, plus every buffer a step touches, all allocated by
 * tmlp_net_new for a maximum batch size: forward and backward never allocate. */
#ifndef TINYMLP_NET_H
#define TINYMLP_NET_H

#include <stddef.h>
#include "act.h"
#include "err.h"
#include "reduce.h"
#include "rng.h"
#include "team.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TMLP_MAX_LAYERS 32

typedef struct tmlp_layer_spec {
    int units;           /* outputs of this layer, > 0 */
    const tmlp_act *act; /* NULL means identity */
    float act_arg;       /* the ":value" of a parameterised activation */
    int init;            /* TMLP_INIT_*; TMLP_INIT_AUTO lets the activation choose */
    float dropout;       /* probability of zeroing an output while training, in [0, 1) */
    int batchnorm;       /* nonzero: batch-normalise Z before the activation */
    float l1, l2;        /* penalties on this layer's weights (not biases):
                          * loss += l1 Σ|W| + (l2 / 2) Σ W² */
} tmlp_layer_spec;

/* Batch normalisation's fixed settings (PyTorch's BatchNorm1d defaults). */
#define TMLP_BN_EPS 1e-5f
#define TMLP_BN_MOMENTUM 0.1f

typedef struct tmlp_net_spec {
    int n_in;     /* inputs per sample, > 0 */
    int loss;     /* TMLP_LOSS_* */
    int n_layers; /* the last one is the output layer */
    tmlp_layer_spec layer[TMLP_MAX_LAYERS];
} tmlp_net_spec;

/* Starts an empty spec for n_in inputs and the given loss. */
void tmlp_net_spec_init(tmlp_net_spec *spec, int n_in, int loss);

/* The activation a hidden layer gets when its spec names none: "relu". */
#define TMLP_DEFAULT_ACT "relu"

/* Appends a whole net's layers written as "units[:act[:arg]][:options]" separated by commas,
 * e.g. "128:relu,64:leaky_relu:0.1,10"; the last item is the output layer. A hidden layer that
 * names no activation gets TMLP_DEFAULT_ACT (ReLU): "128,64,10" is 128:relu,64:relu,10. A
 * linear hidden layer must say so: "128:identity" (or "128:linear"). The output layer that
 * names none has none (act NULL): the loss applies its own link. Options, in any order after
 * the activation, each at most once: "drop0.2" (dropout p), "bn" (batch norm), "l1=1e-5",
 * "l2=1e-4" (weight penalties). Whitespace, a sign before the units and empty fields ("4:")
 * are refused. Returns TMLP_EINVAL or TMLP_ENOTFOUND with a message naming the offending
 * item; layers already appended stay in spec. */
int tmlp_net_spec_parse(tmlp_net_spec *spec, const char *layers, tmlp_err *err);

/* As tmlp_net_spec_parse, for a list of hidden layers only (the caller appends the output
 * layer, as `tinymlp train --layers` does): every item that names no activation gets act with
 * act_arg, or TMLP_DEFAULT_ACT at its default argument when act is NULL. */
int tmlp_net_spec_parse_hidden(tmlp_net_spec *spec, const char *layers, const tmlp_act *act,
                               float act_arg, tmlp_err *err);

/* Writes spec's layers back in the syntax tmlp_net_spec_parse reads (with penalties only when
 * with_penalties): a hidden layer without activation is written "units:identity", the output
 * layer's identity is left out. Returns the length needed, as snprintf. */
int tmlp_net_spec_format(const tmlp_net_spec *spec, int with_penalties, char *buf, size_t size);

/* Appends one layer with a given definition (which need not be registered). */
int tmlp_net_spec_add(tmlp_net_spec *spec, int units, const tmlp_act *act, float act_arg,
                      tmlp_err *err);

typedef struct tmlp_net tmlp_net;

/* Builds a net for batches of up to max_batch rows. Parameters start at zero except the
 * activations' own (e.g. PReLU slopes); call tmlp_net_init for random weights. The caller
 * frees the net with tmlp_net_free. Returns NULL and fills err on a bad spec or no memory. */
tmlp_net *tmlp_net_new(const tmlp_net_spec *spec, int max_batch, tmlp_err *err);
void tmlp_net_free(tmlp_net *net);

/* Draws every weight matrix with its layer's initializer, sets biases to 0, activation
 * parameters to their initial values and batch norm to scale 1, shift 0, running mean 0 and
 * variance 1; seeds the dropout masks from rng. Deterministic for a given RNG state. */
int tmlp_net_init(tmlp_net *net, tmlp_rng *rng, tmlp_err *err);

/* The generator the dropout masks are drawn from, owned by the net: read it to save a run,
 * assign to it to continue one (or to draw chosen masks). tmlp_net_new seeds it with
 * tmlp_rng_seed(r, TMLP_NET_DROPOUT_SEED, TMLP_NET_DROPOUT_STREAM), tmlp_net_init from its
 * rng; only training-mode forwards draw from it, one number per unit of a dropout layer. */
#define TMLP_NET_DROPOUT_SEED 0x64726f70u /* "drop" */
#define TMLP_NET_DROPOUT_STREAM 0xd20bu
tmlp_rng *tmlp_net_dropout_rng(tmlp_net *net);

/* Splits the net's large GEMMs (forward, backward, and so evaluation and prediction) between
 * the threads of team (tinymlp/team.h), borrowed: it must outlive its use here. NULL, the
 * default, runs them as single OpenBLAS calls with OpenBLAS's own threading. */
void tmlp_net_set_team(tmlp_net *net, tmlp_team *team);
tmlp_team *tmlp_net_team(const tmlp_net *net);

/* Zero-column skipping, on by default: a forward of the first layer multiplies only the
 * input's columns that hold a nonzero in some row of the batch (MNIST: about 560 of 784 in a
 * batch of 256), and its backward writes exact zeros into the other columns of dW, when the
 * multiply-adds saved outweigh gathering the columns. Results equal the dense ones up to
 * rounding; a zero input times a non-finite weight or output gradient counts as zero. Off
 * (0): every forward is the plain dense product. It keeps a gathered copy of the first
 * layer's weights and of a batch of inputs; nets where those two would exceed 2^23 floats
 * (32 MB) never skip. */
void tmlp_net_set_skip_zeros(tmlp_net *net, int on);
/* The input columns the last forward multiplied: tmlp_net_n_in, unless it skipped some. */
int tmlp_net_input_cols_used(const tmlp_net *net);

/* Training mode turns dropout on and makes batch norm use (and update) batch statistics;
 * evaluation mode (the default) uses the running statistics and no dropout.
 * TMLP_MODE_TRAIN_REPLAY trains like TRAIN but reuses the previous forward's dropout masks
 * and leaves the running statistics alone: for gradient checks and teaching traces. */
enum { TMLP_MODE_EVAL = 0, TMLP_MODE_TRAIN = 1, TMLP_MODE_TRAIN_REPLAY = 2 };
void tmlp_net_set_mode(tmlp_net *net, int mode);
int tmlp_net_mode(const tmlp_net *net);

/* The weight penalty l1 Σ|W| + (l2/2) Σ W² summed over layers (0 when there is none). */
double tmlp_net_penalty(const tmlp_net *net);

/* Running batch-norm statistics (every BN layer's mean then variance, n_out each, in layer
 * order): not trained by gradients, but part of the model. */
float *tmlp_net_state(tmlp_net *net, size_t *n);

/* Data-parallel training (reduce.h): from now on, training-mode forwards and backwards take
 * their batch as the rows [offset, offset + batch) of a global batch of `total` rows whose
 * other rows other ranks hold. Batch norm then uses the global batch's statistics (summed by
 * red, as SyncBatchNorm), dropout draws the masks a single process would draw for these rows
 * (the generator moves on past the others', so it stays the same on every rank), only rank 0
 * adds the penalties' gradients, and a batch of 0 rows is allowed (it still takes part in
 * every reduction). red NULL ends it. Borrowed: red must outlive its use. TMLP_EINVAL for a
 * shard outside the global batch or a reducer without a sum. */
int tmlp_net_set_shard(tmlp_net *net, const tmlp_reducer *red, int offset, int total,
                       tmlp_err *err);

/* Runs the net on x (batch, n_in), batch <= max_batch, and returns its raw outputs
 * (batch, n_out), owned by the net and valid until the next forward. The net keeps a pointer
 * to x for tmlp_net_backward: keep x unchanged until then. NULL + err on a bad batch. */
const float *tmlp_net_forward(tmlp_net *net, const float *x, int batch, tmlp_err *err);

/* Back-propagates dout = dL/d(outputs) (batch, n_out) of the last forward and writes the
 * gradient block (overwriting it), including the penalties' gradients l1 sign(W) + l2 W. */
int tmlp_net_backward(tmlp_net *net, const float *dout, int batch, tmlp_err *err);

/* Outputs after the loss's link (class probabilities for softmax_ce) for any number of rows,
 * in chunks of max_batch, into out (n, n_out). */
int tmlp_net_predict(tmlp_net *net, const float *x, int n, float *out, tmlp_err *err);

/* The flat parameter and gradient blocks and their length. */
float *tmlp_net_params(tmlp_net *net, size_t *n);
float *tmlp_net_grads(tmlp_net *net, size_t *n);

const tmlp_net_spec *tmlp_net_get_spec(const tmlp_net *net);
int tmlp_net_n_in(const tmlp_net *net);
int tmlp_net_n_out(const tmlp_net *net);
int tmlp_net_max_batch(const tmlp_net *net);

/* A look inside layer i after a forward (and backward): for observers, reports and the
 * teaching trace. The pointers belong to the net. Row-major shapes in the comments. */
typedef struct tmlp_layer_view {
    int n_in, n_out;
    const tmlp_act *act; /* never NULL (identity when the spec had none) */
    float act_arg;
    float *W, *b;        /* (n_out, n_in), (n_out) */
    float *dW, *db;      /* gradients, same shapes */
    float *act_param;    /* (n_act_params) or NULL */
    float *dact_param;
    int n_act_params;
    float *bn_gamma, *bn_beta;   /* (n_out) batch-norm scale and shift, NULL without BN */
    float *dbn_gamma, *dbn_beta;
    float *bn_mean, *bn_var;     /* (n_out) running statistics, NULL without BN */
    float dropout;
    const float *x;      /* (batch, n_in) input of the last forward */
    const float *z;      /* (batch, n_out) Z = X·Wᵀ + b */
    const float *u;      /* (batch, n_out) the activation's input: BN(Z), or Z itself */
    const float *a;      /* (batch, n_out) activation output, before dropout */
    const float *out;    /* (batch, n_out) the layer's output (after dropout), next layer's x */
    const float *dz;     /* (batch, n_out) dL/dZ of the last backward */
    const float *du;     /* (batch, n_out) dL/dU of the last backward (== dz without BN) */
    const float *mask;   /* (batch, n_out) the dropout mask of the last training forward:
                          * 0 (dropped) or 1/(1-p) (kept, scaled); NULL without dropout */
    const float *bn_xhat;    /* (batch, n_out) Ẑ = (Z - mean) / sqrt(var + eps), NULL without BN */
    const float *bn_inv_std; /* (n_out) 1 / sqrt(var + eps) of the last training forward's batch */
    int batch;           /* rows in the last forward */
} tmlp_layer_view;

int tmlp_net_layer(const tmlp_net *net, int i, tmlp_layer_view *view, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
