/* cmd_sweep.c: `tinymlp sweep`: every combination of the --grid values of `train` settings,
 * each trained with every seed; the statistics say which configuration is best on the
 * validation set and which cannot be told apart from it (docs/sweep.md).
 *
 * This file parses the command line (and --config INI files), loads and splits the data
 * once, and builds one configuration per grid point (sweep_cfg.c resolves each as `train`
 * would); study_run.c does the rest, as for `tinymlp compare`. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "datasets.h"
#include "ini.h"
#include "study.h"
#include "sweep.h"

static void help(void)
{
    printf(
"usage: tinymlp sweep [OPTIONS] [TRAIN SETTINGS]\n"
"\n"
"Trains every combination of the --grid values once per seed (every configuration's\n"
"run with seed k draws the same initial weights and batch order: a paired design),\n"
"ranks the configurations on validation accuracy with 95%% confidence intervals, tests\n"
"each against the best (paired t-test; also Wilcoxon from 6 seeds; Holm-corrected) and\n"
"says which are tied with the best and what differences the seeds can resolve. Writes\n"
"results.csv, layers.csv, timing.csv, summary.md and report.html into --report.\n"
"\n"
"  --grid KEY=V1,V2,...  a train setting and the values to try (repeatable; the runs\n"
"                      are the cartesian product). Values containing commas are\n"
"                      separated by ';' instead: --grid 'layers=128:relu,64:relu;256:relu'\n"
"  --plugin FILE.so    load activations from a plugin (repeatable)\n"
"  --seeds N           runs per configuration, seeds S .. S+N-1                [3]\n"
"  --seed S            the first seed                                          [1]\n"
"  --jobs N            runs at a time, each in its own process on one thread\n"
"                                                             [number of cores]\n"
"  --report DIR        where the files go; run the same sweep again with the same\n"
"                      DIR to resume a stopped one                 [sweep-report]\n"
"  --limit N           use only the first N training and N test rows         [all]\n"
"  --target ACC        validation accuracy whose first epoch is reported    [0.97]\n"
"  --config FILE       an INI file: [grid] KEY = V1,V2 lines, other keys as the\n"
"                      flags without '--' (seeds = 5, lr = 0.01); the command line\n"
"                      overrides it, and its --grid KEY replaces the file's\n"
"  --quiet             no progress lines\n"
"  --json              print the summary as one JSON object (no progress lines)\n"
"  -h, --help          this text\n"
"\n"
"TRAIN SETTINGS: any `tinymlp train` flag that shapes a run, for every configuration\n"
"(--data, --layers, --epochs, --lr, --opt, --batch, --momentum, --l2, --schedule, ...;\n"
"see `tinymlp train --help`); each of them but the data's (--data, --val, --standardize,\n"
"--csv-header, --label-col, --classes) can be a --grid KEY. Unset ones take train's defaults.\n"
"\n"
"With Open MPI: mpirun -np N build/tinymlp sweep ... deals the runs to N ranks\n"
"(docs/sweep.md: hostfiles, running as root).\n");
}

typedef struct grid_key {
    char name[32];
    const char *text;              /* as given, after "KEY=" */
    int n;
    char *value[CMP_MAX_CFG];      /* split copies */
} grid_key;

typedef struct sopts {
    sweep_set base;                /* the train settings for every run */
    grid_key grid[CMP_MAX_KEYS];
    int n_grid;
    const char *report;
    long seeds, jobs, limit;
    uint64_t seed;
    double target;
    int quiet, json, standardize;
    tmlp_csv_opts csv;
} sopts;

static int set_add(sweep_set *set, const char *key, const char *value)
{
    if (set->n == SWEEP_MAX_SET - CMP_MAX_KEYS) /* room for the grid's values */
        return cli_usage_error("sweep", "too many settings (at most %d)", SWEEP_MAX_SET - CMP_MAX_KEYS);
    set->key[set->n] = key;
    set->value[set->n++] = value;
    return 0;
}

