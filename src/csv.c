/* csv.c: numeric CSV files into datasets, two passes: count and check, then fill.
 *
 * Not a general CSV parser: no quoting, no other separators. What it does accept it checks:
 * every value must fit a float, a UTF-8 byte-order mark is skipped, and a line that a bare CR
 * or a NUL byte would silently cut short is an error, not a shorter row. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/csv.h"
#include "file_impl.h"

#define MAX_LABEL TMLP_CSV_MAX_CLASSES

tmlp_csv_opts tmlp_csv_defaults(void)
{
    tmlp_csv_opts o = { .label_col = -1, .header = -1, .as_targets = 0, .n_classes = 0 };
    return o;
}

static int blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* Parses the next field at *p as a number; advances *p past it and its comma. Returns 1 on a
 * number, 0 on a non-number, 2 on a number beyond float range (the field is copied to bad for
 * both), -1 at the end of the line. Underflow to zero or a subnormal is a number. */
static int field(char **p, double *v, char *bad, size_t bad_size)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0' || *s == '\n' || *s == '\r')
        return -1;
    char *end;
    *v = strtod(s, &end);
    char *e = end;
    while (*e == ' ' || *e == '\t')
        e++;
    int ok = end != s && !isnan(*v) && (*e == ',' || *e == '\0' || *e == '\n' || *e == '\r');
    if (ok && !(fabs(*v) <= FLT_MAX))
        ok = 2;
    if (ok != 1) {
        size_t len = strcspn(s, ",\r\n");
        snprintf(bad, bad_size, "%.*s", (int)(len > 30 ? 30 : len), s);
    }
    e = s + strcspn(s, ",\r\n");
    *p = *e == ',' ? e + 1 : e;
    return ok;
}

/* 1 when field col (0-based) of the line is text: neither empty nor a number. */
static int text_at(char *s, int col)
{
    double v;
    char bad[40];
    for (int c = 0;; c++) {
        int k = field(&s, &v, bad, sizeof bad);
        if (k < 0)
            return 0;
        if (c == col)
            return k == 0 && bad[0] != '\0';
    }
}

/* Counts the fields of a line. */
static int n_fields(const char *s)
{
    int n = 1;
    for (; *s && *s != '\n' && *s != '\r'; s++)
        n += *s == ',';
    return n;
}

