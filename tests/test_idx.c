/* test_idx.c: the IDX reader on files the test writes itself: every element type, plain and
 * gzip, and each way a file can be wrong; the MNIST folder loader. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/tinymlp-idx-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes bytes to dir/name, gzip-compressed when gz; returns the path (static buffer). */
static const char *put(const char *name, const void *bytes, size_t n, int gz)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile z = gzopen(path, "wb");
        ck_assert_ptr_nonnull(z);
        if (n)
            ck_assert_int_eq(gzwrite(z, bytes, (unsigned)n), (int)n);
        gzclose(z);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
        fclose(f);
    }
    return path;
}

/* An IDX header for type with the given dims, into h; returns its length. */
static size_t header(unsigned char *h, int type, int n_dims, const unsigned *dims)
{
    h[0] = h[1] = 0;
    h[2] = (unsigned char)type;
    h[3] = (unsigned char)n_dims;
    for (int d = 0; d < n_dims; d++) {
        h[4 + 4 * d] = (unsigned char)(dims[d] >> 24);
        h[5 + 4 * d] = (unsigned char)(dims[d] >> 16);
        h[6 + 4 * d] = (unsigned char)(dims[d] >> 8);
        h[7 + 4 * d] = (unsigned char)dims[d];
    }
    return 4 + 4 * (size_t)n_dims;
}

static int read_fails(const char *path, int code, const char *needle)
{
    tmlp_idx idx;
    tmlp_err err = { 0 };
    int rc = tmlp_idx_read(path, &idx, &err);
    ck_assert_msg(rc == code, "%s: rc %d, want %d (%s)", path, rc, code, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, path), "message '%s' lacks the path", err.msg);
    ck_assert_ptr_null(idx.data);
    return 1;
}

START_TEST(reads_every_element_type_plain_and_gzip)
{
    unsigned char buf[256];
    unsigned dims[2] = { 2, 3 };
    for (int gz = 0; gz < 2; gz++) {
        /* u8 */
        size_t h = header(buf, TMLP_IDX_U8, 2, dims);
        for (int i = 0; i < 6; i++)
            buf[h + i] = (unsigned char)(250 + i % 6);
        tmlp_idx idx;
        ck_assert_int_eq(tmlp_idx_read(put("u8", buf, h + 6, gz), &idx, NULL), TMLP_OK);
        ck_assert_int_eq(idx.n_dims, 2);
        ck_assert_int_eq(idx.dims[1], 3);
        ck_assert_uint_eq(idx.count, 6);
        ck_assert_float_eq(idx.data[5], 255.0f);
        tmlp_idx_free(&idx);
        /* i8, i16, i32: negative values survive */
        h = header(buf, TMLP_IDX_I8, 1, (unsigned[]){ 1 });
        buf[h] = 0xff;
        ck_assert_int_eq(tmlp_idx_read(put("i8", buf, h + 1, gz), &idx, NULL), TMLP_OK);
        ck_assert_float_eq(idx.data[0], -1.0f);
        tmlp_idx_free(&idx);
        h = header(buf, TMLP_IDX_I16, 1, (unsigned[]){ 1 });
        buf[h] = 0xfe; buf[h + 1] = 0x0c; /* -500 */
        ck_assert_int_eq(tmlp_idx_read(put("i16", buf, h + 2, gz), &idx, NULL), TMLP_OK);
        ck_assert_float_eq(idx.data[0], -500.0f);
        tmlp_idx_free(&idx);
        h = header(buf, TMLP_IDX_I32, 1, (unsigned[]){ 1 });
        buf[h] = 0x00; buf[h + 1] = 0x01; buf[h + 2] = 0x00; buf[h + 3] = 0x00; /* 65536 */
        ck_assert_int_eq(tmlp_idx_read(put("i32", buf, h + 4, gz), &idx, NULL), TMLP_OK);
        ck_assert_float_eq(idx.data[0], 65536.0f);
        tmlp_idx_free(&idx);
        /* f32 1.5 = 0x3fc00000, f64 -2.25 = 0xc002000000000000 */
        h = header(buf, TMLP_IDX_F32, 1, (unsigned[]){ 1 });
        buf[h] = 0x3f; buf[h + 1] = 0xc0; buf[h + 2] = 0; buf[h + 3] = 0;
        ck_assert_int_eq(tmlp_idx_read(put("f32", buf, h + 4, gz), &idx, NULL), TMLP_OK);
        ck_assert_float_eq(idx.data[0], 1.5f);
        tmlp_idx_free(&idx);
        h = header(buf, TMLP_IDX_F64, 1, (unsigned[]){ 1 });
        memset(buf + h, 0, 8);
        buf[h] = 0xc0; buf[h + 1] = 0x02;
        ck_assert_int_eq(tmlp_idx_read(put("f64", buf, h + 8, gz), &idx, NULL), TMLP_OK);
        ck_assert_float_eq(idx.data[0], -2.25f);
        tmlp_idx_free(&idx);
    }
}
END_TEST

