/* test_csv.c: the CSV reader: header detection, CRLF, labels, targets, and errors naming the
 * line and column. */
#include <stdio.h>
#include <unistd.h>

#include "testutil.h"

static char path[64];

/* The reader's rewind goes through here (-Wl,--wrap=rewind, Makefile): when change is set,
 * the second rewind (the start of the reader's second pass) first replaces the file's text
 * with it, as a writer changing the file between the two passes would. */
void __real_rewind(FILE *f);
void __wrap_rewind(FILE *f);
static const char *change;
static int rewinds;

void __wrap_rewind(FILE *f)
{
    if (change && ++rewinds == 2) {
        FILE *w = fopen(path, "w");
        ck_assert_ptr_nonnull(w);
        fputs(change, w);
        fclose(w);
    }
    __real_rewind(f);
}

static const char *put(const char *text)
{
    snprintf(path, sizeof path, "/tmp/tinymlp-csv-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static tmlp_data *read_ok(const char *text, const tmlp_csv_opts *o)
{
    tmlp_err err = { 0 };
    tmlp_data *d = tmlp_csv_read(put(text), o, &err);
    ck_assert_msg(d != NULL, "%s", err.msg);
    unlink(path);
    return d;
}

static void read_bad(const char *text, int code, const char *needle)
{
    tmlp_err err = { 0 };
    tmlp_data *d = tmlp_csv_read(put(text), NULL, &err);
    ck_assert_ptr_null(d);
    ck_assert_msg(err.code == code, "code %d, want %d: %s", err.code, code, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, path), "'%s' lacks the path", err.msg);
    unlink(path);
}

/* A file that grows or changes between the two passes is refused, never written past the
 * rows the first pass counted (the old reader wrote extra rows past its buffers). */
START_TEST(a_file_changed_between_passes_is_refused)
{
    /* first pass's text, second pass's text, what the refusal says */
    static const char *const cases[][3] = {
        { "0,1,0\n1,0,1\n", "0,1,0\n1,0,1\n0.5,0.5,1\n1,1,0\n", "more rows than the 2 counted" },
        { "0,1,0\n1,0,1\n0,0,1\n", "0,1,0\n1,0,5\n0,0,1\n", "label 5, above the 1 counted" },
        { "0,1,0\n1,0,1\n0,0,1\n", "0,1,0\n", "(3 rows, then 1)" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tmlp_err err = { 0 };
        put(cases[k][0]);
        change = cases[k][1];
        rewinds = 0;
        tmlp_data *d = tmlp_csv_read(path, NULL, &err);
        change = NULL;
        ck_assert_ptr_null(d);
        ck_assert_int_eq(err.code, TMLP_EIO);
        ck_assert_msg(strstr(err.msg, "changed while it was read") && strstr(err.msg, cases[k][2]),
                      "%s", err.msg);
        unlink(path);
    }
}
END_TEST

START_TEST(reads_features_and_last_column_labels)
{
    tmlp_data *d = read_ok("0.5,1,0\n-2,3e1,2\n\n7,8,1\n", NULL);
    ck_assert_int_eq(d->n, 3);
    ck_assert_int_eq(d->n_in, 2);
    ck_assert_int_eq(d->n_classes, 3);
    ck_assert_float_eq(d->x[3], 30.0f);
    ck_assert_int_eq(d->label[1], 2);
    ck_assert_int_eq(d->label[2], 1);
    tmlp_data_free(d);
}
END_TEST

START_TEST(header_crlf_and_label_column_options)
{
    tmlp_data *d = read_ok("label,a,b\r\n1,0.25,0.5\r\n0,1,2\r\n", &(tmlp_csv_opts){ .label_col = 0, .header = -1 });
    ck_assert_int_eq(d->n, 2);
    ck_assert_int_eq(d->n_in, 2);
    ck_assert_int_eq(d->label[0], 1);
    ck_assert_float_eq(d->x[1], 0.5f);
    tmlp_data_free(d);
    d = read_ok("1,2,3.5\n4,5,-6\n", &(tmlp_csv_opts){ .label_col = -1, .header = 0, .as_targets = 1 });
    ck_assert_ptr_null(d->label);
    ck_assert_int_eq(d->n_targets, 1);
    ck_assert_float_eq(d->target[1], -6.0f);
    tmlp_data_free(d);
}
END_TEST

START_TEST(errors_name_line_and_column)
{
    read_bad("1,2,0\n3,abc,1\n", TMLP_EFORMAT, ":2: column 2: 'abc' is not a number");
    read_bad("1,2,0\n3,4\n", TMLP_EFORMAT, ":2: 2 columns, expected 3");
    read_bad("1,2,0\n3,4,1,5\n", TMLP_EFORMAT, ":2: 4 columns, expected 3");
    read_bad("1,2,0\n3,4,1.5\n", TMLP_EFORMAT, ":2: column 3: label 1.5 is not a whole number");
    read_bad("1,2,-1\n", TMLP_EFORMAT, ":1: column 3: label -1");
    read_bad("1,2,0\n3,,1\n", TMLP_EFORMAT, ":2: column 2: '' is not a number");
    read_bad("1,2,0\n3,nan,1\n", TMLP_EFORMAT, "column 2: 'nan' is not a number");
    read_bad("", TMLP_EFORMAT, "no data rows");
    read_bad("a,b,c\n", TMLP_EFORMAT, "no data rows");
    read_bad("1\n2\n", TMLP_EFORMAT, "one column");
    tmlp_err err;
    ck_assert_ptr_null(tmlp_csv_read("/tmp/no/such/file.csv", NULL, &err));
    ck_assert_int_eq(err.code, TMLP_ENOTFOUND);
    ck_assert_ptr_null(tmlp_csv_read(put("1,2\n"), &(tmlp_csv_opts){ .label_col = 5, .header = 0 }, &err));
    ck_assert_int_eq(err.code, TMLP_EINVAL);
    unlink(path);
}
END_TEST

/* Issue 15: a label far beyond the rows would make a net of a million classes from two rows.
 * Without a class count the classes may reach max(1024, 2 x rows); a class count allows more
 * (and is then exact). */
START_TEST(absurd_class_counts_need_to_be_asked_for)
{
    read_bad("1,0\n2,1048575\n", TMLP_EFORMAT, "line 2: label 1048575 makes 1048576 classes for 2 "
             "rows (more than 1024 = max(1024, 2 x rows)); if meant, add --classes 1048576");
    tmlp_data *d = read_ok("1,0\n2,1023\n", NULL);    /* 1024 classes: allowed */
    ck_assert_int_eq(d->n_classes, 1024);
    tmlp_data_free(d);
    tmlp_csv_opts o = tmlp_csv_defaults();
    ck_assert_int_eq(o.n_classes, 0);
    o.n_classes = 1048576;
    d = read_ok("1,0\n2,1048575\n", &o);
    ck_assert_int_eq(d->n_classes, 1048576);
    tmlp_data_free(d);
    o.n_classes = 5;                                 /* exact: fewer labels seen is fine */
    d = read_ok("1,0\n2,1\n", &o);
    ck_assert_int_eq(d->n_classes, 5);
    tmlp_data_free(d);
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_csv_read(put("1,0\n2,5\n"), &o, &err));
    ck_assert_msg(err.code == TMLP_EFORMAT && strstr(err.msg, ":2: column 2: label 5 is not below "
                  "the 5 classes asked for"), "%s", err.msg);
    unlink(path);
    o.n_classes = 1;
    ck_assert_ptr_null(tmlp_csv_read(put("1,0\n"), &o, &err));
    ck_assert_int_eq(err.code, TMLP_EINVAL);
    unlink(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("csv");
    TMLP_ADD(s, reads_features_and_last_column_labels);
    TMLP_ADD(s, header_crlf_and_label_column_options);
    TMLP_ADD(s, errors_name_line_and_column);
    TMLP_ADD(s, absurd_class_counts_need_to_be_asked_for);
    TMLP_ADD(s, a_file_changed_between_passes_is_refused);
    return s;
}

TMLP_TEST_MAIN()
