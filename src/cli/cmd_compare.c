/* cmd_compare.c: `tinymlp compare`: the same network trained once per activation and seed.
 *
 * This file parses the options, loads and splits the data once, and builds the study's
 * description; compare_run.c trains the runs in forked workers, one thread each; report.c,
 * report_html.c and report_svg.c write the files. Every run of a given seed starts from the
 * same initial-weight seed and sees the same batch order; each activation gets its own
 * initializer (--init auto), and the run for the first seed is exactly what `tinymlp train
 * --seed S` with the same settings trains. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "datasets.h"
#include "study.h"
#include "paths.h"

#define DEFAULT_ACTS "sigmoid,tanh,relu,leaky_relu,elu,selu,gelu,silu,mish"

static void help(void)
{
    printf(
"usage: tinymlp compare [OPTIONS]\n"
"\n"
"Trains the same network once per activation and seed (same initial-weight seed and\n"
"batch order for every activation) and writes results.csv, layers.csv, timing.csv,\n"
"summary.md and report.html into the report folder; prints the summary: the table,\n"
"the ranking on validation accuracy with 95%% confidence intervals, which activations\n"
"are tied with the best (paired tests over seeds, Holm-corrected) and the verdict.\n"
"The activation preset of `tinymlp sweep` (docs/sweep.md): a killed study started\n"
"again with the same --report resumes; mpirun -np N build/tinymlp compare ... spreads\n"
"the runs over N ranks.\n"
"\n"
"  --data NAME         mnist, fashion-mnist, xor, an IDX folder or a CSV file  [mnist]\n"
"  --acts LIST         activations, comma-separated (names as in --layers)\n"
"                      [" DEFAULT_ACTS "]\n"
"  --layers W,W,...    hidden layer widths                              [128,64]\n"
"  --depth N           N hidden layers: the widths of --layers, the last one\n"
"                      repeated (or the list cut) to N          [as --layers]\n"
"  --epochs N          epochs per run                                        [5]\n"
"  --plugin FILE.so    load activations from a plugin (repeatable), for --acts\n"
"  --seeds N           runs per activation, seeds S .. S+N-1                 [3]\n"
"  --seed S            the first seed                                        [1]\n"
"  --batch N           rows per step                                        [32]\n"
"  --opt NAME          sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad\n"
"                                                                  [momentum]\n"
"                      (Adam rescales each weight's step, which hides the very\n"
"                      gradient differences this study is about)\n"
"  --lr X              learning rate               [0.01; 0.001 adam/adamw]\n"
"  --schedule NAME     constant, step, exp, cosine, plateau  [cosine; xor: constant]\n"
"  --init NAME         auto (what each activation prefers: He for the ReLU family,\n"
"                      LeCun for selu, Glorot otherwise) or one for all    [auto]\n"
"  --val FRAC          validation fraction of the training set, split once with\n"
"                      the first seed                [1/12 with a test set, else 0]\n"
"  --standardize       scale each input to mean 0, std 1\n"
"  --target ACC        validation accuracy whose first epoch is reported  [0.97]\n"
"  --limit N           use only the first N training and N test rows        [all]\n"
"  --jobs N            runs at a time, each on one thread      [number of cores]\n"
"  --report DIR        where the files go                      [compare-report]\n"
"  --quiet             no progress lines (otherwise one per epoch of each run and\n"
"                      one per finished run, on stderr)\n"
"  --json              print the summary as one JSON object instead of the tables\n"
"                      (no progress lines)\n"
"  -h, --help          this text\n");
}

enum { O_DATA = 256, O_ACTS, O_LAYERS, O_DEPTH, O_EPOCHS, O_SEEDS, O_SEED, O_BATCH, O_OPT,
       O_LR, O_SCHED, O_INIT, O_VAL, O_STD, O_TARGET, O_LIMIT, O_JOBS, O_REPORT, O_QUIET, O_JSON };

static const struct option options[] = {
    { "data", required_argument, 0, O_DATA }, { "acts", required_argument, 0, O_ACTS },
    { "layers", required_argument, 0, O_LAYERS }, { "depth", required_argument, 0, O_DEPTH },
    { "epochs", required_argument, 0, O_EPOCHS }, { "seeds", required_argument, 0, O_SEEDS },
    { "seed", required_argument, 0, O_SEED }, { "batch", required_argument, 0, O_BATCH },
    { "opt", required_argument, 0, O_OPT }, { "lr", required_argument, 0, O_LR },
    { "schedule", required_argument, 0, O_SCHED }, { "init", required_argument, 0, O_INIT },
    { "val", required_argument, 0, O_VAL }, { "standardize", no_argument, 0, O_STD },
    { "target", required_argument, 0, O_TARGET }, { "limit", required_argument, 0, O_LIMIT },
    { "jobs", required_argument, 0, O_JOBS }, { "report", required_argument, 0, O_REPORT },
    { "quiet", no_argument, 0, O_QUIET }, { "json", no_argument, 0, O_JSON }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
};

typedef struct copts {
    const char *data, *acts, *layers, *opt, *schedule, *init, *report;
    double lr, val, target;            /* NAN: not given */
    long depth, epochs, seeds, batch, limit, jobs;
    uint64_t seed;
    int quiet, standardize, json;
} copts;

