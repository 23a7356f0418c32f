/* datasets.h: what the CLI's --data names mean, and the input preprocessing a model carries.
 *
 * A dataset spec is "xor", "mnist", "fashion-mnist", a folder of MNIST-named IDX files, or a
 * CSV file. Loading gives a training set and, where the data has one, a test set, with inputs
 * already scaled to [0, 1] for image data. Standardisation (per-feature mean and standard
 * deviation from the training set) is optional and saved in the model's metadata so that
 * `eval` and `predict` apply exactly what training did. */
#ifndef TINYMLP_CLI_DATASETS_H
#define TINYMLP_CLI_DATASETS_H

#include "tinymlp.h"

typedef struct cli_dataset {
    char name[256];     /* as given */
    tmlp_data *train;   /* never NULL after a successful load */
    tmlp_data *test;    /* NULL when the data has no separate test set */
    float input_scale;  /* what raw inputs were multiplied by (1/255 for images, else 1) */
} cli_dataset;

/* Loads spec; a CSV file with csv's header and label column (NULL: tmlp_csv_defaults, which
 * guess the header and take the last column). Returns TMLP_ENOTFOUND (a usage error for the
 * CLI) for a name that is neither known nor a file or folder, TMLP_EINVAL (also a usage
 * error) for a header or label column chosen for data that is not a CSV file or a label
 * column the file does not have. */
int cli_dataset_load(const char *spec, const tmlp_csv_opts *csv, cli_dataset *ds, tmlp_err *err);

/* --csv-header: "yes" 1, "no" 0, "auto" -1 into *header; 0 for any other word. */
int cli_csv_header(const char *s, int *header);
/* The word for a header setting: "yes", "no" or "auto". */
const char *cli_csv_header_name(int header);

/* The values of --csv-header and --label-col as every command reads them: 0 with *header
 * (1 yes, 0 no, -1 auto) or *col (0-based, -1 the last) set, or the usage exit status after
 * printing cmd's usage error. */
int cli_csv_header_arg(const char *cmd, const char *arg, int *header);
int cli_label_col_arg(const char *cmd, const char *arg, int *col);
void cli_dataset_free(cli_dataset *ds);

/* The files a dataset spec may read (a CSV file; for a folder or mnist, every name the IDX
 * loader accepts: four files, each dashed or dotted, plain or .gz; none for xor), up to max,
 * for checking that no output overwrites one. */
enum { CLI_DATA_FILES_MAX = 16 };
int cli_dataset_files(const char *spec, char paths[][4200], int max);
/* Where --data mnist is read from (see datasets.c). */
void cli_mnist_dir(char *dir, size_t size);

/* Input preprocessing: scale, then optional standardisation. */
typedef struct cli_prep {
    float scale;        /* raw inputs are multiplied by this first */
    int n;              /* features standardised; 0 when off */
    float *mean, *inv_std;
} cli_prep;

/* Computes mean and 1/std per feature of d (std floored at 1e-6... constant pixels stay 0). */
int cli_prep_fit(cli_prep *p, const tmlp_data *d, tmlp_err *err);
/* Applies the standardisation (not the scale, which loaders apply) to every row of d. */
void cli_prep_apply(const cli_prep *p, tmlp_data *d);
/* Applies scale and standardisation to n raw rows of x. */
void cli_prep_apply_raw(const cli_prep *p, float *x, int n_rows, int n_in);
/* Saves into / reads from model metadata ("input_scale", "input_mean", "input_inv_std"). */
int cli_prep_save(const cli_prep *p, tmlp_model_meta *meta, tmlp_err *err);
int cli_prep_load(cli_prep *p, const tmlp_model_meta *meta, int n_in, tmlp_err *err);
void cli_prep_free(cli_prep *p);

#endif
