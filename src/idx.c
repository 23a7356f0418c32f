/* idx.c: the IDX reader (plain and gzip) and the MNIST-style folder loader.
 *
 * Plain files must be exactly header + payload bytes long. A gzip file's payload is capped by
 * what deflate can expand its compressed size to (1032:1), then the stream must hold exactly
 * the payload: a short stream is "truncated", extra bytes are "trailing garbage". */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "tinymlp/idx.h"

#define DEFLATE_MAX_RATIO 1032u
#define CHUNK (1u << 16)

static int elem_size(int type)
{
    switch (type) {
    case TMLP_IDX_U8: case TMLP_IDX_I8: return 1;
    case TMLP_IDX_I16: return 2;
    case TMLP_IDX_I32: case TMLP_IDX_F32: return 4;
    case TMLP_IDX_F64: return 8;
    default: return 0;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Converts n big-endian elements of type at p to floats. */
static void convert(int type, const unsigned char *p, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        switch (type) {
        case TMLP_IDX_U8: out[i] = p[i]; break;
        case TMLP_IDX_I8: out[i] = (signed char)p[i]; break;
        case TMLP_IDX_I16: out[i] = (int16_t)(uint16_t)(p[2 * i] << 8 | p[2 * i + 1]); break;
        case TMLP_IDX_I32: out[i] = (float)(int32_t)be32(p + 4 * i); break;
        case TMLP_IDX_F32: {
            uint32_t u = be32(p + 4 * i);
            float f;
            memcpy(&f, &u, sizeof f);
            out[i] = f;
            break;
        }
        default: { /* f64 */
            uint64_t u = (uint64_t)be32(p + 8 * i) << 32 | be32(p + 8 * i + 4);
            double d;
            memcpy(&d, &u, sizeof d);
            out[i] = (float)d;
            break;
        }
        }
    }
}

void tmlp_idx_free(tmlp_idx *idx)
{
    if (idx) {
        free(idx->data);
        idx->data = NULL;
    }
}

int tmlp_idx_read(const char *path, tmlp_idx *out, tmlp_err *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    unsigned char magic[2] = { 0, 0 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return tmlp_fail(err, errno == ENOENT ? TMLP_ENOTFOUND : TMLP_EIO, "%s: %s", path,
                         strerror(errno));
    int is_dir = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
    size_t got_magic = is_dir ? 0 : fread(magic, 1, 2, f);
    fclose(f);
    if (is_dir)
        return tmlp_fail(err, TMLP_EIO, "%s: is a folder, not an IDX file", path);
    const int gz = got_magic == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    const uint64_t file_size = (uint64_t)st.st_size;

    gzFile z = gzopen(path, "rb");
    if (!z)
        return tmlp_fail(err, TMLP_EIO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(z, CHUNK);
    int rc = TMLP_OK;
    unsigned char head[4 + 4 * TMLP_IDX_MAX_DIMS], *buf = NULL;
    int n = gzread(z, head, 4);
    if (n < 0) {
        int zerr;
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: damaged gzip stream: %s", path, gzerror(z, &zerr));
        goto done;
    }
    if (n != 4) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset 0: expected a 4-byte IDX header, %s holds %d bytes",
                       path, gz ? "the decompressed stream" : "the file", n);
        goto done;
    }
    int esize = elem_size(head[2]);
    if (head[0] || head[1] || !esize) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset 0: bad magic %02x %02x %02x %02x: expected 00 00, "
                       "a type byte (08 u8, 09 i8, 0b i16, 0c i32, 0d f32, 0e f64) and a dimension count",
                       path, head[0], head[1], head[2], head[3]);
        goto done;
    }
    out->type = head[2];
    out->n_dims = head[3];
    if (out->n_dims < 1 || out->n_dims > TMLP_IDX_MAX_DIMS) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset 3: %d dimensions, expected 1 to %d", path,
                       out->n_dims, TMLP_IDX_MAX_DIMS);
        goto done;
    }
    n = gzread(z, head + 4, (unsigned)(4 * out->n_dims));
    if (n != 4 * out->n_dims) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset 4: truncated header: expected %d bytes of "
                       "dimensions, found %d", path, 4 * out->n_dims, n < 0 ? 0 : n);
        goto done;
    }
    uint64_t count = 1;
    for (int d = 0; d < out->n_dims; d++) {
        uint32_t v = be32(head + 4 + 4 * d);
        if (v == 0 || v > INT32_MAX) {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset %d: dimension %d is %u, expected 1..%d",
                           path, 4 + 4 * d, d, v, INT32_MAX);
            goto done;
        }
        out->dims[d] = (int)v;
        count *= v;
        if (count > (uint64_t)1 << 40) {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: header asks for over 2^40 elements", path);
            goto done;
        }
    }
    const uint64_t header = 4 + 4 * (uint64_t)out->n_dims, payload = count * (uint64_t)esize;
    if (!gz && header + payload != file_size) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: header says %llu elements of %d byte(s) (%llu bytes "
                       "with the header), file holds %llu bytes", path, (unsigned long long)count,
                       esize, (unsigned long long)(header + payload), (unsigned long long)file_size);
        goto done;
    }
    if (gz && payload > file_size * DEFLATE_MAX_RATIO) {
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: header says %llu bytes of data, more than a %llu-byte "
                       "gzip file can hold", path, (unsigned long long)payload,
                       (unsigned long long)file_size);
        goto done;
    }
    /* A plain file's size vouches for its header, so its buffer is allocated whole. A gzip
     * file's header is only bounded by deflate's ratio, so its buffer grows as data really
     * arrives: a lying header costs a failed read, not gigabytes. */
    size_t cap = gz && count > (CHUNK >> 2) ? (CHUNK >> 2) : (size_t)count;
    if (count > SIZE_MAX / sizeof(float) || !(out->data = malloc(cap * sizeof(float))) ||
        !(buf = malloc(CHUNK))) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for %llu elements", path,
                       (unsigned long long)count);
        goto done;
    }
    out->count = (size_t)count;
    /* Read whole elements per chunk: CHUNK is a multiple of every element size. */
    for (uint64_t done_b = 0; done_b < payload;) {
        unsigned want = (unsigned)(payload - done_b < CHUNK ? payload - done_b : CHUNK);
        n = gzread(z, buf, want);
        if (n != (int)want) {
            int zerr;
            const char *zmsg = gzerror(z, &zerr);
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset %llu: %s: expected %llu bytes of data, found %llu",
                           path, (unsigned long long)(header + done_b + (n > 0 ? (unsigned)n : 0)),
                           zerr < 0 && zerr != Z_BUF_ERROR ? zmsg : "truncated",
                           (unsigned long long)payload,
                           (unsigned long long)(done_b + (n > 0 ? (unsigned)n : 0)));
            goto done;
        }
        size_t have = (size_t)(done_b / (unsigned)esize), more = want / (unsigned)esize;
        if (have + more > cap) {
            size_t next = cap * 2 > have + more ? cap * 2 : have + more;
            next = next < (size_t)count ? next : (size_t)count;
            float *grown = realloc(out->data, next * sizeof(float));
            if (!grown) {
                rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for %zu elements", path, next);
                goto done;
            }
            out->data = grown;
            cap = next;
        }
        convert(out->type, buf, more, out->data + have);
        done_b += want;
    }
    if (gz) {
        /* One more read reaches the end of the stream, where zlib checks the CRC and length in
         * the gzip trailer: data after the payload, a damaged or a missing trailer all fail. */
        int zerr, extra = gzread(z, buf, 1);
        const char *zmsg = gzerror(z, &zerr);
        if (extra > 0) {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset %llu: trailing bytes after the %llu bytes the "
                           "header describes", path, (unsigned long long)(header + payload),
                           (unsigned long long)payload);
            goto done;
        }
        if (extra < 0 || zerr != Z_OK) {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: gzip stream damaged after the data: %s", path,
                           zerr == Z_BUF_ERROR ? "truncated trailer" : zmsg);
            goto done;
        }
    }
