/* err.c: the error record every fallible call fills. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tinymlp/err.h"

/* A message cut to fit may end inside a UTF-8 character; drop that character's first bytes
 * so the line stays valid UTF-8 (a terminal would show a replacement glyph otherwise). */
static void drop_partial_utf8(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--; /* back over continuation bytes to the lead byte */
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

int tmlp_fail(tmlp_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        int len = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (len >= (int)sizeof err->msg)
            drop_partial_utf8(err->msg);
        /* Messages quote file names and CSV cells: a control byte in one could move the
         * cursor, recolour the terminal or split the CLI's one error line, so it becomes '?'.
         * Bytes >= 0x80 stay, so UTF-8 names read as typed. */
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    }
    return code;
}

void tmlp_err_clear(tmlp_err *err)
{
    if (err) {
        err->code = TMLP_OK;
        err->msg[0] = '\0';
    }
}

const char *tmlp_strerror(int code)
{
    switch (code) {
    case TMLP_OK: return "ok";
    case TMLP_EINVAL: return "invalid argument";
    case TMLP_ENOMEM: return "out of memory";
    case TMLP_EIO: return "input/output error";
    case TMLP_EFORMAT: return "bad file format";
    case TMLP_ENOTFOUND: return "not found";
    case TMLP_ENUMERIC: return "numerical failure (NaN or infinity)";
    case TMLP_ESTATE: return "not possible in this state";
    default: return "unknown error";
    }
}
