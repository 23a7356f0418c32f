/* resume.h: checkpoints for `tinymlp train`: --checkpoint FILE, --checkpoint-every N[b],
 * --resume FILE, and stopping cleanly (checkpoint saved) on SIGINT or SIGTERM.
 *
 * A resumed run is the saved run's own command: its settings come back from the checkpoint's
 * "config" metadata as flags placed before the user's, and its net, optimizer, schedule and
 * position from the checkpoint itself, so that it ends with the same bits as a run that
 * never stopped. Only flags that do not change the training may be given beside --resume
 * (plus --epochs, the total, and --lr, a new base learning rate). */
#ifndef TINYMLP_CLI_RESUME_H
#define TINYMLP_CLI_RESUME_H

#include <getopt.h>
#include "tinymlp.h"
#include "datasets.h"

typedef struct cli_resume {
    char **argv;          /* the saved settings as flags, then the user's: NULL without --resume */
    int argc, cap;
    const char *path;     /* the checkpoint */
    int lr_given;         /* --lr beside --resume: a new base learning rate */
    tmlp_checkpoint ck;   /* its header, then (cli_resume_load) all of it */
} cli_resume;

/* Finds --resume in argv; when there is one, reads the checkpoint's header, refuses flags
 * that cannot change, and builds r->argv (`options` is the command's table: settings it does
 * not know are refused). Returns 0, or an exit status after printing one line. */
int cli_resume_argv(int argc, char **argv, const struct option *options, cli_resume *r);

/* Continues the checkpoint's run: reads it in full, checks that net (built from the same
 * settings) has its architecture and that train is the data it was trained on, then puts its
 * net, optimizer, schedule and position in place of *net, *opt, *sched and tcfg (whose epochs
 * and on_nan stay the caller's). lr > 0 with r->lr_given sets a new base learning rate. */
int cli_resume_load(cli_resume *r, tmlp_net **net, tmlp_optim **opt, tmlp_schedule *sched,
                    tmlp_train_cfg *tcfg, const tmlp_data *train, float lr, tmlp_err *err);

void cli_resume_free(cli_resume *r);

/* A fingerprint of a dataset's values (hex), to check that a resumed run sees the same data. */
void cli_data_fingerprint(const tmlp_data *d, char out[17]);

/* Parses --checkpoint-every: "N" epochs or "Nb" batches, N >= 1. Returns 1 if it is one. */
int cli_ckpt_every(const char *s, long *every, int *batches);

/* Saves checkpoints while training, through an observer wrapped around another. */
typedef struct cli_ckpt {
    const char *path;
    long every;            /* epochs (or batches) between saves; 0: only cli_ckpt_save */
    int every_batches;
    const tmlp_net *net;
    const tmlp_optim *opt;
    const tmlp_train_cfg *cfg;    /* with cfg->state */
    const tmlp_model_meta *meta;  /* the caller's keys saved with each */
    tmlp_observer inner;
    long batches;          /* batches seen, for every N batches */
    int stopped_by;        /* the signal that stopped the run (after a save), else 0 */
    int failed;            /* a save failed: err says why */
    tmlp_err err;
    tmlp_model_meta meta_own;     /* what cli_ckpt_begin saves with each */
} cli_ckpt;

/* Sets c up to save the run (net, opt, tcfg with its state) to path every `every` ("N" epochs
 * or "Nb" batches; NULL: only at the end), with the metadata a resumed run needs: the
 * effective configuration (JSON text), the data's name and fingerprint, the exact validation
 * fraction and the input preprocessing. Checks that path can be written. */
int cli_ckpt_begin(cli_ckpt *c, const char *path, const char *every, const char *config,
                   const char *data, const cli_prep *prep, double val_frac,
                   const tmlp_data *train, const tmlp_net *net, const tmlp_optim *opt,
                   const tmlp_train_cfg *tcfg, tmlp_err *err);

/* After tmlp_train returned TMLP_OK: reports a failed save (exit 1) or a stop by signal
 * (exit 128 + the signal, after saying how to continue), else saves the finished run.
 * Returns the exit status (0: go on), having printed any error. */
int cli_ckpt_end(cli_ckpt *c);

void cli_ckpt_free(cli_ckpt *c);

/* An observer that calls c->inner's callbacks and saves a checkpoint every c->every epochs
 * (or batches), and when SIGINT or SIGTERM has come (then it stops the run). */
tmlp_observer cli_ckpt_observer(cli_ckpt *c, const tmlp_observer *inner);

/* Saves a checkpoint of the run's current position now. */
int cli_ckpt_save(cli_ckpt *c, tmlp_err *err);

/* on: SIGINT and SIGTERM ask the run to stop at the next batch (a second one kills);
 * off: back to cli_signals_default (one line, then the default action). */
void cli_ckpt_signals(int on);

#endif
