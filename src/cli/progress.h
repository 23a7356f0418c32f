/* progress.h: progress bars and per-epoch lines for the CLI (an observer). */
#ifndef TINYMLP_CLI_PROGRESS_H
#define TINYMLP_CLI_PROGRESS_H

#include <stdio.h>
#include "tinymlp.h"

typedef struct progress {
    FILE *out;       /* where lines go (stderr keeps stdout for results) */
    FILE *log;       /* CSV log, one row per epoch, or NULL */
    int quiet, tty, every, drawn, epoch_width;
    double last_draw;
} progress;

void progress_init(progress *p, FILE *out, int quiet, int every);
int progress_on_batch(void *ctx, const tmlp_batch_info *b);
int progress_on_epoch(void *ctx, const tmlp_epoch_info *e);

#endif
