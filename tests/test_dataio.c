/* test_dataio.c: the data loaders at their edges, beyond test_idx.c and test_csv.c: CSV files
 * as other programs write them (byte-order mark, numeric column names, values beyond float
 * range, bare CR, NUL bytes), MNIST folders spelled or typed differently or inconsistent, and
 * the real Fashion-MNIST from its Debian package when it is installed (skipped otherwise). */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

static char dir[64];
static char path[128];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/tinymlp-dataio-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rmdir_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes n bytes to dir/name (gzip-compressed when gz); returns the path. */
static const char *put(const char *name, const void *bytes, size_t n, int gz)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile z = gzopen(path, "wb");
        ck_assert_ptr_nonnull(z);
        ck_assert_int_eq(gzwrite(z, bytes, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(z), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
    return path;
}

static tmlp_data *csv_ok(const char *text, size_t n, int header)
{
    tmlp_csv_opts o = tmlp_csv_defaults();
    o.header = header;
    tmlp_err err = { 0 };
    tmlp_data *d = tmlp_csv_read(put("d.csv", text, n, 0), &o, &err);
    ck_assert_msg(d != NULL, "%s", err.msg);
    return d;
}

static void csv_bad(const char *text, size_t n, const char *needle)
{
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_csv_read(put("d.csv", text, n, 0), NULL, &err));
    ck_assert_msg(err.code == TMLP_EFORMAT, "code %d: %s", err.code, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, "d.csv:"), "'%s' lacks the file name", err.msg);
}

#define TEXT(s) s, sizeof s - 1

START_TEST(csv_skips_a_utf8_byte_order_mark)
{
    /* Excel's "CSV UTF-8": without the skip, the first row became a silent header */
    tmlp_data *d = csv_ok(TEXT("\xEF\xBB\xBF" "1,2,0\n3,4,1\n"), -1);
    ck_assert_int_eq(d->n, 2);
    ck_assert_float_eq(d->x[0], 1.0f);
    tmlp_data_free(d);
    d = csv_ok(TEXT("\xEF\xBB\xBF" "a,b,label\r\n1,2,1\r\n"), -1);
    ck_assert_int_eq(d->n, 1);
    ck_assert_int_eq(d->label[0], 1);
    tmlp_data_free(d);
}
END_TEST

START_TEST(csv_header_found_by_its_label_column)
{
    /* pandas writes integer column names: "0,1,label" is a header, not a bad row */
    tmlp_data *d = csv_ok(TEXT("0,1,label\n5,6,1\n7,8,0\n"), -1);
    ck_assert_int_eq(d->n, 2);
    ck_assert_float_eq(d->x[0], 5.0f);
    tmlp_data_free(d);
    /* ... but a first data row with a hole or a typo stays data and fails loudly */
    csv_bad(TEXT("1,NA,0\n3,4,1\n"), ":1: column 2: 'NA' is not a number");
    csv_bad(TEXT("1,,0\n3,4,1\n"), ":1: column 2: '' is not a number");
    /* an explicit header = 0 reads the first row as data */
    tmlp_csv_opts o = tmlp_csv_defaults();
    o.header = 0;
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_csv_read(put("d.csv", TEXT("x,y,z\n1,2,0\n"), 0), &o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, ":1: column 1: 'x' is not a number"));
}
END_TEST

START_TEST(csv_values_must_fit_a_float)
{
    csv_bad(TEXT("1,2,0\n1e300,4,1\n"), ":2: column 1: '1e300' is beyond float range");
    csv_bad(TEXT("1,2,0\n3,-1e39,1\n"), ":2: column 2: '-1e39' is beyond float range");
    csv_bad(TEXT("1,2,0\n3,inf,1\n"), "column 2: 'inf' is beyond float range");
    /* underflow is not an error: 1e-320 is a (subnormal) double, 0 as a float */
    tmlp_data *d = csv_ok(TEXT("1e-320,2,0\n"), -1);
    ck_assert_int_eq(d->n, 1);
    ck_assert_float_eq(d->x[0], 0.0f);
    tmlp_data_free(d);
    /* targets too */
    tmlp_csv_opts o = tmlp_csv_defaults();
    o.as_targets = 1;
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_csv_read(put("d.csv", TEXT("1,2,1e39\n"), 0), &o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, ":1: column 3: '1e39' is beyond float range"));
}
END_TEST

