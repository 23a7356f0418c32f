/* diagfile.h: `--diag FILE` for the CLI: a diag collector whose records go to a CSV or JSON
 * file (JSON when the name ends in ".json"), chained in front of another observer. */
#ifndef TINYMLP_CLI_DIAGFILE_H
#define TINYMLP_CLI_DIAGFILE_H

#include <stdio.h>
#include "tinymlp.h"
#include "atomic.h"

typedef struct diag_file {
    const char *path;
    FILE *f;           /* out.f while open */
    cli_out out;       /* the temporary file that becomes path on closing */
    int format;        /* TMLP_DIAG_CSV or TMLP_DIAG_JSON */
    int n;             /* records written */
    int failed;        /* a write failed: training was stopped */
    tmlp_diag *diag;
} diag_file;

/* Opens path for writing, writes the header and builds a collector for net that records every
 * epoch (and every `every` batches when every > 0). Fills err (TMLP_EIO naming the file). */
int diag_file_open(diag_file *df, const char *path, const tmlp_net *net, int every, tmlp_err *err);

/* The observer to train with: the collector, then next. */
tmlp_observer diag_file_observer(diag_file *df, const tmlp_observer *next);

/* Writes the end, puts the file in place and frees the collector; safe on a zeroed or failed
 * df. Returns TMLP_EIO if any write failed (then an older file at path is left untouched). */
int diag_file_close(diag_file *df, tmlp_err *err);

#endif
