/* cli.h: shared pieces of the tinymlp command-line tool. */
#ifndef TINYMLP_CLI_H
#define TINYMLP_CLI_H

#include <stdint.h>
#include "tinymlp.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

int cmd_train(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_act(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* Prints "tinymlp: <msg>" on stderr and returns EXIT_RUNTIME (or code if nonzero). */
int cli_fail(const tmlp_err *err, int code);

/* Prints root as one line of JSON on stdout: 0, or a one-line error and EXIT_RUNTIME when
 * there is no memory to render it. */
struct cJSON;
int cli_print_json(const struct cJSON *root);
/* Prints "tinymlp <cmd>: <printf message>" on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* SIGINT/SIGTERM print "tinymlp: stopped by SIG..." and end the program with the signal's
 * status (128 + N); SIGPIPE is ignored (main treats EPIPE on stdout as the reader stopping). */
void cli_signals_default(void);

/* Takes every "--plugin FILE" and "--plugin=FILE" out of argv[1..] (the rest moves down,
 * *argc shrinks, argv[*argc] becomes NULL) and loads each FILE, in order, as an activation
 * plugin (plugin.c, tinymlp/plugin.h). cmd names the command in messages. Returns 0, or
 * EXIT_USAGE after one line on stderr: a missing or non-regular file, one dlopen refuses, no
 * entry point, another plugin ABI, or a name a built-in or another plugin has. */
int cli_plugins_take(const char *cmd, int *argc, char **argv);

/* getopt_long takes any unambiguous prefix of a long option ("--resum"); tinymlp does not,
 * since the flags read before parsing (--resume, --config, --plugin) are found by their whole
 * names. After getopt_long returned opt (its longindex), with arg its optarg: 1 when the word
 * on the command line was the whole name, 0 (after one usage line for cmd) when it was not. */
struct option;
int cli_long_whole(const char *cmd, char **argv, const struct option *opt, const char *arg);

/* Strict number parsers: the whole string must be a finite number in range. */
int cli_int(const char *s, long lo, long hi, long *out);
int cli_float(const char *s, double *out);
int cli_u64(const char *s, uint64_t *out);

/* tmlp_train_team for --threads N (0: the automatic choice): NULL for a team of one, or when
 * the workers cannot start (a warning says so; the run goes on, on one thread). Free with
 * tmlp_team_free after net and opt. */
tmlp_team *cli_team(tmlp_net *net, tmlp_optim *opt, int batch, long threads);

#endif
