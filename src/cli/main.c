/* tinymlp: the command-line tool. It parses, calls the library and prints; nothing more. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "study.h"
#include "tinymlp.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} commands[] = {
    { "train", cmd_train, "train a network and report its accuracy" },
    { "predict", cmd_predict, "predict the class of each input row with a saved model" },
    { "eval", cmd_eval, "evaluate a saved model: accuracy, per-class accuracy, confusion matrix" },
    { "gradcheck", cmd_gradcheck, "check activations' derivatives against finite differences" },
    { "act", cmd_act, "print activations' values and derivatives, or list them" },
    { "explain", cmd_explain, "show one training step of a tiny network, every number" },
    { "compare", cmd_compare, "train one network per activation and seed; write a report" },
    { "sweep", cmd_sweep, "train every combination of train settings per seed; rank them" },
    { "export", cmd_export, "write a saved model as one dependency-free C99 header" },
};

static int run(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f, "usage: tinymlp COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "\n`tinymlp COMMAND --help`, or `tinymlp help COMMAND`, describes each command's\n"
               "options.\n"
               "Exit status: 0 success, 1 runtime error, 2 usage error.\n");
}

/* Descriptors 0-2 closed by the caller (`2>&-`) are filled with /dev/null before anything is
 * opened, so no log or temporary file becomes "stderr". /dev/null is opened the wrong way
 * round (stdin write-only, stdout and stderr read-only): using a closed stream still fails
 * with EBADF, as it did, and `>&-` is reported by finish() like any failed write. */
static void fill_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
            if (got >= 0 && got != fd)
                close(got);
        }
}

/* The reader of a pipe on stdout has gone (`predict ... | head -1`): not an error. */
static int reader_gone(void)
{
    struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* Every command's output is flushed and checked here: a full disk, `>/dev/full` or a closed
 * stdout exit 1 with one line (unless the command failed already and said why). */
static int finish(int status)
{
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = errno;
    bad |= ferror(stdout);
    if (!bad || status != 0)
        return status;
    if (e == EPIPE || reader_gone())
        return status; /* quiet, as documented in docs/cli.md */
    fprintf(stderr, "tinymlp: writing the standard output failed: %s\n",
            e ? strerror(e) : "write error");
    return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
    fill_std_fds();
    study_mpi_handoff(argv); /* `mpirun -np N tinymlp ...`: returns unless it hands over */
    cli_signals_default();
    return finish(run(argc, argv));
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") && argc > 2) { /* `help COMMAND` is `COMMAND --help` */
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char *help_argv[] = { argv[2], "--help", NULL };
                return commands[i].run(2, help_argv);
            }
        fprintf(stderr, "tinymlp: unknown command '%s' (try tinymlp --help)\n", argv[2]);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tinymlp %s\n", TINYMLP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tinymlp: unknown command '%s' (try tinymlp --help)\n", argv[1]);
    return EXIT_USAGE;
}
