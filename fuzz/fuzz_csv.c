/* fuzz_csv.c: the CSV reader. Input: an options byte (label column -1..2, header auto/no/yes,
 * labels or float targets), then the file. */
#include "fuzz.h"
#include "tinymlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    tmlp_csv_opts o = tmlp_csv_defaults();
    o.label_col = (data[0] & 3) - 1;
    o.header = (data[0] >> 2 & 3) % 3 - 1;
    o.as_targets = data[0] >> 4 & 1;
    const char *path = fuzz_path(0, ".csv");
    if (!fuzz_write(path, data + 1, size - 1))
        return 0;
    tmlp_err err;
    tmlp_data *d = tmlp_csv_read(path, &o, &err);
    if (d) {
        if (d->n < 1 || d->n_in < 1)
            abort();
        for (long i = 0; i < (long)d->n * d->n_in; i++)
            if (!(d->x[i] == d->x[i]))              /* no NaN gets in */
                abort();
        for (int i = 0; d->label && i < d->n; i++)
            if (d->label[i] < 0 || d->label[i] >= d->n_classes)
                abort();
        tmlp_data_free(d);
    } else if (!err.msg[0]) {
        abort();
    }
    unlink(path);
    return 0;
}
