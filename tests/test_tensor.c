/* test_tensor.c: the GEMM wrappers (whole, and split between a team) against the naive
 * reference, in all four transpose forms. */
#include "testutil.h"

static void fill(tmlp_rng *r, float *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = 2.0f * tmlp_rng_uniform(r) - 1.0f;
}

START_TEST(gemm_matches_reference_in_every_transpose_form)
{
    tmlp_rng r;
    tmlp_rng_seed(&r, 42, 0);
    const int m = 7, n = 5, k = 9;
    float a[7 * 9], b[9 * 5], c1[7 * 5], c2[7 * 5];
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            fill(&r, a, m * k);
            fill(&r, b, k * n);
            fill(&r, c1, m * n);
            memcpy(c2, c1, sizeof c1);
            tmlp_mat A = ta ? tmlp_mat_view(a, k, m) : tmlp_mat_view(a, m, k);
            tmlp_mat B = tb ? tmlp_mat_view(b, n, k) : tmlp_mat_view(b, k, n);
            ck_assert_int_eq(tmlp_gemm(ta, tb, 0.5f, A, B, 0.25f, tmlp_mat_view(c1, m, n)), TMLP_OK);
            ck_assert_int_eq(tmlp_gemm_ref(ta, tb, 0.5f, A, B, 0.25f, tmlp_mat_view(c2, m, n)), TMLP_OK);
            for (int i = 0; i < m * n; i++)
                ck_assert_close(c1[i], c2[i], 1e-5);
        }
}
END_TEST

START_TEST(gemm_respects_row_stride)
{
    /* A 2x2 block inside a 2x3 buffer: the third column must be skipped. */
    float a[6] = { 1, 2, 99, 3, 4, 99 }, b[4] = { 1, 0, 0, 1 }, c[4] = { 0 };
    tmlp_mat A = { 2, 2, 3, a };
    ck_assert_int_eq(tmlp_gemm(TMLP_NOTRANS, TMLP_NOTRANS, 1.0f, A, tmlp_mat_view(b, 2, 2), 0.0f,
                               tmlp_mat_view(c, 2, 2)), TMLP_OK);
    ck_assert_float_eq(c[0], 1.0f);
    ck_assert_float_eq(c[1], 2.0f);
    ck_assert_float_eq(c[2], 3.0f);
    ck_assert_float_eq(c[3], 4.0f);
}
END_TEST

START_TEST(gemm_rejects_mismatched_shapes)
{
    float a[6] = { 0 }, b[6] = { 0 }, c[4] = { 7, 7, 7, 7 };
    int rc = tmlp_gemm(TMLP_NOTRANS, TMLP_NOTRANS, 1.0f, tmlp_mat_view(a, 2, 3),
                       tmlp_mat_view(b, 2, 3), 0.0f, tmlp_mat_view(c, 2, 2));
    ck_assert_int_eq(rc, TMLP_EINVAL);
    ck_assert_float_eq(c[0], 7.0f); /* untouched */
    ck_assert_int_eq(tmlp_gemm_ref(TMLP_NOTRANS, TMLP_NOTRANS, 1.0f, tmlp_mat_view(a, 2, 3),
                                   tmlp_mat_view(b, 2, 3), 0.0f, tmlp_mat_view(c, 2, 2)),
                     TMLP_EINVAL);
}
END_TEST

START_TEST(beta_zero_ignores_nan_in_output)
{
    float a[1] = { 2 }, b[1] = { 3 }, c[1] = { NAN }, d[1] = { NAN };
    tmlp_gemm(0, 0, 1.0f, tmlp_mat_view(a, 1, 1), tmlp_mat_view(b, 1, 1), 0.0f, tmlp_mat_view(c, 1, 1));
    tmlp_gemm_ref(0, 0, 1.0f, tmlp_mat_view(a, 1, 1), tmlp_mat_view(b, 1, 1), 0.0f, tmlp_mat_view(d, 1, 1));
    ck_assert_float_eq(c[0], 6.0f);
    ck_assert_float_eq(d[0], 6.0f);
}
END_TEST

START_TEST(norm2_is_euclidean)
{
    float x[3] = { 3, 4, 0 };
    ck_assert_close(tmlp_norm2(x, 3), 5.0, 1e-12);
    ck_assert_close(tmlp_norm2(x, 0), 0.0, 1e-12);
}
END_TEST

