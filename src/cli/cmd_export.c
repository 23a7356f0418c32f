/* cmd_export.c: `tinymlp export MODEL --c OUT.h`: a saved model as one dependency-free C99
 * header (export_c.c writes it; export_q8.c the int8 variant). The model is read by the
 * library's loader, so a damaged or hostile file gets exactly the loader's error, and the
 * header is written atomically (atomic.c): complete or not at all. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cli.h"
#include "paths.h"
#include "datasets.h"
#include "export_q8.h"
#include "sha256.h"

static void help(void)
{
    printf("usage: tinymlp export MODEL --c OUT.h [--name NAME] [--int8 --calib DATA]\n"
           "\n"
           "Writes the model as one self-contained C99 header: static const weights,\n"
           "NAME_predict(const float *x, float *out) and NAME_classify(const float *x), and\n"
           "NAME_N_IN / NAME_N_OUT; no allocation, no BLAS, libm only for activations that need\n"
           "it (the header says which). Inputs are raw rows as `tinymlp predict` reads them:\n"
           "the input scale and standardisation are folded into the first layer, batch norm\n"
           "into its layer, and dropout is left out. Only built-in activations can be exported.\n"
           "\n"
           "  --c FILE        the header to write (atomically; never the model itself)\n"
           "  --name NAME     prefix of every symbol, a C identifier    [OUT's base name]\n"
           "  --int8          quantise: int8 weights per output channel, int32 accumulators,\n"
           "                  activations quantised with scales from --calib (docs/deploy.md)\n"
           "  --calib DATA    rows to calibrate on, as train's --data (its training set; never\n"
           "                  the test set)\n"
           "  --calib-rows N  how many of them, from the first                      [1000]\n"
           "  -h, --help      this text\n");
}

/* A C identifier of at most 40 characters. */
static int c_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* The default name: OUT's base name up to its first '.', other characters made '_'. */
static void default_name(const char *out, char *name, size_t size)
{
    const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
    size_t n = 0;
    if (*base >= '0' && *base <= '9')
        name[n++] = 'm';
    for (; *base && *base != '.' && n + 1 < size && n < 40; base++)
        name[n++] = (char)(((*base | 32) >= 'a' && (*base | 32) <= 'z') ||
                           (*base >= '0' && *base <= '9') ? *base : '_');
    name[n] = '\0';
    if (!n)
        snprintf(name, size, "model");
}

int cmd_export(int argc, char **argv)
{
    static const struct option options[] = {
        { "c", required_argument, 0, 'c' }, { "name", required_argument, 0, 'n' },
        { "int8", no_argument, 0, 'q' }, { "calib", required_argument, 0, 'C' },
        { "calib-rows", required_argument, 0, 'r' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *out_path = NULL, *name_arg = NULL, *calib = NULL;
    int c, int8 = 0;
    long calib_rows = 1000;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return 0;
        case 'c': out_path = optarg; break;
        case 'n': name_arg = optarg; break;
        case 'q': int8 = 1; break;
        case 'C': calib = optarg; break;
        case 'r':
            if (!cli_int(optarg, 1, 1L << 30, &calib_rows))
                return cli_usage_error("export", "--calib-rows wants an integer in 1..%ld, got '%s'",
                                       1L << 30, optarg);
            break;
        case ':': return cli_usage_error("export", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("export", "give one model file");
    if (!out_path || !*out_path)
        return cli_usage_error("export", "give the header to write with --c FILE");
    if (int8 != (calib != NULL))
        return cli_usage_error("export", int8 ? "--int8 needs --calib DATA" : "--calib is for --int8");
    const char *model_path = argv[optind];
    char name[48];
    if (name_arg) {
        if (!c_name(name_arg))
            return cli_usage_error("export", "--name '%.60s' is not a C identifier of at most "
                                   "40 characters", name_arg);
        snprintf(name, sizeof name, "%s", name_arg);
    } else {
        default_name(out_path, name, sizeof name);
    }
    /* the header never replaces the model, the --calib data or one of its files (paths.h) */
    char calib_files[CLI_DATA_FILES_MAX][4200];
    cli_file in[CLI_DATA_FILES_MAX + 1] = { { model_path, "the model" } },
             outs[1] = { { out_path, "--c" } };
    int n_in = 1;
    for (int i = 0, n = calib ? cli_dataset_files(calib, calib_files, CLI_DATA_FILES_MAX) : 0;
         i < n; i++)
        in[n_in++] = (cli_file){ calib_files[i], "--calib" };
    int bad = cli_files_check("export", in, n_in, outs, 1);
    if (bad)
        return bad;

    tmlp_err err = { 0 };
    tmlp_model_meta meta = { 0 };
    cli_prep prep = { 0 };
    export_model m = { 0 };
    export_q8 q = { 0 };
    cli_dataset ds = { 0 };
    cli_out out = { 0 };
    char sha[65];
    int status = EXIT_RUNTIME;
    tmlp_net *net = tmlp_model_read(model_path, 1, &meta, &err);
    if (!net)
        return cli_fail(&err, 0);
    if (cli_prep_load(&prep, &meta, tmlp_net_n_in(net), &err) ||
        cli_sha256_file(model_path, sha, &err) || export_fold(&m, net, &prep, &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    if (int8) {
        int rc = cli_dataset_load(calib, NULL, &ds, &err);
        if (rc) {
            status = cli_fail(&err, rc == TMLP_ENOTFOUND || rc == TMLP_EINVAL ? EXIT_USAGE : 0);
            goto done;
        }
        if (ds.train->n_in != m.n_in) {
            fprintf(stderr, "tinymlp: --calib %s: rows of %d values, the model takes %d\n", calib,
                    ds.train->n_in, m.n_in);
            goto done;
        }
        int n = ds.train->n < calib_rows ? ds.train->n : (int)calib_rows;
        for (size_t k = 0; k < (size_t)n * m.n_in; k++) /* back to raw units, as predict reads */
            ds.train->x[k] /= ds.input_scale;
        if (export_q8_calibrate(&q, &m, ds.train->x, n, &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
    }
    export_info info = { .name = name, .sha256 = sha };
    if (cli_out_open(&out, out_path, "the header", &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    if (int8 ? export_c_int8(out.f, &m, &q, &info, &err) : export_c_float(out.f, &m, &info, &err)) {
        cli_out_abort(&out);
        status = cli_fail(&err, 0);
        goto done;
    }
    if (cli_out_commit(&out, &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    if (int8 && q.agree < q.n_rows - q.n_rows / 100)
        fprintf(stderr, "tinymlp: warning: the int8 header gives the float network's class on only "
                "%d of %d calibration rows (%.1f%%); docs/deploy.md says why (--standardize?)\n",
                q.agree, q.n_rows, 100.0 * q.agree / q.n_rows);
    status = 0;
done:
    export_q8_free(&q);
    if (ds.train)
        cli_dataset_free(&ds);
    export_model_free(&m);
    cli_prep_free(&prep);
    tmlp_model_meta_free(&meta);
    tmlp_net_free(net);
    return status;
}
