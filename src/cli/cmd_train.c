/* cmd_train.c: `tinymlp train`: build a net for a dataset, train it, report accuracy. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "datasets.h"
#include "progress.h"
#include "atomic.h"
#include "resume.h"
#include "diagfile.h"
#include "ini.h"
#include "paths.h"
#include "study.h"
#include "train_dist.h"

#include <cJSON.h>

static void help(void)
{
    printf(
"usage: tinymlp train [OPTIONS]\n"
"\n"
"Trains a multilayer perceptron and prints its accuracy.\n"
"\n"
"data and network:\n"
"  --data NAME         mnist, fashion-mnist, xor, a folder of MNIST-named IDX\n"
"                      files (plain or .gz), or a CSV file           [mnist]\n"
"  --csv-header W      CSV: yes (the first row names the columns), no, or auto\n"
"                      (a header when its first or label column is text) [auto]\n"
"  --label-col N       CSV: the label's column, 0-based; -1 the last     [-1]\n"
"  --classes N         CSV: N classes (labels 0..N-1); needed when a label is\n"
"                      over max(1023, 2 x rows - 1)     [largest label + 1]\n"
"  --val FRAC          validation fraction taken from the training set,\n"
"                      seeded                     [1/12 with a test set, else 0]\n"
"  --standardize       scale each input to mean 0, std 1 (saved with the model)\n"
"  --layers SPEC       hidden layers, units[:activation[:arg]] joined by commas;\n"
"                      a bare width is relu (128,64 = 128:relu,64:relu), a\n"
"                      linear layer is written 128:identity; the output layer\n"
"                      follows from the data   [256:relu,128:relu; xor: 4:tanh]\n"
"  --loss NAME         softmax_ce, sigmoid_bce or mse; default: sigmoid_bce for two\n"
"                      classes (one output), softmax_ce for more\n"
"  --init NAME         auto, glorot_uniform, glorot_normal, he_uniform, he_normal,\n"
"                      lecun_normal (auto: what each activation prefers) [auto]\n"
"optimizer:\n"
"  --opt NAME          sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad\n"
"                                                                      [adam]\n"
"  --lr X              learning rate   [0.001 adam/adamw, 0.01 others; xor: 0.05]\n"
"  --momentum X        momentum and nesterov                            [0.9]\n"
"  --beta1 X, --beta2 X  adam and adamw; --beta2 is rmsprop's alpha\n"
"                                              [0.9, 0.999; rmsprop 0.99]\n"
"  --eps X             adam, adamw, rmsprop, adagrad       [1e-8; adagrad 1e-10]\n"
"  --weight-decay X    L2 (decoupled for adamw)              [0; 0.01 for adamw]\n"
"regularisation and stability (per-layer forms in --layers: :drop0.2 :bn :l1=x :l2=x):\n"
"  --l1 X, --l2 X      weight penalties for every layer without its own      [0]\n"
"  --clip-norm X       scale gradients down to this global L2 norm   [0 = off]\n"
"  --clip-value X      clamp each gradient element to [-X, X]        [0 = off]\n"
"  --early-stop N      stop after N epochs without a better validation metric\n"
"                      and keep the best epoch's weights            [0 = off]\n"
"  --early-metric M    val_loss or val_acc                        [val_loss]\n"
"  --min-delta X       smallest change that counts as better           [0]\n"
"learning-rate schedule:\n"
"  --schedule NAME     constant, step, exp, cosine, plateau   [cosine; xor: constant]\n"
"  --warmup E          epochs of linear warm-up                          [0]\n"
"  --step-size E       step: epochs between decays                       [10]\n"
"  --gamma X           step/exp/plateau decay factor       [0.1 / 0.95 / 0.5]\n"
"  --min-lr X          cosine and plateau floor                          [0]\n"
"  --patience N        plateau: epochs without improvement before a cut   [3]\n"
"training:\n"
"  --epochs N          passes over the training set           [10; xor: 2000]\n"
"  --batch N           rows per step                          [32, or all of xor]\n"
"  --plugin FILE.so    load activations from a plugin (repeatable; docs/\n"
"                      custom-activations.md); never loaded from --config\n"
"  --seed N            seeds the weights and the batch order             [1]\n"
"  --threads N         threads sharing each step: GEMMs, update (0: by size) [0]\n");
    printf( /* two literals: C99 compilers need only take 4095 characters in one */
"checkpoints and failures (docs/reliability.md):\n"
"  --checkpoint FILE   save the whole run (weights, optimizer, schedule, position)\n"
"                      at the end, and on SIGINT/SIGTERM, which then stop it\n"
"  --checkpoint-every N  also every N epochs, or every N batches as Nb [end only]\n"
"  --resume FILE       continue the run saved in FILE, with its settings; --epochs\n"
"                      is the total, as if it had never stopped; --lr a new rate\n"
"                      (and a new yardstick for the divergence check);\n"
"                      its own settings may be repeated, changes are refused\n"
"  --on-nan ACTION     on a non-finite loss or gradient, or a diverged loss (over\n"
"                      1000 x the first batch's, or 1000): stop (exit 1, the last\n"
"                      checkpoint kept) or skip the batch                 [stop]\n"
"output:\n"
"  --quiet             only the final result\n"
"  --every N           with no terminal, print every Nth epoch  [1, or epochs/20]\n"
"  --log FILE          CSV, one row per epoch\n"
"  --diag FILE         per-layer gradient and activation statistics each epoch:\n"
"                      CSV, or JSON when FILE ends in .json (docs/compare.md)\n"
"  --diag-every N      also a --diag record every N batches        [0 = off]\n"
"  --save FILE         write the trained model (safetensors, atomically)\n"
"  --json              print one JSON object with the results and each epoch's\n"
"                      loss, accuracy, val metrics, lr and seconds on stdout\n"
"  --config FILE       read settings from an INI file: keys are the long flags\n"
"                      without '--' (lr = 0.001, standardize = true); flags given\n"
"                      on the command line override the file. Outputs are never\n"
"                      '' nor an input or each other; symlinks are written through\n"
"  -h, --help          this text\n"
"With Open MPI: mpirun -np N build/tinymlp train ... trains this one net on N\n"
"ranks (data parallel, one thread each; rank 0 writes the files): docs/distributed.md\n");
}

