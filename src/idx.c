/* idx.c: the IDX reader (plain and gzip) and the MNIST-style folder loader.
 *
 * Only regular files are read (file_impl.h). Plain files must be exactly header + payload
 * bytes long. A gzip file's payload is capped at TMLP_IDX_GZ_MAX_RATIO times its compressed
 * size (plus 1 MiB; deflate itself can reach 1032:1), and it is inflated no further than the
 * header promised; the stream must hold
 * exactly the payload: a short stream is "truncated", extra data "trailing bytes".
 * Concatenated gzip members are one stream (as gzip -d reads them); any other byte after the
 * last member is "trailing garbage". A folder's four headers are checked against each other
 * before any data is read. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "tinymlp/idx.h"
#include "file_impl.h"

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

/* ---- the byte source: a plain file, or gzip members inflated as they are read ---- */

typedef struct source {
    const char *path;
    FILE *f;
    int gz;              /* the file starts with the gzip magic */
    int z_open;          /* z is initialised */
    int cut;             /* the file ended inside a gzip member */
    int ended;           /* the last member ended and nothing follows it */
    uint64_t size;       /* the file's size */
    uint64_t in_used;    /* compressed bytes read from the file so far */
    z_stream z;
    unsigned char *in;   /* CHUNK bytes of compressed input */
} source;

static void src_close(source *s)
{
    if (s->z_open)
        inflateEnd(&s->z);
    if (s->f)
        fclose(s->f);
    free(s->in);
    memset(s, 0, sizeof *s);
}

/* Opens path (a regular file only) and recognises gzip by its magic bytes, not its name. */
static int src_open(source *s, const char *path, tmlp_err *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    struct stat st;
    int rc = tmlp_file_open(path, "IDX file", &s->f, &st, err);
    if (rc != TMLP_OK)
        return rc;
    s->size = (uint64_t)st.st_size;
    unsigned char magic[2] = { 0, 0 };
    size_t got = fread(magic, 1, 2, s->f);
    if (ferror(s->f) || fseek(s->f, 0, SEEK_SET) != 0) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: read failed: %s", path, strerror(errno));
        goto fail;
    }
    s->gz = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!s->gz)
        return TMLP_OK;
    if (!(s->in = malloc(CHUNK)) || inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for a gzip reader", path);
        goto fail;
    }
    s->z_open = 1;
    return TMLP_OK;
fail:
    src_close(s);
    return rc;
}

/* Tops up the compressed input so that it holds at least want bytes (fewer at the end). */
static int src_fill(source *s, unsigned want, tmlp_err *err)
{
    if (s->z.avail_in >= want)
        return TMLP_OK;
    if (s->z.avail_in)
        memmove(s->in, s->z.next_in, s->z.avail_in);
    s->z.next_in = s->in;
    while (s->z.avail_in < want) {
        size_t r = fread(s->in + s->z.avail_in, 1, CHUNK - s->z.avail_in, s->f);
        if (r == 0)
            return ferror(s->f) ? tmlp_fail(err, TMLP_EIO, "%s: read failed: %s", s->path,
                                            strerror(errno)) : TMLP_OK;
        s->z.avail_in += (unsigned)r;
        s->in_used += r;
    }
    return TMLP_OK;
}

/* Reads up to n bytes (the file's, or inflated) into buf; *got < n at the end of the data.
 * A gzip file is a series of members (RFC 1952, as gzip -d reads it); after the last, any
 * byte that does not start another member is refused. Output stops at n: the stream is
 * never inflated beyond what the caller asked for. */
static int src_read(source *s, void *buf, size_t n, size_t *got, tmlp_err *err)
{
    *got = 0;
    if (!s->gz) {
        *got = fread(buf, 1, n, s->f);
        return *got < n && ferror(s->f)
               ? tmlp_fail(err, TMLP_EIO, "%s: read failed: %s", s->path, strerror(errno))
               : TMLP_OK;
    }
    int rc = TMLP_OK;
    s->z.next_out = buf;
    s->z.avail_out = (unsigned)n;
    while (s->z.avail_out > 0 && !s->ended && !s->cut) {
        if ((rc = src_fill(s, 1, err)) != TMLP_OK)
            break;
        if (s->z.avail_in == 0) {
            s->cut = 1;                                 /* the file ends inside a member */
            break;
        }
        int zr = inflate(&s->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {                       /* another member, or the end */
            if ((rc = src_fill(s, 2, err)) != TMLP_OK)
                break;
            if (s->z.avail_in == 0) {
                s->ended = 1;
            } else if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
                inflateReset(&s->z);
            } else {
                rc = tmlp_fail(err, TMLP_EFORMAT, "%s: byte %llu: trailing garbage after the gzip "
                               "data (%u byte(s) that are not another gzip member)", s->path,
                               (unsigned long long)(s->in_used - s->z.avail_in), s->z.avail_in);
                break;
            }
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = tmlp_fail(err, zr == Z_MEM_ERROR ? TMLP_ENOMEM : TMLP_EFORMAT, "%s: byte %llu: "
                           "damaged gzip stream: %s", s->path,
                           (unsigned long long)(s->in_used - s->z.avail_in),
                           s->z.msg ? s->z.msg : "bad data");
            break;
        }
    }
    *got = n - s->z.avail_out;
    return rc;
}