static const char *optname(int c)
{
    for (const struct option *op = options; op->name; op++)
        if (op->val == c)
            return op->name;
    return "?";
}

static int parse(int argc, char **argv, copts *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (copts){ .data = "mnist", .acts = DEFAULT_ACTS, .layers = "128,64", .opt = "momentum",
                  .report = "compare-report", .lr = NAN, .val = NAN, .target = 0.97,
                  .epochs = 5, .seeds = 3, .batch = 32, .jobs = cores > 0 ? cores : 1, .seed = 1 };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        long *ip = NULL, lo = 1, hi = 1L << 30;
        double *fp = NULL;
        switch (c) {
        case 'h': help(); return -1;
        case O_DATA: o->data = optarg; break;
        case O_ACTS: o->acts = optarg; break;
        case O_LAYERS: o->layers = optarg; break;
        case O_OPT: o->opt = optarg; break;
        case O_SCHED: o->schedule = optarg; break;
        case O_INIT: o->init = optarg; break;
        case O_REPORT: o->report = optarg; break;
        case O_QUIET: o->quiet = 1; break;
        case O_JSON: o->json = 1; break;
        case O_STD: o->standardize = 1; break;
        case O_LR: fp = &o->lr; break;
        case O_VAL: fp = &o->val; break;
        case O_TARGET: fp = &o->target; break;
        case O_DEPTH: ip = &o->depth; hi = TMLP_MAX_LAYERS - 1; break;
        case O_EPOCHS: ip = &o->epochs; hi = 100000; break;
        case O_SEEDS: ip = &o->seeds; hi = 1000; break;
        case O_BATCH: ip = &o->batch; break;
        case O_LIMIT: ip = &o->limit; break;
        case O_JOBS: ip = &o->jobs; hi = 1024; break;
        case O_SEED:
            if (!cli_u64(optarg, &o->seed))
                return cli_usage_error("compare", "--seed wants a non-negative integer, got '%s'", optarg);
            break;
        case ':':
            return cli_usage_error("compare", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("compare", "unknown option '%s'", argv[optind - 1]);
        }
        if (fp && !cli_float(optarg, fp))
            return cli_usage_error("compare", "--%s wants a finite number, got '%s'", optname(c), optarg);
        if (ip && !cli_int(optarg, lo, hi, ip))
            return cli_usage_error("compare", "--%s wants an integer in %ld..%ld, got '%s'",
                                   optname(c), lo, hi, optarg);
    }
    if (optind < argc)
        return cli_usage_error("compare", "unexpected argument '%s'", argv[optind]);
    if (!isnan(o->val) && !(o->val >= 0.0 && o->val < 1.0))
        return cli_usage_error("compare", "--val wants a fraction in [0, 1), got %g", o->val);
    if (!(o->target > 0.0 && o->target <= 1.0))
        return cli_usage_error("compare", "--target wants an accuracy in (0, 1], got %g", o->target);
    if (!isnan(o->lr) && !(o->lr > 0.0))
        return cli_usage_error("compare", "--lr wants a positive number, got %g", o->lr);
    return 0;
}

