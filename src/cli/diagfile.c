/* diagfile.c: the collector behind `tinymlp train --diag FILE`. The records go to a
 * temporary file beside FILE that becomes FILE when training ends (atomic.h), so a run killed
 * half-way leaves no half-written CSV or JSON behind. */
#include <string.h>

#include "diagfile.h"

static int write_record(void *ctx, const tmlp_diag_record *rec)
{
    diag_file *df = ctx;
    if (tmlp_diag_write(df->f, df->format, rec, df->n++, NULL) != TMLP_OK) {
        df->failed = 1;
        return 1; /* stop training: the statistics asked for cannot be kept */
    }
    fflush(df->f);
    return 0;
}

int diag_file_open(diag_file *df, const char *path, const tmlp_net *net, int every, tmlp_err *err)
{
    memset(df, 0, sizeof *df);
    df->path = path;
    size_t len = strlen(path);
    df->format = len >= 5 && !strcmp(path + len - 5, ".json") ? TMLP_DIAG_JSON : TMLP_DIAG_CSV;
    tmlp_diag_cfg cfg = tmlp_diag_defaults();
    cfg.every = every;
    cfg.on_record = write_record;
    cfg.ctx = df;
    if (!(df->diag = tmlp_diag_new(net, &cfg, err)))
        return err ? err->code : TMLP_ENOMEM;
    if (cli_out_open(&df->out, path, "the diagnostics file", err) != TMLP_OK)
        return TMLP_EIO;
    df->f = df->out.f;
    if (tmlp_diag_write_begin(df->f, df->format, err) != TMLP_OK) {
        cli_out_abort(&df->out);
        df->f = NULL;
        return tmlp_fail(err, TMLP_EIO, "writing the diagnostics file '%s' failed", path);
    }
    return TMLP_OK;
}

tmlp_observer diag_file_observer(diag_file *df, const tmlp_observer *next)
{
    return tmlp_diag_observer(df->diag, next);
}

int diag_file_close(diag_file *df, tmlp_err *err)
{
    int rc = TMLP_OK;
    if (df->f) {
        /* A file whose writes failed is not put in place: an older one stays as it was. */
        if (tmlp_diag_write_end(df->f, df->format, NULL) != TMLP_OK || df->failed) {
            rc = TMLP_EIO;
            cli_out_abort(&df->out);
            tmlp_fail(err, rc, "writing the diagnostics file '%s' failed", df->path);
        } else {
            rc = cli_out_commit(&df->out, err);
        }
    }
    tmlp_diag_free(df->diag);
    memset(df, 0, sizeof *df);
    return rc;
}
