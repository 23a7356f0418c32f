/* model_io_impl.h: model_io's writer and reader with room for more tensors (private).
 *
 * A checkpoint (src/checkpoint.c) is a model file with extra rank-1 float32 tensors beside
 * the model's (the optimizer's moments, early stopping's best weights) and extra metadata
 * keys. These two functions are tmlp_model_write and tmlp_model_read with those extras; the
 * file keeps every guarantee of a model file (atomic write, every field checked against the
 * real file size before anything is allocated). Not installed. */
#ifndef TINYMLP_MODEL_IO_IMPL_H
#define TINYMLP_MODEL_IO_IMPL_H

#include <stddef.h>
#include "tinymlp/model_io.h"

#define TMLP_IO_MAX_EXTRA 8

/* One extra tensor, shape [n], dtype F32. */
typedef struct tmlp_io_extra {
    const char *name;   /* "optim.m": not "__metadata__" nor a model tensor's name, < 40 bytes */
    size_t n;           /* write: elements (>= 1); read: set from the file, 0 when absent */
    const float *src;   /* write: the n values (all finite) */
    float *dst;         /* read with TMLP_IO_ALL: a new array of n floats the caller frees,
                         * NULL when the tensor is absent */
    int required;       /* read: a file without it is refused */
} tmlp_io_extra;

/* tmlp_model_write plus extra tensors, written after the model's in the order given. */
int tmlp_model_write_ex(const char *path, const tmlp_net *net, const tmlp_model_meta *meta,
                        const tmlp_io_extra *extra, int n_extra, tmlp_err *err);

enum {
    TMLP_IO_HEADER = 0, /* check the whole header against the file; build and read nothing */
    TMLP_IO_MODEL = 1,  /* also build the net and read its tensors; extras are only checked */
    TMLP_IO_ALL = 2     /* also read the extras into new arrays */
};

/* tmlp_model_read plus extras: the file may hold each extra (at most once, shape [n] for any
 * n that fits the file) and must hold the required ones. *net_out (when mode is not
 * TMLP_IO_HEADER) and *meta_out (when not NULL) are as tmlp_model_read's. On failure
 * nothing is kept: *net_out is NULL, *meta_out empty and every dst NULL. */
int tmlp_model_read_ex(const char *path, int max_batch, int mode, tmlp_net **net_out,
                       tmlp_model_meta *meta_out, tmlp_io_extra *extra, int n_extra,
                       tmlp_err *err);

#endif
