/* cmd_predict.c: `tinymlp predict MODEL [FILE]`: one class and its probability per input row.
 *
 * Rows are comma-separated numbers, n_in per row, in the same units as the data the model was
 * trained on (MNIST pixels 0..255): the model's saved preprocessing is applied here. A first
 * row that is not numeric is taken as a header and skipped (--csv-header says so outright);
 * --label-col drops a label column, so a training CSV file can be fed as it is. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "datasets.h"

static void help(void)
{
    printf("usage: tinymlp predict MODEL [FILE]\n"
           "\n"
           "Reads rows of comma-separated inputs from FILE (default: standard input) and prints,\n"
           "for each, the predicted class and its probability: \"7 0.9981\". Inputs are in the\n"
           "units of the training data (MNIST: pixels 0..255); the model's own scaling and\n"
           "standardisation are applied. A non-numeric first row is skipped as a header.\n"
           "A model trained with --loss mse gives no probability: its lines show the class\n"
           "(the output thresholded at 0.5, or the largest) and that raw output instead.\n"
           "FILE must be a regular file; a line longer than 64 bytes per input is refused.\n"
           "\n"
           "  --csv-header W yes: the first row is a header, no: it is data, auto: a header\n"
           "                 when its first value is not a number                  [auto]\n"
           "  --label-col N  the rows also hold a label in column N (0-based; -1 the last),\n"
           "                 which is left out: a training CSV file as it is       [none]\n"
           "  --probs        print every class probability instead, comma-separated\n"
           "  --plugin FILE  load the plugin the model's activation comes from (repeatable)\n"
           "  --json         print one JSON object per row: {\"class\": 7, \"probability\": 0.99}\n"
           "                 (mse models: {\"class\": 1, \"output\": 0.93})\n"
           "  -h, --help     this text\n");
}

/* Removes field col (0-based; -1 the last) and its comma from a line and returns the 0-based
 * index it had; a line without that field is left as it is (and then has too few values),
 * and -1 returned. */
static int drop_field(char *line, int col)
{
    size_t end = strcspn(line, "\r\n");
    int n = 1;
    for (size_t i = 0; i < end; i++)
        n += line[i] == ',';
    if (col < 0)
        col = n - 1;
    if (col >= n || n < 2)
        return -1;
    char *start = line;
    for (int c = 0; c < col; c++)
        start = strchr(start, ',') + 1;
    char *next = start + strcspn(start, ",\r\n");
    if (*next == ',')
        next++;                        /* "a,LABEL,b" -> "a,b" */
    else if (start > line)
        start--;                       /* the last field: "a,b,LABEL" -> "a,b" */
    memmove(start, next, strlen(next) + 1);
    return col;
}

/* Parses one line into x[0..n_in); returns 1 if it held exactly n_in numbers, 0 if it is not
 * numeric at its first field and may be a header (first), -1 with the bad field's 1-based
 * number in *col, or -2 after printing what is wrong with the count (`label`: the line's label
 * field was taken out first). */
static int parse_row(char *line, float *x, int n_in, const char *src, long lineno, int first,
                     int *col, int label)
{
    char *p = line;
    for (int j = 0; j < n_in; j++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r')
            end++;
        if (end == p || errno || !isfinite(v) || (*end != ',' && *end != '\0' && *end != '\n')) {
            *col = j + 1;
            if (j == 0 && first)
                return 0;
            return -1;
        }
        if (!(fabs(v) <= FLT_MAX)) {           /* 1e39: infinite as a float */
            fprintf(stderr, "tinymlp: %s:%ld: column %d: %.*s is beyond float range\n", src,
                    lineno, j + 1, (int)(end - p > 40 ? 40 : end - p), p);
            return -2;
        }
        x[j] = (float)v;
        if ((*end == '\0' || *end == '\n') && j + 1 < n_in) {
            fprintf(stderr, "tinymlp: %s:%ld: %d values%s, the model takes %d\n", src, lineno, j + 1,
                    label ? " besides the label" : "", n_in);
            return -2;
        }
        p = end + (*end == ',');
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p) {
        fprintf(stderr, "tinymlp: %s:%ld: more than %d values%s, the model takes %d\n", src,
                lineno, n_in, label ? " besides the label" : "", n_in);
        return -2;
    }
    return 1;
}

/* One line of in into *buf (NUL-terminated); its length, -1 at the end of the input, -2 when
 * it is longer than max bytes (stdin may be /dev/zero: memory stays bounded), -3 out of
 * memory, -4 at a NUL byte (not text). */
static long read_line(FILE *in, char **buf, size_t *cap, size_t max)
{
    size_t len = 0;
    int c = EOF;
    while ((c = getc(in)) != EOF) {
        if (c == '\0')
            return -4;
        if (len >= max)
            return -2;
        if (len + 2 > *cap) {
            size_t want = *cap ? 2 * *cap : 4096;
            char *b = realloc(*buf, want);
            if (!b)
                return -3;
            *buf = b;
            *cap = want;
        }
        (*buf)[len++] = (char)c;
        if (c == '\n')
            break;
    }
    if (!len)
        return -1;
    (*buf)[len] = '\0';
    return (long)len;
}