enum { O_DATA = 256, O_LAYERS, O_LOSS, O_INIT, O_OPT, O_LR, O_MOMENTUM, O_BETA1, O_BETA2, O_EPS,
       O_WD, O_EPOCHS, O_BATCH, O_SEED, O_THREADS, O_QUIET, O_EVERY, O_LOG, O_VAL, O_STD,
       O_SAVE, O_JSON, O_CONFIG, O_L1, O_L2, O_CLIPN, O_CLIPV, O_EARLY, O_EMETRIC, O_MINDELTA, O_SCHED, O_WARMUP, O_STEPSIZE, O_GAMMA, O_MINLR, O_PATIENCE };
enum { O_DIAG = 1000, O_DIAGEVERY };
enum { O_CKPT = 1100, O_CKPTEVERY, O_RESUME, O_ONNAN };
enum { O_CSVHEADER = 1200, O_LABELCOL, O_CLASSES };

static const struct option options[] = {
    { "data", required_argument, 0, O_DATA }, { "layers", required_argument, 0, O_LAYERS },
    { "loss", required_argument, 0, O_LOSS }, { "init", required_argument, 0, O_INIT },
    { "opt", required_argument, 0, O_OPT }, { "lr", required_argument, 0, O_LR },
    { "momentum", required_argument, 0, O_MOMENTUM }, { "beta1", required_argument, 0, O_BETA1 },
    { "beta2", required_argument, 0, O_BETA2 }, { "eps", required_argument, 0, O_EPS },
    { "weight-decay", required_argument, 0, O_WD }, { "epochs", required_argument, 0, O_EPOCHS },
    { "batch", required_argument, 0, O_BATCH }, { "seed", required_argument, 0, O_SEED },
    { "threads", required_argument, 0, O_THREADS }, { "quiet", no_argument, 0, O_QUIET },
    { "every", required_argument, 0, O_EVERY }, { "log", required_argument, 0, O_LOG },
    { "val", required_argument, 0, O_VAL }, { "standardize", no_argument, 0, O_STD },
    { "save", required_argument, 0, O_SAVE }, { "json", no_argument, 0, O_JSON },
    { "schedule", required_argument, 0, O_SCHED }, { "warmup", required_argument, 0, O_WARMUP },
    { "step-size", required_argument, 0, O_STEPSIZE }, { "gamma", required_argument, 0, O_GAMMA },
    { "min-lr", required_argument, 0, O_MINLR }, { "patience", required_argument, 0, O_PATIENCE },
    { "config", required_argument, 0, O_CONFIG },
    { "l1", required_argument, 0, O_L1 }, { "l2", required_argument, 0, O_L2 },
    { "clip-norm", required_argument, 0, O_CLIPN }, { "clip-value", required_argument, 0, O_CLIPV },
    { "early-stop", required_argument, 0, O_EARLY }, { "early-metric", required_argument, 0, O_EMETRIC },
    { "min-delta", required_argument, 0, O_MINDELTA },
    { "diag", required_argument, 0, O_DIAG }, { "diag-every", required_argument, 0, O_DIAGEVERY },
    { "checkpoint", required_argument, 0, O_CKPT },
    { "checkpoint-every", required_argument, 0, O_CKPTEVERY },
    { "resume", required_argument, 0, O_RESUME }, { "on-nan", required_argument, 0, O_ONNAN },
    { "csv-header", required_argument, 0, O_CSVHEADER },
    { "label-col", required_argument, 0, O_LABELCOL },
    { "classes", required_argument, 0, O_CLASSES },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
};

typedef struct opts {
    const char *data, *layers, *loss, *init, *opt, *log, *save, *schedule;
    double lr, momentum, beta1, beta2, eps, wd, val; /* NAN: not given */
    double warmup, step_size, gamma, min_lr;         /* NAN: not given */
    double l1, l2, clip_norm, clip_value, min_delta; /* 0 unless given */
    const char *early_metric;
    long early_stop;
    long epochs, batch, threads, every, patience;
    uint64_t seed;
    int quiet, json, standardize;
    const char *diag; long diag_every; /* --diag FILE, --diag-every N */
    const char *checkpoint, *ckpt_every, *resume, *on_nan; /* resume.h */
    tmlp_csv_opts csv;       /* --csv-header, --label-col, --classes: defaults unless given */
} opts;

static const char *optname(int c)
{
    for (const struct option *op = options; op->name; op++)
        if (op->val == c)
            return op->name;
    return "?";
}

/* --config FILE: an INI file whose keys are the long flags without "--" (in any section or
 * none): "lr = 0.001", "layers = 256:relu,128:relu", "standardize = true". Its settings are
 * read first, so flags on the command line override them. */
typedef struct ini_args {
    char **argv;
    int argc, cap;
    const char *path;  /* the file, an input no output may overwrite */
} ini_args;

static int ini_push(ini_args *a, const char *s)
{
    if (a->argc + 1 >= a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        char **v = realloc(a->argv, (size_t)cap * sizeof *v);
        if (!v)
            return 0;
        a->argv = v;
        a->cap = cap;
    }
    if (!(a->argv[a->argc] = strdup(s)))
        return 0;
    a->argc++;
    return 1;
}

