/* tinymlp/plugin.h: activation plugins, the student's activations for the command-line tool.
 *
 * A plugin is a shared object built from one small C file. It exports one function,
 * tmlp_plugin_init, which hands its activations (tmlp_act definitions, act.h) to the loader
 * with tmlp_plugin_add; `tinymlp ... --plugin FILE.so` loads it (docs/custom-activations.md):
 *
 *     #include <math.h>
 *     #include <tinymlp/plugin.h>
 *     static void fwd(int rows, int cols, const float *x, float *y, float arg, const float *p)
 *     { ... y[i] = sinf(x[i]) ... }
 *     static void bwd(int rows, int cols, const float *x, const float *y, const float *dy,
 *                     float *dx, float arg, const float *p, float *dp)
 *     { ... dx[i] = dy[i] * cosf(x[i]) ... }
 *     static const tmlp_act sinusoid = { .name = "sinusoid", .formula = "sin(x)",
 *                                        .range = "[-1, 1]", .forward = fwd, .backward = bwd };
 *     TMLP_PLUGIN_EXPORT int tmlp_plugin_init(tmlp_plugin_api *api)
 *     {
 *         return tmlp_plugin_add(api, &sinusoid);
 *     }
 *
 * Build: `make plugin SRC=my_act.c` (gives build/plugins/my_act.so) in the source tree, or
 * `cc -shared -fPIC $(pkg-config --cflags tinymlp) -o my_act.so my_act.c -lm` against an
 * installed tinymlp. The definitions must stay valid while the process runs (static storage
 * is right); the loader never unloads a plugin.
 *
 * tmlp_plugin_add passes TMLP_PLUGIN_ABI and sizeof(tmlp_act) as this header had them when
 * the plugin was compiled, so a loader built with another version refuses the plugin by
 * name instead of misreading its definitions. The first two members of tmlp_plugin_api never
 * change. */
#ifndef TINYMLP_PLUGIN_H
#define TINYMLP_PLUGIN_H

#include <stddef.h>
#include "act.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever tmlp_act or tmlp_plugin_api changes in a way an older plugin would get
 * wrong. */
#define TMLP_PLUGIN_ABI 1

/* The name of the one symbol a plugin exports. */
#define TMLP_PLUGIN_ENTRY "tmlp_plugin_init"

typedef struct tmlp_plugin_api tmlp_plugin_api;
struct tmlp_plugin_api {
    int abi; /* the loader's TMLP_PLUGIN_ABI */
    /* Queues one activation; returns 0, or nonzero when the loader refuses it (the loader
     * then refuses the whole plugin, saying why). Call it through tmlp_plugin_add. */
    int (*add)(tmlp_plugin_api *api, int abi, size_t act_size, const tmlp_act *act);
    void *loader; /* the loader's own state */
};

/* Hands act to the loader. Returns 0 or nonzero; a plugin returns that from its init. */
static inline int tmlp_plugin_add(tmlp_plugin_api *api, const tmlp_act *act)
{
    return api->add(api, TMLP_PLUGIN_ABI, sizeof *act, act);
}

#if defined(__GNUC__)
#define TMLP_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define TMLP_PLUGIN_EXPORT
#endif

/* What a plugin defines: add each activation, return 0 (nonzero: refuse to load). */
typedef int (*tmlp_plugin_init_fn)(tmlp_plugin_api *api);
TMLP_PLUGIN_EXPORT int tmlp_plugin_init(tmlp_plugin_api *api);

#ifdef __cplusplus
}
#endif
#endif
