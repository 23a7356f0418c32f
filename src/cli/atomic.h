/* atomic.h: files the CLI writes (logs, reports) appear complete or not at all.
 *
 * Like the library's model and checkpoint files: the text goes to "<path>.tmp.XXXXXX" in the
 * same folder; committing flushes, fsyncs and renames it over path, then fsyncs the folder.
 * Until then an old file at path is untouched, and a process killed on the way leaves at
 * most a ".tmp." file beside it (safe to delete). A path that is a symlink is written through:
 * the temporary file goes beside its final target and is renamed over the target, so the
 * link stays a link (a dangling one is refused, paths.h). */
#ifndef TINYMLP_CLI_ATOMIC_H
#define TINYMLP_CLI_ATOMIC_H

#include <stdio.h>
#include "tinymlp.h"

typedef struct cli_out {
    FILE *f;         /* write here */
    char *path, *tmp;
} cli_out;

/* Checks that path can be written (its folder exists and takes a new file; it is not a
 * folder nor a read-only file) without writing it: for failing before hours of training.
 * `what` names it in the message ("the log"). TMLP_EIO when it cannot. */
int cli_out_check(const char *path, const char *what, tmlp_err *err);

/* Opens the temporary file for path. TMLP_EIO (naming path and the reason) when it cannot. */
int cli_out_open(cli_out *o, const char *path, const char *what, tmlp_err *err);

/* Makes the written text the file at path. On failure (TMLP_EIO) the temporary file is
 * removed and an old file at path is untouched. Either way *o is closed. */
int cli_out_commit(cli_out *o, tmlp_err *err);

/* Closes and removes the temporary file, leaving path as it was. *o may be closed already. */
void cli_out_abort(cli_out *o);

#endif