/* Split between teams of 1 to 4 threads, in every transpose form, C cut by columns and by
 * rows into blocks that are not all full multiples of 16, inside a wider buffer whose padding
 * must stay untouched: every product matches the reference. */
START_TEST(team_gemm_matches_reference)
{
    tmlp_rng r;
    tmlp_rng_seed(&r, 7, 0);
    static const int shapes[][3] = { { 37, 150, 40 }, { 150, 37, 40 }, { 64, 64, 64 }, { 5, 3, 2 } };
    enum { PAD = 3 };
    tmlp_blas_threads(1); /* a team splits GEMMs only while OpenBLAS runs one thread */
    size_t cap = 160 * 160;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    float *c1 = malloc(cap * sizeof *c1), *c2 = malloc(cap * sizeof *c2);
    ck_assert(a && b && c1 && c2);
    for (int threads = 1; threads <= 4; threads++) {
        tmlp_team *team = tmlp_team_new(threads, NULL);
        ck_assert_ptr_nonnull(team);
        for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    int m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
                    fill(&r, a, m * k);
                    fill(&r, b, k * n);
                    fill(&r, c1, m * (n + PAD));
                    memcpy(c2, c1, (size_t)m * (n + PAD) * sizeof *c1);
                    tmlp_mat A = ta ? tmlp_mat_view(a, k, m) : tmlp_mat_view(a, m, k);
                    tmlp_mat B = tb ? tmlp_mat_view(b, n, k) : tmlp_mat_view(b, k, n);
                    tmlp_mat C1 = { m, n, n + PAD, c1 }, C2 = { m, n, n + PAD, c2 };
                    int split = (ta + tb + (int)sh) % 2; /* both ways, over the cases */
                    ck_assert_int_eq(tmlp_gemm_team(team, split, ta, tb, 0.5f, A, B, 0.25f, C1), TMLP_OK);
                    ck_assert_int_eq(tmlp_gemm_ref(ta, tb, 0.5f, A, B, 0.25f, C2), TMLP_OK);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n + PAD; j++) {
                            size_t at = (size_t)i * (n + PAD) + j;
                            if (j < n)
                                ck_assert_msg(fabsf(c1[at] - c2[at]) <= 1e-5f * (1.0f + fabsf(c2[at])),
                                              "%d threads, %dx%dx%d, ta %d tb %d: (%d, %d) is %g, "
                                              "not %g", threads, m, n, k, ta, tb, i, j,
                                              (double)c1[at], (double)c2[at]);
                            else
                                ck_assert_float_eq(c1[at], c2[at]); /* padding untouched */
                        }
                }
        /* shapes that do not agree are refused before any thread is asked */
        ck_assert_int_eq(tmlp_gemm_team(team, TMLP_SPLIT_COLS, 0, 0, 1.0f, tmlp_mat_view(a, 2, 3),
                                        tmlp_mat_view(b, 2, 3), 0.0f, tmlp_mat_view(c1, 2, 2)),
                         TMLP_EINVAL);
        tmlp_team_free(team);
    }
    /* with OpenBLAS on two threads of its own the product is left whole, and still right */
    tmlp_team *team = tmlp_team_new(2, NULL);
    tmlp_blas_threads(2);
    ck_assert_int_eq(tmlp_blas_threads_get(), 2);
    fill(&r, a, 64 * 64);
    fill(&r, b, 64 * 64);
    ck_assert_int_eq(tmlp_gemm_team(team, TMLP_SPLIT_ROWS, 0, 0, 1.0f, tmlp_mat_view(a, 64, 64), tmlp_mat_view(b, 64, 64),
                                    0.0f, tmlp_mat_view(c1, 64, 64)), TMLP_OK);
    tmlp_gemm_ref(0, 0, 1.0f, tmlp_mat_view(a, 64, 64), tmlp_mat_view(b, 64, 64), 0.0f,
                  tmlp_mat_view(c2, 64, 64));
    for (int i = 0; i < 64 * 64; i++)
        ck_assert_close(c1[i], c2[i], 1e-5);
    tmlp_blas_threads(1);
    tmlp_team_free(team);
    free(a);
    free(b);
    free(c1);
    free(c2);
}
END_TEST