/* "128,64" (widths only) into s->width, stretched or cut to depth when depth > 0. */
static int parse_widths(const char *text, long depth, cmp_study *s)
{
    int n = 0;
    for (const char *p = text; *p;) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w < 1 || w > 1000000 || (*end && *end != ','))
            return cli_usage_error("compare", "--layers takes widths only, like 128,64 (the "
                                   "activations come from --acts), got '%s'", text);
        if (n == TMLP_MAX_LAYERS - 1)
            return cli_usage_error("compare", "--layers: at most %d hidden layers", TMLP_MAX_LAYERS - 1);
        s->width[n++] = (int)w;
        p = *end ? end + 1 : end;
    }
    if (n == 0)
        return cli_usage_error("compare", "--layers is empty");
    for (; depth > 0 && n < depth; n++)
        s->width[n] = s->width[n - 1];
    s->n_layers = (depth > 0 ? (int)depth : n) + 1;
    return 0;
}

static int parse_acts(const char *text, const char *init_override, cmp_study *s)
{
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return cli_usage_error("compare", "--acts is too long");
    strcpy(buf, text);
    tmlp_err err;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (s->n_cfg == CMP_MAX_CFG)
            return cli_usage_error("compare", "--acts: at most %d activations", CMP_MAX_CFG);
        int i = s->n_cfg;
        if (tmlp_act_parse(tok, &s->cfg[i].act, &s->cfg[i].act_arg, &err) != TMLP_OK) {
            fprintf(stderr, "tinymlp compare: %s\n", err.msg);
            return EXIT_USAGE;
        }
        if (s->cfg[i].act->flags & TMLP_ACT_NOGRAD)
            return cli_usage_error("compare", "'%s' has no gradient and cannot be trained", tok);
        if (strchr(tok, ':')) /* as written, but canonical: "elu:0.50" is "elu:0.5" */
            tmlp_act_format(s->cfg[i].act, s->cfg[i].act_arg, s->cfg[i].name, sizeof s->cfg[i].name);
        else
            snprintf(s->cfg[i].name, sizeof s->cfg[i].name, "%s", s->cfg[i].act->name);
        for (int k = 0; k < i; k++)
            if (!strcmp(s->cfg[k].name, s->cfg[i].name))
                return cli_usage_error("compare", "--acts names '%s' twice", s->cfg[i].name);
        int kind = s->cfg[i].act->init ? s->cfg[i].act->init : TMLP_INIT_GLOROT_UNIFORM;
        s->cfg[i].init_name = init_override ? init_override : tmlp_init_name(kind);
        s->n_cfg++;
    }
    if (!s->n_cfg)
        return cli_usage_error("compare", "--acts is empty");
    return 0;
}