done:
    free(buf);
    gzclose(z);
    if (rc != TMLP_OK)
        tmlp_idx_free(out);
    return rc;
}

/* Finds name (or its dotted spelling), plain or .gz, in dir; writes the path found. */
static int find_file(const char *dir, const char *name, const char *dotted, char *path, size_t size)
{
    const char *names[2] = { name, dotted };
    for (int k = 0; k < 2; k++)
        for (int gz = 0; gz < 2; gz++) {
            snprintf(path, size, "%s/%s%s", dir, names[k], gz ? ".gz" : "");
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return 1;
        }
    snprintf(path, size, "%s/%s", dir, name);
    return 0;
}

/* Builds a dataset from an images file and a labels file already read; takes im->data. */
static int to_data(const char *ipath, tmlp_idx *im, const char *lpath, const tmlp_idx *lb,
                   tmlp_data **out, int *max_label, tmlp_err *err)
{
    if (lb->n_dims != 1)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: labels have %d dimensions, expected 1", lpath, lb->n_dims);
    if (im->dims[0] != lb->dims[0])
        return tmlp_fail(err, TMLP_EFORMAT, "%s holds %d images but %s holds %d labels", ipath,
                         im->dims[0], lpath, lb->dims[0]);
    size_t n_in = im->count / (size_t)im->dims[0];
    if (n_in > INT32_MAX)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: %zu values per image is too many", ipath, n_in);
    /* A one-row dataset for the labels, then the images' own buffer becomes x: it already
     * holds (n, n_in) row-major floats, so MNIST is never held twice. */
    tmlp_data *d = tmlp_data_new(im->dims[0], 1, 1, 0, err);
    if (!d)
        return err ? err->code : TMLP_ENOMEM;
    free(d->x);
    d->x = im->data;
    d->n_in = (int)n_in;
    im->data = NULL;
    const float scale = im->type == TMLP_IDX_U8 ? 1.0f / 255.0f : 1.0f;
    for (size_t i = 0; i < im->count; i++)
        d->x[i] *= scale;
    for (int i = 0; i < d->n; i++) {
        float v = lb->data[i];
        if (!(v >= 0.0f && v <= 255.0f) || v != floorf(v)) {
            tmlp_data_free(d);
            return tmlp_fail(err, TMLP_EFORMAT, "%s: label %d is %g, expected a whole number in 0..255",
                             lpath, i, (double)v);
        }
        d->label[i] = (int)v;
        if (d->label[i] > *max_label)
            *max_label = d->label[i];
    }
    *out = d;
    return TMLP_OK;
}

