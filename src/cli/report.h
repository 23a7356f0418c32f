/* report.h: what `tinymlp compare` measured, and the files it writes from it.
 *
 * A study is one network shape trained once per activation and seed. cmd_compare.c runs it
 * (in worker processes) and fills a cmp_study; report.c turns that into results.csv,
 * layers.csv, timing.csv and summary.md; report_html.c into report.html, with charts drawn by
 * report_svg.c as inline SVG. Nothing here trains or reads data. */
#ifndef TINYMLP_CLI_REPORT_H
#define TINYMLP_CLI_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "tinymlp.h"

#define CMP_MAX_ACTS 32

/* One epoch of one run. */
typedef struct cmp_epoch {
    double train_loss, train_acc;  /* as trained (mean over the epoch's batches) */
    double val_loss, val_acc;      /* NAN without a validation set */
    double eval_loss, eval_acc;    /* on the test set (the training set when there is none) */
    double seconds;                /* training time, less the statistics' own cost */
    double vanish;                 /* ||dW|| first layer / last layer, mean over the epoch */
    double dead, sat;              /* fraction of hidden units, pooled over the hidden layers
                                    * where it applies; NAN where it applies to none */
} cmp_epoch;

/* One (activation, seed) run. */
typedef struct cmp_run {
    int status;                    /* TMLP_OK, or why it stopped */
    char msg[TMLP_ERR_MSG];
    int n_epochs;                  /* epochs completed */
    cmp_epoch *epoch;              /* (n_epochs) */
    tmlp_diag_layer *layer;        /* (n_epochs * n_layers), epoch-major */
} cmp_run;

typedef struct cmp_study {
    const char *data;              /* dataset name as given */
    const char *command;           /* the command line, for the record */
    int n_in, n_out, n_layers;     /* n_layers counts the output layer */
    int width[TMLP_MAX_LAYERS];    /* units per layer, output included */
    const char *loss, *opt, *schedule, *eval_name; /* eval_name: "test" or "training" */
    double lr;
    int batch, epochs, n_seeds, jobs, standardize;
    uint64_t seed0;                /* seeds are seed0 .. seed0 + n_seeds - 1 */
    double target;                 /* validation accuracy to reach, e.g. 0.97 */
    int n_train, n_val, n_eval;
    int n_acts;
    const tmlp_act *act[CMP_MAX_ACTS];
    float act_arg[CMP_MAX_ACTS];
    char act_name[CMP_MAX_ACTS][48];   /* canonical spelling, "leaky_relu" or "elu:0.5" */
    const char *init_name[CMP_MAX_ACTS]; /* the hidden layers' initializer */
    cmp_run *run;                  /* (n_acts * n_seeds): run[a * n_seeds + s] */
    double wall_seconds;           /* the whole study */
} cmp_study;

/* One activation summarised over its seeds. */
typedef struct cmp_row {
    int n_ok;                      /* runs that finished every epoch */
    double acc_mean, acc_std;      /* final evaluation accuracy */
    double loss_mean;              /* final training loss */
    double to_target;              /* mean epochs to reach the target validation accuracy over
                                    * the seeds that reached it; NAN if none did */
    int n_reached;
    double sec_per_epoch;
    double dead, sat;              /* final epoch, mean over seeds; NAN where not applicable */
    double vanish;                 /* final epoch, geometric mean over seeds */
    double vanish_first;           /* the same in the first epoch */
} cmp_row;

void report_summarise(const cmp_study *s, cmp_row *rows);

/* The study as files in dir: results.csv (one row per activation x seed x epoch: everything
 * but timings, so two runs of the same study give the same bytes), layers.csv (the per-layer
 * statistics), timing.csv, summary.md. TMLP_EIO naming the file on failure. */
int report_write_csv(const cmp_study *s, const char *dir, tmlp_err *err);
int report_write_summary(const cmp_study *s, const char *dir, tmlp_err *err);
/* The summary table in Markdown (also printed by the CLI). */
void report_summary_md(FILE *f, const cmp_study *s, const cmp_row *rows);
/* The sentence about vanishing gradients ("" when there is nothing to say), into buf. */
void report_vanishing_note(const cmp_study *s, const cmp_row *rows, char *buf, size_t size);

/* report.html: one self-contained page, charts as inline SVG. */
int report_write_html(const cmp_study *s, const char *dir, tmlp_err *err);

/* ---- SVG charts (report_svg.c) ---- */

typedef struct svg_series {
    const char *label;
    const char *color;
    const char *dash;              /* stroke-dasharray, or NULL for a solid line */
    int n;
    const double *x, *y;           /* (n); a NAN y leaves a gap */
    const double *lo, *hi;         /* (n) a shaded band (e.g. min..max over seeds), or NULL */
} svg_series;

typedef struct svg_chart {
    const char *title, *xlabel, *ylabel;
    int width, height;
    int logy;                      /* log10 y axis (values <= 0 are left out) */
    int int_x;                     /* x ticks on integers only */
    int percent_y;                 /* y values are fractions shown as % */
    double ymin, ymax;             /* NAN: from the data */
    int legend;                    /* draw the legend at the right */
    double ref_y;                  /* a dashed reference line at this y, NAN for none */
} svg_chart;

/* A line chart with markers; the svg element carries class="chart" and data-series=N. */
void svg_line_chart(FILE *f, const svg_chart *c, const svg_series *s, int n_series);
/* Grouped bars: category i has one bar per series (y[i]); NAN draws "n/a". */
void svg_bar_chart(FILE *f, const svg_chart *c, const char *const *cats, int n_cats,
                   const svg_series *s, int n_series);
/* Writes text with &, <, >, " escaped. */
void html_text(FILE *f, const char *text);
/* The i-th colour of a palette that stays distinguishable (Tableau 10), and a dash pattern
 * that changes every 10 colours (NULL for the first 10). */
const char *svg_color(int i);
const char *svg_dash(int i);

#endif
