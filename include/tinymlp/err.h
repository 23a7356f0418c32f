/* tinymlp/err.h: status codes and the caller-owned error record.
 *
 * Every fallible tinymlp call returns an int status (0 = ok, negative = kind) or NULL, and,
 * when given a non-NULL tmlp_err, fills it with one line saying what failed and where. The
 * library never prints, exits or aborts. */
#ifndef TINYMLP_ERR_H
#define TINYMLP_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TMLP_OK = 0,
    TMLP_EINVAL = -1,    /* a bad argument: size, name, option value */
    TMLP_ENOMEM = -2,    /* an allocation failed or a size would overflow */
    TMLP_EIO = -3,       /* the operating system refused a read or write */
    TMLP_EFORMAT = -4,   /* a file is not what its name or header says */
    TMLP_ENOTFOUND = -5, /* a name (activation, optimizer, file) does not exist */
    TMLP_ENUMERIC = -6,  /* a loss or gradient became NaN or infinite */
    TMLP_ESTATE = -7     /* a valid call at the wrong time (e.g. training through binary_step) */
};

#define TMLP_ERR_MSG 256

typedef struct tmlp_err {
    int code;               /* the last status, TMLP_OK if none */
    char msg[TMLP_ERR_MSG]; /* one line, no trailing newline */
} tmlp_err;

/* Fills err (if not NULL) with code and a printf-style message; returns code. Control
 * characters in the result (bytes below 0x20 and 0x7f) become '?', so text quoted from a file
 * name or a data file keeps the message one printable line; UTF-8 is kept as it is. */
int tmlp_fail(tmlp_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A short constant name for a status code ("invalid argument", ...). Never NULL. */
const char *tmlp_strerror(int code);

/* Clears err to TMLP_OK and an empty message. err may be NULL. */
void tmlp_err_clear(tmlp_err *err);

#ifdef __cplusplus
}
#endif
#endif
