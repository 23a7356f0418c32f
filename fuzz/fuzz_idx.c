/* fuzz_idx.c: the IDX reader, plain and gzip, and the MNIST-style folder loader.
 *
 * Input: a mode byte, then the file. Mode % 3: 0 the rest is the file; 1 the rest gzip-
 * compressed (so the fuzzer's IDX headers are read through zlib too; gzip-looking input in
 * mode 0 tests damaged streams); 2 a folder: three little-endian u16 lengths, then the four
 * files (train images, train labels, test images, test labels) back to back, each gzip-
 * compressed when bit 2+k of the mode byte is set. */
#include <sys/stat.h>
#include <zlib.h>

#include "fuzz.h"
#include "tinymlp.h"

/* Writes data to path, gzip-compressed when gz; 0 when it cannot. */
static int put(const char *path, const uint8_t *data, size_t size, int gz)
{
    if (!gz)
        return fuzz_write(path, data, size);
    gzFile z = gzopen(path, "wb1");
    if (!z)
        return 0;
    int ok = size == 0 || gzwrite(z, data, (unsigned)size) == (int)size;
    return gzclose(z) == Z_OK && ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    int mode = data[0];
    data++, size--;
    tmlp_err err;
    if (mode % 3 < 2) {
        const char *path = fuzz_path(0, NULL);
        if (put(path, data, size, mode % 3 == 1)) {
            tmlp_idx idx;
            if (tmlp_idx_read(path, &idx, &err) == TMLP_OK) {
                size_t n = 1;                       /* what the header said is what came */
                for (int d = 0; d < idx.n_dims; d++)
                    n *= (size_t)idx.dims[d];
                if (n != idx.count || !idx.data)
                    abort();
                tmlp_idx_free(&idx);
            } else if (!err.msg[0]) {
                abort();                            /* every error says what */
            }
        }
        unlink(path);
        return 0;
    }
    static const char *const names[4] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
    const char *dir = fuzz_path(1, ".d");
    char path[4][2100];
    mkdir(dir, 0700);
    size_t len[4], at = 6;
    for (int k = 0; k < 3; k++)
        len[k] = size >= 6 ? (size_t)(data[2 * k] | data[2 * k + 1] << 8) : 0;
    for (int k = 0; k < 4; k++) {
        size_t left = size > at ? size - at : 0;
        len[k] = k == 3 || len[k] > left ? left : len[k];
        snprintf(path[k], sizeof path[k], "%s/%s%s", dir, names[k], mode & (4 << k) ? ".gz" : "");
        put(path[k], data + (at < size ? at : size), len[k], mode & (4 << k));
        at += len[k];
    }
    tmlp_data *train = NULL, *test = NULL;
    if (tmlp_idx_load_folder(dir, &train, &test, &err) == TMLP_OK) {
        if (!train || !test || train->n_in != test->n_in || train->n_classes < 1)
            abort();
        for (int i = 0; i < train->n; i++)
            if (train->label[i] < 0 || train->label[i] >= train->n_classes)
                abort();
    } else if (train || test) {
        abort();                                    /* nothing handed out on failure */
    }
    tmlp_data_free(train);
    tmlp_data_free(test);
    for (int k = 0; k < 4; k++)
        unlink(path[k]);
    rmdir(dir);
    return 0;
}
