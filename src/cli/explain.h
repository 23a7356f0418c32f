/* explain.h: the printing half of `tinymlp explain` (explain_fmt.c): matrices with their
 * equation and shape as text, or as arrays in a JSON object. */
#ifndef TINYMLP_CLI_EXPLAIN_H
#define TINYMLP_CLI_EXPLAIN_H

#include <cJSON.h>

#define SHOW 8              /* rows/cols shown in full; bigger ones show the corners */

typedef struct out {
    int json;
    cJSON *obj;  /* JSON mode: where the next matrices go */
} out;

/* printf, in text mode only. */
void explain_say(const out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prints the equation (printf-style), the shape and the block, or adds the block to the JSON
 * object as key. vec: a 1-D vector of cols entries (rows is 1). */
void explain_show(out *o, const char *key, const float *v, int rows, int cols, int vec,
                  const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

/* One parameter tensor's update: before | gradient | after, side by side when it fits. */
void explain_show_update(out *o, const char *key, const char *name, const float *before,
                         const float *grad, const float *after, int rows, int cols, int vec);

#endif