int tmlp_idx_load_folder(const char *dir, tmlp_data **train, tmlp_data **test, tmlp_err *err)
{
    static const char *const names[4][2] = {
        { "train-images-idx3-ubyte", "train-images.idx3-ubyte" },
        { "train-labels-idx1-ubyte", "train-labels.idx1-ubyte" },
        { "t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte" },
        { "t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte" },
    };
    char path[4][4096];
    tmlp_idx f[4];
    memset(f, 0, sizeof f);
    *train = *test = NULL;
    for (int k = 0; k < 4; k++)
        if (!find_file(dir, names[k][0], names[k][1], path[k], sizeof path[k]))
            return tmlp_fail(err, TMLP_ENOTFOUND, "%s: no %s (plain or .gz)", dir, names[k][0]);
    int rc = TMLP_OK, max_label = 0;
    for (int k = 0; k < 4 && rc == TMLP_OK; k++)
        rc = tmlp_idx_read(path[k], &f[k], err);
    if (rc == TMLP_OK)
        rc = to_data(path[0], &f[0], path[1], &f[1], train, &max_label, err);
    if (rc == TMLP_OK)
        rc = to_data(path[2], &f[2], path[3], &f[3], test, &max_label, err);
    if (rc == TMLP_OK && (*train)->n_in != (*test)->n_in)
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s has %d values per image, %s has %d", path[0],
                       (*train)->n_in, path[2], (*test)->n_in);
    if (rc == TMLP_OK)
        (*train)->n_classes = (*test)->n_classes = max_label + 1;
    for (int k = 0; k < 4; k++)
        tmlp_idx_free(&f[k]);
    if (rc != TMLP_OK) {
        tmlp_data_free(*train);
        tmlp_data_free(*test);
        *train = *test = NULL;
    }
    return rc;
}
