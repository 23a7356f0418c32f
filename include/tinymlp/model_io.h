/* tinymlp/model_io.h: model files: a trained net saved as safetensors, and loaded back.
 *
 * A model file is a safetensors file (docs/file-format.md): an 8-byte little-endian header
 * length, a JSON header naming each tensor ("layers.0.weight" (n_out, n_in), "layers.0.bias"
 * (n_out), "layers.0.act_param" when the activation learns parameters) and carrying the
 * architecture in "__metadata__", then the raw little-endian float32 data. numpy or the
 * safetensors package read it in a few lines. Activations are stored by name, so a
 * user-defined one loads when it is registered (tmlp_act_register) before the read.
 *
 * Writing is atomic: the file appears complete or not at all, and an old file of the same
 * name survives any failed write. Reading checks every field against the file size before
 * allocating or reading anything. Neither keeps the path or any handle. */
#ifndef TINYMLP_MODEL_IO_H
#define TINYMLP_MODEL_IO_H

#include "err.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change an older reader would get wrong; readers refuse other versions. */
#define TMLP_MODEL_FORMAT_VERSION 1

/* Caller metadata saved with a model: string keys and string values, in insertion order.
 * "config" by convention holds the training configuration (free text or JSON); any other
 * key ("classes", "data", "test_accuracy") is the caller's. The library writes "format",
 * "format_version", "n_in", "loss" and "layers" itself; those keys are reserved.
 * A zeroed struct is an empty list. The struct owns copies of every string. */
typedef struct tmlp_model_kv {
    char *key, *value;
} tmlp_model_kv;

typedef struct tmlp_model_meta {
    int n;            /* pairs in kv */
    int cap;          /* allocated pairs */
    tmlp_model_kv *kv;
} tmlp_model_meta;

/* Empties *meta without freeing anything (use on a struct that holds nothing yet). */
void tmlp_model_meta_init(tmlp_model_meta *meta);

/* Sets key to a copy of value, replacing an earlier value; value NULL removes the key.
 * Returns TMLP_EINVAL for an empty or reserved key or text that is not valid UTF-8,
 * TMLP_ENOMEM when out of memory. */
int tmlp_model_meta_set(tmlp_model_meta *meta, const char *key, const char *value,
                        tmlp_err *err);

/* The value of key, owned by meta, or NULL when it is absent. */
const char *tmlp_model_meta_get(const tmlp_model_meta *meta, const char *key);

/* Frees every string and leaves *meta empty (reusable). meta may be NULL. */
void tmlp_model_meta_free(tmlp_model_meta *meta);

/* Saves net's architecture and parameters (not its gradients, optimizer state or
 * initializer choices) with meta (may be NULL) to path, atomically: a temporary file
 * "<path>.tmp.XXXXXX" in the same directory is written, synced and renamed over path, and
 * the directory is synced. The file gets the mode of the file it replaces, else 0644.
 * Every activation must be the registered definition of its name.
 * Returns TMLP_EIO (naming the path and the system's reason) when the file cannot be
 * written, TMLP_EINVAL for an activation the registry cannot find again or metadata that
 * would take the header past 1 MiB, TMLP_ENUMERIC for a parameter that is NaN or infinite.
 * On failure nothing is left behind and an old file at path is untouched. */
int tmlp_model_write(const char *path, const tmlp_net *net, const tmlp_model_meta *meta,
                     tmlp_err *err);

/* Loads the model in path as a new net for batches of up to max_batch rows; the caller
 * frees it with tmlp_net_free. When meta_out is not NULL it receives the caller metadata
 * (every key but the reserved ones; it need not be initialised beforehand) and the caller
 * frees it with tmlp_model_meta_free. Returns NULL and fills err: TMLP_ENOTFOUND for a
 * missing file or an activation that is not registered, TMLP_EIO for a read the system
 * refused, TMLP_EFORMAT for anything in the file that is not as documented, TMLP_EINVAL
 * for a bad max_batch. On failure *meta_out is left empty. */
tmlp_net *tmlp_model_read(const char *path, int max_batch, tmlp_model_meta *meta_out,
                          tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