START_TEST(bad_files_fail_with_what_and_where)
{
    unsigned char buf[64];
    unsigned dims[3] = { 2, 2, 2 };
    size_t h = header(buf, TMLP_IDX_U8, 3, dims);
    memset(buf + h, 7, 8);
    for (int gz = 0; gz < 2; gz++) {
        read_fails(put("empty", buf, 0, gz), TMLP_EFORMAT, "4-byte IDX header");
        read_fails(put("short-header", buf, 9, gz), TMLP_EFORMAT, "truncated header");
        read_fails(put("truncated", buf, h + 5, gz), TMLP_EFORMAT, gz ? "truncated" : "file holds 21 bytes");
        read_fails(put("trailing", buf, h + 8 + 3, gz), TMLP_EFORMAT, gz ? "trailing bytes" : "file holds 27 bytes");
        unsigned char bad[64];
        memcpy(bad, buf, sizeof bad);
        bad[0] = 1;
        read_fails(put("magic", bad, h + 8, gz), TMLP_EFORMAT, "bad magic");
        memcpy(bad, buf, sizeof bad);
        bad[2] = 0x0a;
        read_fails(put("type", bad, h + 8, gz), TMLP_EFORMAT, "bad magic");
        memcpy(bad, buf, sizeof bad);
        bad[3] = 0;
        read_fails(put("ndims0", bad, h + 8, gz), TMLP_EFORMAT, "0 dimensions");
        memcpy(bad, buf, sizeof bad);
        bad[3] = 9;
        read_fails(put("ndims9", bad, h + 8, gz), TMLP_EFORMAT, "9 dimensions");
        memcpy(bad, buf, sizeof bad);
        memset(bad + 8, 0, 4); /* a zero dimension */
        read_fails(put("zerodim", bad, h + 8, gz), TMLP_EFORMAT, "dimension 1 is 0");
    }
}
END_TEST

START_TEST(cut_gzip_stream_is_an_error)
{
    unsigned char buf[4096];
    size_t h = header(buf, TMLP_IDX_U8, 1, (unsigned[]){ 4000 });
    for (int i = 0; i < 4000; i++)
        buf[h + i] = (unsigned char)(i * 7919 >> 3); /* poorly compressible */
    const char *path = put("cut.gz", buf, h + 4000, 1);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
    read_fails(path, TMLP_EFORMAT, "expected 4000 bytes of data");
}
END_TEST

START_TEST(lying_header_is_refused_before_allocating)
{
    /* 2^31-1 x 2^31-1 x 4 f64 elements: far beyond any real file */
    unsigned char buf[64];
    size_t h = header(buf, TMLP_IDX_F64, 3, (unsigned[]){ 0x7fffffff, 0x7fffffff, 4 });
    read_fails(put("huge", buf, h + 16, 0), TMLP_EFORMAT, "2^40");
    /* 60000 x 28 x 28 images claimed by a 100-byte file */
    h = header(buf, TMLP_IDX_U8, 3, (unsigned[]){ 60000, 28, 28 });
    read_fails(put("lie", buf, h + 10, 0), TMLP_EFORMAT, "47040016 bytes with the header");
    /* and by a tiny gzip file: more than deflate can expand it to */
    h = header(buf, TMLP_IDX_U8, 3, (unsigned[]){ 60000, 280, 280 });
    read_fails(put("lie.gz", buf, h + 10, 1), TMLP_EFORMAT, "more than a");
}
END_TEST

START_TEST(gzip_expanding_past_the_cap_is_refused_plain_is_read)
{
    /* A consistent bomb: the header and the stream agree on 4 MiB of zeros, which deflate
     * packs into a few KiB. Refused as gzip before anything is allocated; the same bytes
     * plain are real data and are read. */
    enum { N = 4 << 20 };
    unsigned char *buf = calloc(N + 16, 1);
    ck_assert_ptr_nonnull(buf);
    size_t h = header(buf, TMLP_IDX_U8, 2, (unsigned[]){ 4096, 1024 });
    read_fails(put("bomb.gz", buf, h + N, 1), TMLP_EFORMAT, "likely decompression bomb");
    tmlp_idx idx;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_idx_read(put("bomb", buf, h + N, 0), &idx, &err), TMLP_OK);
    ck_assert_uint_eq(idx.count, (size_t)N);
    tmlp_idx_free(&idx);
    /* random bytes barely compress: far under the cap, read as gzip */
    uint32_t x = 12345;
    for (size_t i = h; i < h + N; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (unsigned char)(x >> 24);
    }
    ck_assert_int_eq(tmlp_idx_read(put("noise.gz", buf, h + N, 1), &idx, &err), TMLP_OK);
    ck_assert_uint_eq(idx.count, (size_t)N);
    ck_assert_float_eq(idx.data[N - 1], (float)buf[h + N - 1]);
    tmlp_idx_free(&idx);
    free(buf);
}
END_TEST

