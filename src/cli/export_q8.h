/* export_q8.h: the int8 variant of `tinymlp export` (export_q8.c). */
#ifndef TINYMLP_CLI_EXPORT_Q8_H
#define TINYMLP_CLI_EXPORT_Q8_H

#include <stdint.h>
#include "export.h"

/* What the calibration rows showed, as quantisation scales. */
typedef struct export_q8 {
    int n_rows;                    /* calibration rows */
    const float *rows;             /* (n_rows, n_in) them, borrowed */
    int agree;                     /* set by export_c_int8: rows whose int8 class is float's */
    float *x_scale;                /* (n_in) one step of each input feature, owned */
    int x_unsigned;                /* no calibration input was negative: 0..255 */
    float a_max[TMLP_MAX_LAYERS];  /* largest |output| of each layer */
    float a_scale[TMLP_MAX_LAYERS];
    int a_unsigned[TMLP_MAX_LAYERS];
} export_q8;

/* Runs the folded layers of m over n_rows raw rows x (n_rows, n_in) and sets *q's scales.
 * TMLP_ENOMEM; free with export_q8_free either way. */
int export_q8_calibrate(export_q8 *q, const export_model *m, const float *x, int n_rows,
                        tmlp_err *err);
void export_q8_free(export_q8 *q);

/* Writes the int8 header, and sets q->agree: on how many calibration rows the int8 arithmetic
 * gives the float layers' class (the header states it too). TMLP_EINVAL for a bias too large
 * for the accumulator; TMLP_EIO. */
int export_c_int8(FILE *f, const export_model *m, export_q8 *q, const export_info *info,
                  tmlp_err *err);

#endif