static int add_grid(sopts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof o->grid[0].name)
        return cli_usage_error("sweep", "--grid wants KEY=V1,V2,..., got '%s'", arg);
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
    const sweep_key *k = sweep_key_find(name);
    if (!k)
        return cli_usage_error("sweep", "--grid: '%s' is not a setting of tinymlp train", name);
    if (k->kind >= SK_STUDY)
        return cli_usage_error("sweep", "--grid: '%s' cannot be swept: %s", name, k->why);
    int at = 0;
    while (at < o->n_grid && strcmp(o->grid[at].name, name))
        at++;
    if (at == o->n_grid) {
        if (o->n_grid == CMP_MAX_KEYS)
            return cli_usage_error("sweep", "--grid: at most %d settings", CMP_MAX_KEYS);
        o->n_grid++;
    } else { /* a later --grid KEY replaces an earlier one (the command line, the file's) */
        for (int i = 0; i < o->grid[at].n; i++)
            free(o->grid[at].value[i]);
    }
    grid_key *g = &o->grid[at];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->text = eq + 1;
    const char *sep = strchr(g->text, ';') ? ";" : ",";
    for (const char *p = g->text;;) {
        size_t len = strcspn(p, sep);
        if (g->n == CMP_MAX_CFG)
            return cli_usage_error("sweep", "--grid %s: at most %d values", name, CMP_MAX_CFG);
        if (len == 0 || len >= 96)
            return cli_usage_error("sweep", "--grid %s: values must be 1 to 95 characters, "
                                   "separated by '%s', got '%s'", name, sep, g->text);
        if (!(g->value[g->n] = strndup(p, len)))
            return cli_usage_error("sweep", "out of memory");
        char why[160];
        g->n++; /* owned from here: freed with the rest (free_grid) */
        if (!sweep_check_value(k, g->value[g->n - 1], why, sizeof why))
            return cli_usage_error("sweep", "--grid %s: %s", name, why);
        for (int i = 0; i < g->n - 1; i++)
            if (!strcmp(g->value[i], g->value[g->n - 1]))
                return cli_usage_error("sweep", "--grid %s names '%s' twice", name, g->value[i]);
        if (!p[len])
            break;
        p += len + 1;
    }
    return 0;
}

/* --config FILE: [grid] KEY = V1,V2 and KEY = VALUE lines into an argv read before the
 * command line's own flags. */
typedef struct ini_acc {
    char **argv;
    int argc, cap;
} ini_acc;

static int acc_push(ini_acc *a, const char *s)
{
    if (a->argc + 2 >= a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        char **v = realloc(a->argv, (size_t)cap * sizeof *v);
        if (!v)
            return 0;
        a->argv = v;
        a->cap = cap;
    }
    return (a->argv[a->argc++] = strdup(s)) != NULL;
}

/* cli_ini_fn: 0 to go on; nonzero (why written) to stop, as out of memory too. */
static int ini_key(void *user, const char *section, const char *name, const char *value,
                   char *why, size_t size)
{
    ini_acc *a = user;
    char flag[80];
    if (!strcmp(section, "grid")) {
        snprintf(flag, sizeof flag, "%.40s=", name);
        char *both = malloc(strlen(flag) + strlen(value) + 1);
        if (!both)
            return snprintf(why, size, "out of memory"), 1;
        strcat(strcpy(both, flag), value);
        int ok = acc_push(a, "--grid") && acc_push(a, both);
        free(both);
        return ok ? 0 : (snprintf(why, size, "out of memory"), 1);
    }
    if (!strcmp(name, "config") || !strcmp(name, "help")) {
        snprintf(why, size, "'%s' cannot be set in a config file", name);
        return 1;
    }
    snprintf(flag, sizeof flag, "--%.60s", name);
    const sweep_key *k = sweep_key_find(name);
    if ((k && k->kind == SK_FLAG) || !strcmp(name, "quiet") || !strcmp(name, "json")) {
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
            return acc_push(a, flag) ? 0 : (snprintf(why, size, "out of memory"), 1);
        if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
            return 0;
        snprintf(why, size, "'%s' wants true or false, got '%.40s'", name, value);
        return 1;
    }
    return acc_push(a, flag) && acc_push(a, value) ? 0 : (snprintf(why, size, "out of memory"), 1);
}