static int ini_key(void *user, const char *section, const char *name, const char *value,
                   char *why, size_t size)
{
    ini_args *a = user;
    (void)section; /* train's keys count in any section or none */
    if (!strcmp(name, "resume") || !strcmp(name, "config") || !strcmp(name, "help")) {
        snprintf(why, size, "'%s' cannot be set in a config file%s", name,
                 strcmp(name, "resume") ? "" : ": give --resume FILE on the command line");
        return 1;
    }
    for (const struct option *op = options; op->name; op++) {
        if (strcmp(op->name, name))
            continue;
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", name);
        if (op->has_arg == no_argument) {
            if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
                return !ini_push(a, flag);
            if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
                return 0;
            snprintf(why, size, "'%s' wants true or false, got '%.40s'", name, value);
            return 1;
        }
        if (!ini_push(a, flag) || !ini_push(a, value)) {
            snprintf(why, size, "out of memory");
            return 1;
        }
        return 0;
    }
    snprintf(why, size, "unknown setting '%.40s'", name);
    return 1;
}

/* Finds --config in argv; when there is one, writes a new argv into *out: argv[0], the
 * file's settings as flags, then the rest of argv. Returns 0, or EXIT_USAGE after printing. */
static int with_config(int argc, char **argv, ini_args *out)
{
    memset(out, 0, sizeof *out);
    const char *path = NULL;
    int at = -1, span = 0;
    for (int i = 1; i < argc; i++) {
        const char *p = NULL;
        int n = 0;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            p = argv[i + 1], n = 2;
        else if (!strncmp(argv[i], "--config=", 9))
            p = argv[i] + 9, n = 1;
        else if (!strcmp(argv[i], "--config"))
            return cli_usage_error("train", "--config needs a file");
        if (p && path)
            return cli_usage_error("train", "--config is given twice");
        if (p && !*p)
            return cli_usage_error("train", "--config needs a file, got ''");
        if (p)
            path = p, at = i, span = n, i += n - 1;
    }
    if (!path)
        return 0;
    out->path = path;
    if (!ini_push(out, argv[0]))
        goto nomem;
    tmlp_err err = { 0 };
    if (cli_ini_read(path, ini_key, out, &err) != TMLP_OK) {
        if (err.code == TMLP_EFORMAT)
            return cli_usage_error("train", "%s", err.msg);
        fprintf(stderr, "tinymlp train: %s\n", err.msg);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (i < at || i >= at + span)
            if (!ini_push(out, argv[i]))
                goto nomem;
    out->argv[out->argc] = NULL;
    return 0;
nomem:
    fprintf(stderr, "tinymlp train: out of memory\n");
    return EXIT_RUNTIME;
}

static void ini_free(ini_args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){ .data = "mnist", .layers = NULL, .opt = "adam", .lr = NAN, .momentum = NAN,
                 .beta1 = NAN, .beta2 = NAN, .eps = NAN, .wd = NAN, .val = NAN, .warmup = NAN,
                 .step_size = NAN, .gamma = NAN, .min_lr = NAN, .epochs = 0, .batch = 0,
                 .seed = 1, .csv = tmlp_csv_defaults() };
    int c, rc;
    optind = 1;
    opterr = 0;
    int li = -1;
    while ((c = getopt_long(argc, argv, "h", options, &li)) != -1) {
        double *fp = NULL;
        long *ip = NULL, lo = 1, hi = 1L << 30;
        if (c != '?' && c != ':' && c != 'h' && li >= 0 &&
            !cli_long_whole("train", argv, &options[li], optarg))
            return EXIT_USAGE;
        li = -1;
        switch (c) {
        case 'h': help(); return -1;
        case O_DATA: o->data = optarg; break;
        case O_LAYERS: o->layers = optarg; break;
        case O_LOSS: o->loss = optarg; break;
        case O_INIT: o->init = optarg; break;
        case O_OPT: o->opt = optarg; break;
        case O_LOG: o->log = optarg; break;
        case O_DIAG: o->diag = optarg; break;
        case O_DIAGEVERY: ip = &o->diag_every; lo = 0; break;
        case O_SAVE: o->save = optarg; break;
        case O_CKPT: o->checkpoint = optarg; break;
        case O_CKPTEVERY: o->ckpt_every = optarg; break;
        case O_RESUME: o->resume = optarg; break;
        case O_ONNAN: o->on_nan = optarg; break;
        case O_CONFIG: break; /* read before parsing: see with_config */
        case O_CSVHEADER:
            if ((rc = cli_csv_header_arg("train", optarg, &o->csv.header)))
                return rc;
            break;
        case O_LABELCOL:
            if ((rc = cli_label_col_arg("train", optarg, &o->csv.label_col)))
                return rc;
            break;
        case O_CLASSES: {
            long v;
            if (!cli_int(optarg, 2, TMLP_CSV_MAX_CLASSES, &v))
                return cli_usage_error("train", "--classes wants an integer in 2..%d, got '%s'",
                                       TMLP_CSV_MAX_CLASSES, optarg);
            o->csv.n_classes = (int)v;
            break;
        }
        case O_L1: fp = &o->l1; break;
        case O_L2: fp = &o->l2; break;
        case O_CLIPN: fp = &o->clip_norm; break;
        case O_CLIPV: fp = &o->clip_value; break;
        case O_MINDELTA: fp = &o->min_delta; break;
        case O_EARLY: ip = &o->early_stop; lo = 0; break;
        case O_EMETRIC: o->early_metric = optarg; break;
        case O_JSON: o->json = 1; break;
        case O_STD: o->standardize = 1; break;
        case O_VAL: fp = &o->val; break;
        case O_SCHED: o->schedule = optarg; break;
        case O_WARMUP: fp = &o->warmup; break;
        case O_STEPSIZE: fp = &o->step_size; break;
        case O_GAMMA: fp = &o->gamma; break;
        case O_MINLR: fp = &o->min_lr; break;
        case O_PATIENCE: ip = &o->patience; break;
        case O_QUIET: o->quiet = 1; break;
        case O_LR: fp = &o->lr; break;
        case O_MOMENTUM: fp = &o->momentum; break;
        case O_BETA1: fp = &o->beta1; break;
        case O_BETA2: fp = &o->beta2; break;
        case O_EPS: fp = &o->eps; break;
        case O_WD: fp = &o->wd; break;
        case O_EPOCHS: ip = &o->epochs; break;
        case O_BATCH: ip = &o->batch; break;
        case O_EVERY: ip = &o->every; break;
        case O_THREADS: ip = &o->threads; lo = 0; hi = 256; break;
        case O_SEED:
            if (!cli_u64(optarg, &o->seed))
                return cli_usage_error("train", "--seed wants a non-negative integer, got '%s'", optarg);
            break;
        case ':':
            return cli_usage_error("train", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("train", "unknown option '%s'", argv[optind - 1]);
        }
        if (fp && !cli_float(optarg, fp))
            return cli_usage_error("train", "--%s wants a finite number, got '%s'", optname(c), optarg);
        if (ip && !cli_int(optarg, lo, hi, ip))
            return cli_usage_error("train", "--%s wants an integer in %ld..%ld, got '%s'",
                                   optname(c), lo, hi, optarg);
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!isnan(o->val) && !(o->val >= 0.0 && o->val < 1.0))
        return cli_usage_error("train", "--val wants a fraction in [0, 1), got %g", o->val);
    if (o->l1 < 0 || o->l2 < 0 || o->clip_norm < 0 || o->clip_value < 0 || o->min_delta < 0)
        return cli_usage_error("train", "--l1, --l2, --clip-norm, --clip-value and --min-delta "
                               "must be >= 0");
    if (o->early_metric && strcmp(o->early_metric, "val_loss") && strcmp(o->early_metric, "val_acc"))
        return cli_usage_error("train", "--early-metric wants val_loss or val_acc, got '%s'",
                               o->early_metric);
    long every;
    int every_batches;
    if (o->ckpt_every && !cli_ckpt_every(o->ckpt_every, &every, &every_batches))
        return cli_usage_error("train", "--checkpoint-every wants N (epochs) or Nb (batches) "
                               "with N >= 1, got '%s'", o->ckpt_every);
    if (o->ckpt_every && !o->checkpoint)
        return cli_usage_error("train", "--checkpoint-every needs --checkpoint FILE");
    if (o->on_nan && strcmp(o->on_nan, "stop") && strcmp(o->on_nan, "skip"))
        return cli_usage_error("train", "--on-nan wants stop or skip, got '%s'", o->on_nan);
    return 0;
}

static size_t n_params_of(tmlp_net *net)
{
    size_t n;
    tmlp_net_params(net, &n);
    return n;
}

/* What the loop reports, kept for --json and the model's metadata. */
typedef struct run_log {
    progress prog;
    int n;                 /* epochs recorded */
    double *epoch_seconds; /* (epochs) */
    tmlp_epoch_info *history; /* (epochs) each epoch's report, for --json */
    tmlp_epoch_info last;
} run_log;

static int log_epoch(void *ctx, const tmlp_epoch_info *e)
{
    run_log *r = ctx;
    r->history[r->n] = *e;
    r->epoch_seconds[r->n++] = e->seconds;
    r->last = *e;
    return progress_on_epoch(&r->prog, e);
}

/* A float as the short decimal a person typed (0.001, not 0.0010000000474974513). */
static double tidy(float v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%g", (double)v);
    return strtod(buf, NULL);
}

/* The effective configuration as a JSON object (caller frees with cJSON_Delete). */
static cJSON *config_json(const opts *o, const tmlp_optim_cfg *oc, const tmlp_schedule *sc,
                          int loss, long batch, double val)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "data", o->data);
    if (o->csv.header != -1) /* only when chosen: eval and --resume read the data the same way */
        cJSON_AddStringToObject(c, "csv_header", cli_csv_header_name(o->csv.header));
    if (o->csv.label_col != -1)
        cJSON_AddNumberToObject(c, "label_col", o->csv.label_col);
    if (o->csv.n_classes)
        cJSON_AddNumberToObject(c, "classes", o->csv.n_classes);
    cJSON_AddStringToObject(c, "layers", o->layers);
    cJSON_AddStringToObject(c, "loss", tmlp_loss_name(loss));
    cJSON_AddStringToObject(c, "init", o->init ? o->init : "auto");
    cJSON_AddStringToObject(c, "opt", tmlp_optim_name(oc->kind));
    cJSON_AddNumberToObject(c, "lr", tidy(oc->lr));
    cJSON_AddNumberToObject(c, "momentum", tidy(oc->momentum));
    cJSON_AddNumberToObject(c, "beta1", tidy(oc->beta1));
    cJSON_AddNumberToObject(c, "beta2", tidy(oc->beta2));
    cJSON_AddNumberToObject(c, "eps", tidy(oc->eps));
    cJSON_AddNumberToObject(c, "weight_decay", tidy(oc->weight_decay));
    cJSON_AddStringToObject(c, "schedule", tmlp_schedule_name(sc->kind));
    cJSON_AddNumberToObject(c, "warmup", tidy(sc->warmup));
    if (sc->kind == TMLP_SCHED_STEP)
        cJSON_AddNumberToObject(c, "step_size", tidy(sc->step_size));
    if (sc->kind == TMLP_SCHED_STEP || sc->kind == TMLP_SCHED_EXP || sc->kind == TMLP_SCHED_PLATEAU)
        cJSON_AddNumberToObject(c, "gamma", tidy(sc->gamma));
    if (sc->kind == TMLP_SCHED_COSINE || sc->kind == TMLP_SCHED_PLATEAU)
        cJSON_AddNumberToObject(c, "min_lr", tidy(sc->min_lr));
    if (sc->kind == TMLP_SCHED_PLATEAU)
        cJSON_AddNumberToObject(c, "patience", sc->patience);
    cJSON_AddNumberToObject(c, "epochs", (double)o->epochs);
    cJSON_AddNumberToObject(c, "batch", (double)batch);
    cJSON_AddNumberToObject(c, "seed", (double)o->seed);
    cJSON_AddNumberToObject(c, "val", tidy((float)val));
    cJSON_AddBoolToObject(c, "standardize", o->standardize);
    cJSON_AddNumberToObject(c, "l1", o->l1);
    cJSON_AddNumberToObject(c, "l2", o->l2);
    cJSON_AddNumberToObject(c, "clip_norm", o->clip_norm);
    cJSON_AddNumberToObject(c, "clip_value", o->clip_value);
    cJSON_AddNumberToObject(c, "early_stop", (double)o->early_stop);
    if (o->early_stop) {
        cJSON_AddStringToObject(c, "early_metric", o->early_metric ? o->early_metric : "val_loss");
        cJSON_AddNumberToObject(c, "min_delta", o->min_delta);
    }
    return c;
}

