/* model_io.c: model files: a net's parameters as safetensors, its architecture in the header.
 *
 *     u64 LE  N                  header length
 *     N bytes JSON               {"__metadata__": {...}, "layers.0.weight": {dtype, shape,
 *                                 data_offsets}, ...}, space-padded so the data is 8-aligned
 *     data    float32 LE         every tensor, contiguous, offsets relative to the data start
 * The layout is documented, with its validation rules, in docs/file-format.md. cJSON builds
 * and parses the header; this file never scans JSON itself. Writing goes through a temporary
 * file renamed into place; reading checks everything against the file size before it
 * allocates the net or reads a byte of data. It is not a checkpoint: no gradients, no
 * optimizer state; src/checkpoint.c adds those as extra tensors through model_io_impl.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "tinymlp/loss.h"
#include "tinymlp/model_io.h"
#include "model_io_impl.h"
#include "file_impl.h"

#define MAX_HEADER (1u << 20)              /* bytes of JSON: bounds cJSON's memory on bad input */
#define MAX_META_KEYS 1024
#define MAX_TENSORS (7 * TMLP_MAX_LAYERS)  /* weight, bias, 4 batch-norm, act_param per layer */
#define MAX_EXACT 9007199254740992.0       /* 2^53: larger JSON numbers are not exact */

static const char *const reserved[] = { "format", "format_version", "n_in", "loss", "layers",
                                        "plugins" };
#define N_RESERVED ((int)(sizeof reserved / sizeof reserved[0]))

typedef struct tensor {
    char name[40];     /* "layers.12.act_param" */
    int rank;
    uint64_t dim[2];
    uint64_t n;        /* elements */
    uint64_t begin, end; /* byte offsets in the data section, from the header */
    float *data;       /* the net's view, once there is a net */
    int seen;
    int extra;         /* 1 + its index in the caller's extras, negated when it is optional;
                        * 0 for the model's own */
} tensor;

/* The tensors a checkpoint adds (src/checkpoint.c): tmlp_model_read skips them, so a
 * checkpoint also reads as a model. */
static const char *const ckpt_tensors[] = { "optim.m", "optim.v", "train.best" };
#define N_CKPT_TENSORS ((int)(sizeof ckpt_tensors / sizeof ckpt_tensors[0]))

