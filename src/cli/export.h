/* export.h: a saved net as C99 source (`tinymlp export`).
 *
 * export_fold turns a loaded net and its input preprocessing into plain dense layers: the
 * input scale and standardisation go into the first layer's weights and biases, each batch
 * norm (its running statistics, as in evaluation) into its own layer's, and dropout, which
 * evaluation leaves out, disappears. The writers print the folded layers as one header. */
#ifndef TINYMLP_CLI_EXPORT_H
#define TINYMLP_CLI_EXPORT_H

#include <stdio.h>
#include "datasets.h"
#include "tinymlp.h"

typedef struct export_layer {
    int n_in, n_out;
    float *W;                /* (n_out, n_in) folded weights, owned */
    float *b;                /* (n_out) folded biases, owned */
    const tmlp_act *act;     /* never NULL: identity when the layer has none */
    float arg;               /* the activation's ":value" */
    const float *param;      /* (n_param) learnable activation parameters, borrowed, or NULL */
    int n_param;
    int bn;                  /* batch norm was folded in */
} export_layer;

typedef struct export_model {
    int n_in, n_out, n_layers, loss;
    int prep_scale, prep_std; /* the input scale (not 1) / standardisation was folded in */
    float scale;
    char arch[512];           /* "784 inputs -> 128:relu -> 10" */
    export_layer L[TMLP_MAX_LAYERS];
} export_model;

/* What the header says about where it came from, and what it is called. */
typedef struct export_info {
    const char *name;        /* C identifier: the prefix of every symbol */
    const char *sha256;      /* the model file's, 64 hex digits */
} export_info;

/* Folds net (evaluation mode) and prep into *m. TMLP_EINVAL naming the layer for an
 * activation that is not built in (a registered one: the header could not compute it) or a
 * folded value that is not finite; TMLP_ENOMEM. On failure *m holds nothing to free. */
int export_fold(export_model *m, const tmlp_net *net, const cli_prep *prep, tmlp_err *err);
void export_model_free(export_model *m);

/* Writes the float header to f. TMLP_EIO when writing fails. */
int export_c_float(FILE *f, const export_model *m, const export_info *info, tmlp_err *err);

/* Pieces the int8 writer shares with the float one (export_c.c). */
/* %.9g with an 'f' suffix and a '.0' where needed: a C float literal that reads back exactly. */
void export_float_literal(char *buf, size_t size, float v);
/* Writes "static const float <prefix>_<what><i>[n] = {...};". */
void export_float_array(FILE *f, const char *prefix, const char *what, int i, const float *v,
                        size_t n);
/* Writes a helper function for each activation the layers use, once each (int8: not relu,
 * which the int8 header computes on the integer accumulator). */
void export_act_helpers(FILE *f, const export_model *m, const char *prefix, int int8);
/* Nonzero when the activations or the output link call libm. */
int export_libm_mask(const export_model *m);
/* Writes the end of predict and the whole classify (argmax of predict's outputs, or
 * out[0] > 0.5 for one output, as `tinymlp predict`). */
void export_classify(FILE *f, const export_model *m, const char *prefix, const char *upper);
/* Writes the statements that apply layer i's activation to v[0..n_out) in place. */
void export_act_apply(FILE *f, const export_model *m, int i, const char *prefix, const char *v);
/* Writes the output link from v[0..n_out) into out (as tmlp_net_predict applies it). */
void export_link_apply(FILE *f, const export_model *m, const char *v);
/* The libm functions the activations and link use, as text for the header's comment. */
void export_libm_note(const export_model *m, char *buf, size_t size);
/* Header comment lines naming what was folded into the dense layers (input scaling and
 * standardisation, batch norm), float and int8 headers alike. */
void export_folded_note(FILE *f, const export_model *m);

#endif
