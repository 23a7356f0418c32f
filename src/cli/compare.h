/* compare.h: what cmd_compare.c hands the workers of `tinymlp compare` (compare_run.c). */
#ifndef TINYMLP_CLI_COMPARE_H
#define TINYMLP_CLI_COMPARE_H

#include "report.h"

typedef struct compare_setup {               /* what every run shares */
    cmp_study *s;
    const tmlp_data *train, *val, *eval;
    int loss, init, opt_kind;
    tmlp_schedule sched;
} compare_setup;

/* Trains every (activation, seed) job of su->s, at most su->s->jobs at a time, each in a
 * forked worker on one thread, exchanging results through files in tmpdir; fills su->s->run
 * in job order and prints one progress line per finished run unless quiet. -1 when workers
 * could not be started or waited for. */
int compare_run_all(const compare_setup *su, const char *tmpdir, int quiet);

/* Seconds on the monotonic clock. */
double compare_now(void);

#endif
