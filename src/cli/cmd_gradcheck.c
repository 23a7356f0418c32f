/* cmd_gradcheck.c: `tinymlp gradcheck [NAMES]`: every activation's derivative (and its
 * learnable parameters' gradients) against central differences, as a table; with --layers,
 * every parameter of a whole net (gradcheck_net.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "gradcheck_net.h"

/* A check passes when no derivative is off and, unless the activation declares a zero
 * derivative (binary_step), the derivatives are not all ~0 (which would pass vacuously). */
#define MIN_SUM_ABS_GRAD 1e-3

static void help(void)
{
    printf("usage: tinymlp gradcheck [NAME[:arg][,NAME...]]... [all] [--json]\n"
           "       tinymlp gradcheck --layers SPEC [--loss L] [--outputs K] [--seed S] [--json]\n"
           "\n"
           "Compares each activation's derivative, and its learnable parameters' gradients,\n"
           "with central differences at points across [-8, 8], just beside each kink and out\n"
           "to |x| = 100, and prints one row per activation:\n"
           "  checked   derivatives compared          failed   how many were off\n"
           "  max_err   largest relative error        worst_x  where it was\n"
           "A derivative is off when it differs from the difference quotient by more than\n"
           "2e-3 relative (absolute below 0.1), beyond what float rounding of the outputs\n"
           "explains. A check whose derivatives are all ~0 fails unless the activation\n"
           "declares a zero derivative (binary_step).\n"
           "\n"
           "Names may be joined by commas or given as separate words; `all`, or no name,\n"
           "checks every known activation at its default argument.\n"
           "\n"
           "  --plugin FILE.so  load activations from a plugin first (repeatable)\n"
           "  --json    print one JSON object instead: {\"checks\": [{\"activation\",\n"
           "            \"checked\", \"failed\", \"max_err\", \"worst_x\", \"sum_abs_grad\",\n"
           "            \"ok\"}, ...], \"passed\", \"total\"}; a number that is not finite is null\n"
           "\n"
           "With --layers, checks a whole net instead: 4 inputs, the hidden layers SPEC (as\n"
           "train --layers: \"8:prelu:bn:drop0.3,6:swish_learnable\"), K outputs (default 3,\n"
           "1 for sigmoid_bce) and the loss L (softmax_ce, sigmoid_bce or mse; default\n"
           "softmax_ce), on a batch of 8 in training mode with the dropout masks held fixed.\n"
           "Every parameter (weights, biases, activation parameters such as PReLU slopes and\n"
           "swish beta, batch-norm scale and shift) is nudged by +-5e-3 on its own and the\n"
           "analytic derivative compared with the central difference of the loss (penalties\n"
           "included), computed in double. One row per tensor: size, failed, the largest\n"
           "absolute and relative error; a derivative is off when |analytic - numeric| >\n"
           "5e-3 * max(1e-2, |analytic|, |numeric|). Weights and inputs come from seed S\n"
           "(default 1), moved on until no activation input lies within 0.05 of a kink; a\n"
           "parameter whose probes still carry one across a kink is counted as skipped.\n"
           "  --json    {\"layers\", \"loss\", \"seed\", \"tol\", \"tensors\": [{\"tensor\",\n"
           "            \"activation\", \"size\", \"failed\", \"skipped\", \"max_abs\", \"max_rel\",\n"
           "            \"ok\"}, ...], \"passed\", \"total\"}\n"
           "\n"
           "Exit status: 0 if every check passes, 1 if any fails, 2 for an unknown name or a\n"
           "bad option.\n");
}

static int run(int argc, char **argv, int json);
static cJSON *json_checks; /* --json: the checks array, else NULL (a table is printed) */

static void add_num(cJSON *obj, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(obj, key, v);
    else
        cJSON_AddNullToObject(obj, key); /* JSON has no NaN or infinity */
}

static int check_one(const tmlp_act *act, float arg, int *failed)
{
    tmlp_gradcheck_result r;
    tmlp_err err = { 0 };
    char label[96];
    if (tmlp_gradcheck_act(act, arg, 0.0f, 0.0, &r, &err))
        return cli_fail(&err, 0);
    int ok = r.n_failed == 0 && r.sum_abs_grad > MIN_SUM_ABS_GRAD;
    if (act->flags & TMLP_ACT_NOGRAD)
        ok = r.n_failed == 0; /* an all-zero derivative is the right answer here */
    tmlp_act_format(act, arg, label, sizeof label);
    if (json_checks) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(json_checks, c);
        cJSON_AddStringToObject(c, "activation", label);
        cJSON_AddNumberToObject(c, "checked", r.n_checked);
        cJSON_AddNumberToObject(c, "failed", r.n_failed);
        add_num(c, "max_err", r.max_err);
        add_num(c, "worst_x", r.worst_x);
        add_num(c, "sum_abs_grad", r.sum_abs_grad);
        cJSON_AddBoolToObject(c, "ok", ok);
    } else {
        printf("%-18s %7d %7d %11.2e %9.3g  %s\n", label, r.n_checked, r.n_failed, r.max_err,
               r.worst_x, ok ? "ok" : "FAIL");
    }
    *failed += !ok;
    return 0;
}