int cmd_compare(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("compare", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    copts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    static cmp_study s;
    static cmp_cfg cfg[CMP_MAX_CFG];
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    char command[2048];
    study_command_line(argc, argv, command, sizeof command);
    s.command = command;
    s.data = o.data;
    s.title = "Activation comparison";
    s.n_keys = 1;
    snprintf(s.key[0], sizeof s.key[0], "act");
    tmlp_err err = { 0 };
    compare_setup su = { .s = &s, .progress = !o.quiet && !o.json };
    int init = TMLP_INIT_AUTO, opt_kind;
    if (o.init && !strcmp(o.init, "auto"))
        o.init = NULL;
    if ((rc = parse_widths(o.layers, o.depth, &s)) || (rc = parse_acts(o.acts, o.init, &s)))
        return rc;
    if (tmlp_optim_find(o.opt, &opt_kind, &err) ||
        (o.init && tmlp_init_find(o.init, &init, &err))) {
        fprintf(stderr, "tinymlp compare: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if ((rc = study_check_report("compare", o.data, o.report)))              /* before any work: paths.h */
        return rc;
    const int is_xor = !strcmp(o.data, "xor");
    int sched_kind = is_xor ? TMLP_SCHED_CONSTANT : TMLP_SCHED_COSINE;
    if (o.schedule && tmlp_schedule_find(o.schedule, &sched_kind, &err)) {
        fprintf(stderr, "tinymlp compare: %s\n", err.msg);
        return EXIT_USAGE;
    }
    s.lr = !isnan(o.lr) ? o.lr : is_xor ? 0.05 : (double)tmlp_optim_defaults(opt_kind).lr;
    s.opt = tmlp_optim_name(opt_kind);
    s.schedule = tmlp_schedule_name(sched_kind);
    s.epochs = (int)o.epochs;
    s.n_seeds = (int)o.seeds;
    s.seed0 = o.seed;
    s.jobs = (int)o.jobs;
    s.target = o.target;
    s.standardize = o.standardize;
    int rank = 0, ranks = study_mpi_begin(&argc, &argv, &rank);
    if (ranks < 0)
        return EXIT_USAGE;

    cli_dataset ds = { 0 };
    tmlp_data *train = NULL, *val = NULL;
    cli_prep prep = { 0 };
    int status = EXIT_RUNTIME;
    if (cli_dataset_load(o.data, NULL, &ds, &err) != TMLP_OK) {
        status = cli_fail(&err, err.code == TMLP_ENOTFOUND ? EXIT_USAGE : EXIT_RUNTIME);
        goto done;
    }
    if (o.limit && (study_limit_rows(&ds.train, o.limit, &err) || study_limit_rows(&ds.test, o.limit, &err))) {
        status = cli_fail(&err, 0);
        goto done;
    }
    double val_frac = !isnan(o.val) ? o.val : (ds.test ? 1.0 / 12.0 : 0.0);
    int prep_rc = study_prepare_data("compare", o.data, &ds, val_frac, s.seed0, o.standardize,
                                     &prep, &train, &val);
    if (prep_rc) {
        status = prep_rc;
        goto done;
    }
    int loss = train->n_classes == 2 ? TMLP_LOSS_SIGMOID_BCE : TMLP_LOSS_SOFTMAX_CE;
    s.n_out = train->n_classes == 2 ? 1 : train->n_classes;
    s.width[s.n_layers - 1] = s.n_out;
    s.n_in = train->n_in;
    s.loss = tmlp_loss_name(loss);
    s.batch = (int)(o.batch < train->n ? o.batch : train->n);
    s.same_layers = 1;
    for (int a = 0; a < s.n_cfg; a++) { /* each activation's configuration */
        cmp_cfg *g = &cfg[a];
        tmlp_net_spec_init(&g->spec, s.n_in, loss);
        for (int i = 0; i < s.n_layers - 1; i++)
            if (tmlp_net_spec_add(&g->spec, s.width[i], g->act, g->act_arg, &err)) {
                status = cli_fail(&err, EXIT_USAGE);
                goto done;
            }
        if (tmlp_net_spec_add(&g->spec, s.n_out, NULL, 0.0f, &err)) {
            status = cli_fail(&err, EXIT_USAGE);
            goto done;
        }
        for (int i = 0; i < g->spec.n_layers; i++)
            g->spec.layer[i].init = init;
        g->opt = tmlp_optim_defaults(opt_kind);
        g->opt.lr = (float)s.lr;
        g->sched = tmlp_schedule_defaults(sched_kind, (float)s.lr);
        g->train = tmlp_train_defaults();
        g->train.epochs = s.epochs;
        g->train.batch = s.batch;
        size_t len = strnlen(g->name, sizeof g->value[0] - 1); /* activation names are short */
        memcpy(g->value[0], g->name, len);
        g->value[0][len] = '\0';
    }
    if (study_use_sets(&su, train, val, ds.test, rank == 0 ? o.report : NULL) != 0)
        goto done;
    if (!o.quiet && !o.json && rank == 0) {
        char samples[256];
        report_samples(samples, sizeof samples, &s);
        fprintf(stderr, "compare on %s: %s; %d", o.data, samples, s.n_in);
        for (int i = 0; i < s.n_layers; i++)
            fprintf(stderr, "-%d", s.width[i]);
        fprintf(stderr, "; %s lr %g (%s), batch %d, %d epochs; %d activations x %d seeds, ", s.opt,
                s.lr, s.schedule, s.batch, s.epochs, s.n_cfg, s.n_seeds);
        if (ranks > 1)
            fprintf(stderr, "on %d MPI ranks\n", ranks);
        else
            fprintf(stderr, "%d at a time\n", s.jobs);
    }
    status = study_execute(&su, o.report, o.quiet || o.json, o.json, ranks, rank);
done:
    study_free_runs(&s);
    cli_prep_free(&prep);
    if (train != ds.train)
        tmlp_data_free(train);
    tmlp_data_free(val);
    cli_dataset_free(&ds);
    study_mpi_end();
    return status;
}
