/* testutil.h: shared helpers for the Check suites (one suite per module, one binary each). */
#ifndef TINYMLP_TESTUTIL_H
#define TINYMLP_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp.h"

/* Each test file defines `static Suite *suite(void)` and ends with TMLP_TEST_MAIN(). A failing
 * test fails the binary. */
#define TMLP_TEST_MAIN()                                                    \
    int main(void)                                                          \
    {                                                                       \
        SRunner *sr = srunner_create(suite());                              \
        srunner_run_all(sr, CK_NORMAL);                                     \
        int failed = srunner_ntests_failed(sr);                             \
        srunner_free(sr);                                                   \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                        \
    }

/* Adds test fn to a new case of its own name in suite s. */
#define TMLP_ADD(s, fn)                                                     \
    do {                                                                    \
        TCase *tc_ = tcase_create(#fn);                                     \
        tcase_set_timeout(tc_, 60);                                         \
        tcase_add_test(tc_, fn);                                            \
        suite_add_tcase(s, tc_);                                            \
    } while (0)

/* |got - want| <= tol * max(1, |want|) */
#define ck_assert_close(got, want, tol)                                                   \
    do {                                                                                  \
        double g_ = (got), w_ = (want), t_ = (tol);                                       \
        ck_assert_msg(fabs(g_ - w_) <= t_ * fmax(1.0, fabs(w_)),                          \
                      "%s = %.9g, want %.9g (tol %g)", #got, g_, w_, t_);                 \
    } while (0)

#endif
