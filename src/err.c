/* err.c: the error record every fallible call fills. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tinymlp/err.h"

int tmlp_fail(tmlp_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
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
