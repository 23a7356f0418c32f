/* tinymlp/csv.h: a person's own data as CSV: numeric feature columns and one label column.
 *
 * Comma-separated, one sample per line; blank lines are skipped, CRLF line ends and a UTF-8
 * byte-order mark are fine. With header = -1 the first line is a header when its first column
 * or its label column is not a number. Values beyond float range are refused. Labels are whole numbers 0..K-1 (classification)
 * or, with as_targets, any number (regression: one float target). Every error names the file,
 * the line and the column. */
#ifndef TINYMLP_CSV_H
#define TINYMLP_CSV_H

#include "data.h"
#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tmlp_csv_opts {
    int label_col;  /* 0-based column of the label; -1: the last column */
    int header;     /* 1: the first line is a header, 0: it is data, -1: decide by looking */
    int as_targets; /* nonzero: the label column is a float target (n_targets = 1), not a class */
    int n_classes;  /* 0: largest label + 1, refused beyond max(TMLP_CSV_FREE_CLASSES, 2 x rows);
                     * 2..TMLP_CSV_MAX_CLASSES: exactly this many, every label below it */
} tmlp_csv_opts;

/* Without n_classes, a file may have up to this many classes (or twice its rows): a label far
 * beyond the rows (a typo, or a hostile file) would otherwise make a huge net. */
#define TMLP_CSV_FREE_CLASSES 1024
/* The largest label is TMLP_CSV_MAX_CLASSES - 1. */
#define TMLP_CSV_MAX_CLASSES (1 << 20)

/* label_col -1, header -1, as_targets 0, n_classes 0. */
tmlp_csv_opts tmlp_csv_defaults(void);

/* Reads path into a new dataset (caller frees with tmlp_data_free). path must be a regular
 * file: a device, FIFO, socket or folder is refused (TMLP_EIO) before anything is read. */
tmlp_data *tmlp_csv_read(const char *path, const tmlp_csv_opts *opts, tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
