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

/* One (configuration, seed) run. */
typedef struct cmp_run {
    int status;                    /* TMLP_OK, or why it stopped */
    char msg[TMLP_ERR_MSG];
    int n_epochs;                  /* epochs completed (fewer than asked after an early stop) */
    int done;                      /* 1: read back from a run record (finished earlier) */
    cmp_epoch *epoch;              /* (n_epochs) */
    tmlp_diag_layer *layer;        /* (n_epochs * the configuration's layers), epoch-major */
} cmp_run;

#define CMP_MAX_CFG 256            /* configurations in one study */
#define CMP_MAX_KEYS 8             /* swept settings */
#define CMP_NAME 200

/* One configuration: everything its runs train with except the seed. */
typedef struct cmp_cfg {
    char name[CMP_NAME];           /* "relu" (compare) or "lr=0.001 batch=32" (sweep) */
    char value[CMP_MAX_KEYS][96];  /* its value of each swept setting, as written */
    const tmlp_act *act;           /* compare: the hidden layers' activation; NULL in a sweep */
    float act_arg;
    const char *init_name;         /* the hidden layers' initializer, for the table */
    tmlp_net_spec spec;            /* every layer, the output layer included */
    tmlp_optim_cfg opt;
    tmlp_schedule sched;
    tmlp_train_cfg train;          /* epochs, batch, clipping, early stopping, on_nan */
} cmp_cfg;

typedef struct cmp_study {
    const char *data;              /* dataset name as given */
    const char *command;           /* the command line, for the record */
    const char *title;             /* "Activation comparison" or "Sweep" */
    int n_in, n_out, n_layers;     /* n_layers counts the output layer: the largest of the
                                    * configurations'; same_layers: all have as many */
    int same_layers;
    int width[TMLP_MAX_LAYERS];    /* units per layer, output included (the first config's) */
    const char *loss, *opt, *schedule, *eval_name; /* eval_name: "test" or "training" */
    double lr;
    int batch, epochs, n_seeds, jobs, standardize; /* epochs: the most of any configuration */
    uint64_t seed0;                /* seeds are seed0 .. seed0 + n_seeds - 1 */
    double target;                 /* validation accuracy to reach, e.g. 0.97 */
    int n_train, n_val, n_eval;
    int n_keys;                    /* swept settings: "act" for compare, the --grid keys */
    char key[CMP_MAX_KEYS][32];
    int n_cfg;
    cmp_cfg *cfg;                  /* (n_cfg) */
    uint64_t data_sum;             /* checksum of the prepared data (resume, MPI ranks) */
    uint64_t key_hash;             /* of the study's description (study_io.c) */
    cmp_run *run;                  /* (n_cfg * n_seeds): run[c * n_seeds + s] */
    int n_resumed;                 /* runs found finished in the report folder */
    double wall_seconds;           /* the whole study */
    int ranks;                     /* MPI ranks that trained (1 without MPI) */
} cmp_study;

/* The layers of configuration c, the output layer included. */
static inline int cmp_layers(const cmp_study *s, int c) { return s->cfg[c].spec.n_layers; }

/* One configuration summarised over its seeds. */
typedef struct cmp_row {
    int n_ok;                      /* runs that finished */
    double acc_mean, acc_std;      /* final evaluation accuracy */
    double loss_mean;              /* final training loss */
    double to_target;              /* mean epochs to reach the target validation accuracy over
                                    * the seeds that reached it; NAN if none did */
    int n_reached;
    double sec_per_epoch;
    double dead, sat;              /* final epoch, mean over seeds; NAN where not applicable */
    double vanish;                 /* final epoch, geometric mean over seeds */
    double vanish_first;           /* the same in the first epoch */
    /* report_rank (report_stats.c): */
    double sel_mean, sel_sd, sel_ci;     /* the selection metric (final validation accuracy, or the
                                    * evaluation accuracy without a validation set): mean and
                                    * 95% CI half-width over seeds (NAN below 2 seeds) */
    double acc_ci;                 /* 95% CI half-width of acc_mean */
    int rank;                      /* 1 = best on the selection metric; 0 when no run finished */
    int n_pairs;                   /* seeds where this and the best both finished */
    double p_t, p_w;               /* Holm-adjusted p-values against the best: paired t-test,
                                    * Wilcoxon signed-rank (NAN: not computed) */
    double sd_diff;                /* sd of the paired differences to the best */
    int tied;                      /* 1: not significantly worse than the best (or the best) */
} cmp_row;

/* What the statistics say about the whole study. */
typedef struct cmp_verdict {
    int best;                      /* configuration index, -1 when no run finished */
    const char *metric;            /* "validation accuracy" or "training accuracy" */
    int n_tests;                   /* comparisons with the best (Holm's m) */
    int wilcoxon;                  /* the Wilcoxon test was run (seeds >= 6) */
    double resolvable;             /* smallest resolvable difference, as a fraction; NAN */
} cmp_verdict;

/* Fills the rows' statistics fields and *v: ranks on the selection metric (never the test
 * set), paired tests of every configuration against the best, Holm-corrected. */
void report_rank(const cmp_study *s, cmp_row *rows, cmp_verdict *v);
/* The ranking table and the verdict sentences ("Best", "Tied with the best", what the seeds
 * resolve, vanishing gradients, stopped runs), in Markdown: summary.md and stdout. */
void report_verdict_md(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v);
/* The whole summary as one JSON object on f (--json). 0, or TMLP_ENOMEM. */
int report_json(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v);
/* The study's setup in words (Markdown), and the sample counts ("4 training samples and no
 * test set: ..." or "55000 training, 5000 validation and 10000 test samples"). */
void report_setup_md(FILE *f, const cmp_study *s);
void report_samples(char *buf, size_t size, const cmp_study *s);
/* The activation of layer i of configuration c as the CSV files name it. */
void report_layer_act(const cmp_study *s, int c, int i, char *buf, size_t size);

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
    const char *ref_label;         /* written at the reference line's right end, or NULL */
} svg_chart;

/* A line chart with markers; the svg element carries class="chart" and data-series=N. */
void svg_line_chart(FILE *f, const svg_chart *c, const svg_series *s, int n_series);
/* Grouped bars: category i has one bar per series (y[i]); NAN draws "n/a". On a log axis,
 * where a bar would start at an arbitrary floor, each value is a dot on a stem from the
 * reference line (ref_y, e.g. a ratio's 1) instead. */
void svg_bar_chart(FILE *f, const svg_chart *c, const char *const *cats, int n_cats,
                   const svg_series *s, int n_series);
/* Points with 95% confidence bars, one per category, the y axis zoomed to the intervals (a
 * percent axis); mark[i] (or NULL): 0 plain, 1 tied with the best, 2 the best. */
void svg_ci_chart(FILE *f, const svg_chart *c, const char *const *cats, int n_cats,
                  const double *mean, const double *lo, const double *hi, const int *mark);
/* Writes text with &, <, >, " escaped. */
void html_text(FILE *f, const char *text);
/* The i-th colour of a palette that stays distinguishable (Tableau 10), and a dash pattern
 * that changes every 10 colours (NULL for the first 10). */
const char *svg_color(int i);
const char *svg_dash(int i);

#endif