/* FILE, opened without waiting on a FIFO; NULL (after one line) unless a regular file. */
static FILE *open_input(const char *src)
{
    struct stat st;
    int fd = open(src, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "tinymlp: cannot read '%s': %s\n", src, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "tinymlp: '%s' is not a regular file (a %s): refused; pipe it into "
                "standard input instead\n", src, S_ISDIR(st.st_mode) ? "folder" :
                S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode) ? "socket" : "device");
    } else {
        FILE *f = fdopen(fd, "r");
        if (f)
            return f;
        fprintf(stderr, "tinymlp: cannot read '%s': %s\n", src, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

int cmd_predict(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("predict", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    static const struct option options[] = {
        { "probs", no_argument, 0, 'p' }, { "json", no_argument, 0, 'j' },
        { "csv-header", required_argument, 0, 'H' }, { "label-col", required_argument, 0, 'L' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    int probs = 0, json = 0, c, header = -1, label_col = INT_MIN; /* INT_MIN: no label column */
    int rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return 0;
        case 'p': probs = 1; break;
        case 'j': json = 1; break;
        case 'H':
            if ((rc = cli_csv_header_arg("predict", optarg, &header)))
                return rc;
            break;
        case 'L':
            if ((rc = cli_label_col_arg("predict", optarg, &label_col)))
                return rc;
            break;
        case ':': return cli_usage_error("predict", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("predict", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1 && optind != argc - 2)
        return cli_usage_error("predict", "give a model file and optionally an input file");
    const char *path = argv[optind], *src = optind + 1 < argc ? argv[optind + 1] : "-";

    tmlp_err err = { 0 };
    tmlp_model_meta meta = { 0 };
    cli_prep prep = { 0 };
    FILE *in = NULL;
    char *line = NULL;
    size_t cap = 0;
    float *x = NULL, *out = NULL;
    int status = EXIT_RUNTIME;
    tmlp_net *net = tmlp_model_read(path, 1, &meta, &err);
    if (!net)
        return cli_fail(&err, 0);
    if (cli_prep_load(&prep, &meta, tmlp_net_n_in(net), &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    in = strcmp(src, "-") ? open_input(src) : stdin;
    if (!in)
        goto done;
    int n_in = tmlp_net_n_in(net), n_out = tmlp_net_n_out(net);
    x = malloc((size_t)n_in * sizeof *x);
    out = malloc((size_t)n_out * sizeof *out);
    if (!x || !out) {
        fprintf(stderr, "tinymlp: no memory\n");
        goto done;
    }
    const char *name = strcmp(src, "-") ? src : "stdin";
    long lineno = 0, len;
    int first = 1, mse = tmlp_net_get_spec(net)->loss == TMLP_LOSS_MSE;
    size_t max_line = (size_t)64 * ((size_t)n_in + 1) + 4096;  /* generous for n_in numbers */
    while (!ferror(stdout) && (len = read_line(in, &line, &cap, max_line)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue; /* blank */
        int at_first = first;
        first = 0;
        if (at_first && header == 1)
            continue; /* a header, as the user said */
        int dropped = label_col != INT_MIN ? drop_field(line, label_col) : -1;
        int col = 0, r = parse_row(line, x, n_in, name, lineno, at_first && header == -1, &col,
                                   dropped >= 0);
        if (r == 0)
            continue; /* header */
        if (r < 0) {
            /* col counts the fields left after the label's; the message counts the line's */
            if (r == -1)
                fprintf(stderr, "tinymlp: %s:%ld: column %d is not a number\n", name, lineno,
                        dropped >= 0 && col - 1 >= dropped ? col + 1 : col);
            goto done;
        }
        cli_prep_apply_raw(&prep, x, 1, n_in);
        if (tmlp_net_predict(net, x, 1, out, &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
        int cls = 0;
        float p;
        if (n_out == 1) {
            cls = out[0] > 0.5f;
            p = cls || mse ? out[0] : 1.0f - out[0];   /* mse: the raw output, not 1 - y */
        } else {
            for (int k = 1; k < n_out; k++)
                if (out[k] > out[cls])
                    cls = k;
            p = out[cls];
        }
        for (int k = 0; k < n_out; k++)
            if (!isfinite(out[k])) {                   /* never NaN or inf in the output */
                fprintf(stderr, "tinymlp: %s:%ld: the model's output %d is %g, not a finite "
                        "number\n", name, lineno, k, (double)out[k]);
                goto done;
            }
        if (json) {
            printf("{\"row\": %ld, \"class\": %d, \"%s\": %.6g}\n", lineno, cls,
                   mse ? "output" : "probability", (double)p);
        } else if (probs) {
            for (int k = 0; k < n_out; k++)
                printf("%s%.6g", k ? "," : "", (double)out[k]);
            printf("\n");
        } else {
            printf("%d %.4f\n", cls, (double)p);
        }
    }
    if (len == -2) {
        fprintf(stderr, "tinymlp: %s:%ld: the line is longer than %zu bytes, more than a row of "
                "%d numbers needs: refused\n", name, lineno + 1, max_line, n_in);
        goto done;
    }
    if (len == -4) {
        fprintf(stderr, "tinymlp: %s:%ld: a NUL byte: not a text row\n", name, lineno + 1);
        goto done;
    }
    if (len == -3) {
        fprintf(stderr, "tinymlp: no memory\n");
        goto done;
    }
    if (ferror(in)) {
        fprintf(stderr, "tinymlp: reading '%s' failed: %s\n", name, strerror(errno));
        goto done;
    }
    status = 0;
done:
    if (in && in != stdin)
        fclose(in);
    free(line);
    free(x);
    free(out);
    cli_prep_free(&prep);
    tmlp_model_meta_free(&meta);
    tmlp_net_free(net);
    return status;
}
