/* cmd_gradcheck.c: `tinymlp gradcheck [NAMES]`: every activation's derivative against central
 * differences, as a table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int check_one(const tmlp_act *act, float arg, const char *label, int *failed)
{
    tmlp_gradcheck_result r;
    tmlp_err err = { 0 };
    if (tmlp_gradcheck_act(act, arg, 0.0f, 0.0, &r, &err))
        return cli_fail(&err, 0);
    int ok = r.n_failed == 0 && r.sum_abs_grad > 0.0;
    if (act->flags & TMLP_ACT_NOGRAD)
        ok = r.n_failed == 0; /* an all-zero derivative is the right answer here */
    printf("%-18s %7d %7d %11.2e %9.3g  %s\n", label, r.n_checked, r.n_failed, r.max_err,
           r.worst_x, ok ? "ok" : "FAIL");
    *failed += !ok;
    return 0;
}

int cmd_gradcheck(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: tinymlp gradcheck [NAME[:arg]]...\n\n"
               "Compares each activation's derivative (and its learnable parameters' gradients)\n"
               "with central differences at points across [-8, 8], beside each kink and out to\n"
               "|x| = 100. Without names, checks every known activation. Exit status 1 if any fails.\n");
        return 0;
    }
    int failed = 0, rc;
    printf("%-18s %7s %7s %11s %9s  %s\n", "activation", "checked", "failed", "max_err", "worst_x",
           "result");
    if (argc <= 1) {
        for (int i = 0; i < tmlp_act_count(); i++) {
            const tmlp_act *a = tmlp_act_at(i);
            if ((rc = check_one(a, a->arg, a->name, &failed)))
                return rc;
        }
    }
    for (int i = 1; i < argc; i++) {
        const tmlp_act *a;
        float arg;
        tmlp_err err = { 0 };
        if (tmlp_act_parse(argv[i], &a, &arg, &err)) {
            fprintf(stderr, "tinymlp gradcheck: %s\n", err.msg);
            return EXIT_USAGE;
        }
        if ((rc = check_one(a, arg, argv[i], &failed)))
            return rc;
    }
    return failed ? EXIT_RUNTIME : 0;
}
