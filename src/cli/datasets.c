/* datasets.c: --data names to datasets, and the preprocessing saved with a model. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "datasets.h"

/* Where the fetched MNIST lives: $TINYMLP_DATA/mnist, ./data/mnist, or data/mnist beside the
 * tinymlp build (the executable's ../data/mnist), the first that exists. */
void cli_mnist_dir(char *dir, size_t size)
{
    const char *env = getenv("TINYMLP_DATA");
    struct stat st;
    if (env && *env) {
        snprintf(dir, size, "%s/mnist", env);
        return;
    }
    snprintf(dir, size, "data/mnist");
    if (stat(dir, &st) == 0)
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char cand[4096];
            snprintf(cand, sizeof cand, "%.4000s/../data/mnist", exe);
            if (stat(cand, &st) == 0)
                snprintf(dir, size, "%s", cand);
        }
    }
}

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

int cli_dataset_files(const char *spec, char paths[][4200], int max)
{
    /* as tmlp_idx_load_folder finds them: dashed or dotted, plain or .gz */
    static const char *const names[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                         "train-images.idx3-ubyte", "train-labels.idx1-ubyte",
                                         "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte" };
    char dir[4096];
    struct stat st;
    int n = 0;
    if (!strcmp(spec, "xor"))
        return 0;
    if (!strcmp(spec, "mnist"))
        cli_mnist_dir(dir, sizeof dir);
    else if (!strcmp(spec, "fashion-mnist"))
        snprintf(dir, sizeof dir, "%s", FASHION_DIR);
    else if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(dir, sizeof dir, "%s", spec);
    else {
        if (max > 0)
            snprintf(paths[n++], 4200, "%s", spec);
        return n;
    }
    for (int i = 0; i < 8; i++)
        for (int gz = 0; gz < 2 && n < max; gz++)
            snprintf(paths[n++], 4200, "%.4000s/%s%s", dir, names[i], gz ? ".gz" : "");
    return n;
}

int cli_csv_header(const char *s, int *header)
{
    static const char *const names[3] = { "no", "yes", "auto" }; /* 0, 1, -1 */
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *header = i == 2 ? -1 : i;
            return 1;
        }
    return 0;
}

const char *cli_csv_header_name(int header)
{
    return header < 0 ? "auto" : header ? "yes" : "no";
}

int cli_csv_header_arg(const char *cmd, const char *arg, int *header)
{
    if (cli_csv_header(arg, header))
        return 0;
    return cli_usage_error(cmd, "--csv-header wants yes, no or auto, got '%s'", arg);
}

int cli_label_col_arg(const char *cmd, const char *arg, int *col)
{
    long v;
    if (!cli_int(arg, -1, 1L << 20, &v))
        return cli_usage_error(cmd, "--label-col wants a column number from 0, or -1 for the "
                               "last, got '%s'", arg);
    *col = (int)v;
    return 0;
}

int cli_dataset_load(const char *spec, const tmlp_csv_opts *csv, cli_dataset *ds, tmlp_err *err)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "%s", spec);
    ds->input_scale = 1.0f;
    struct stat st;
    int not_csv = !strcmp(spec, "xor") || !strcmp(spec, "mnist") ||
                  !strcmp(spec, "fashion-mnist") || (stat(spec, &st) == 0 && S_ISDIR(st.st_mode));
    /* Said for a dataset that has no header row or label column to choose: refused rather
     * than ignored, since the user meant some other data. */
    if (csv && not_csv && (csv->header != -1 || csv->label_col != -1 || csv->n_classes))
        return tmlp_fail(err, TMLP_EINVAL, "--csv-header, --label-col and --classes apply to a "
                         "CSV file, and '%s' is not one", spec);
    if (!strcmp(spec, "xor")) {
        ds->train = tmlp_data_xor(err);
        return ds->train ? TMLP_OK : err->code;
    }
    char dir[4096];
    int rc;
    if (!strcmp(spec, "mnist") || !strcmp(spec, "fashion-mnist")) {
        int fashion = spec[0] == 'f';
        if (fashion)
            snprintf(dir, sizeof dir, "%s", FASHION_DIR);
        else
            cli_mnist_dir(dir, sizeof dir);
        rc = tmlp_idx_load_folder(dir, &ds->train, &ds->test, err);
        if (rc == TMLP_ENOTFOUND) /* say how to get it, keeping what was missing */
            return tmlp_fail(err, TMLP_EIO, "%s is not in %s: %s", spec, dir,
                             fashion ? "install it with: scripts/deps.sh data (as root) or "
                                       "sudo apt-get install dataset-fashion-mnist"
                                     : "fetch it with: make data");
        ds->input_scale = 1.0f / 255.0f;
        return rc;
    }
    if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = tmlp_idx_load_folder(spec, &ds->train, &ds->test, err);
        ds->input_scale = 1.0f / 255.0f;
        return rc == TMLP_ENOTFOUND ? (err->code = TMLP_EIO) : rc;
    }
    if (stat(spec, &st) == 0 && !S_ISREG(st.st_mode)) /* /dev/zero, a FIFO: never read */
        return tmlp_fail(err, TMLP_EIO, "%s: the data is not a regular file (a %s): refused",
                         spec, S_ISFIFO(st.st_mode) ? "FIFO" : S_ISCHR(st.st_mode) ||
                         S_ISBLK(st.st_mode) ? "device" : "socket");
    if (stat(spec, &st) == 0) {
        tmlp_csv_opts o = csv ? *csv : tmlp_csv_defaults();
        ds->train = tmlp_csv_read(spec, &o, err);
        return ds->train ? TMLP_OK : (err->code == TMLP_ENOTFOUND ? TMLP_EIO : err->code);
    }
    /* Not a name and not there: a path (it has a '/' or a '.') is a file that is missing (a
     * usage error, as an unknown name) or unreadable, a bare word a dataset name misspelt. */
    int err_no = errno;
    if (strchr(spec, '/') || strchr(spec, '.'))
        return tmlp_fail(err, err_no == ENOENT ? TMLP_ENOTFOUND : TMLP_EIO, "%.100s%s: %s (the data must be mnist, fashion-mnist, "
                         "xor, a folder of MNIST-named IDX files or a CSV file)", spec,
                         strlen(spec) > 100 ? "..." : "",
                         err_no == ENOENT ? "no such file or folder" : strerror(err_no));
    return tmlp_fail(err, TMLP_ENOTFOUND, "unknown dataset '%.60s': expected mnist, fashion-mnist, "
                     "xor, a folder of MNIST-named IDX files or a CSV file", spec);
}