/* One thread cuts a small product (blocks of at most 2^20 multiply-adds) into the blocks a
 * team of two uses, so the two give the same bits; a large product runs whole, as one
 * OpenBLAS call. */
START_TEST(one_thread_cuts_small_products_like_a_team_of_two)
{
    tmlp_rng r;
    tmlp_rng_seed(&r, 11, 0);
    tmlp_blas_threads(1);
    tmlp_team *two = tmlp_team_new(2, NULL);
    ck_assert_ptr_nonnull(two);
    /* MNIST's 784-128 layer at batch 32: Z = X·Wᵀ by columns, dW = dZᵀ·X by rows */
    const int batch = 32, units = 128, n_in = 784;
    float *x = malloc((size_t)batch * n_in * sizeof *x), *w = malloc((size_t)units * n_in * sizeof *w);
    float *z1 = malloc((size_t)batch * units * sizeof *z1), *z2 = malloc((size_t)batch * units * sizeof *z2);
    float *d1 = malloc((size_t)units * n_in * sizeof *d1), *d2 = malloc((size_t)units * n_in * sizeof *d2);
    ck_assert(x && w && z1 && z2 && d1 && d2);
    fill(&r, x, batch * n_in);
    fill(&r, w, units * n_in);
    tmlp_mat X = tmlp_mat_view(x, batch, n_in), W = tmlp_mat_view(w, units, n_in);
    ck_assert_int_eq(tmlp_gemm_team(NULL, TMLP_SPLIT_COLS, 0, 1, 1.0f, X, W, 0.0f,
                                    tmlp_mat_view(z1, batch, units)), TMLP_OK);
    ck_assert_int_eq(tmlp_gemm_team(two, TMLP_SPLIT_COLS, 0, 1, 1.0f, X, W, 0.0f,
                                    tmlp_mat_view(z2, batch, units)), TMLP_OK);
    ck_assert(memcmp(z1, z2, (size_t)batch * units * sizeof *z1) == 0);
    tmlp_mat dZ = tmlp_mat_view(z1, batch, units);
    ck_assert_int_eq(tmlp_gemm_team(NULL, TMLP_SPLIT_ROWS, 1, 0, 1.0f, dZ, X, 0.0f,
                                    tmlp_mat_view(d1, units, n_in)), TMLP_OK);
    ck_assert_int_eq(tmlp_gemm_team(two, TMLP_SPLIT_ROWS, 1, 0, 1.0f, dZ, X, 0.0f,
                                    tmlp_mat_view(d2, units, n_in)), TMLP_OK);
    ck_assert(memcmp(d1, d2, (size_t)units * n_in * sizeof *d1) == 0);
    /* 128 x 128 x 784: blocks of 3.2M multiply-adds, so one thread runs it whole */
    float *big = malloc((size_t)units * n_in * sizeof *big);
    ck_assert_ptr_nonnull(big);
    fill(&r, big, units * n_in);
    tmlp_mat B = tmlp_mat_view(big, units, n_in);
    ck_assert_int_eq(tmlp_gemm_team(NULL, TMLP_SPLIT_COLS, 0, 1, 1.0f, B, W, 0.0f,
                                    tmlp_mat_view(d1, units, units)), TMLP_OK);
    ck_assert_int_eq(tmlp_gemm(0, 1, 1.0f, B, W, 0.0f, tmlp_mat_view(d2, units, units)), TMLP_OK);
    ck_assert(memcmp(d1, d2, (size_t)units * units * sizeof *d1) == 0);
    tmlp_team_free(two);
    free(x); free(w); free(z1); free(z2); free(d1); free(d2); free(big);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tensor");
    TMLP_ADD(s, gemm_matches_reference_in_every_transpose_form);
    TMLP_ADD(s, gemm_respects_row_stride);
    TMLP_ADD(s, team_gemm_matches_reference);
    TMLP_ADD(s, one_thread_cuts_small_products_like_a_team_of_two);
    TMLP_ADD(s, gemm_rejects_mismatched_shapes);
    TMLP_ADD(s, beta_zero_ignores_nan_in_output);
    TMLP_ADD(s, norm2_is_euclidean);
    return s;
}

TMLP_TEST_MAIN()