static int host_le(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

static uint32_t bswap32(uint32_t u)
{
    return (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
}

/* ---- metadata list ---- */

static int is_reserved(const char *key)
{
    for (int i = 0; i < N_RESERVED; i++)
        if (strcmp(key, reserved[i]) == 0)
            return 1;
    return 0;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF): the JSON
 * header must be valid UTF-8 for other readers, and cJSON copies bytes as they come. */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p++, min;
        int more;
        if (c < 0x80)
            continue;
        else if ((c & 0xe0) == 0xc0) { more = 1; min = 0x80; c &= 0x1f; }
        else if ((c & 0xf0) == 0xe0) { more = 2; min = 0x800; c &= 0x0f; }
        else if ((c & 0xf8) == 0xf0) { more = 3; min = 0x10000; c &= 0x07; }
        else return 0;
        for (; more > 0; more--, p++) {
            if ((*p & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (*p & 0x3fu);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
    }
    return 1;
}

static int check_kv(const char *key, const char *value, tmlp_err *err)
{
    if (!key || !*key)
        return tmlp_fail(err, TMLP_EINVAL, "metadata key is empty");
    if (is_reserved(key))
        return tmlp_fail(err, TMLP_EINVAL, "metadata key '%s' is reserved (the library writes it)",
                         key);
    if (!utf8_ok(key) || (value && !utf8_ok(value)))
        return tmlp_fail(err, TMLP_EINVAL, "metadata '%.40s': not valid UTF-8", key);
    return TMLP_OK;
}

void tmlp_model_meta_init(tmlp_model_meta *meta)
{
    meta->n = meta->cap = 0;
    meta->kv = NULL;
}

static int find_key(const tmlp_model_meta *meta, const char *key)
{
    for (int i = 0; i < meta->n; i++)
        if (strcmp(meta->kv[i].key, key) == 0)
            return i;
    return -1;
}

int tmlp_model_meta_set(tmlp_model_meta *meta, const char *key, const char *value,
                        tmlp_err *err)
{
    int rc = check_kv(key, value, err);
    if (rc != TMLP_OK)
        return rc;
    int i = find_key(meta, key);
    if (!value) {                               /* remove */
        if (i >= 0) {
            free(meta->kv[i].key);
            free(meta->kv[i].value);
            memmove(&meta->kv[i], &meta->kv[i + 1], (size_t)(meta->n - i - 1) * sizeof *meta->kv);
            meta->n--;
        }
        return TMLP_OK;
    }
    char *v = strdup(value);
    if (!v)
        return tmlp_fail(err, TMLP_ENOMEM, "metadata '%.40s': no memory", key);
    if (i >= 0) {
        free(meta->kv[i].value);
        meta->kv[i].value = v;
        return TMLP_OK;
    }
    if (meta->n == meta->cap) {
        int cap = meta->cap ? 2 * meta->cap : 8;
        tmlp_model_kv *kv = cap > meta->cap ? realloc(meta->kv, (size_t)cap * sizeof *kv) : NULL;
        if (!kv) {
            free(v);
            return tmlp_fail(err, TMLP_ENOMEM, "metadata '%.40s': no memory", key);
        }
        meta->kv = kv;
        meta->cap = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(v);
        return tmlp_fail(err, TMLP_ENOMEM, "metadata '%.40s': no memory", key);
    }
    meta->kv[meta->n++] = (tmlp_model_kv){ .key = k, .value = v };
    return TMLP_OK;
}

const char *tmlp_model_meta_get(const tmlp_model_meta *meta, const char *key)
{
    int i = meta && key ? find_key(meta, key) : -1;
    return i >= 0 ? meta->kv[i].value : NULL;
}

void tmlp_model_meta_free(tmlp_model_meta *meta)
{
    if (!meta)
        return;
    for (int i = 0; i < meta->n; i++) {
        free(meta->kv[i].key);
        free(meta->kv[i].value);
    }
    free(meta->kv);
    tmlp_model_meta_init(meta);
}

/* ---- tensors of an architecture ---- */

static void add_tensor(tensor *t, int *n, int layer, const char *what, int rank, uint64_t d0,
                       uint64_t d1)
{
    tensor *x = &t[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "layers.%d.%s", layer, what);
    x->rank = rank;
    x->dim[0] = d0;
    x->dim[1] = rank > 1 ? d1 : 1;
    x->n = d0 * x->dim[1];
}

/* The tensors spec's net holds, in file order. No overflow: n_in, units < 2^31, <= 32 layers. */
static int spec_tensors(const tmlp_net_spec *spec, tensor *t)
{
    int n = 0;
    uint64_t n_in = (uint64_t)spec->n_in;
    for (int i = 0; i < spec->n_layers; i++) {
        const tmlp_layer_spec *l = &spec->layer[i];
        uint64_t units = (uint64_t)l->units;
        int n_ap = l->act ? tmlp_act_n_params(l->act, l->units) : 0;
        add_tensor(t, &n, i, "weight", 2, units, n_in);  /* (n_out, n_in), as torch Linear */
        add_tensor(t, &n, i, "bias", 1, units, 0);
        if (l->batchnorm) {                               /* as torch BatchNorm1d */
            add_tensor(t, &n, i, "bn_weight", 1, units, 0);
            add_tensor(t, &n, i, "bn_bias", 1, units, 0);
            add_tensor(t, &n, i, "bn_running_mean", 1, units, 0);
            add_tensor(t, &n, i, "bn_running_var", 1, units, 0);
        }
        if (n_ap > 0)
            add_tensor(t, &n, i, "act_param", 1, (uint64_t)n_ap, 0);
        n_in = units;
    }
    return n;
}

/* 1 for a batch-norm running variance ("layers.N.bn_running_var"), which must be >= 0. */
static int is_variance(const char *name)
{
    static const char tail[] = ".bn_running_var";
    size_t n = strlen(name), k = sizeof tail - 1;
    return n > k && !strcmp(name + n - k, tail);
}

/* Points each tensor at its view in net. */
static int point_tensors(const tmlp_net *net, tensor *t, int n_t, tmlp_err *err)
{
    int k = 0;
    for (int i = 0; i < tmlp_net_get_spec(net)->n_layers; i++) {
        tmlp_layer_view v;
        int rc = tmlp_net_layer(net, i, &v, err);
        if (rc != TMLP_OK)
            return rc;
        int bn = v.bn_gamma != NULL;
        if (k + 2 + 4 * bn + (v.n_act_params > 0) > n_t ||
            t[k].n != (uint64_t)v.n_out * (uint64_t)v.n_in ||
            (v.n_act_params > 0 && t[k + 2 + 4 * bn].n != (uint64_t)v.n_act_params))
            return tmlp_fail(err, TMLP_ESTATE, "layer %d: parameters do not match its spec", i);
        t[k++].data = v.W;
        t[k++].data = v.b;
        if (bn) {
            t[k++].data = v.bn_gamma;
            t[k++].data = v.bn_beta;
            t[k++].data = v.bn_mean;
            t[k++].data = v.bn_var;
        }
        if (v.n_act_params > 0)
            t[k++].data = v.act_param;
    }
    return TMLP_OK;
}

static void format_shape(const uint64_t *d, int rank, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRIu64, i ? "," : "", d[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* ---- writing ---- */

/* "128:relu:bn,64:leaky_relu:0.1:drop0.2,10" from net, refusing activations the registry
 * would not give back on reading. Penalties are training settings, not architecture. */
static int format_layers(const tmlp_net *net, char *buf, size_t size, tmlp_err *err)
{
    const tmlp_net_spec *spec = tmlp_net_get_spec(net);
    for (int i = 0; i < spec->n_layers; i++) {
        const tmlp_act *a = spec->layer[i].act;
        if (a && strcmp(a->name, "identity") && tmlp_act_find(a->name) != a)
            return tmlp_fail(err, TMLP_EINVAL, "layer %d: activation '%s' is not the "
                             "registered definition of that name (register it with "
                             "tmlp_act_register so the file can be read)", i + 1, a->name);
    }
    int w = tmlp_net_spec_format(spec, 0, buf, size);
    if (w < 0 || (size_t)w >= size)
        return tmlp_fail(err, TMLP_EINVAL, "layer list longer than %zu characters", size);
    return TMLP_OK;
}

static int add_u64(cJSON *array, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    cJSON *raw = cJSON_CreateRaw(s);  /* exact for any u64, where a double stops at 2^53 */
    if (!raw)
        return 0;
    cJSON_AddItemToArray(array, raw);
    return 1;
}

/* The header as a JSON tree, or NULL when out of memory. */
static cJSON *build_header(const tmlp_net *net, const char *layers, const tmlp_model_meta *meta,
                           const tensor *t, int n_t)
{
    char num[24];
    cJSON *root = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
    int ok = md && cJSON_AddStringToObject(md, "format", "tinymlp");
    snprintf(num, sizeof num, "%d", TMLP_MODEL_FORMAT_VERSION);
    ok = ok && cJSON_AddStringToObject(md, "format_version", num);
    snprintf(num, sizeof num, "%d", tmlp_net_n_in(net));
    ok = ok && cJSON_AddStringToObject(md, "n_in", num);
    ok = ok && cJSON_AddStringToObject(md, "loss", tmlp_loss_name(tmlp_net_get_spec(net)->loss));
    ok = ok && cJSON_AddStringToObject(md, "layers", layers);
    /* "plugins": "name=file,..." for each activation registered with an origin (a plugin):
     * a reader without it can then name both. Only ever shown in a message, never loaded. */
    char plugins[1024] = "";
    size_t used = 0;
    const tmlp_net_spec *spec = tmlp_net_get_spec(net);
    for (int i = 0; i < spec->n_layers; i++) {
        const tmlp_act *a = spec->layer[i].act;
        const char *o = a ? tmlp_act_origin(a) : NULL;
        int seen = 0;
        for (int j = 0; j < i && o; j++)
            seen |= spec->layer[j].act == a;
        if (o && !seen && used < sizeof plugins)
            used += (size_t)snprintf(plugins + used, sizeof plugins - used, "%s%s=%s",
                                     used ? "," : "", a->name, o);
    }
    if (used && used < sizeof plugins)
        ok = ok && cJSON_AddStringToObject(md, "plugins", plugins);
    for (int i = 0; ok && meta && i < meta->n; i++)
        ok = cJSON_AddStringToObject(md, meta->kv[i].key, meta->kv[i].value) != NULL;
    uint64_t off = 0;
    for (int i = 0; ok && i < n_t; i++) {
        cJSON *o = cJSON_AddObjectToObject(root, t[i].name);
        ok = o && cJSON_AddStringToObject(o, "dtype", "F32");
        cJSON *shape = ok ? cJSON_AddArrayToObject(o, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(o, "data_offsets") : NULL;
        ok = offs != NULL;
        for (int d = 0; ok && d < t[i].rank; d++)
            ok = add_u64(shape, t[i].dim[d]);
        ok = ok && add_u64(offs, off) && add_u64(offs, off + 4 * t[i].n);
        off += 4 * t[i].n;
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static int write_f32(FILE *f, const float *x, uint64_t n)
{
    if (host_le())
        return fwrite(x, sizeof *x, (size_t)n, f) == (size_t)n;
    uint32_t buf[1024];
    while (n > 0) {
        size_t k = n < 1024 ? (size_t)n : 1024;
        memcpy(buf, x, k * sizeof *x);
        for (size_t i = 0; i < k; i++)
            buf[i] = bswap32(buf[i]);
        if (fwrite(buf, sizeof *buf, k, f) != k)
            return 0;
        x += k;
        n -= k;
    }
    return 1;
}

/* fsyncs the directory holding path, so the rename itself survives a crash. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY), e = 0;
    free(dir);
    if (fd < 0)
        return errno;
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)  /* no dir fsync on this fs */
        e = errno;
    close(fd);
    return e;
}

int tmlp_model_write(const char *path, const tmlp_net *net, const tmlp_model_meta *meta,
                     tmlp_err *err)
{
    return tmlp_model_write_ex(path, net, meta, NULL, 0, err);
}

/* Appends the extras after the model's n_t tensors; returns the new count, or -1 (err set)
 * for a bad extra. */
static int add_extras(tensor *t, int n_t, const tmlp_io_extra *extra, int n_extra,
                      const char *path, tmlp_err *err)
{
    if (n_extra < 0 || n_extra > TMLP_IO_MAX_EXTRA) {
        tmlp_fail(err, TMLP_EINVAL, "%s: %d extra tensors (at most %d)", path, n_extra,
                  TMLP_IO_MAX_EXTRA);
        return -1;
    }
    for (int i = 0; i < n_extra; i++) {
        const char *name = extra[i].name;
        int clash = !name || !*name || strlen(name) >= sizeof t->name ||
                    !strcmp(name, "__metadata__");
        for (int k = 0; !clash && k < n_t + i; k++)
            clash = !strcmp(t[k].name, name);
        if (clash) {
            tmlp_fail(err, TMLP_EINVAL, "%s: extra tensor name '%.40s' is empty, too long or "
                      "taken", path, name ? name : "(null)");
            return -1;
        }
        tensor *x = &t[n_t + i];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%s", name);
        x->rank = 1;
        x->dim[0] = x->n = extra[i].n;
        x->dim[1] = 1;
        x->data = (float *)extra[i].src;    /* only read from when writing */
        x->extra = i + 1;
    }
    return n_t + n_extra;
}

int tmlp_model_write_ex(const char *path, const tmlp_net *net, const tmlp_model_meta *meta,
                        const tmlp_io_extra *extra, int n_extra, tmlp_err *err)
{
    tensor t[MAX_TENSORS + TMLP_IO_MAX_EXTRA];
    char layers[4096], *json = NULL, *tmp = NULL;
    cJSON *root = NULL;
    FILE *f = NULL;
    int fd = -1, rc;

    for (int i = 0; meta && i < meta->n; i++) {
        if ((rc = check_kv(meta->kv[i].key, meta->kv[i].value, err)) != TMLP_OK)
            return rc;
        if (!meta->kv[i].value || find_key(meta, meta->kv[i].key) != i)
            return tmlp_fail(err, TMLP_EINVAL, "metadata '%.40s': %s", meta->kv[i].key,
                             meta->kv[i].value ? "key appears twice" : "value is NULL");
    }
    if (meta && meta->n > MAX_META_KEYS - N_RESERVED)
        return tmlp_fail(err, TMLP_EINVAL, "%s: more than %d metadata keys", path,
                         MAX_META_KEYS - N_RESERVED);
    struct stat old;                                /* refuse what rename would clobber wrongly */
    if (stat(path, &old) == 0 && !S_ISREG(old.st_mode))
        return tmlp_fail(err, TMLP_EIO, "%s: exists and is not a regular file (a folder?)", path);
    if (stat(path, &old) == 0 && !(old.st_mode & 0222))
        return tmlp_fail(err, TMLP_EIO, "%s: the file is read-only; not replacing it (make it "
                         "writable, or write elsewhere)", path);
    int n_t = spec_tensors(tmlp_net_get_spec(net), t);
    if ((rc = point_tensors(net, t, n_t, err)) != TMLP_OK ||
        (rc = format_layers(net, layers, sizeof layers, err)) != TMLP_OK)
        return rc;
    if ((n_t = add_extras(t, n_t, extra, n_extra, path, err)) < 0)
        return err ? err->code : TMLP_EINVAL;
    for (int i = 0; i < n_t; i++)
        if (t[i].extra && (!t[i].data || t[i].n == 0))
            return tmlp_fail(err, TMLP_EINVAL, "%s: extra tensor %s has no data", path,
                             t[i].name);
    for (int i = 0; i < n_t; i++)
        for (uint64_t k = 0; k < t[i].n; k++)
            if (!isfinite(t[i].data[k]))
                return tmlp_fail(err, TMLP_ENUMERIC, "%s: tensor %s: element %" PRIu64 " is %g; "
                                 "not saving a diverged model", path, t[i].name, k,
                                 (double)t[i].data[k]);

    root = build_header(net, layers, meta, t, n_t);
    json = root ? cJSON_PrintUnformatted(root) : NULL;
    size_t len_path = strlen(path), len = json ? strlen(json) : 0;
    size_t padded = (len + 7) & ~(size_t)7;         /* so the data starts 8-aligned */
    if (padded > MAX_HEADER) {
        rc = tmlp_fail(err, TMLP_EINVAL, "%s: header of %zu bytes is over the %u a reader "
                       "accepts (too much metadata)", path, padded, MAX_HEADER);
        goto fail;
    }
    tmp = json ? malloc(len_path + sizeof ".tmp.XXXXXX") : NULL;
    if (!tmp) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for the header", path);
        goto fail;
    }
    memcpy(tmp, path, len_path);
    memcpy(tmp + len_path, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    if ((fd = mkstemp(tmp)) < 0) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: cannot create a temporary file beside it: %s", path,
                       strerror(errno));
        free(tmp);
        tmp = NULL;                                 /* nothing to remove */
        goto fail;
    }
    struct stat st;                                 /* keep the mode of the file replaced */
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (st.st_mode & 07777) : 0644;
    if (fchmod(fd, mode) != 0 || !(f = fdopen(fd, "wb"))) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: %s: %s", path, tmp, strerror(errno));
        goto fail;
    }
    fd = -1;                                        /* f owns it now */

    unsigned char n8[8];
    for (int i = 0; i < 8; i++)
        n8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(n8, 1, 8, f) == 8 && fwrite(json, 1, len, f) == len;
    for (size_t i = len; ok && i < padded; i++)
        ok = putc(' ', f) != EOF;
    for (int i = 0; ok && i < n_t; i++)
        ok = write_f32(f, t[i].data, t[i].n);
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (!ok) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: writing %s: %s", path, tmp, strerror(errno));
        goto fail;
    }
    int closed = fclose(f);
    f = NULL;
    if (closed != 0) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: closing %s: %s", path, tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: cannot replace it: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    tmp = NULL;
    int e = sync_dir(path);
    rc = e ? tmlp_fail(err, TMLP_EIO, "%s: written, but syncing its directory failed: %s", path,
                       strerror(e)) : TMLP_OK;
fail:
    if (f)
        fclose(f);
    else if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(json);
    cJSON_Delete(root);
    return rc;
}

/* ---- reading ---- */

/* Reads size bytes at offset off; a short read means the file changed under us. */
static int read_at(FILE *f, const char *path, uint64_t off, void *buf, size_t size, tmlp_err *err)
{
    if (off > (uint64_t)INT64_MAX || fseeko(f, (off_t)off, SEEK_SET) != 0)
        return tmlp_fail(err, TMLP_EIO, "%s: cannot seek to byte %" PRIu64 ": %s", path, off,
                         strerror(errno));
    if (fread(buf, 1, size, f) != size)
        return ferror(f) ? tmlp_fail(err, TMLP_EIO, "%s: reading at byte %" PRIu64 ": %s", path,
                                     off, strerror(errno))
                         : tmlp_fail(err, TMLP_EFORMAT, "%s: file shrank while being read "
                                     "(at byte %" PRIu64 ")", path, off);
    return TMLP_OK;
}

/* A JSON array of at most max exact non-negative integers into v; their count, or -1. */
static int u64_array(const cJSON *a, uint64_t *v, int max)
{
    int n = 0;
    const cJSON *x;
    if (!cJSON_IsArray(a))
        return -1;
    cJSON_ArrayForEach(x, a) {
        double d = x->valuedouble;
        if (n == max || !cJSON_IsNumber(x) || !(d >= 0.0 && d <= MAX_EXACT) || d != floor(d))
            return -1;
        v[n++] = (uint64_t)d;
    }
    return n;
}

static const char *md_get(const cJSON *md, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(md, key);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* The file's "plugins" ("name=file,...", untrusted) names an activation that is not
 * registered: says which and from which file (never loading anything), returns 1. */
static int missing_plugin(const char *path, const char *plugins, tmlp_err *err)
{
    for (const char *p = plugins; p && *p;) {
        const char *eq = strchr(p, '='), *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (!eq || eq > end || eq == p || eq + 1 == end)
            return 0; /* not as written: the plain message will do */
        for (const char *c = p; c < end; c++) /* shown in a message: plain characters only */
            if (*c < 0x21 || *c > 0x7e || *c == '/')
                return 0;
        char name[48];
        if ((size_t)(eq - p) < sizeof name) {
            memcpy(name, p, (size_t)(eq - p));
            name[eq - p] = '\0';
            if (!tmlp_act_find(name)) {
                tmlp_fail(err, TMLP_ENOTFOUND, "%s: activation '%s' comes from the plugin "
                          "'%.*s', which is not loaded (load it first, e.g. --plugin %.*s)",
                          path, name, (int)(end - eq - 1 > 64 ? 64 : end - eq - 1), eq + 1,
                          (int)(end - eq - 1 > 64 ? 64 : end - eq - 1), eq + 1);
                return 1;
            }
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* __metadata__ into spec (architecture) and meta (the caller's keys). */
static int read_metadata(const char *path, const cJSON *root, tmlp_net_spec *spec,
                         tmlp_model_meta *meta, tmlp_err *err)
{
    const cJSON *md = NULL, *x, *y;
    int n_md = 0, n_keys = 0, rc;
    cJSON_ArrayForEach(x, root)
        if (strcmp(x->string, "__metadata__") == 0) {
            md = x;
            n_md++;
        }
    if (n_md != 1 || !cJSON_IsObject(md))
        return tmlp_fail(err, TMLP_EFORMAT, "%s: header %s (not a tinymlp model)", path,
                         n_md == 0 ? "has no __metadata__" : n_md > 1 ? "has __metadata__ twice"
                                                                     : "__metadata__ is not an object");
    cJSON_ArrayForEach(x, md) {
        if (++n_keys > MAX_META_KEYS)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: more than %d metadata keys", path,
                             MAX_META_KEYS);
        if (!cJSON_IsString(x) || !*x->string)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: metadata '%.40s' %s", path, x->string,
                             *x->string ? "is not a string" : "is an empty key");
        if (!utf8_ok(x->string) || !utf8_ok(x->valuestring))
            return tmlp_fail(err, TMLP_EFORMAT, "%s: metadata '%.40s' is not valid UTF-8", path,
                             x->string);
        for (y = md->child; y != x; y = y->next)
            if (strcmp(y->string, x->string) == 0)
                return tmlp_fail(err, TMLP_EFORMAT, "%s: metadata '%.40s' appears twice", path,
                                 x->string);
    }
    const char *format = md_get(md, "format"), *version = md_get(md, "format_version");
    const char *n_in_s = md_get(md, "n_in"), *loss_s = md_get(md, "loss");
    const char *layers = md_get(md, "layers");
    if (!format || strcmp(format, "tinymlp") != 0)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: metadata format is %s%.40s%s, not \"tinymlp\"",
                         path, format ? "\"" : "", format ? format : "missing", format ? "\"" : "");
    char num[16];
    snprintf(num, sizeof num, "%d", TMLP_MODEL_FORMAT_VERSION);
    if (!version || strcmp(version, num) != 0)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: format_version %s%.20s%s is not one this "
                         "reader knows (%s)", path, version ? "\"" : "",
                         version ? version : "missing", version ? "\"" : "", num);
    char *end = NULL;
    long n_in = n_in_s && *n_in_s >= '1' && *n_in_s <= '9' ? strtol(n_in_s, &end, 10) : 0;
    if (!end || *end || n_in <= 0 || n_in > INT32_MAX)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: metadata n_in \"%.20s\" is not a positive "
                         "integer", path, n_in_s ? n_in_s : "(missing)");
    if (!loss_s || !layers)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: metadata has no '%s'", path,
                         loss_s ? "layers" : "loss");
    tmlp_err e = { 0 };
    int loss;
    if ((rc = tmlp_loss_find(loss_s, &loss, &e)) != TMLP_OK)
        return tmlp_fail(err, rc, "%s: metadata loss: %s", path, e.msg);
    tmlp_net_spec_init(spec, (int)n_in, loss);
    /* A file's bare widths are linear: files written before tmlp_net_spec_parse gave them
     * ReLU stored "128,10" for an identity hidden layer (now written "128:identity,10"). */
    if ((rc = tmlp_net_spec_parse_hidden(spec, layers, tmlp_act_find("identity"), 0.0f, &e)) !=
        TMLP_OK && rc == TMLP_ENOTFOUND && missing_plugin(path, md_get(md, "plugins"), err))
        return TMLP_ENOTFOUND;
    if (rc != TMLP_OK)
        return tmlp_fail(err, rc == TMLP_ENOTFOUND ? rc : TMLP_EFORMAT, "%s: metadata layers%s: %s",
                         path, rc == TMLP_ENOTFOUND ? " (register custom activations before "
                         "reading)" : "", e.msg);
    cJSON_ArrayForEach(x, md)
        if (!is_reserved(x->string) &&
            (rc = tmlp_model_meta_set(meta, x->string, x->valuestring, err)) != TMLP_OK)
            return rc;
    return TMLP_OK;
}

/* One tensor entry: dtype, shape and offsets as the architecture says, within n_data. */
static int read_tensor_info(const char *path, const cJSON *o, tensor *t, uint64_t n_data,
                            tmlp_err *err)
{
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL, *x;
    if (!cJSON_IsObject(o))
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: not an object", path, t->name);
    cJSON_ArrayForEach(x, o) {
        const cJSON **slot = strcmp(x->string, "dtype") == 0 ? &dtype
                           : strcmp(x->string, "shape") == 0 ? &shape
                           : strcmp(x->string, "data_offsets") == 0 ? &offs : NULL;
        if (!slot || *slot)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: %s field '%.40s'", path, t->name,
                             slot ? "repeated" : "unknown", x->string);
        *slot = x;
    }
    if (!dtype || !shape || !offs)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: no %s", path, t->name,
                         !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!cJSON_IsString(dtype) || strcmp(dtype->valuestring, "F32") != 0)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: dtype %.20s, expected F32", path,
                         t->name, cJSON_IsString(dtype) ? dtype->valuestring : "(not a string)");
    uint64_t dim[8] = { 0 }, off[3] = { 0 };
    int rank = u64_array(shape, dim, 8);
    if (rank < 0)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: shape is not a list of at most 8 "
                         "non-negative integers", path, t->name);
    if (t->extra && rank == 1) {                    /* an extra: any length the file holds */
        t->dim[0] = t->n = dim[0];
        if (dim[0] == 0)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: shape [0]", path, t->name);
    }
    if (rank != t->rank || dim[0] != t->dim[0] || (rank > 1 && dim[1] != t->dim[1])) {
        char got[64], want[64];
        format_shape(dim, rank, got, sizeof got);
        format_shape(t->dim, t->rank, want, sizeof want);
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: shape %s, expected %s", path, t->name,
                         got, want);
    }
    if (u64_array(offs, off, 3) != 2 || off[0] > off[1])
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: data_offsets is not [begin, end] "
                         "with begin <= end", path, t->name);
    if (off[1] > n_data)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: data_offsets [%" PRIu64 ",%" PRIu64
                         "] run past the %" PRIu64 " data bytes the file holds (truncated?)",
                         path, t->name, off[0], off[1], n_data);
    if (off[1] - off[0] != 4 * t->n)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: data_offsets [%" PRIu64 ",%" PRIu64
                         "] span %" PRIu64 " bytes, its shape needs %" PRIu64, path, t->name,
                         off[0], off[1], off[1] - off[0], 4 * t->n);
    t->begin = off[0];
    t->end = off[1];
    return TMLP_OK;
}