void cli_dataset_free(cli_dataset *ds)
{
    tmlp_data_free(ds->train);
    tmlp_data_free(ds->test);
    ds->train = ds->test = NULL;
}

int cli_prep_fit(cli_prep *p, const tmlp_data *d, tmlp_err *err)
{
    p->n = d->n_in;
    p->mean = calloc((size_t)d->n_in, sizeof *p->mean);
    p->inv_std = calloc((size_t)d->n_in, sizeof *p->inv_std);
    double *s = calloc((size_t)d->n_in, sizeof *s), *s2 = calloc((size_t)d->n_in, sizeof *s2);
    if (!p->mean || !p->inv_std || !s || !s2) {
        free(s);
        free(s2);
        cli_prep_free(p);
        return tmlp_fail(err, TMLP_ENOMEM, "standardise: no memory");
    }
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->n_in; j++) {
            double v = d->x[(size_t)i * d->n_in + j];
            s[j] += v;
            s2[j] += v * v;
        }
    for (int j = 0; j < d->n_in; j++) {
        double m = s[j] / d->n, var = s2[j] / d->n - m * m;
        p->mean[j] = (float)m;
        /* A constant feature (a border pixel) carries no information: map it to 0. */
        p->inv_std[j] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 0.0f;
    }
    free(s);
    free(s2);
    return TMLP_OK;
}

void cli_prep_apply(const cli_prep *p, tmlp_data *d)
{
    if (!p->n || !d)
        return;
    for (int i = 0; i < d->n; i++) {
        float *x = d->x + (size_t)i * d->n_in;
        for (int j = 0; j < p->n; j++)
            x[j] = (x[j] - p->mean[j]) * p->inv_std[j];
    }
}

void cli_prep_apply_raw(const cli_prep *p, float *x, int n_rows, int n_in)
{
    for (int i = 0; i < n_rows; i++) {
        float *r = x + (size_t)i * n_in;
        for (int j = 0; j < n_in; j++) {
            r[j] *= p->scale;
            if (p->n)
                r[j] = (r[j] - p->mean[j]) * p->inv_std[j];
        }
    }
}

/* Writes n floats as a comma-separated list in a new string (for metadata). */
static char *join(const float *v, int n)
{
    size_t cap = (size_t)n * 16 + 1, used = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(s + used, cap - used, "%s%.9g", i ? "," : "", (double)v[i]);
    return s;
}

/* Reads exactly n comma-separated floats from s into v. */
static int split(const char *s, float *v, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtof(s, &end);
        if (end == s || !isfinite(v[i]) || (*end != (i + 1 < n ? ',' : '\0')))
            return 0;
        s = end + (i + 1 < n);
    }
    return 1;
}

int cli_prep_save(const cli_prep *p, tmlp_model_meta *meta, tmlp_err *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)p->scale);
    int rc = tmlp_model_meta_set(meta, "input_scale", buf, err);
    if (rc || !p->n)
        return rc;
    char *m = join(p->mean, p->n), *s = join(p->inv_std, p->n);
    if (!m || !s)
        rc = tmlp_fail(err, TMLP_ENOMEM, "standardise: no memory");
    else if (!(rc = tmlp_model_meta_set(meta, "input_mean", m, err)))
        rc = tmlp_model_meta_set(meta, "input_inv_std", s, err);
    free(m);
    free(s);
    return rc;
}

int cli_prep_load(cli_prep *p, const tmlp_model_meta *meta, int n_in, tmlp_err *err)
{
    memset(p, 0, sizeof *p);
    p->scale = 1.0f;
    const char *sc = tmlp_model_meta_get(meta, "input_scale");
    const char *m = tmlp_model_meta_get(meta, "input_mean"), *s = tmlp_model_meta_get(meta, "input_inv_std");
    if (sc) {
        char *end;
        p->scale = strtof(sc, &end);
        if (end == sc || *end || !isfinite(p->scale))
            return tmlp_fail(err, TMLP_EFORMAT, "model metadata: input_scale '%.40s' is not a number", sc);
    }
    if (!m && !s)
        return TMLP_OK;
    p->n = n_in;
    p->mean = malloc((size_t)n_in * sizeof *p->mean);
    p->inv_std = malloc((size_t)n_in * sizeof *p->inv_std);
    if (!p->mean || !p->inv_std) {
        cli_prep_free(p);
        return tmlp_fail(err, TMLP_ENOMEM, "standardise: no memory");
    }
    if (!m || !s || !split(m, p->mean, n_in) || !split(s, p->inv_std, n_in)) {
        cli_prep_free(p);
        return tmlp_fail(err, TMLP_EFORMAT, "model metadata: input_mean/input_inv_std must both "
                         "hold %d numbers", n_in);
    }
    return TMLP_OK;
}

void cli_prep_free(cli_prep *p)
{
    free(p->mean);
    free(p->inv_std);
    p->mean = p->inv_std = NULL;
    p->n = 0;
}
