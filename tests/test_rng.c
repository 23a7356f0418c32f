/* test_rng.c: PCG32 against its published reference output, ranges, shuffle. */
#include "testutil.h"

START_TEST(pcg32_matches_reference_sequence)
{
    /* pcg32-demo from the PCG reference implementation: seed 42, stream 54. */
    static const uint32_t want[6] = { 0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                      0x83d2f293, 0xbfa4784b, 0xcbed606e };
    tmlp_rng r;
    tmlp_rng_seed(&r, 42u, 54u);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(tmlp_rng_u32(&r), want[i]);
}
END_TEST

START_TEST(same_seed_same_sequence_other_seed_differs)
{
    tmlp_rng a, b, c;
    tmlp_rng_seed(&a, 7, 1);
    tmlp_rng_seed(&b, 7, 1);
    tmlp_rng_seed(&c, 8, 1);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = tmlp_rng_u32(&a);
        ck_assert_uint_eq(x, tmlp_rng_u32(&b));
        differ += x != tmlp_rng_u32(&c);
    }
    ck_assert_int_gt(differ, 95);
}
END_TEST

START_TEST(uniform_below_and_normal_have_right_ranges_and_moments)
{
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 2);
    double su = 0, sn = 0, sn2 = 0;
    int counts[3] = { 0 };
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = tmlp_rng_uniform(&r);
        ck_assert(u >= 0.0f && u < 1.0f);
        su += u;
        float z = tmlp_rng_normal(&r);
        ck_assert(isfinite(z));
        sn += z;
        sn2 += (double)z * z;
        uint32_t k = tmlp_rng_below(&r, 3);
        ck_assert_uint_lt(k, 3);
        counts[k]++;
    }
    ck_assert_close(su / n, 0.5, 0.01);
    ck_assert_close(sn / n, 0.0, 0.01);
    ck_assert_close(sn2 / n, 1.0, 0.02);
    for (int k = 0; k < 3; k++)
        ck_assert_close(counts[k] / (double)n, 1.0 / 3.0, 0.01);
}
END_TEST

START_TEST(shuffle_is_a_permutation_and_reproducible)
{
    int a[50], b[50], seen[50] = { 0 };
    for (int i = 0; i < 50; i++)
        a[i] = b[i] = i;
    tmlp_rng r1, r2;
    tmlp_rng_seed(&r1, 3, 3);
    tmlp_rng_seed(&r2, 3, 3);
    tmlp_rng_shuffle(&r1, a, 50);
    tmlp_rng_shuffle(&r2, b, 50);
    int moved = 0;
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(a[i], b[i]);
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 40);
}
END_TEST

START_TEST(advance_equals_that_many_draws)
{
    const uint64_t steps[] = { 0, 1, 2, 3, 17, 1000, 65537 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        tmlp_rng a, b;
        tmlp_rng_seed(&a, 42 + i, 0xd20b);
        b = a;
        for (uint64_t k = 0; k < steps[i]; k++)
            (void)tmlp_rng_u32(&a);
        tmlp_rng_advance(&b, steps[i]);
        ck_assert_msg(a.state == b.state && a.inc == b.inc, "advance by %lu", (unsigned long)steps[i]);
        ck_assert_uint_eq(tmlp_rng_u32(&a), tmlp_rng_u32(&b));
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rng");
    TMLP_ADD(s, pcg32_matches_reference_sequence);
    TMLP_ADD(s, same_seed_same_sequence_other_seed_differs);
    TMLP_ADD(s, uniform_below_and_normal_have_right_ranges_and_moments);
    TMLP_ADD(s, shuffle_is_a_permutation_and_reproducible);
    TMLP_ADD(s, advance_equals_that_many_draws);
    return s;
}

TMLP_TEST_MAIN()