/* ---- one IDX file: the header, then the elements ---- */

/* Reads and checks the header of the file s is open on into out (no data yet). */
static int read_header(source *s, tmlp_idx *out, tmlp_err *err)
{
    const char *path = s->path;
    unsigned char head[4 + 4 * TMLP_IDX_MAX_DIMS];
    size_t n;
    memset(out, 0, sizeof *out);
    int rc = src_read(s, head, 4, &n, err);
    if (rc != TMLP_OK)
        return rc;
    if (n != 4)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: offset 0: expected a 4-byte IDX header, %s holds "
                         "%zu bytes", path, s->gz ? "the decompressed stream" : "the file", n);
    int esize = elem_size(head[2]);
    if (head[0] || head[1] || !esize)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: offset 0: bad magic %02x %02x %02x %02x: expected "
                         "00 00, a type byte (08 u8, 09 i8, 0b i16, 0c i32, 0d f32, 0e f64) and a "
                         "dimension count", path, head[0], head[1], head[2], head[3]);
    out->type = head[2];
    out->n_dims = head[3];
    if (out->n_dims < 1 || out->n_dims > TMLP_IDX_MAX_DIMS)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: offset 3: %d dimensions, expected 1 to %d", path,
                         out->n_dims, TMLP_IDX_MAX_DIMS);
    if ((rc = src_read(s, head + 4, 4 * (size_t)out->n_dims, &n, err)) != TMLP_OK)
        return rc;
    if (n != 4 * (size_t)out->n_dims)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: offset 4: truncated header: expected %d bytes of "
                         "dimensions, found %zu", path, 4 * out->n_dims, n);
    uint64_t count = 1;
    for (int d = 0; d < out->n_dims; d++) {
        uint32_t v = be32(head + 4 + 4 * d);
        if (v == 0 || v > INT32_MAX)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: offset %d: dimension %d is %u, expected 1..%d",
                             path, 4 + 4 * d, d, v, INT32_MAX);
        out->dims[d] = (int)v;
        count *= v;
        if (count > (uint64_t)1 << 40)
            return tmlp_fail(err, TMLP_EFORMAT, "%s: header asks for over 2^40 elements", path);
    }
    const uint64_t header = 4 + 4 * (uint64_t)out->n_dims, payload = count * (uint64_t)esize;
    if (!s->gz && header + payload != s->size)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: header says %llu elements of %d byte(s) (%llu "
                         "bytes with the header), file holds %llu bytes", path,
                         (unsigned long long)count, esize, (unsigned long long)(header + payload),
                         (unsigned long long)s->size);
    if (s->gz && payload > s->size * DEFLATE_MAX_RATIO)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: header says %llu bytes of data, more than a "
                         "%llu-byte gzip file can hold", path, (unsigned long long)payload,
                         (unsigned long long)s->size);
    if (s->gz && payload > s->size * TMLP_IDX_GZ_MAX_RATIO + (1u << 20))
        return tmlp_fail(err, TMLP_EFORMAT, "%s: header says %llu bytes of data from a %llu-byte "
                         "gzip file, over %d times its size: refused as a likely decompression "
                         "bomb; if the data is real, gunzip it and give the plain file", path,
                         (unsigned long long)payload, (unsigned long long)s->size,
                         TMLP_IDX_GZ_MAX_RATIO);
    if (count > SIZE_MAX / sizeof(float))
        return tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for %llu elements", path,
                         (unsigned long long)count);
    out->count = (size_t)count;
    return TMLP_OK;
}

