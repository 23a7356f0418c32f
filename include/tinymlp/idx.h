/* tinymlp/idx.h: IDX files (the MNIST format), plain or gzip-compressed, and MNIST-style folders.
 *
 * An IDX file is: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
 * 0x0E f64), a dimension count, each dimension as a big-endian u32, then the elements,
 * big-endian, row-major. Every header field is checked against the file's real size before
 * anything is allocated, so a header that lies cannot make the reader allocate gigabytes.
 * Only regular files are read: a device, FIFO, socket or folder is TMLP_EIO. A gzip file may
 * hold several members (read as one stream); any other byte after the last one is refused. */
#ifndef TINYMLP_IDX_H
#define TINYMLP_IDX_H

#include <stddef.h>
#include "data.h"
#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TMLP_IDX_MAX_DIMS 4

enum { TMLP_IDX_U8 = 0x08, TMLP_IDX_I8 = 0x09, TMLP_IDX_I16 = 0x0B, TMLP_IDX_I32 = 0x0C,
       TMLP_IDX_F32 = 0x0D, TMLP_IDX_F64 = 0x0E };

typedef struct tmlp_idx {
    int type;                    /* TMLP_IDX_* as stored in the file */
    int n_dims;
    int dims[TMLP_IDX_MAX_DIMS];
    size_t count;                /* product of dims */
    float *data;                 /* (count) every element converted to float */
} tmlp_idx;

/* The most a gzip IDX file may expand (data bytes per compressed byte, plus 1 MiB): real
 * image and label files expand 2-5 times, a decompression bomb up to 1032 times. A file over
 * it is refused (TMLP_EFORMAT, saying to gunzip it: a plain file's size vouches for itself). */
#define TMLP_IDX_GZ_MAX_RATIO 64

/* Reads path (gzip is recognised by its magic bytes, not its name) into *out; the caller
 * frees it with tmlp_idx_free. Errors: TMLP_ENOTFOUND (no such file), TMLP_EIO, TMLP_EFORMAT
 * (naming the path, the byte offset and what was expected), TMLP_ENOMEM. */
int tmlp_idx_read(const char *path, tmlp_idx *out, tmlp_err *err);
void tmlp_idx_free(tmlp_idx *idx);

/* Loads a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz; the "train-images.idx3-
 * ubyte" spelling is accepted too) as two new datasets. Unsigned-byte images are scaled to
 * [0, 1] (divided by 255); labels must be whole numbers in 0..255; both sets get the same
 * n_classes (largest label + 1). A missing file is TMLP_ENOTFOUND naming it. All four
 * headers are read and checked against each other (image and label counts, values per
 * image) before any data is, so a compressed file grows only as far as its partner allows. */
int tmlp_idx_load_folder(const char *dir, tmlp_data **train, tmlp_data **test, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
