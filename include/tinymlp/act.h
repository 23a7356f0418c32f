/* tinymlp/act.h: activation functions and the registry that finds them by name.
 *
 * An activation is data: a tmlp_act holds its name, its one-line formula and output range, its
 * forward and backward functions side by side, and any learnable parameters. Layers take a
 * `const tmlp_act *`, so an activation defined in a user's own file trains without being
 * registered; tmlp_act_register only makes it findable by name (for the CLI and model files).
 *
 * Both functions work on a whole (rows, cols) block, row-major and contiguous: one indirect
 * call per layer, never one per unit. `arg` is the fixed argument of parameterised names such
 * as "leaky_relu:0.1" (the definition's default when no ':value' is given). `param` points at
 * the learnable parameters (NULL when there are none): one per column for
 * TMLP_ACT_PARAM_PER_UNIT, one in all for TMLP_ACT_PARAM_SHARED. */
#ifndef TINYMLP_ACT_H
#define TINYMLP_ACT_H

#include <stddef.h>
#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tmlp_act.flags */
enum {
    TMLP_ACT_ROWWISE = 1u << 0,    /* each output depends on its whole row (softmax) */
    TMLP_ACT_NOGRAD = 1u << 1,     /* derivative is zero everywhere: training through it is refused */
    TMLP_ACT_CAN_DIE = 1u << 2,    /* ReLU-like: a unit that outputs 0 for every input is dead */
    TMLP_ACT_SATURATES = 1u << 3,  /* sigmoid-like: |f'| -> 0 at both ends */
    TMLP_ACT_HAS_ARG = 1u << 4,    /* takes a ":value" argument (default in .arg) */
    TMLP_ACT_ARG_POSITIVE = 1u << 5 /* that argument must be > 0 (softplus beta, celu alpha) */
};

/* tmlp_act.params */
enum { TMLP_ACT_PARAM_NONE = 0, TMLP_ACT_PARAM_SHARED = 1, TMLP_ACT_PARAM_PER_UNIT = 2 };

#define TMLP_ACT_MAX_KINKS 4

typedef struct tmlp_act {
    const char *name;      /* registry key: lower case, no ':' ("relu", "gelu_tanh") */
    const char *formula;   /* one line of plain text: "max(0, x)" */
    const char *range;     /* output range: "[0, inf)" */
    unsigned flags;        /* TMLP_ACT_* */
    float arg;             /* default ":value" argument when TMLP_ACT_HAS_ARG */
    int params;            /* TMLP_ACT_PARAM_* */
    float param_init;      /* initial value of each learnable parameter */
    int init;              /* preferred weight initializer (TMLP_INIT_*), 0 = Glorot uniform */
    int n_kinks;           /* points where f' jumps; gradcheck steps around them */
    float kinks[TMLP_ACT_MAX_KINKS];
    /* y = f(x). Both functions see some rows of a layer at a time: a net with a team
     * (tmlp_net_set_team) calls them at once from several threads on disjoint blocks of rows
     * (backward only when the activation has no learnable parameters), so they must keep no
     * state of their own between calls. */
    void (*forward)(int rows, int cols, const float *x, float *y, float arg, const float *param);
    /* dx = dy ⊙ f'(x) (or the row-wise Jacobian product); writes dx, never accumulates.
     * When param is not NULL, writes dparam = dL/dparam summed over the rows. y is the
     * cached forward output, so derivatives may use whichever is cheaper. */
    void (*backward)(int rows, int cols, const float *x, const float *y, const float *dy,
                     float *dx, float arg, const float *param, float *dparam);
} tmlp_act;

/* The built-in or registered definition called name (without any ":value"), or NULL. */
const tmlp_act *tmlp_act_find(const char *name);

/* The known activation whose name is nearest to name (ignoring case; an insertion, deletion,
 * substitution or swap of neighbours costs 1), if it is at most 1 + strlen(name)/4 edits away:
 * "sinusoid" gives sigmoid, "rleu" relu, "ReLU" relu. NULL when none is that close (or name is
 * NULL, empty or longer than 48 characters). For "did you mean" messages. */
const tmlp_act *tmlp_act_suggest(const char *name);

/* Parses "name" or "name:value" into its definition and argument; "linear" is another name for
 * "identity". Returns TMLP_ENOTFOUND for an unknown name (the message suggests the nearest
 * known one, tmlp_act_suggest, and says how many there are) and
 * TMLP_EINVAL for a bad or unexpected ":value" (not a finite number, or not > 0 for a
 * TMLP_ACT_ARG_POSITIVE definition). */
int tmlp_act_parse(const char *spec, const tmlp_act **act, float *arg, tmlp_err *err);

/* Writes the canonical spelling of (act, arg) into buf: "relu", "leaky_relu:0.1".
 * Returns the length it needed (as snprintf does). */
int tmlp_act_format(const tmlp_act *act, float arg, char *buf, size_t size);

/* Makes act findable by name. act must stay valid until the process ends (it is not copied).
 * Returns TMLP_EINVAL if the name is malformed or taken, TMLP_ENOMEM if the table is full.
 * Thread-safe. */
int tmlp_act_register(const tmlp_act *act, tmlp_err *err);

/* As tmlp_act_register, noting where act came from: origin is a file name (1 to 63 characters,
 * no '/', '=', ',' or newline), e.g. the plugin "sinusoid.so"; model files name it beside
 * the activation (tmlp_model_write), so a reader without it can say what to load. NULL:
 * no origin. A built-in name is refused as "a built-in activation". */
int tmlp_act_register_from(const tmlp_act *act, const char *origin, tmlp_err *err);

/* The origin act was registered with, or NULL (built-ins, tmlp_act_register). */
const char *tmlp_act_origin(const tmlp_act *act);

/* 1 when act is one of the built-in definitions, else 0. */
int tmlp_act_is_builtin(const tmlp_act *act);

/* Number of known activations (built-in, then registered) and the i-th of them, for listings. */
int tmlp_act_count(void);
const tmlp_act *tmlp_act_at(int i);

/* Number of learnable parameters act needs in a layer of `units` outputs. */
int tmlp_act_n_params(const tmlp_act *act, int units);

#ifdef __cplusplus
}
#endif
#endif
