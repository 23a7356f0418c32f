/* util.c: error printing and strict number parsing for the CLI. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <unistd.h>

#include "cli.h"

/* SIGINT or SIGTERM outside a checkpointed run: one line, then the default action (so the exit
 * status stays 128 + the signal). Only async-signal-safe calls here. */
static void on_fatal_signal(int sig)
{
    static const char term[] = "tinymlp: stopped by SIGTERM\n", intr[] = "tinymlp: stopped by SIGINT\n";
    ssize_t w = sig == SIGTERM ? write(STDERR_FILENO, term, sizeof term - 1)
                               : write(STDERR_FILENO, intr, sizeof intr - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_signals_default(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a closed pipe on stdout is an EPIPE write error that main handles, not a silent death */
    signal(SIGPIPE, SIG_IGN);
}

int cli_fail(const tmlp_err *err, int code)
{
    fprintf(stderr, "tinymlp: %s\n", err && err->msg[0] ? err->msg : tmlp_strerror(err ? err->code : 0));
    return code ? code : EXIT_RUNTIME;
}

int cli_print_json(const struct cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    if (!text) {
        fprintf(stderr, "tinymlp: no memory to write the JSON result\n");
        return EXIT_RUNTIME;
    }
    printf("%s\n", text);
    free(text);
    return 0;
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

int cli_long_whole(const char *cmd, char **argv, const struct option *opt, const char *arg)
{
    /* "--name value" leaves optarg at argv[optind - 1], the name one before it */
    const char *word = opt->has_arg == required_argument && arg && optind >= 2 &&
                       arg == argv[optind - 1] ? argv[optind - 2] : argv[optind - 1];
    size_t n = strlen(opt->name);
    if (!strncmp(word, "--", 2) && !strncmp(word + 2, opt->name, n) &&
        (word[2 + n] == '\0' || word[2 + n] == '='))
        return 1;
    cli_usage_error(cmd, "'%.60s' is not an option: write it whole, --%s (abbreviations are "
                    "not taken)", word, opt->name);
    return 0;
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
