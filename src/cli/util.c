/* util.c: error printing and strict number parsing for the CLI. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_fail(const tmlp_err *err, int code)
{
    fprintf(stderr, "tinymlp: %s\n", err && err->msg[0] ? err->msg : tmlp_strerror(err ? err->code : 0));
    return code ? code : EXIT_RUNTIME;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tinymlp %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see tinymlp %s --help)\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int cli_float(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

int cli_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

tmlp_team *cli_team(tmlp_net *net, tmlp_optim *opt, int batch, long threads)
{
    tmlp_err err = { 0 };
    tmlp_team *team = tmlp_train_team(net, opt, batch, (int)threads, &err);
    if (!team && err.code != TMLP_OK)
        fprintf(stderr, "tinymlp: warning: %s; running on one thread\n", err.msg);
    return team;
}
