/* paths.h: what the CLI's file arguments may be, checked before anything is loaded.
 *
 * An output is never '' and never the same file as an input or another output: the same
 * device and inode when both exist, else the same resolved path (the real folder plus the
 * name). An output that is a symlink is written through to its target (atomic.h), never
 * replaced by a regular file: a target that does not exist yet is created when its folder
 * exists; a link loop or an unreadable link is refused. */
#ifndef TINYMLP_CLI_PATHS_H
#define TINYMLP_CLI_PATHS_H

#include "tinymlp.h"

typedef struct cli_file {
    const char *path;   /* NULL: not given (skipped) */
    const char *what;   /* the flag, for messages: "--save" */
} cli_file;

/* 1 when a and b name the same file (existing: device and inode; else the resolved path). */
int cli_same_file(const char *a, const char *b);

/* Refuses an empty output path and any output that is the same file as an input or another
 * output, printing one line for cmd; returns 0 or EXIT_USAGE. The one pair allowed: an output
 * "--checkpoint" may be the input "--resume" (the run goes on saving where it was saved). */
int cli_files_check(const char *cmd, const cli_file *in, int n_in, const cli_file *out,
                    int n_out);

/* The file an output path writes: path itself, or a symlink's final target (a new string in
 * *target that the caller frees, or NULL when path is not a symlink), which may not exist yet.
 * TMLP_EIO when the links cannot be followed (a loop, an unreadable link). */
int cli_out_target(const char *path, const char *what, char **target, tmlp_err *err);

/* Whether a data file may be read: TMLP_OK for a regular file, a folder or a path that does
 * not exist (the loaders say so), TMLP_EIO naming it for a device, FIFO or socket. */
int cli_input_regular(const char *path, const char *what, tmlp_err *err);

#endif