/* Parses one command-line word (names joined by commas) into checks; 0 or an exit status. */
static int check_word(const char *word, int *n_checked, int *failed)
{
    char *copy = strdup(word), *save = NULL;
    int rc = 0;
    if (!copy)
        return cli_fail(NULL, EXIT_RUNTIME);
    if (!*copy || strstr(copy, ",,") || copy[strlen(copy) - 1] == ',')
        rc = cli_usage_error("gradcheck", "empty name in '%s'", word);
    for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "all")) {
            for (int i = 0; i < tmlp_act_count() && !rc; i++, ++*n_checked)
                rc = check_one(tmlp_act_at(i), tmlp_act_at(i)->arg, failed);
            continue;
        }
        const tmlp_act *a;
        float arg;
        tmlp_err err = { 0 };
        if (tmlp_act_parse(tok, &a, &arg, &err)) {
            fprintf(stderr, "tinymlp gradcheck: %s\n", err.msg);
            rc = EXIT_USAGE;
        } else {
            rc = check_one(a, arg, failed);
            ++*n_checked;
        }
    }
    free(copy);
    return rc;
}

int cmd_gradcheck(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("gradcheck", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    int json = 0, n_names = 0, loss = TMLP_LOSS_SOFTMAX_CE;
    const char *layers = NULL;
    long k_out = 0;
    uint64_t seed = 1;
    char **names = calloc((size_t)argc + 1, sizeof *names);
    if (!names)
        return cli_fail(NULL, EXIT_RUNTIME);
    names[n_names++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            free(names);
            help();
            return 0;
        }
        if (!strcmp(argv[i], "--json")) {
            json = 1;
            continue;
        }
        if (!strcmp(argv[i], "--layers") || !strcmp(argv[i], "--loss") ||
            !strcmp(argv[i], "--outputs") || !strcmp(argv[i], "--seed")) {
            const char *opt = argv[i], *val = i + 1 < argc ? argv[++i] : NULL;
            tmlp_err err = { 0 };
            int bad = !val;
            if (!bad && !strcmp(opt, "--layers"))
                layers = val;
            else if (!bad && !strcmp(opt, "--loss") && tmlp_loss_find(val, &loss, &err))
                bad = 1;
            else if (!bad && !strcmp(opt, "--outputs") && cli_int(val, 1, 64, &k_out))
                bad = 1;
            else if (!bad && !strcmp(opt, "--seed") && cli_u64(val, &seed))
                bad = 1;
            if (bad) {
                free(names);
                return cli_usage_error("gradcheck", "%s needs %s", opt,
                                       !strcmp(opt, "--loss") ? "softmax_ce, sigmoid_bce or mse"
                                       : !strcmp(opt, "--outputs") ? "a whole number from 1 to 64"
                                       : !strcmp(opt, "--seed") ? "a whole number >= 0"
                                       : "a layer spec such as 8:relu,4:tanh");
            }
            continue;
        }
        if (argv[i][0] == '-') {
            free(names);
            return cli_usage_error("gradcheck", "unknown option '%s'", argv[i]);
        }
        names[n_names++] = argv[i];
    }
    int rc;
    if (layers && n_names > 1)
        rc = cli_usage_error("gradcheck", "--layers checks a net; give no activation names "
                             "with it (got '%s')", names[1]);
    else if (!layers && (k_out || loss != TMLP_LOSS_SOFTMAX_CE || seed != 1))
        rc = cli_usage_error("gradcheck", "--loss, --outputs and --seed need --layers");
    else
        rc = layers ? gradcheck_net_run(layers, loss, k_out, seed, json) : run(n_names, names, json);
    free(names);
    return rc;
}

/* Runs the checks named by argv[1..argc) (every activation when there are none). */
static int run(int argc, char **argv, int json)
{
    /* Every name is checked for existence before any work, so a typo costs nothing. */
    for (int i = 1; i < argc; i++) {
        char *copy = strdup(argv[i]), *save = NULL;
        if (!copy)
            return cli_fail(NULL, EXIT_RUNTIME);
        int bad = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok && !bad; tok = strtok_r(NULL, ",", &save)) {
            tmlp_err err = { 0 };
            if (strcmp(tok, "all") && tmlp_act_parse(tok, &(const tmlp_act *){ NULL }, NULL, &err)) {
                fprintf(stderr, "tinymlp gradcheck: %s\n", err.msg);
                bad = 1;
            }
        }
        free(copy);
        if (bad)
            return EXIT_USAGE;
    }
    int failed = 0, n_checked = 0, rc = 0;
    cJSON *root = NULL;
    if (json) {
        root = cJSON_CreateObject();
        json_checks = root ? cJSON_AddArrayToObject(root, "checks") : NULL;
        if (!json_checks) {
            cJSON_Delete(root);
            return cli_fail(NULL, EXIT_RUNTIME);
        }
    } else {
        printf("%-18s %7s %7s %11s %9s  %s\n", "activation", "checked", "failed", "max_err",
               "worst_x", "result");
    }
    rc = check_word(argc > 1 ? argv[1] : "all", &n_checked, &failed);
    for (int i = 2; i < argc && !rc; i++)
        rc = check_word(argv[i], &n_checked, &failed);
    if (!rc && json) {
        cJSON_AddNumberToObject(root, "passed", n_checked - failed);
        cJSON_AddNumberToObject(root, "total", n_checked);
        rc = cli_print_json(root);
    } else if (!rc) {
        printf("\n%d of %d checks passed\n", n_checked - failed, n_checked);
    }
    cJSON_Delete(root);
    json_checks = NULL;
    return rc ? rc : failed ? EXIT_RUNTIME : 0;
}