/* NaN and inf as null (JSON has no words for them); 0 when out of memory. */
static int add_num(cJSON *obj, const char *key, double v)
{
    if (!isfinite(v))
        return cJSON_AddNullToObject(obj, key) != NULL;
    return cJSON_AddNumberToObject(obj, key, v) != NULL;
}

/* --json's "history": one object per epoch this run trained, as the progress lines show it;
 * the validation keys only with a validation set. Non-finite numbers are null (add_num).
 * 0 when out of memory. */
static int add_history(cJSON *j, const tmlp_epoch_info *h, int n, int with_val)
{
    cJSON *arr = cJSON_AddArrayToObject(j, "history");
    int ok = arr != NULL;
    for (int i = 0; ok && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(arr, e);
        if (!ok) {
            cJSON_Delete(e);
            break;
        }
        ok = cJSON_AddNumberToObject(e, "epoch", h[i].epoch) &&
             add_num(e, "loss", h[i].train_loss) && add_num(e, "accuracy", h[i].train_acc) &&
             (!with_val || (add_num(e, "val_loss", h[i].val_loss) &&
                            add_num(e, "val_accuracy", h[i].val_acc))) &&
             add_num(e, "lr", tidy(h[i].lr)) && add_num(e, "seconds", h[i].seconds);
    }
    return ok;
}