/* Every header entry is a known tensor, every tensor is there, and together they tile the
 * data section [0, n_data) exactly: no gap, no overlap, nothing after. Any order is fine
 * (other writers sort by name). */
static int read_tensor_table(const char *path, const cJSON *root, tensor *t, int n_t,
                             uint64_t n_data, tmlp_err *err)
{
    const cJSON *x;
    int rc;
    cJSON_ArrayForEach(x, root) {
        if (strcmp(x->string, "__metadata__") == 0)
            continue;
        int i = 0;
        while (i < n_t && strcmp(t[i].name, x->string) != 0)
            i++;
        if (i == n_t || t[i].seen)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: %s tensor '%.40s'", path,
                             i == n_t ? "unknown" : "repeated", x->string);
        t[i].seen = 1;
        if ((rc = read_tensor_info(path, x, &t[i], n_data, err)) != TMLP_OK)
            return rc;
    }
    int order[MAX_TENSORS + TMLP_IO_MAX_EXTRA], n_seen = 0;
    for (int i = 0; i < n_t; i++) {
        if (!t[i].seen && t[i].extra < 0)           /* an optional extra */
            continue;
        if (!t[i].seen)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s is missing", path, t[i].name);
        int j = n_seen++;                           /* insertion sort by begin */
        for (; j > 0 && t[order[j - 1]].begin > t[i].begin; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    uint64_t pos = 0;
    for (int k = 0; k < n_seen; k++) {
        const tensor *c = &t[order[k]];
        if (c->begin > pos)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: gap of %" PRIu64 " bytes at data offset %"
                             PRIu64 ", before tensor %s", path, c->begin - pos, pos, c->name);
        if (c->begin < pos)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s (data_offsets [%" PRIu64 ",%"
                             PRIu64 "]) overlaps tensor %s, which ends at %" PRIu64, path,
                             c->name, c->begin, c->end, t[order[k - 1]].name, pos);
        pos = c->end;
    }
    if (pos != n_data)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: %" PRIu64 " trailing bytes after the last "
                         "tensor (data section holds %" PRIu64 ", tensors cover %" PRIu64 ")",
                         path, n_data - pos, n_data, pos);
    return TMLP_OK;
}

