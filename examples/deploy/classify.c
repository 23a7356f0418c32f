/* classify.c: a network trained by tinymlp, compiled into a program that needs neither
 * tinymlp nor OpenBLAS (docs/deploy.md). Reads rows of comma-separated inputs on stdin,
 * prints one class per row.
 *
 *   build/tinymlp train --data mnist --save digits.safetensors
 *   build/tinymlp export digits.safetensors --c model.h --name model    (or --int8 --calib mnist)
 *   cc -std=c99 -O2 -I. examples/deploy/classify.c -o classify -lm
 *   ./classify < rows.csv */
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

int main(void)
{
    static char line[1 << 16];               /* 784 pixels of up to 4 characters fit easily */
    float x[MODEL_N_IN];
    long row = 0;
    while (fgets(line, sizeof line, stdin)) {
        char *p = line, *end;
        int j;
        row++;
        for (j = 0; j < MODEL_N_IN; j++, p = *end == ',' ? end + 1 : end) {
            x[j] = (float)strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "classify: row %ld: %d numbers, the model takes %d\n", row, j,
                        MODEL_N_IN);
                return 1;
            }
        }
        printf("%d\n", model_classify(x));
    }
    return 0;
}
