/* plugin.c: `--plugin FILE.so`: loads a student's activations (tinymlp/plugin.h).
 *
 * Only a file named on the command line is ever loaded: not one named by a model file, a
 * report folder or an INI file (those only name it in a message). A plugin is code the user
 * chose to run, with the user's rights; what we check is that it was built for this
 * tinymlp (the ABI version and the size of tmlp_act, passed with every activation it adds)
 * and that its names take nothing from the built-ins or from another plugin. Nothing of a
 * plugin is registered unless all its names are free (a malformed name, which the registry
 * refuses, still ends the command at once). Forked workers (compare, sweep) inherit
 * what is loaded; MPI ranks each parse the same command line and load it themselves. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "tinymlp/plugin.h"

enum { MAX_ADD = 32, MAX_LOADED = 32 };

typedef struct loader {
    const tmlp_act *act[MAX_ADD];
    int n;
    char why[320]; /* the first refusal, "" when none */
} loader;

static struct { dev_t dev; ino_t ino; } loaded[MAX_LOADED]; /* a repeat is a no-op */
static int n_loaded;

static int add(tmlp_plugin_api *api, int abi, size_t act_size, const tmlp_act *act)
{
    loader *l = api->loader;
    if (l->why[0])
        return -1;
    if (abi != TMLP_PLUGIN_ABI || act_size != sizeof(tmlp_act))
        snprintf(l->why, sizeof l->why, "built for plugin ABI %d (a tmlp_act of %zu bytes), but "
                 "this tinymlp has ABI %d (%zu bytes): rebuild it against this tinymlp", abi,
                 act_size, TMLP_PLUGIN_ABI, sizeof(tmlp_act));
    else if (!act || !act->name || !act->forward || !act->backward)
        snprintf(l->why, sizeof l->why, "adds an activation without a name, forward or backward");
    else if (l->n == MAX_ADD)
        snprintf(l->why, sizeof l->why, "adds more than %d activations", MAX_ADD);
    else
        l->act[l->n++] = act;
    return l->why[0] ? -1 : 0;
}

/* Loads one plugin; 0 or an exit status after one line on stderr. */
static int load(const char *cmd, const char *path)
{
    struct stat st;
    if (!*path)
        return cli_usage_error(cmd, "--plugin needs a file (a plugin built as in "
                               "docs/custom-activations.md)");
    if (stat(path, &st) != 0)
        return cli_usage_error(cmd, "--plugin %s: %s", path,
                               errno == ENOENT ? "no such file" : strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cli_usage_error(cmd, "--plugin %s: not a regular file", path);
    for (int i = 0; i < n_loaded; i++)
        if (loaded[i].dev == st.st_dev && loaded[i].ino == st.st_ino)
            return 0;
    if (n_loaded == MAX_LOADED)
        return cli_usage_error(cmd, "--plugin %s: more than %d plugins", path, MAX_LOADED);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strlen(base) > 63 || strpbrk(base, "=,\n"))
        return cli_usage_error(cmd, "--plugin %s: a plugin's file name must be at most 63 "
                               "characters, without '=' or ','", path);
    /* With a '/' in it, dlopen opens that file and never searches the library path. */
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%s%s", strchr(path, '/') ? "" : "./", path) >= PATH_MAX)
        return cli_usage_error(cmd, "--plugin %s: path too long", path);
    void *h = dlopen(full, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        return cli_usage_error(cmd, "--plugin %s: cannot load it: %s", path, e ? e : "unknown error");
    }
    void *sym = dlsym(h, TMLP_PLUGIN_ENTRY);
    if (!sym) {
        dlclose(h);
        return cli_usage_error(cmd, "--plugin %s: not a tinymlp plugin (it defines no %s; see "
                               "docs/custom-activations.md)", path, TMLP_PLUGIN_ENTRY);
    }
    tmlp_plugin_init_fn init;
    memcpy(&init, &sym, sizeof init); /* POSIX: a dlsym result may be a function pointer */
    loader l = { .n = 0 };
    tmlp_plugin_api api = { .abi = TMLP_PLUGIN_ABI, .add = add, .loader = &l };
    int rc = init(&api);
    if (!l.why[0] && rc != 0)
        snprintf(l.why, sizeof l.why, "its %s returned %d", TMLP_PLUGIN_ENTRY, rc);
    if (!l.why[0] && l.n == 0)
        snprintf(l.why, sizeof l.why, "it adds no activation");
    /* Every name is checked for a clash before any is registered. */
    for (int i = 0; i < l.n && !l.why[0]; i++) {
        const tmlp_act *old = tmlp_act_find(l.act[i]->name);
        if (old)
            snprintf(l.why, sizeof l.why, "its activation '%.40s' %s%s", l.act[i]->name,
                     tmlp_act_is_builtin(old) ? "has the name of a built-in activation"
                     : "is already defined by ", tmlp_act_is_builtin(old) ? ""
                     : tmlp_act_origin(old) ? tmlp_act_origin(old) : "the program");
        for (int j = 0; j < i && !l.why[0]; j++)
            if (!strcmp(l.act[i]->name, l.act[j]->name))
                snprintf(l.why, sizeof l.why, "it adds '%.40s' twice", l.act[i]->name);
    }
    for (int i = 0; i < l.n && !l.why[0]; i++) {
        tmlp_err err = { 0 };
        if (tmlp_act_register_from(l.act[i], base, &err)) {
            if (i == 0) /* nothing registered yet: unload it */
                snprintf(l.why, sizeof l.why, "%s", err.msg);
            else /* the first ones are registered and point into it: it stays loaded */
                return cli_usage_error(cmd, "--plugin %s: %s", path, err.msg);
        }
    }
    if (l.why[0]) {
        dlclose(h);
        return cli_usage_error(cmd, "--plugin %s: %s", path, l.why);
    }
    loaded[n_loaded].dev = st.st_dev;
    loaded[n_loaded++].ino = st.st_ino;
    return 0; /* h stays open: the registry points into it until the process ends */
}

int cli_plugins_take(const char *cmd, int *argc, char **argv)
{
    int out = 1, rc = 0;
    for (int i = 1; i < *argc; i++) {
        const char *file = NULL;
        if (!strcmp(argv[i], "--")) { /* everything after it is not ours */
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (!strcmp(argv[i], "--plugin")) {
            if (i + 1 >= *argc)
                return cli_usage_error(cmd, "--plugin needs a file");
            file = argv[++i];
        } else if (!strncmp(argv[i], "--plugin=", 9)) {
            file = argv[i] + 9;
        }
        if (!file) {
            argv[out++] = argv[i];
            continue;
        }
        if (!rc)
            rc = load(cmd, file);
    }
    *argc = out;
    argv[out] = NULL;
    return rc;
}
