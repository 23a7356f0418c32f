/* sweep.h: `tinymlp sweep`'s view of `tinymlp train`'s settings (sweep_cfg.c). */
#ifndef TINYMLP_CLI_SWEEP_H
#define TINYMLP_CLI_SWEEP_H

#include "report.h"

enum { SK_STR, SK_NUM, SK_INT, /* settings of a run: sweepable */
       SK_STUDY, SK_FLAG,      /* the data's: set once for the study (SK_FLAG takes no value) */
       SK_NO };                /* train flags that are no setting of a run: refused */

typedef struct sweep_key {
    const char *name;              /* the long flag without "--" */
    int kind;                      /* SK_* */
    const char *why;               /* SK_STUDY, SK_FLAG, SK_NO: why it cannot be swept */
} sweep_key;

/* Every flag of `tinymlp train` but --help, --quiet, --json and --config (sweep's own too). */
extern const sweep_key sweep_keys[];
const sweep_key *sweep_key_find(const char *name);
/* 1 when value suits key (a number where one is wanted); else 0 with the reason in why. */
int sweep_check_value(const sweep_key *k, const char *value, char *why, size_t size);

#define SWEEP_MAX_SET 64
/* Settings by name, later entries overriding earlier ones. */
typedef struct sweep_set {
    int n;
    const char *key[SWEEP_MAX_SET], *value[SWEEP_MAX_SET];
} sweep_set;

/* The value of setting name (the last one given), or NULL. */
const char *sweep_get(const sweep_set *set, const char *name);

/* One configuration from its settings, with `tinymlp train`'s defaults for the rest (adam,
 * 256:relu,128:relu, 10 epochs, batch 32, cosine; xor: 4:tanh, lr 0.05, 2000 epochs,
 * constant): net spec (output layer from the data), optimizer, schedule, training loop.
 * TMLP_EINVAL (or the finder's code) with the reason when a setting is invalid. */
int sweep_resolve(const sweep_set *set, const tmlp_data *train, int has_val, int is_xor,
                  cmp_cfg *g, tmlp_err *err);

#endif