tmlp_data *tmlp_csv_read(const char *path, const tmlp_csv_opts *opts, tmlp_err *err)
{
    tmlp_csv_opts o = opts ? *opts : tmlp_csv_defaults();
    if (o.n_classes != 0 && (o.as_targets || o.n_classes < 2 || o.n_classes > MAX_LABEL)) {
        tmlp_fail(err, TMLP_EINVAL, "%s: a class count of %d: expected 2..%d, and only for class "
                  "labels (not targets)", path, o.n_classes, MAX_LABEL);
        return NULL;
    }
    FILE *f;
    if (tmlp_file_open(path, "CSV file", &f, NULL, err) != TMLP_OK)
        return NULL;
    char *line = NULL, bad[40];
    size_t cap = 0;
    tmlp_data *d = NULL;
    int cols = 0, rows = 0, header = 0, label_col = 0, max_label = -1;
    long lineno = 0, first = 0, max_line = 0;
    double v;
    /* Pass 1 finds the shape and checks every field; pass 2 fills the dataset. */
    for (int pass = 1; pass <= 2; pass++) {
        rewind(f);
        lineno = 0;
        int r = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) != -1) {
            lineno++;
            if (lineno == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
                memmove(line, line + 3, (size_t)(len -= 3) + 1); /* a UTF-8 byte-order mark */
            if (strlen(line) != (size_t)len) {
                tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: a NUL byte; expected a text file", path, lineno);
                goto fail;
            }
            char *cr = strchr(line, '\r');
            if (cr && cr[1] != '\0' && cr[1] != '\n') {
                tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: a carriage return inside the line; expected "
                          "LF or CRLF line ends", path, lineno);
                goto fail;
            }
            if (blank(line))
                continue;
            if (!first) {
                first = lineno;
                cols = n_fields(line);
                if (cols < 2) {
                    tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: one column; expected features and a label",
                              path, lineno);
                    goto fail;
                }
                label_col = o.label_col < 0 ? cols - 1 : o.label_col;
                if (label_col >= cols) {
                    /* label_col counts from 0 (the columns in messages from 1): say which */
                    tmlp_fail(err, TMLP_EINVAL, "%s: label column %d (counting from 0), but "
                              "lines have %d columns", path, label_col, cols);
                    goto fail;
                }
                /* A header names the columns: text in the first or the label column. A data
                 * row with a typo ("1,NA,0") stays data and fails loudly below. */
                header = o.header;
                if (header < 0)
                    header = text_at(line, 0) || text_at(line, label_col);
            }
            if (lineno == first && header)
                continue;
            if (pass == 2 && r >= rows) { /* pass 1 sized the dataset: never write past it */
                tmlp_fail(err, TMLP_EIO, "%s:%ld: the file changed while it was read (more rows "
                          "than the %d counted)", path, lineno, rows);
                goto fail;
            }
            int nf = n_fields(line);
            if (nf != cols) {
                tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: %d columns, expected %d", path, lineno, nf, cols);
                goto fail;
            }
            char *p = line;
            for (int c = 0, j = 0; c < cols; c++) {
                int k = field(&p, &v, bad, sizeof bad);
                if (k != 1) {
                    tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: column %d: '%s' is %s", path, lineno,
                              c + 1, k < 0 ? "" : bad, k == 2 ? "beyond float range" : "not a number");
                    goto fail;
                }
                if (c == label_col) {
                    if (!o.as_targets && (v != floor(v) || v < 0 || v >= MAX_LABEL)) {
                        tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: column %d: label %g is not a whole "
                                  "number in 0..%d", path, lineno, c + 1, v, MAX_LABEL - 1);
                        goto fail;
                    }
                    if (!o.as_targets && o.n_classes && v >= o.n_classes) {
                        tmlp_fail(err, TMLP_EFORMAT, "%s:%ld: column %d: label %g is not below "
                                  "the %d classes asked for", path, lineno, c + 1, v, o.n_classes);
                        goto fail;
                    }
                    if (pass == 1 && !o.as_targets && (int)v > max_label) {
                        max_label = (int)v;
                        max_line = lineno;
                    }
                    if (pass == 2 && !o.as_targets && (int)v > max_label) {
                        tmlp_fail(err, TMLP_EIO, "%s:%ld: the file changed while it was read "
                                  "(label %g, above the %d counted)", path, lineno, v, max_label);
                        goto fail;
                    }
                    if (pass == 2) {
                        if (o.as_targets)
                            d->target[r] = (float)v;
                        else
                            d->label[r] = (int)v;
                    }
                } else {
                    if (pass == 2)
                        d->x[(size_t)r * (cols - 1) + j] = (float)v;
                    j++;
                }
            }
            r++;
        }
        if (ferror(f)) {
            tmlp_fail(err, TMLP_EIO, "%s: read failed: %s", path, strerror(errno));
            goto fail;
        }
        if (pass == 2 && r != rows) {
            tmlp_fail(err, TMLP_EIO, "%s: the file changed while it was read (%d rows, then %d)",
                      path, rows, r);
            goto fail;
        }
        if (pass == 1) {
            rows = r;
            if (rows == 0) {
                tmlp_fail(err, TMLP_EFORMAT, "%s: no data rows", path);
                goto fail;
            }
            /* A class count far beyond the rows makes a net far beyond the data (issue 15). */
            long free_classes = 2L * rows > TMLP_CSV_FREE_CLASSES ? 2L * rows
                                                                : TMLP_CSV_FREE_CLASSES;
            if (!o.as_targets && !o.n_classes && max_label + 1 > free_classes) {
                tmlp_fail(err, TMLP_EFORMAT, "%s: line %ld: label %d makes %d classes for %d rows "
                          "(more than %ld = max(1024, 2 x rows)); if meant, add --classes %d",
                          path, max_line, max_label, max_label + 1, rows, free_classes,
                          max_label + 1);
                goto fail;
            }
            int classes = o.as_targets ? 0 : o.n_classes ? o.n_classes : max_label + 1;
            d = tmlp_data_new(rows, cols - 1, classes, o.as_targets ? 1 : 0, err);
            if (!d)
                goto fail;
        }
    }
    free(line);
    fclose(f);
    return d;
fail:
    free(line);
    fclose(f);
    tmlp_data_free(d);
    return NULL;
}
