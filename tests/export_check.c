/* export_check.c: the test driver for headers from `tinymlp export` (tests/export.sh).
 * Built with -DEXPORT_HEADER='"file.h"' -DEXPORT_NAME=prefix as strict C99. Reads rows of
 * comma-separated inputs from stdin and prints, per row, the class NAME_classify gives and
 * every output of NAME_predict ("%.9g"), space-separated. */
#include <stdio.h>
#include <stdlib.h>
#include EXPORT_HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define PREDICT CAT(EXPORT_NAME, _predict)
#define CLASSIFY CAT(EXPORT_NAME, _classify)
#define N_IN CAT(EXPORT_UPPER, _N_IN)
#define N_OUT CAT(EXPORT_UPPER, _N_OUT)

int main(void)
{
    static char line[1 << 16];
    float x[N_IN], out[N_OUT];
    while (fgets(line, sizeof line, stdin)) {
        char *p = line;
        int j;
        for (j = 0; j < N_IN; j++) {
            char *end;
            x[j] = (float)strtod(p, &end);
            if (end == p) {
                fprintf(stderr, "export_check: bad row\n");
                return 1;
            }
            p = *end == ',' ? end + 1 : end;
        }
        PREDICT(x, out);
        printf("%d", CLASSIFY(x));
        for (j = 0; j < N_OUT; j++)
            printf(" %.9g", (double)out[j]);
        printf("\n");
    }
    return 0;
}
