/* cmd_gradcheck.c: `tinymlp gradcheck [NAMES]`: every activation's derivative (and its
 * learnable parameters' gradients) against central differences, as a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A check passes when no derivative is off and, unless the activation declares a zero
 * derivative (binary_step), the derivatives are not all ~0 (which would pass vacuously). */
#define MIN_SUM_ABS_GRAD 1e-3

static void help(void)
{
    printf("usage: tinymlp gradcheck [NAME[:arg][,NAME...]]... [all]\n"
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
           "Exit status: 0 if every check passes, 1 if any fails, 2 for an unknown name.\n");
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
    printf("%-18s %7d %7d %11.2e %9.3g  %s\n", label, r.n_checked, r.n_failed, r.max_err,
           r.worst_x, ok ? "ok" : "FAIL");
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
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return 0;
        }
        if (argv[i][0] == '-')
            return cli_usage_error("gradcheck", "unknown option '%s'", argv[i]);
    }
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
    int failed = 0, n_checked = 0, rc;
    printf("%-18s %7s %7s %11s %9s  %s\n", "activation", "checked", "failed", "max_err", "worst_x",
           "result");
    if ((rc = check_word(argc > 1 ? argv[1] : "all", &n_checked, &failed)))
        return rc;
    for (int i = 2; i < argc; i++)
        if ((rc = check_word(argv[i], &n_checked, &failed)))
            return rc;
    printf("\n%d of %d checks passed\n", n_checked - failed, n_checked);
    return failed ? EXIT_RUNTIME : 0;
}