static void acc_free(ini_acc *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
}

static const char *const own[] = { "grid", "seeds", "seed", "jobs", "report", "limit", "target",
                                   "config", NULL };

static int parse(int argc, char **argv, sopts *o, ini_acc *file)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    memset(o, 0, sizeof *o);
    o->report = "sweep-report";
    o->seeds = 3;
    o->seed = 1;
    o->jobs = cores > 0 ? cores : 1;
    o->target = 0.97;
    o->csv = tmlp_csv_defaults();
    for (int pass = 0; pass < 2; pass++) { /* the config file's settings, then the command line */
        int n = pass ? argc : file->argc;
        char **v = pass ? argv : file->argv;
        for (int i = pass ? 1 : 0; i < n; i++) {
            const char *a = v[i], *val = NULL;
            if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                help();
                return -1;
            }
            if (strncmp(a, "--", 2))
                return cli_usage_error("sweep", "unexpected argument '%s'", a);
            char name[64];
            size_t len = strcspn(a + 2, "=");
            snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), a + 2);
            if (a[2 + len] == '=')
                val = a + 3 + len;
            const sweep_key *k = sweep_key_find(name);
            int takes = !(k && k->kind == SK_FLAG) && strcmp(name, "quiet") && strcmp(name, "json");
            if (takes && !val) {
                if (i + 1 >= n)
                    return cli_usage_error("sweep", "%s needs a value", a);
                val = v[++i];
            }
            int rc = 0, is_own = 0;
            double d;
            for (int j = 0; own[j]; j++)
                is_own |= !strcmp(own[j], name);
            if (!strcmp(name, "quiet"))
                o->quiet = 1;
            else if (!strcmp(name, "json"))
                o->json = 1;
            else if (!strcmp(name, "config")) {
                if (pass == 0)
                    return cli_usage_error("sweep", "a config file cannot name another");
                continue; /* read before this loop */
            } else if (!strcmp(name, "grid"))
                rc = add_grid(o, val);
            else if (!strcmp(name, "report"))
                o->report = val;
            else if (!strcmp(name, "seed")) {
                if (!cli_u64(val, &o->seed))
                    return cli_usage_error("sweep", "--seed wants a non-negative integer, got '%s'", val);
            } else if (is_own) {
                long *ip = !strcmp(name, "seeds") ? &o->seeds : !strcmp(name, "jobs") ? &o->jobs : &o->limit;
                if (!strcmp(name, "target")) {
                    if (!cli_float(val, &o->target) || !(o->target > 0 && o->target <= 1))
                        return cli_usage_error("sweep", "--target wants an accuracy in (0, 1], got '%s'", val);
                } else if (!cli_int(val, 1, ip == &o->jobs ? 1024 : ip == &o->seeds ? 1000 : 1L << 30, ip))
                    return cli_usage_error("sweep", "--%s wants a positive integer, got '%s'", name, val);
            } else if (!k) {
                return cli_usage_error("sweep", "unknown option '--%s' (neither sweep's nor "
                                       "tinymlp train's)", name);
            } else if (k->kind == SK_NO) {
                return cli_usage_error("sweep", "--%s is not for sweep: %s", name, k->why);
            } else if (k->kind == SK_FLAG) {
                o->standardize = 1;
            } else if (!strcmp(name, "csv-header")) {
                rc = cli_csv_header_arg("sweep", val, &o->csv.header);
            } else if (!strcmp(name, "label-col")) {
                rc = cli_label_col_arg("sweep", val, &o->csv.label_col);
            } else if (!strcmp(name, "classes")) {
                long n_cls;
                if (!cli_int(val, 2, TMLP_CSV_MAX_CLASSES, &n_cls))
                    return cli_usage_error("sweep", "--classes wants an integer in 2..%d, got '%s'",
                                           TMLP_CSV_MAX_CLASSES, val);
                o->csv.n_classes = (int)n_cls;
            } else if (!strcmp(name, "val") && (!cli_float(val, &d) || !(d >= 0.0 && d < 1.0))) {
                return cli_usage_error("sweep", "--val wants a fraction in [0, 1), got '%s'", val);
            } else {
                char why[160];
                if (!sweep_check_value(k, val, why, sizeof why))
                    return cli_usage_error("sweep", "%s", why);
                rc = set_add(&o->base, k->name, val);
            }
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int read_config(int argc, char **argv, ini_acc *file)
{
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (!strcmp(argv[i], "--config"))
            path = i + 1 < argc ? argv[i + 1] : NULL;
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
        else
            continue;
        if (!path)
            return cli_usage_error("sweep", "--config needs a file");
        if (!*path)
            return cli_usage_error("sweep", "--config needs a file, got ''");
        tmlp_err err = { 0 };
        if (cli_ini_read(path, ini_key, file, &err) != TMLP_OK) {
            fprintf(stderr, "tinymlp sweep: %s\n", err.msg);
            return EXIT_USAGE;
        }
        return 0;
    }
    return 0;
}