START_TEST(missing_file_and_folder_are_named)
{
    char path[128];
    snprintf(path, sizeof path, "%s/nothing-here", dir);
    read_fails(path, TMLP_ENOTFOUND, "No such file");
    read_fails(dir, TMLP_EIO, "is a folder");
}
END_TEST

/* Writes an MNIST-like folder: n images of 2x2, labels i % 3; gz picks compression. */
static void mnist_like(int n_train, int n_train_labels, int gz)
{
    unsigned char buf[512];
    const char *sfx = gz ? ".gz" : "";
    char name[64];
    for (int t = 0; t < 2; t++) {
        int n = t ? 3 : n_train, nl = t ? 3 : n_train_labels;
        size_t h = header(buf, TMLP_IDX_U8, 3, (unsigned[]){ (unsigned)n, 2, 2 });
        for (int i = 0; i < 4 * n; i++)
            buf[h + i] = (unsigned char)(i * 17);
        snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", t ? "t10k" : "train", sfx);
        put(name, buf, h + 4 * (size_t)n, gz);
        h = header(buf, TMLP_IDX_U8, 1, (unsigned[]){ (unsigned)nl });
        for (int i = 0; i < nl; i++)
            buf[h + i] = (unsigned char)(i % 3);
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", t ? "t10k" : "train", sfx);
        put(name, buf, h + (size_t)nl, gz);
    }
}

START_TEST(mnist_folder_loads_scaled_with_labels)
{
    for (int gz = 0; gz < 2; gz++) {
        teardown();
        setup();
        mnist_like(5, 5, gz);
        tmlp_data *tr, *te;
        tmlp_err err = { 0 };
        ck_assert_msg(tmlp_idx_load_folder(dir, &tr, &te, &err) == TMLP_OK, "%s", err.msg);
        ck_assert_int_eq(tr->n, 5);
        ck_assert_int_eq(te->n, 3);
        ck_assert_int_eq(tr->n_in, 4);
        ck_assert_int_eq(tr->n_classes, 3);
        ck_assert_float_eq_tol(tr->x[1], 17.0f / 255.0f, 1e-7f);
        ck_assert_int_eq(tr->label[4], 1);
        tmlp_data_free(tr);
        tmlp_data_free(te);
    }
}
END_TEST

START_TEST(mnist_folder_errors_name_the_file)
{
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_idx_load_folder(dir, &tr, &te, &err), TMLP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "train-images-idx3-ubyte"));
    mnist_like(5, 4, 0); /* 5 images, 4 labels */
    ck_assert_int_eq(tmlp_idx_load_folder(dir, &tr, &te, &err), TMLP_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "holds 5 images but"));
    ck_assert_ptr_nonnull(strstr(err.msg, "holds 4 labels"));
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(te);
}
END_TEST

/* Issue 18: bytes after the gzip data that do not start another member are refused, like
 * trailing bytes in a plain file; concatenated members are one stream, as gzip -d reads them. */
