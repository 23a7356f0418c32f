/* tinymlp: the command-line tool. It parses, calls the library and prints; nothing more. */
#include <stdio.h>
#include <string.h>

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

static void usage(FILE *f)
{
    fprintf(f, "usage: tinymlp COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "\n`tinymlp COMMAND --help`, or `tinymlp help COMMAND`, describes each command's\n"
               "options.\n"
               "Exit status: 0 success, 1 runtime error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    study_mpi_handoff(argv); /* `mpirun -np N tinymlp ...`: returns unless it hands over */
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