START_TEST(csv_refuses_lines_it_would_cut_short)
{
    /* old-Mac CR line ends used to read as one short row */
    csv_bad(TEXT("1,2,0\r3,4,1\r"), ":1: a carriage return inside the line");
    csv_bad(TEXT("1,2,0\n3\0,4,1\n"), ":2: a NUL byte");
    /* CRLF, a last line without a newline, and spaces around values are fine */
    tmlp_data *d = csv_ok(TEXT("1 , 2 ,0\r\n\r\n3,4, 1"), -1);
    ck_assert_int_eq(d->n, 2);
    ck_assert_float_eq(d->x[3], 4.0f);
    ck_assert_int_eq(d->label[1], 1);
    tmlp_data_free(d);
}
END_TEST

START_TEST(csv_targets_with_a_header)
{
    tmlp_csv_opts o = tmlp_csv_defaults();
    o.as_targets = 1;
    o.label_col = 0;
    tmlp_err err = { 0 };
    tmlp_data *d = tmlp_csv_read(put("d.csv", TEXT("price,area,rooms\n-2.5,70,3\n"), 0), &o, &err);
    ck_assert_msg(d != NULL, "%s", err.msg);
    ck_assert_int_eq(d->n, 1);
    ck_assert_int_eq(d->n_in, 2);
    ck_assert_int_eq(d->n_classes, 0);
    ck_assert_float_eq(d->target[0], -2.5f);
    ck_assert_float_eq(d->x[1], 3.0f);
    tmlp_data_free(d);
}
END_TEST

/* An IDX header into h; returns its length. */
static size_t header(unsigned char *h, int type, int n_dims, const unsigned *dims)
{
    h[0] = h[1] = 0;
    h[2] = (unsigned char)type;
    h[3] = (unsigned char)n_dims;
    for (int d = 0; d < n_dims; d++)
        for (int b = 0; b < 4; b++)
            h[4 + 4 * d + b] = (unsigned char)(dims[d] >> (24 - 8 * b));
    return 4 + 4 * (size_t)n_dims;
}

/* Writes an images file of n side x side u8 images (pixel i is i % 256). */
static void images(const char *name, unsigned n, unsigned side, int gz)
{
    static unsigned char buf[4096];
    size_t h = header(buf, TMLP_IDX_U8, 3, (unsigned[]){ n, side, side });
    for (size_t i = 0; i < (size_t)n * side * side; i++)
        buf[h + i] = (unsigned char)i;
    put(name, buf, h + (size_t)n * side * side, gz);
}

/* Writes a labels file of n labels of type (u8, i8 or i16), label i = first + i. */
static void labels(const char *name, int type, unsigned n, int first, int gz)
{
    unsigned char buf[512];
    size_t h = header(buf, type, 1, (unsigned[]){ n });
    int w = type == TMLP_IDX_I16 ? 2 : 1;
    for (unsigned i = 0; i < n; i++) {
        int v = first + (int)i;
        if (w == 2)
            buf[h + 2 * i] = (unsigned char)(v >> 8);
        buf[h + (size_t)w * i + (size_t)w - 1] = (unsigned char)v;
    }
    put(name, buf, h + (size_t)w * n, gz);
}

static int load(tmlp_data **tr, tmlp_data **te, tmlp_err *err)
{
    return tmlp_idx_load_folder(dir, tr, te, err);
}