/* Reads the elements the header in *out promised, then checks that nothing follows. */
static int read_body(source *s, tmlp_idx *out, tmlp_err *err)
{
    const char *path = s->path;
    const int esize = elem_size(out->type);
    const uint64_t header = 4 + 4 * (uint64_t)out->n_dims, payload = out->count * (uint64_t)esize;
    /* A plain file's size vouches for its header, so its buffer is allocated whole. A gzip
     * file's header is only bounded by deflate's ratio, so its buffer grows as data really
     * arrives: a lying header costs a failed read, not gigabytes. */
    size_t cap = s->gz && out->count > (CHUNK >> 2) ? (CHUNK >> 2) : out->count, n;
    unsigned char *buf = malloc(CHUNK);
    int rc = TMLP_OK;
    if (!buf || !(out->data = malloc(cap * sizeof(float)))) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for %zu elements", path, out->count);
        goto done;
    }
    /* Read whole elements per chunk: CHUNK is a multiple of every element size. */
    for (uint64_t done_b = 0; done_b < payload;) {
        size_t want = payload - done_b < CHUNK ? (size_t)(payload - done_b) : CHUNK;
        if ((rc = src_read(s, buf, want, &n, err)) != TMLP_OK)
            goto done;
        if (n != want) {
            rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset %llu: truncated: expected %llu bytes of "
                           "data, found %llu", path, (unsigned long long)(header + done_b + n),
                           (unsigned long long)payload, (unsigned long long)(done_b + n));
            goto done;
        }
        size_t have = (size_t)(done_b / (unsigned)esize), more = want / (unsigned)esize;
        if (have + more > cap) {
            size_t next = cap * 2 > have + more ? cap * 2 : have + more;
            next = next < out->count ? next : out->count;
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
    /* One more byte: a plain file's size was checked, so this is for gzip, whose end (the CRC
     * and length in each member's trailer, and nothing after the last member) is only known
     * once it is read. */
    if ((rc = src_read(s, buf, 1, &n, err)) != TMLP_OK)
        goto done;
    if (n > 0)
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: offset %llu: trailing bytes after the %llu bytes "
                       "the header describes", path, (unsigned long long)(header + payload),
                       (unsigned long long)payload);
    else if (s->cut)
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s: gzip stream damaged after the data: truncated "
                       "trailer", path);
done:
    free(buf);
    if (rc != TMLP_OK)
        tmlp_idx_free(out);
    return rc;
}

int tmlp_idx_read(const char *path, tmlp_idx *out, tmlp_err *err)
{
    source s;
    memset(out, 0, sizeof *out);
    int rc = src_open(&s, path, err);
    if (rc != TMLP_OK)
        return rc;
    if ((rc = read_header(&s, out, err)) == TMLP_OK)
        rc = read_body(&s, out, err);
    src_close(&s);
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

/* Checks an images header against its labels header, before either's data is read. */
static int check_pair(const char *ipath, const tmlp_idx *im, const char *lpath,
                      const tmlp_idx *lb, tmlp_err *err)
{
    if (lb->n_dims != 1)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: labels have %d dimensions, expected 1", lpath, lb->n_dims);
    if (im->dims[0] != lb->dims[0])
        return tmlp_fail(err, TMLP_EFORMAT, "%s holds %d images but %s holds %d labels", ipath,
                         im->dims[0], lpath, lb->dims[0]);
    size_t n_in = im->count / (size_t)im->dims[0];
    if (n_in > INT32_MAX)
        return tmlp_fail(err, TMLP_EFORMAT, "%s: %zu values per image is too many", ipath, n_in);
    return TMLP_OK;
}

/* Builds a dataset from an images file and a labels file already read; takes im->data. */
static int to_data(tmlp_idx *im, const char *lpath, const tmlp_idx *lb, tmlp_data **out,
                   int *max_label, tmlp_err *err)
{
    size_t n_in = im->count / (size_t)im->dims[0];
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
    /* Every header first, checked against its partner's, before any data is read: a
     * compressed file may then only grow as far as its header and its partner allow (a
     * 1 MB gzip claiming a million images beside ten labels costs nothing). */
    source src[4];
    memset(src, 0, sizeof src);
    int rc = TMLP_OK, max_label = 0;
    for (int k = 0; k < 4 && rc == TMLP_OK; k++)
        if ((rc = src_open(&src[k], path[k], err)) == TMLP_OK)
            rc = read_header(&src[k], &f[k], err);
    for (int k = 0; k < 4 && rc == TMLP_OK; k += 2)
        rc = check_pair(path[k], &f[k], path[k + 1], &f[k + 1], err);
    size_t per_train = f[0].count / (size_t)(f[0].dims[0] ? f[0].dims[0] : 1),
           per_test = f[2].count / (size_t)(f[2].dims[0] ? f[2].dims[0] : 1);
    if (rc == TMLP_OK && per_train != per_test)
        rc = tmlp_fail(err, TMLP_EFORMAT, "%s has %zu values per image, %s has %zu", path[0],
                       per_train, path[2], per_test);
    for (int k = 0; k < 4 && rc == TMLP_OK; k++)    /* labels first: the smaller files */
        rc = read_body(&src[k ^ 1], &f[k ^ 1], err);
    for (int k = 0; k < 4; k++)
        src_close(&src[k]);
    if (rc == TMLP_OK)
        rc = to_data(&f[0], path[1], &f[1], train, &max_label, err);
    if (rc == TMLP_OK)
        rc = to_data(&f[2], path[3], &f[3], test, &max_label, err);
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