static void free_grid(sopts *o)
{
    for (int k = 0; k < o->n_grid; k++)
        for (int i = 0; i < o->grid[k].n; i++)
            free(o->grid[k].value[i]);
}

/* Configuration c of the grid: its settings (base, then one value per key) and name. */
static void grid_point(const sopts *o, int c, sweep_set *set, cmp_cfg *g)
{
    *set = o->base;
    char name[CMP_NAME] = "";
    size_t used = 0;
    for (int k = o->n_grid - 1, rest = c; k >= 0; k--) { /* the first key varies slowest */
        int i = rest % o->grid[k].n;
        rest /= o->grid[k].n;
        snprintf(g->value[k], sizeof g->value[k], "%s", o->grid[k].value[i]);
    }
    for (int k = 0; k < o->n_grid; k++) {
        set->key[set->n] = o->grid[k].name;
        set->value[set->n++] = g->value[k];
        if (used < sizeof name) /* cut at CMP_NAME - 1 characters */
            used += (size_t)snprintf(name + used, sizeof name - used, "%s%s=%s", k ? " " : "",
                                     o->grid[k].name, g->value[k]);
    }
    snprintf(g->name, sizeof g->name, "%s", o->n_grid ? name : "base");
}

int cmd_sweep(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("sweep", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    static sopts o; /* large: not on the stack */
    ini_acc file = { 0 };
    memset(&o, 0, sizeof o);
    int rc = read_config(argc, argv, &file);
    if (!rc)
        rc = parse(argc, argv, &o, &file);
    if (rc) {
        free_grid(&o);
        acc_free(&file);
        return rc < 0 ? 0 : rc;
    }
    static cmp_study s;
    static cmp_cfg cfg[CMP_MAX_CFG];
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    char command[2048];
    study_command_line(argc, argv, command, sizeof command);
    s.command = command;
    s.title = "Sweep";
    const char *data = sweep_get(&o.base, "data");
    s.data = data ? data : "mnist";
    if ((rc = study_check_report("sweep", s.data, o.report))) /* before any work: paths.h */
        goto early;
    long n_cfg = 1;
    for (int k = 0; k < o.n_grid; k++) {
        n_cfg *= o.grid[k].n;
        snprintf(s.key[k], sizeof s.key[k], "%s", o.grid[k].name);
        if (n_cfg > CMP_MAX_CFG) {
            rc = cli_usage_error("sweep", "the grid has more than %d configurations", CMP_MAX_CFG);
            goto early;
        }
    }
    s.n_keys = o.n_grid;
    s.n_cfg = (int)n_cfg;
    s.n_seeds = (int)o.seeds;
    s.seed0 = o.seed;
    s.jobs = (int)o.jobs;
    s.target = o.target;
    s.standardize = o.standardize;
    int rank = 0, ranks = study_mpi_begin(&argc, &argv, &rank);
    if (ranks < 0) {
        rc = EXIT_USAGE;
        goto early;
    }

    tmlp_err err = { 0 };
    cli_dataset ds = { 0 };
    tmlp_data *train = NULL, *val = NULL;
    cli_prep prep = { 0 };
    int status = EXIT_RUNTIME;
    compare_setup su = { .s = &s, .progress = !o.quiet && !o.json };
    if (cli_dataset_load(s.data, &o.csv, &ds, &err) != TMLP_OK) {
        status = cli_fail(&err, err.code == TMLP_ENOTFOUND || err.code == TMLP_EINVAL ? EXIT_USAGE
                                                                                     : EXIT_RUNTIME);
        goto done;
    }
    if (o.limit && (study_limit_rows(&ds.train, o.limit, &err) || study_limit_rows(&ds.test, o.limit, &err))) {
        status = cli_fail(&err, 0);
        goto done;
    }
    const char *vs = sweep_get(&o.base, "val");
    double val_frac = ds.test ? 1.0 / 12.0 : 0.0;
    if ((vs && !cli_float(vs, &val_frac)) || !(val_frac >= 0.0 && val_frac < 1.0)) {
        status = cli_usage_error("sweep", "--val wants a fraction in [0, 1), got %s", vs);
        goto done;
    }
    int prep_rc = study_prepare_data("sweep", s.data, &ds, val_frac, s.seed0, o.standardize,
                                     &prep, &train, &val);
    if (prep_rc) {
        status = prep_rc;
        goto done;
    }
    const int is_xor = !strcmp(s.data, "xor");
    s.same_layers = 1;
    for (int c = 0; c < s.n_cfg; c++) {
        sweep_set set;
        grid_point(&o, c, &set, &cfg[c]);
        if (sweep_resolve(&set, train, val != NULL, is_xor, &cfg[c], &err)) {
            status = cli_usage_error("sweep", "%s: %s", cfg[c].name, err.msg);
            goto done;
        }
        for (int d = 0; d < c; d++)
            if (!strcmp(cfg[d].name, cfg[c].name)) { /* only when cut at CMP_NAME - 1 */
                status = cli_usage_error("sweep", "the grid's values are too long to name every "
                                         "configuration apart ('%.60s...'): use shorter values", cfg[c].name);
                goto done;
            }
        s.epochs = cfg[c].train.epochs > s.epochs ? cfg[c].train.epochs : s.epochs;
        s.n_layers = cfg[c].spec.n_layers > s.n_layers ? cfg[c].spec.n_layers : s.n_layers;
        s.same_layers &= cfg[c].spec.n_layers == cfg[0].spec.n_layers;
    }
    const cmp_cfg *g0 = &cfg[0]; /* for the parts of the report that name one setup */
    s.n_in = train->n_in;
    s.n_out = g0->spec.layer[g0->spec.n_layers - 1].units;
    for (int i = 0; i < g0->spec.n_layers; i++)
        s.width[i] = g0->spec.layer[i].units;
    s.loss = tmlp_loss_name(g0->spec.loss);
    s.opt = tmlp_optim_name(g0->opt.kind);
    s.lr = g0->opt.lr;
    s.schedule = tmlp_schedule_name(g0->sched.kind);
    s.batch = g0->train.batch;
    if (study_use_sets(&su, train, val, ds.test, rank == 0 ? o.report : NULL) != 0)
        goto done;
    if (!o.quiet && !o.json && rank == 0) {
        char samples[256];
        report_samples(samples, sizeof samples, &s);
        fprintf(stderr, "sweep on %s: %s; %d configurations", s.data, samples, s.n_cfg);
        for (int k = 0; k < s.n_keys; k++)
            fprintf(stderr, "%s%s (%d)", k ? " x " : " of ", s.key[k], o.grid[k].n);
        fprintf(stderr, " x %d seeds = %d runs, ", s.n_seeds, s.n_cfg * s.n_seeds);
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
    free_grid(&o);
    acc_free(&file);
    return status;
early:
    free_grid(&o);
    acc_free(&file);
    return rc;
}