int cmd_train(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("train", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    opts o;
    ini_args ini = { 0 };
    cli_resume res; /* --resume FILE: the saved run's own settings come first */
    int rc = cli_resume_argv(argc, argv, options, &res);
    if (!rc && res.argv) {
        argc = res.argc;
        argv = res.argv;
    }
    if (!rc)
        rc = with_config(argc, argv, &ini);
    if (!rc)
        rc = ini.argv ? parse(ini.argc, ini.argv, &o) : parse(argc, argv, &o);
    if (rc) {
        ini_free(&ini);
        cli_resume_free(&res);
        return rc < 0 ? 0 : rc;
    }
    /* o's strings point into ini.argv: it lives until the end of the command */
    if (res.argv && o.epochs < res.ck.state.epoch) { /* it would save a run that cannot go on */
        fprintf(stderr, "tinymlp train: --epochs %ld is fewer than the %d epochs %s has done "
                "already: give --epochs %d or more\n", o.epochs, res.ck.state.epoch, res.path,
                res.ck.state.epoch);
        ini_free(&ini);
        cli_resume_free(&res);
        return EXIT_USAGE;
    }

    /* Under mpirun, build/tinymlp-mpi is one of N ranks training one net (docs/distributed.md):
     * every rank does what one process does, on its shard of each batch; rank 0 alone prints
     * and writes files. Each rank trains on one thread. */
    int mpi_argc = argc, rank = 0;
    char **mpi_argv = argv;
    if (study_mpi_begin(&mpi_argc, &mpi_argv, &rank) < 0) {
        ini_free(&ini);
        cli_resume_free(&res);
        return EXIT_RUNTIME;
    }
    const tmlp_reducer *red = train_dist_reducer();
    int dist_ready = 0;          /* train_dist_ready called: every rank passed it together */
    if (red) {
        o.threads = 1;
        if (rank != 0) {
            /* SIGINT/SIGTERM reach every rank: rank 0 stops the run at a batch every rank
             * agrees on and saves it; the others must not die of it meanwhile */
            if (o.checkpoint)
                cli_ckpt_signals(1);
            o.quiet = 1;
            o.json = 0;
            o.save = o.log = o.diag = o.checkpoint = o.ckpt_every = NULL;
        }
    }

    tmlp_err err = { 0 };
    cli_dataset ds = { 0 };
    tmlp_data *train = NULL, *val = NULL;
    tmlp_net *net = NULL;
    tmlp_optim *opt = NULL;
    tmlp_team *team = NULL;
    cli_prep prep = { 0 };
    tmlp_model_meta meta = { 0 };
    run_log rl = { 0 };
    diag_file df = { 0 };
    cJSON *cfg_json = NULL;
    FILE *log = NULL;
    cli_out log_out = { 0 };       /* the log goes to a temporary file, renamed at the end */
    cli_ckpt ckpt = { 0 };
    tmlp_train_state state = { 0 };
    int status = EXIT_RUNTIME;
    char *save_target = NULL, *ckpt_target = NULL; /* symlinked outputs' targets */

    /* Everything the user typed is checked before any work starts. */
    int opt_kind, loss = 0, init = TMLP_INIT_AUTO;
    if (tmlp_optim_find(o.opt, &opt_kind, &err) ||
        (o.init && tmlp_init_find(o.init, &init, &err)) ||
        (o.loss && tmlp_loss_find(o.loss, &loss, &err))) {
        fprintf(stderr, "tinymlp train: %s\n", err.msg);
        status = EXIT_USAGE;    /* through done: o's strings live in ini.argv and res.argv */
        goto done;
    }
    tmlp_optim_cfg ocfg = tmlp_optim_defaults(opt_kind);
    if (!isnan(o.lr)) ocfg.lr = (float)o.lr;
    if (!isnan(o.momentum)) ocfg.momentum = (float)o.momentum;
    if (!isnan(o.beta1)) ocfg.beta1 = (float)o.beta1;
    if (!isnan(o.beta2)) ocfg.beta2 = (float)o.beta2;
    if (!isnan(o.eps)) ocfg.eps = (float)o.eps;
    if (!isnan(o.wd)) ocfg.weight_decay = (float)o.wd;

    /* Outputs: never '' nor the same file as an input or another output (--checkpoint may be
     * the --resume file: it continues there); a symlink is written through to its target. */
    char files[CLI_DATA_FILES_MAX][4200];
    int n_files = cli_dataset_files(o.data, files, CLI_DATA_FILES_MAX), n_in = 0;
    cli_file ins[CLI_DATA_FILES_MAX + 2], outs_c[4] = { { o.save, "--save" }, { o.checkpoint, "--checkpoint" },
                                    { o.log, "--log" }, { o.diag, "--diag" } };
    for (int i = 0; i < n_files; i++)
        ins[n_in++] = (cli_file){ files[i], "--data" };
    ins[n_in++] = (cli_file){ ini.path, "--config" };
    if (res.path)
        ins[n_in++] = (cli_file){ res.path, "--resume" };
    if ((status = cli_files_check("train", ins, n_in, outs_c, 4)) != 0)
        goto done;
    status = EXIT_RUNTIME;
    if ((o.save && cli_out_target(o.save, "the model", &save_target, &err)) ||
        (o.checkpoint && cli_out_target(o.checkpoint, "the checkpoint", &ckpt_target, &err))) {
        status = cli_fail(&err, 0);
        goto done;
    }
    if (save_target)
        o.save = save_target;
    if (ckpt_target)
        o.checkpoint = ckpt_target;
    /* A missing folder or a read-only file fails now, not after training. */
    const char *outs[4][2] = { { o.save, "the model" }, { o.checkpoint, "the checkpoint" },
                               { o.log, "the log" }, { o.diag, "the diagnostics file" } };
    for (int i = 0; i < 4; i++)
        if (outs[i][0] && cli_out_check(outs[i][0], outs[i][1], &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }

    if (cli_dataset_load(o.data, &o.csv, &ds, &err) != TMLP_OK) {
        status = cli_fail(&err, err.code == TMLP_ENOTFOUND || err.code == TMLP_EINVAL ? EXIT_USAGE
                                                                                     : EXIT_RUNTIME);
        goto done;
    }
    /* Defaults that depend on the data: XOR is four rows and wants many fast epochs. */
    const int is_xor = !strcmp(o.data, "xor");
    if (!o.layers)
        o.layers = is_xor ? "4:tanh" : "256:relu,128:relu";
    if (!o.epochs)
        o.epochs = is_xor ? 2000 : 10;
    if (isnan(o.lr) && is_xor)
        ocfg.lr = 0.05f;
    int sched_kind = is_xor ? TMLP_SCHED_CONSTANT : TMLP_SCHED_COSINE;
    if (o.schedule && tmlp_schedule_find(o.schedule, &sched_kind, &err)) {
        status = cli_fail(&err, EXIT_USAGE);
        goto done;
    }
    tmlp_schedule sched = tmlp_schedule_defaults(sched_kind, ocfg.lr);
    if (!isnan(o.warmup)) sched.warmup = (float)o.warmup;
    if (!isnan(o.step_size)) sched.step_size = (float)o.step_size;
    if (!isnan(o.gamma)) sched.gamma = (float)o.gamma;
    if (!isnan(o.min_lr)) sched.min_lr = (float)o.min_lr;
    if (o.patience) sched.patience = (int)o.patience;
    if (tmlp_schedule_check(&sched, &err)) {
        status = cli_fail(&err, EXIT_USAGE);
        goto done;
    }
    /* The validation rows come out of the training set, chosen by the seed. */
    /* 1/12 of the training set: MNIST's customary 55,000 / 5,000 split. */
    double val_frac = !isnan(o.val) ? o.val : (ds.test ? 1.0 / 12.0 : 0.0);
    train = ds.train;
    if (val_frac > 0.0) {
        tmlp_rng split_rng;
        tmlp_rng_seed(&split_rng, o.seed, 2);
        if (tmlp_data_split(ds.train, val_frac, &split_rng, &train, &val, &err)) {
            train = NULL;
            status = cli_fail(&err, 0);
            goto done;
        }
    }
    prep.scale = ds.input_scale;
    if (o.standardize) {
        if (cli_prep_fit(&prep, train, &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
        cli_prep_apply(&prep, train);
        cli_prep_apply(&prep, val);
        cli_prep_apply(&prep, ds.test);
    }

    int classes = train->n_classes;
    if (classes < 2) {
        tmlp_fail(&err, TMLP_EINVAL, "%s: training labels take only %d value(s)", o.data, classes);
        status = cli_fail(&err, 0);
        goto done;
    }
    if (!o.loss)
        loss = classes == 2 ? TMLP_LOSS_SIGMOID_BCE : TMLP_LOSS_SOFTMAX_CE;
    int n_out = (classes == 2 && loss != TMLP_LOSS_SOFTMAX_CE) ? 1 : classes;
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, train->n_in, loss);
    if (tmlp_net_spec_parse_hidden(&spec, o.layers, NULL, 0.0f, &err) ||
        tmlp_net_spec_add(&spec, n_out, NULL, 0.0f, &err)) {
        status = cli_fail(&err, EXIT_USAGE);
        goto done;
    }
    for (int i = 0; i < spec.n_layers; i++) {
        spec.layer[i].init = init;
        if (spec.layer[i].l1 == 0.0f)
            spec.layer[i].l1 = (float)o.l1;
        if (spec.layer[i].l2 == 0.0f)
            spec.layer[i].l2 = (float)o.l2;
    }
    long batch = o.batch ? o.batch : 32;
    if (batch > train->n)
        batch = train->n;

    if (!(net = tmlp_net_new(&spec, (int)batch, &err)) ||
        !(opt = tmlp_optim_new(&ocfg, n_params_of(net), &err))) {
        status = cli_fail(&err, err.code == TMLP_EINVAL ? EXIT_USAGE : EXIT_RUNTIME);
        goto done;
    }
    /* --threads N: a team of N for the GEMMs and the update; by default, chosen by size */
    team = cli_team(net, opt, (int)batch, o.threads);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, o.seed, 1);
    if (tmlp_net_init(net, &rng, &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    if (o.log) {
        if (cli_out_open(&log_out, o.log, "the log", &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
        log = log_out.f;
        fprintf(log, "epoch,train_loss,train_acc,val_loss,val_acc,seconds,lr\n");
    }

    if (!(rl.epoch_seconds = calloc((size_t)o.epochs, sizeof *rl.epoch_seconds)) ||
        !(rl.history = calloc((size_t)o.epochs, sizeof *rl.history))) {
        tmlp_fail(&err, TMLP_ENOMEM, "no memory");
        status = cli_fail(&err, 0);
        goto done;
    }
    progress_init(&rl.prog, stderr, o.quiet,
                  o.every ? (int)o.every : (o.epochs > 100 ? (int)(o.epochs / 20) : 1));
    rl.prog.log = log;
    for (long e = o.epochs; e; e /= 10)
        rl.prog.epoch_width++;
    tmlp_observer obs = { progress_on_batch, log_epoch, &rl };
    tmlp_train_cfg tcfg = tmlp_train_defaults();
    tcfg.epochs = (int)o.epochs;
    tcfg.batch = (int)batch;
    tcfg.seed = o.seed;
    tcfg.schedule = &sched;
    tcfg.clip_norm = (float)o.clip_norm;
    tcfg.clip_value = (float)o.clip_value;
    tcfg.early_stop = (int)o.early_stop;
    tcfg.min_delta = (float)o.min_delta;
    tcfg.early_metric = o.early_metric && !strcmp(o.early_metric, "val_acc") ? TMLP_METRIC_VAL_ACC
                                                                             : TMLP_METRIC_VAL_LOSS;
    if (tcfg.early_stop && !val) {
        status = cli_usage_error("train", "--early-stop needs a validation set: give --val");
        goto done;
    }
    tcfg.on_nan = o.on_nan ? (!strcmp(o.on_nan, "skip") ? TMLP_ON_NAN_SKIP : TMLP_ON_NAN_STOP)
                           : res.argv ? res.ck.cfg.on_nan : TMLP_ON_NAN_STOP;
    tcfg.state = &state;
    if (res.argv) { /* the checkpoint's net, optimizer, schedule and position take over */
        if (cli_resume_load(&res, &net, &opt, &sched, &tcfg, train, (float)o.lr, &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
        if (!o.quiet)
            fprintf(stderr, "resuming %s: %d of %ld epochs done\n", res.path,
                    tcfg.state->epoch, o.epochs);
    }
    char shown[512]; /* the hidden layers as built: a bare width shows its ReLU */
    tmlp_net_spec_format(tmlp_net_get_spec(net), 0, shown, sizeof shown);
    if (strrchr(shown, ','))
        *strrchr(shown, ',') = '\0'; /* the output layer is the "-> n_out" */
    if (!o.quiet)
        fprintf(stderr, "training on %s: %d samples (%d for validation), %d inputs, layers %s -> %d "
                "(%s); %s lr %g (%s), batch %ld, %ld epochs\n", o.data, train->n, val ? val->n : 0,
                train->n_in, shown, n_out, tmlp_loss_name(loss), tmlp_optim_name(opt_kind),
                (double)ocfg.lr, tmlp_schedule_name(sched.kind), batch, o.epochs);
    /* The effective configuration: printed now, saved with the model, echoed by --json. */
    cfg_json = config_json(&o, &ocfg, &sched, loss, batch, val_frac);
    if (!o.quiet) {
        char *text = cJSON_PrintUnformatted(cfg_json);
        if (text)
            fprintf(stderr, "config: %s\n", text);
        free(text);
    }
    if (o.diag) { /* gradient statistics, chained in front of the progress display */
        if (diag_file_open(&df, o.diag, net, (int)o.diag_every, &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
        obs = diag_file_observer(&df, &obs);
    }
    if (o.checkpoint) { /* the whole run, saved as it goes (resume.h) */
        char *text = cJSON_PrintUnformatted(cfg_json);
        rc = cli_ckpt_begin(&ckpt, o.checkpoint, o.ckpt_every, text, o.data, &prep, val_frac,
                            train, net, opt, &tcfg, &err);
        free(text);
        if (rc) {
            status = cli_fail(&err, 0);
            goto done;
        }
        obs = cli_ckpt_observer(&ckpt, &obs);
        cli_ckpt_signals(1);
    }
    if (red) { /* every rank with rank 0's data, then one net trained by all */
        dist_ready = 1;
        size_t np, ns;
        const float *p = tmlp_net_params(net, &np), *st = tmlp_net_state(net, &ns);
        if (train_dist_ready(1, study_data_sum(study_data_sum(0, train), val), o.data) ||
            train_dist_same_params(p, np, st, ns, "before training: every rank needs the same "
                                   "settings (layers, seed, --resume)"))
            goto done;
        if (!o.quiet)
            fprintf(stderr, "data-parallel on %d ranks: each takes its share of every batch of "
                    "%ld rows\n", red->size, batch);
        tcfg.reducer = red;
        obs = train_dist_observer(&obs);
    }
    if (tmlp_train(net, opt, train, val, &tcfg, &obs, &err) ||
        (o.diag && diag_file_close(&df, &err))) {
        status = cli_fail(&err, 0);
        /* a failure of this rank alone (memory, transport) would leave the others waiting */
        if (red && err.code != TMLP_ENUMERIC && err.code != TMLP_EINVAL &&
            err.code != TMLP_ESTATE)
            train_dist_abort(status);
        goto done;
    }
    if (red) { /* the debug check: the ranks end with the same bits */
        size_t np, ns;
        const float *p = tmlp_net_params(net, &np), *st = tmlp_net_state(net, &ns);
        if (train_dist_same_params(p, np, st, ns, "after training: the sums across ranks did "
                                   "not give every rank the same bits"))
            goto done;
        if (rank != 0) { /* rank 0 alone evaluates, saves and reports */
            status = 0;
            goto done;
        }
    }
    if (o.checkpoint && (status = cli_ckpt_end(&ckpt)) != 0)
        goto done;
    status = EXIT_RUNTIME;

    const tmlp_data *eval = ds.test ? ds.test : train;
    const char *eval_name = ds.test ? "test" : "training";
    double acc, eloss;
    if (tmlp_evaluate(net, eval, &eloss, &acc, &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    if (o.save) {
        char *cfg_text = cJSON_PrintUnformatted(cfg_json), num[64];
        snprintf(num, sizeof num, "%.6f", acc);
        int r = !cfg_text ? tmlp_fail(&err, TMLP_ENOMEM, "no memory")
                          : tmlp_model_meta_set(&meta, "config", cfg_text, &err);
        free(cfg_text);
        if (!r)
            r = tmlp_model_meta_set(&meta, "data", o.data, &err);
        if (!r)
            r = tmlp_model_meta_set(&meta, ds.test ? "test_accuracy" : "train_accuracy", num, &err);
        if (!r)
            r = cli_prep_save(&prep, &meta, &err);
        if (!r)
            r = tmlp_model_write(o.save, net, &meta, &err);
        if (r) {
            status = cli_fail(&err, 0);
            goto done;
        }
    }

    if (o.json) { /* every allocation checked: a missing field is an error, not a short line */
        cJSON *j = cJSON_CreateObject(), *c = cJSON_Duplicate(cfg_json, 1);
        cJSON *sec = cJSON_CreateDoubleArray(rl.epoch_seconds, rl.n);
        int ok = j && c && sec && cJSON_AddItemToObject(j, "config", c);
        if (!ok)
            cJSON_Delete(c);
        ok = ok && cJSON_AddNumberToObject(j, "epochs", rl.n) &&
             add_num(j, "train_loss", rl.last.train_loss) &&
             add_num(j, "train_accuracy", rl.last.train_acc) &&
             add_num(j, "val_loss", rl.last.val_loss) &&
             add_num(j, "val_accuracy", rl.last.val_acc) &&
             add_num(j, ds.test ? "test_loss" : "final_train_loss", eloss) &&
             add_num(j, ds.test ? "test_accuracy" : "final_train_accuracy", acc) &&
             cJSON_AddItemToObject(j, "epoch_seconds", sec);
        if (!cJSON_GetObjectItemCaseSensitive(j, "epoch_seconds"))
            cJSON_Delete(sec);
        ok = ok && add_history(j, rl.history, rl.n, val != NULL);
        ok = ok && (!o.save || cJSON_AddStringToObject(j, "model", o.save));
        char *text = ok ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        if (!text) {
            tmlp_fail(&err, TMLP_ENOMEM, "--json: no memory for the result");
            status = cli_fail(&err, 0);
            goto done;
        }
        printf("%s\n", text);
        free(text);
    } else {
        if (!strcmp(o.data, "xor") && n_out == 1) { /* the whole truth table: four rows */
            float out[4];
            if (tmlp_net_predict(net, ds.train->x, 4, out, &err) == TMLP_OK)
                for (int i = 0; i < 4; i++)
                    printf("%g xor %g = %d   net says %.4f\n", (double)ds.train->x[2 * i],
                           (double)ds.train->x[2 * i + 1], ds.train->label[i], (double)out[i]);
        }
        printf("%s accuracy: %.2f%% (%ld/%d)  loss %.4f\n", eval_name, 100.0 * acc,
               lround(acc * eval->n), eval->n, eloss);
        if (o.save)
            printf("model saved to %s\n", o.save);
    }
    status = 0;
done:
    if (red && !dist_ready) /* this rank failed to set up: the others must not wait for it */
        train_dist_ready(0, 0, o.data);
    if (log && cli_out_commit(&log_out, &err) && status == 0)
        status = cli_fail(&err, 0);
    cli_ckpt_signals(0);
    cli_ckpt_free(&ckpt);
    tmlp_train_state_free(&state);
    cli_resume_free(&res);
    diag_file_close(&df, NULL);
    cJSON_Delete(cfg_json);
    free(rl.epoch_seconds);
    free(rl.history);
    tmlp_model_meta_free(&meta);
    cli_prep_free(&prep);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_team_free(team);
    if (train != ds.train)
        tmlp_data_free(train);
    tmlp_data_free(val);
    cli_dataset_free(&ds);
    ini_free(&ini);
    free(save_target);
    free(ckpt_target);
    study_mpi_end();
    return status;
}