START_TEST(folder_takes_dotted_names_and_mixed_compression)
{
    mkdir_tmp();
    images("train-images.idx3-ubyte.gz", 4, 3, 1);
    labels("train-labels.idx1-ubyte", TMLP_IDX_U8, 4, 2, 0);
    images("t10k-images-idx3-ubyte", 2, 3, 0);
    labels("t10k-labels-idx1-ubyte.gz", TMLP_IDX_U8, 2, 0, 1);
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    ck_assert_msg(load(&tr, &te, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(tr->n, 4);
    ck_assert_int_eq(tr->n_in, 9);
    ck_assert_int_eq(te->n, 2);
    ck_assert_int_eq(tr->n_classes, 6); /* labels 2..5 in train: both sets get 6 */
    ck_assert_int_eq(te->n_classes, 6);
    ck_assert_float_eq_tol(tr->x[10], 10.0f / 255.0f, 1e-7f);
    ck_assert_int_eq(tr->label[3], 5);
    tmlp_data_free(tr);
    tmlp_data_free(te);
    rmdir_tmp();
}
END_TEST

START_TEST(folder_rejects_bad_labels_and_shapes)
{
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    mkdir_tmp();
    images("train-images-idx3-ubyte", 3, 2, 0);
    images("t10k-images-idx3-ubyte", 2, 2, 0);
    labels("t10k-labels-idx1-ubyte", TMLP_IDX_U8, 2, 0, 0);
    labels("train-labels-idx1-ubyte", TMLP_IDX_I16, 3, 254, 0); /* 254, 255, 256 */
    ck_assert_int_eq(load(&tr, &te, &err), TMLP_EFORMAT);
    ck_assert_msg(strstr(err.msg, "train-labels-idx1-ubyte: label 2 is 256"), "%s", err.msg);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(te);
    labels("train-labels-idx1-ubyte", TMLP_IDX_I8, 3, -1, 0);
    ck_assert_int_eq(load(&tr, &te, &err), TMLP_EFORMAT);
    ck_assert_msg(strstr(err.msg, "label 0 is -1"), "%s", err.msg);
    /* test images of another size than the training images */
    labels("train-labels-idx1-ubyte", TMLP_IDX_U8, 3, 0, 0);
    images("t10k-images-idx3-ubyte", 2, 3, 0);
    ck_assert_int_eq(load(&tr, &te, &err), TMLP_EFORMAT);
    ck_assert_msg(strstr(err.msg, "has 4 values per image") && strstr(err.msg, "has 9"), "%s", err.msg);
    /* a missing test file is named, with the spelling looked for */
    ck_assert_int_eq(unlink(put("t10k-labels-idx1-ubyte", "", 0, 0)), 0);
    ck_assert_int_eq(load(&tr, &te, &err), TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "no t10k-labels-idx1-ubyte (plain or .gz)"), "%s", err.msg);
    rmdir_tmp();
}
END_TEST

START_TEST(lying_gzip_header_fails_fast)
{
    /* A 2 KB gzip file whose header claims 1000 x 1000 x 1000 f64 values: refused from the
     * header, before any allocation, in well under a second even under the sanitizers. */
    mkdir_tmp();
    unsigned char buf[2048];
    size_t h = header(buf, TMLP_IDX_F64, 3, (unsigned[]){ 1000, 1000, 1000 });
    memset(buf + h, 0x5a, sizeof buf - h);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tmlp_idx idx;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_idx_read(put("lie.gz", buf, sizeof buf, 1), &idx, &err), TMLP_EFORMAT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(strstr(err.msg, "more than a"), "%s", err.msg);
    ck_assert_ptr_null(idx.data);
    ck_assert_double_lt((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), 0.5);
    rmdir_tmp();
}
END_TEST

START_TEST(real_fashion_mnist_when_installed)
{
    static const char *fashion = "/usr/share/datasets/fashion-mnist";
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", fashion);
    if (stat(p, &st) != 0) {
        fprintf(stderr, "real_fashion_mnist_when_installed: SKIPPED, %s absent "
                "(scripts/deps.sh data installs dataset-fashion-mnist)\n", fashion);
        return;
    }
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_idx_load_folder(fashion, &tr, &te, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(tr->n, 60000);
    ck_assert_int_eq(te->n, 10000);
    ck_assert_int_eq(tr->n_in, 784);
    ck_assert_int_eq(tr->n_classes, 10);
    int count[10] = { 0 };
    for (int i = 0; i < te->n; i++)
        count[te->label[i]]++;
    for (int c = 0; c < 10; c++)
        ck_assert_int_eq(count[c], 1000); /* the test set is balanced */
    float lo = 1.0f, hi = 0.0f;
    for (size_t i = 0; i < (size_t)tr->n * tr->n_in; i++) {
        lo = tr->x[i] < lo ? tr->x[i] : lo;
        hi = tr->x[i] > hi ? tr->x[i] : hi;
    }
    ck_assert_float_eq(lo, 0.0f);
    ck_assert_float_eq(hi, 1.0f);
    tmlp_data_free(tr);
    tmlp_data_free(te);
}
END_TEST

/* Issue 15: every file reader refuses what is not a regular file, before reading a byte:
 * /dev/zero would grow memory without end, and opening a FIFO used to wait for a writer
 * forever (this test then times out). */
START_TEST(readers_refuse_devices_fifos_and_folders)
{
    mkdir_tmp();
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    const struct { const char *path, *says; } cases[] = {
        { "/dev/zero", "is a character device, not a regular file" },
        { fifo, "is a FIFO (named pipe), not a regular file" },
        { dir, "is a folder, not a regular file" },
    };
    for (int i = 0; i < 3; i++) {
        tmlp_err err = { 0 };
        tmlp_idx idx;
        const char *p = cases[i].path, *says = cases[i].says;
        ck_assert_ptr_null(tmlp_csv_read(p, NULL, &err));
        ck_assert_msg(err.code == TMLP_EIO && strstr(err.msg, says) && strstr(err.msg, "CSV file"),
                      "%s", err.msg);
        ck_assert_int_eq(tmlp_idx_read(p, &idx, &err), TMLP_EIO);
        ck_assert_msg(strstr(err.msg, says) && strstr(err.msg, "IDX file"), "%s", err.msg);
        ck_assert_ptr_null(tmlp_model_read(p, 1, NULL, &err));
        ck_assert_msg(err.code == TMLP_EIO && strstr(err.msg, says), "%s", err.msg);
        tmlp_checkpoint ck;
        ck_assert_int_eq(tmlp_checkpoint_read(p, 0, &ck, &err), TMLP_EIO);
        ck_assert_msg(strstr(err.msg, says), "%s", err.msg);
        ck_assert_int_eq(tmlp_checkpoint_peek(p, &ck, &err), TMLP_EIO);
        ck_assert_msg(strstr(err.msg, says), "%s", err.msg);
    }
    /* An MNIST folder whose training images are a FIFO (find_file skips it: not found) */
    char name[160];
    snprintf(name, sizeof name, "%s/train-images-idx3-ubyte", dir);
    ck_assert_int_eq(mkfifo(name, 0600), 0);
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_idx_load_folder(dir, &tr, &te, &err), TMLP_ENOTFOUND);
    rmdir_tmp();
}
END_TEST

static void csv_setup(void)
{
    mkdir_tmp();
}

static Suite *suite(void)
{
    Suite *s = suite_create("dataio");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, csv_setup, rmdir_tmp);
    tcase_add_test(tc, csv_skips_a_utf8_byte_order_mark);
    tcase_add_test(tc, csv_header_found_by_its_label_column);
    tcase_add_test(tc, csv_values_must_fit_a_float);
    tcase_add_test(tc, csv_refuses_lines_it_would_cut_short);
    tcase_add_test(tc, csv_targets_with_a_header);
    suite_add_tcase(s, tc);
    TMLP_ADD(s, folder_takes_dotted_names_and_mixed_compression);
    TMLP_ADD(s, folder_rejects_bad_labels_and_shapes);
    TMLP_ADD(s, lying_gzip_header_fails_fast);
    TMLP_ADD(s, real_fashion_mnist_when_installed);
    tc = tcase_create("special_files");
    tcase_set_timeout(tc, 10);                      /* a reader that blocks on the FIFO fails */
    tcase_add_test(tc, readers_refuse_devices_fifos_and_folders);
    suite_add_tcase(s, tc);
    return s;
}

TMLP_TEST_MAIN()