START_TEST(gzip_trailing_garbage_is_refused_members_are_joined)
{
    unsigned char buf[64];
    size_t h = header(buf, TMLP_IDX_U8, 1, (unsigned[]){ 6 });
    for (int i = 0; i < 6; i++)
        buf[h + i] = (unsigned char)(10 + i);
    const char *path = put("garbage.gz", buf, h + 6, 1);
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    fputs("GARBAGE", f);
    fclose(f);
    read_fails(path, TMLP_EFORMAT, "trailing garbage after the gzip data (7 byte(s)");
    path = put("zeros.gz", buf, h + 6, 1);          /* zero padding, as some tools add */
    f = fopen(path, "ab");
    fputc(0, f);
    fputc(0, f);
    fclose(f);
    read_fails(path, TMLP_EFORMAT, "trailing garbage");
    /* two members: header + 2 elements, then 4 more */
    char second[128];
    snprintf(second, sizeof second, "%s/second.gz", dir);
    gzFile z = gzopen(second, "wb");
    gzwrite(z, buf + h + 2, 4);
    gzclose(z);
    path = put("two.gz", buf, h + 2, 1);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cat '%s' >> '%s'", second, path);
    ck_assert_int_eq(system(cmd), 0);
    tmlp_idx idx;
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_idx_read(path, &idx, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_uint_eq(idx.count, 6);
    ck_assert_float_eq(idx.data[5], 15.0f);
    tmlp_idx_free(&idx);
    /* a damaged second member is an error, naming the byte */
    f = fopen(path, "ab");
    fputs("\x1f\x8bXXXXXXXXXXXX", f);
    fclose(f);
    read_fails(path, TMLP_EFORMAT, "damaged gzip stream");
}
END_TEST

/* Issue 15: a gzip file claiming a million images beside a file of ten labels is refused
 * from the two headers, before one byte of image data is inflated. (The images here are a
 * 1.1 MB stored gzip stream cut short: a reader that inflated first would fail on that.) */
START_TEST(folder_cross_checks_counts_before_inflating)
{
    mnist_like(5, 5, 0);
    static unsigned char big[1u << 20];
    /* 64 MiB claimed: under TMLP_IDX_GZ_MAX_RATIO for this file, so the headers decide */
    size_t h = header(big, TMLP_IDX_U8, 2, (unsigned[]){ 1048576, 64 });
    char name[160];
    snprintf(name, sizeof name, "%s/train-images-idx3-ubyte", dir);
    unlink(name);
    snprintf(name, sizeof name, "%s/train-images-idx3-ubyte.gz", dir);
    gzFile z = gzopen(name, "wb0");                 /* stored: 1 MB in, 1 MB out */
    ck_assert_ptr_nonnull(z);
    gzwrite(z, big, (unsigned)h);
    for (int i = 0; i < 11; i++) {
        for (size_t k = 0; k < sizeof big / 10; k++)
            big[k] = (unsigned char)(k * 31 + (size_t)i);
        gzwrite(z, big, sizeof big / 10);
    }
    gzclose(z);
    struct stat st;
    ck_assert_int_eq(stat(name, &st), 0);
    ck_assert_int_eq(truncate(name, st.st_size - 100), 0);   /* no trailer, cut mid-block */
    unsigned char lb[64];
    size_t hl = header(lb, TMLP_IDX_U8, 1, (unsigned[]){ 10 });
    memset(lb + hl, 1, 10);
    snprintf(name, sizeof name, "train-labels-idx1-ubyte");
    put(name, lb, hl + 10, 0);
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_idx_load_folder(dir, &tr, &te, &err), TMLP_EFORMAT);
    ck_assert_msg(strstr(err.msg, "holds 1048576 images but") && strstr(err.msg, "holds 10 labels"),
                  "%s", err.msg);
    ck_assert_ptr_null(tr);
}
END_TEST

START_TEST(real_mnist_when_fetched)
{
    struct stat st;
    if (stat("data/mnist/train-images-idx3-ubyte", &st) != 0) {
        fprintf(stderr, "real_mnist_when_fetched: SKIPPED, data/mnist not fetched (make data)\n");
        return;
    }
    tmlp_data *tr, *te;
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_idx_load_folder("data/mnist", &tr, &te, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(tr->n, 60000);
    ck_assert_int_eq(te->n, 10000);
    ck_assert_int_eq(tr->n_in, 784);
    ck_assert_int_eq(tr->n_classes, 10);
    ck_assert_int_eq(tr->label[0], 5); /* the famous first training digit */
    ck_assert_int_eq(te->label[0], 7);
    tmlp_data_free(tr);
    tmlp_data_free(te);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("idx");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reads_every_element_type_plain_and_gzip);
    tcase_add_test(tc, bad_files_fail_with_what_and_where);
    tcase_add_test(tc, cut_gzip_stream_is_an_error);
    tcase_add_test(tc, lying_header_is_refused_before_allocating);
    tcase_add_test(tc, missing_file_and_folder_are_named);
    tcase_add_test(tc, mnist_folder_loads_scaled_with_labels);
    tcase_add_test(tc, mnist_folder_errors_name_the_file);
    tcase_add_test(tc, real_mnist_when_fetched);
    tcase_add_test(tc, gzip_trailing_garbage_is_refused_members_are_joined);
    tcase_add_test(tc, folder_cross_checks_counts_before_inflating);
    tcase_add_test(tc, gzip_expanding_past_the_cap_is_refused_plain_is_read);
    suite_add_tcase(s, tc);
    return s;
}

TMLP_TEST_MAIN()
