/* tinymlp/net.h: a sequential multilayer perceptron.
 *
 * A net is a chain of layers; layer i computes
 *     Z_i = X_i · W_iᵀ + b_i        (batch, n_out)   one cblas_sgemm and a bias add
 *     A_i = f_i(Z_i)                (batch, n_out)   its activation
 * with X_0 the input and X_{i+1} = A_i. The last layer's output is what the loss sees: for the
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
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TMLP_MAX_LAYERS 32

typedef struct tmlp_layer_spec {
    int units;           /* outputs of this layer, > 0 */
    const tmlp_act *act; /* NULL means identity */
    float act_arg;       /* the ":value" of a parameterised activation */
    int init;            /* TMLP_INIT_*; TMLP_INIT_AUTO lets the activation choose */
} tmlp_layer_spec;

typedef struct tmlp_net_spec {
    int n_in;     /* inputs per sample, > 0 */
    int loss;     /* TMLP_LOSS_* */
    int n_layers; /* the last one is the output layer */
    tmlp_layer_spec layer[TMLP_MAX_LAYERS];
} tmlp_net_spec;

/* Starts an empty spec for n_in inputs and the given loss. */
void tmlp_net_spec_init(tmlp_net_spec *spec, int n_in, int loss);

/* Appends layers written as "units[:act[:arg]]" separated by commas, e.g.
 * "128:relu,64:leaky_relu:0.1,10". Returns TMLP_EINVAL or TMLP_ENOTFOUND with a message
 * naming the offending item. */
int tmlp_net_spec_parse(tmlp_net_spec *spec, const char *layers, tmlp_err *err);

/* Appends one layer with a given definition (which need not be registered). */
int tmlp_net_spec_add(tmlp_net_spec *spec, int units, const tmlp_act *act, float act_arg,
                      tmlp_err *err);

typedef struct tmlp_net tmlp_net;

/* Builds a net for batches of up to max_batch rows. Parameters start at zero except the
 * activations' own (e.g. PReLU slopes); call tmlp_net_init for random weights. The caller
 * frees the net with tmlp_net_free. Returns NULL and fills err on a bad spec or no memory. */
tmlp_net *tmlp_net_new(const tmlp_net_spec *spec, int max_batch, tmlp_err *err);
void tmlp_net_free(tmlp_net *net);

/* Draws every weight matrix with its layer's initializer, sets biases to 0 and activation
 * parameters to their initial values. Deterministic for a given RNG state. */
int tmlp_net_init(tmlp_net *net, tmlp_rng *rng, tmlp_err *err);

/* Runs the net on x (batch, n_in), batch <= max_batch, and returns its raw outputs
 * (batch, n_out), owned by the net and valid until the next forward. The net keeps a pointer
 * to x for tmlp_net_backward: keep x unchanged until then. NULL + err on a bad batch. */
const float *tmlp_net_forward(tmlp_net *net, const float *x, int batch, tmlp_err *err);

/* Back-propagates dout = dL/d(outputs) (batch, n_out) of the last forward and writes the
 * gradient block (overwriting it). */
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
    const float *x;      /* (batch, n_in) input of the last forward */
    const float *z;      /* (batch, n_out) pre-activation */
    const float *a;      /* (batch, n_out) activation output */
    const float *dz;     /* (batch, n_out) dL/dZ of the last backward */
    int batch;           /* rows in the last forward */
} tmlp_layer_view;

int tmlp_net_layer(const tmlp_net *net, int i, tmlp_layer_view *view, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