tmlp_net *tmlp_model_read(const char *path, int max_batch, tmlp_model_meta *meta_out,
                          tmlp_err *err)
{
    tmlp_io_extra skip[N_CKPT_TENSORS];
    memset(skip, 0, sizeof skip);
    for (int i = 0; i < N_CKPT_TENSORS; i++)
        skip[i].name = ckpt_tensors[i];
    tmlp_net *net = NULL;
    tmlp_model_read_ex(path, max_batch, TMLP_IO_MODEL, &net, meta_out, skip, N_CKPT_TENSORS, err);
    return net;
}

int tmlp_model_read_ex(const char *path, int max_batch, int mode, tmlp_net **net_out,
                       tmlp_model_meta *meta_out, tmlp_io_extra *extra, int n_extra,
                       tmlp_err *err)
{
    tensor t[MAX_TENSORS + TMLP_IO_MAX_EXTRA];
    tmlp_model_meta meta = { 0 };
    tmlp_net_spec spec;
    tmlp_net *net = NULL;
    cJSON *root = NULL;
    char *hdr = NULL;
    FILE *f = NULL;
    int rc = TMLP_OK;
    struct stat st;
    unsigned char n8[8];

    if (meta_out)
        tmlp_model_meta_init(meta_out);
    if (net_out)
        *net_out = NULL;
    for (int i = 0; i < n_extra; i++) {
        extra[i].n = 0;
        extra[i].dst = NULL;
    }
    if (max_batch <= 0 && mode != TMLP_IO_HEADER)
        return tmlp_fail(err, TMLP_EINVAL, "%s: max batch must be positive, got %d", path,
                         max_batch);
    if ((mode != TMLP_IO_HEADER && !net_out) || mode < TMLP_IO_HEADER || mode > TMLP_IO_ALL)
        return tmlp_fail(err, TMLP_EINVAL, "%s: bad read mode %d", path, mode);
    if ((rc = tmlp_file_open(path, "model or checkpoint", &f, &st, err)) != TMLP_OK)
        return rc;
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8) {
        rc = size == 0 ? tmlp_fail(err, TMLP_EFORMAT, "%s: empty file", path)
           : tmlp_fail(err, TMLP_EFORMAT, "%s: file holds %" PRIu64 " bytes, too few for the "
                       "8-byte header length", path, size);
        goto fail;
    }
    if ((rc = read_at(f, path, 0, n8, 8, err)) != TMLP_OK)
        goto fail;
    uint64_t n_hdr = 0;
    for (int i = 7; i >= 0; i--)
        n_hdr = (n_hdr << 8) | n8[i];
    if (n_hdr > size - 8 || n_hdr > MAX_HEADER || n_hdr < 2) {
        rc = n_hdr > size - 8
           ? tmlp_fail(err, TMLP_EFORMAT, "%s: header says %" PRIu64 " bytes, file holds %"
                       PRIu64 " after the 8-byte length", path, n_hdr, size - 8)
           : tmlp_fail(err, TMLP_EFORMAT, "%s: header length %" PRIu64 " is outside 2..%u",
                       path, n_hdr, MAX_HEADER);
        goto fail;
    }
    if (!(hdr = malloc((size_t)n_hdr))) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for a %" PRIu64 "-byte header", path,
                       n_hdr);
        goto fail;
    }
    if ((rc = read_at(f, path, 8, hdr, (size_t)n_hdr, err)) != TMLP_OK)
        goto fail;
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)n_hdr, &end, 0);
    if (!root) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: header is not valid JSON (error near byte %td "
                       "of the file)", path, end ? 8 + (end - hdr) : (ptrdiff_t)0);
        goto fail;
    }
    for (const char *p = end; p < hdr + n_hdr; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: header has bytes other than space padding "
                           "after its JSON (at byte %td)", path, 8 + (p - hdr));
            goto fail;
        }
    if (!cJSON_IsObject(root)) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: header is not a JSON object", path);
        goto fail;
    }
    if ((rc = read_metadata(path, root, &spec, &meta, err)) != TMLP_OK)
        goto fail;
    int n_model = spec_tensors(&spec, t), n_t = n_model;
    uint64_t n_data = size - 8 - n_hdr;
    if ((n_t = add_extras(t, n_model, extra, n_extra, path, err)) < 0) {
        rc = err ? err->code : TMLP_EINVAL;
        goto fail;
    }
    for (int i = n_model; i < n_t; i++)
        if (!extra[i - n_model].required)
            t[i].extra = -t[i].extra;
    if ((rc = read_tensor_table(path, root, t, n_t, n_data, err)) != TMLP_OK)
        goto fail;
    for (int i = n_model; i < n_t; i++) {
        extra[i - n_model].n = t[i].seen ? (size_t)t[i].n : 0;
        t[i].data = NULL;
    }
    if (mode == TMLP_IO_HEADER)
        goto fail;                                  /* done: clean up, keep the metadata */

    /* Everything checked: build the net and read the data straight into its parameters. */
    tmlp_err e = { 0 };
    if (!(net = tmlp_net_new(&spec, max_batch, &e))) {
        rc = tmlp_fail(err, e.code == TMLP_ENOMEM ? TMLP_ENOMEM : TMLP_EFORMAT, "%s: %s", path,
                       e.msg);
        goto fail;
    }
    if ((rc = point_tensors(net, t, n_model, err)) != TMLP_OK)
        goto fail;
    for (int i = n_model; mode == TMLP_IO_ALL && i < n_t; i++) {
        /* bounded: the table check put every extra inside the file's data section */
        if (t[i].seen && !(t[i].data = extra[i - n_model].dst = malloc((size_t)(4 * t[i].n)))) {
            rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for tensor %s (%" PRIu64 " floats)",
                           path, t[i].name, t[i].n);
            goto fail;
        }
    }
    for (int i = 0; i < n_t; i++) {
        if (!t[i].data)                             /* an extra not read */
            continue;
        if ((rc = read_at(f, path, 8 + n_hdr + t[i].begin, t[i].data, (size_t)(4 * t[i].n),
                          err)) != TMLP_OK)
            goto fail;
        for (uint64_t k = 0; k < t[i].n; k++) {
            if (!host_le()) {
                uint32_t u;
                memcpy(&u, &t[i].data[k], 4);
                u = bswap32(u);
                memcpy(&t[i].data[k], &u, 4);
            }
            if (!isfinite(t[i].data[k])) {
                rc = tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: element %" PRIu64 " is %g",
                               path, t[i].name, k, (double)t[i].data[k]);
                goto fail;
            }
            /* a negative variance makes every prediction NaN (issue 15); -0 is zero */
            if (t[i].data[k] < 0.0f && i < n_model && is_variance(t[i].name)) {
                rc = tmlp_fail(err, TMLP_EFORMAT, "%s: tensor %s: element %" PRIu64 " is %g, "
                               "a negative variance; expected >= 0", path, t[i].name, k,
                               (double)t[i].data[k]);
                goto fail;
            }
        }
    }
fail:
    cJSON_Delete(root);
    free(hdr);
    if (f)
        fclose(f);
    if (rc != TMLP_OK) {
        tmlp_net_free(net);
        tmlp_model_meta_free(&meta);
        for (int i = 0; i < n_extra; i++) {
            free(extra[i].dst);
            extra[i].dst = NULL;
            extra[i].n = 0;
        }
        return rc;
    }
    if (meta_out)
        *meta_out = meta;
    else
        tmlp_model_meta_free(&meta);
    if (net_out)
        *net_out = net;
    return TMLP_OK;
}
