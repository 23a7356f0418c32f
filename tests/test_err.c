/* test_err.c: the error record: formatting, truncation, NULL handling, code names. */
#include "testutil.h"

START_TEST(errors_format_and_name_codes)
{
    tmlp_err err;
    ck_assert_int_eq(tmlp_fail(&err, TMLP_EFORMAT, "%s: offset %d", "f.idx", 16), TMLP_EFORMAT);
    ck_assert_str_eq(err.msg, "f.idx: offset 16");
    ck_assert_int_eq(err.code, TMLP_EFORMAT);
    ck_assert_int_eq(tmlp_fail(NULL, TMLP_EIO, "ignored"), TMLP_EIO);
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tmlp_fail(&err, TMLP_EINVAL, "%s", big); /* truncated, still terminated */
    ck_assert_uint_eq(strlen(err.msg), TMLP_ERR_MSG - 1);
    tmlp_err_clear(&err);
    ck_assert_int_eq(err.code, TMLP_OK);
    ck_assert_str_eq(err.msg, "");
    tmlp_err_clear(NULL);
    for (int c = 0; c >= TMLP_ESTATE; c--)
        ck_assert_str_ne(tmlp_strerror(c), "unknown error");
    ck_assert_str_eq(tmlp_strerror(-99), "unknown error");
}
END_TEST

START_TEST(errors_replace_control_characters)
{
    /* A hostile file name: an escape sequence, a newline, a tab, DEL; UTF-8 is kept. */
    tmlp_err err;
    tmlp_fail(&err, TMLP_EIO, "%s: cannot open", "a\033[2Jb\nc\td\x7f\x01é.csv");
    ck_assert_str_eq(err.msg, "a?[2Jb?c?d??é.csv: cannot open");
    for (const char *c = err.msg; *c; c++)
        ck_assert((unsigned char)*c >= 0x20 && *c != 0x7f);
}
END_TEST

/* A message too long for the record is cut at a character boundary, never inside one. */
START_TEST(long_messages_are_cut_between_utf8_characters)
{
    for (int pad = 0; pad < 4; pad++) {
        char text[3 * TMLP_ERR_MSG];
        size_t k = 0;
        for (int i = 0; i < pad; i++)
            text[k++] = 'x';
        while (k + 5 < sizeof text) { /* "é" (2 bytes) and "€" (3 bytes), alternating */
            memcpy(text + k, "\xc3\xa9\xe2\x82\xac", 5);
            k += 5;
        }
        text[k] = '\0';
        tmlp_err err = { 0 };
        tmlp_fail(&err, TMLP_EINVAL, "%s", text);
        size_t n = strlen(err.msg);
        ck_assert_uint_gt(n, (size_t)TMLP_ERR_MSG - 5);
        /* valid UTF-8 to the end: every lead byte has all its continuation bytes */
        for (size_t i = 0; i < n;) {
            unsigned char c = (unsigned char)err.msg[i];
            size_t len = c < 0x80 ? 1 : c >= 0xE0 ? 3 : 2;
            ck_assert_msg(i + len <= n, "pad %d: a character cut at byte %zu of %zu", pad, i, n);
            i += len;
        }
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("err");
    TMLP_ADD(s, errors_format_and_name_codes);
    TMLP_ADD(s, errors_replace_control_characters);
    TMLP_ADD(s, long_messages_are_cut_between_utf8_characters);
    return s;
}

TMLP_TEST_MAIN()
