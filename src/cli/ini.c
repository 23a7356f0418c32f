/* ini.c: the --config reader (see ini.h): a whole file read at once, then parsed line by line
 * in place of a copy, so no line is ever split and every error names its real line. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims s[0..*n) of spaces at both ends; returns the new start. */
static char *trim(char *s, size_t *n)
{
    while (*n && is_space(*s))
        s++, (*n)--;
    while (*n && is_space(s[*n - 1]))
        (*n)--;
    s[*n] = '\0';
    return s;
}

/* One line (a private, NUL-terminated copy of at most CLI_INI_MAX_LINE bytes). */
static int parse_line(char *s, size_t n, long line, const char *name, char *section,
                      cli_ini_fn fn, void *user, tmlp_err *err)
{
    char why[200];
    if (n >= 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
        (unsigned char)s[2] == 0xbf && line == 1)
        s += 3, n -= 3;                              /* a UTF-8 byte-order mark */
    s = trim(s, &n);
    if (!n || *s == ';' || *s == '#')
        return TMLP_OK;
    for (size_t i = 1; i < n; i++)                   /* an inline comment after a blank */
        if ((s[i] == ';' || s[i] == '#') && is_space(s[i - 1])) {
            n = i;
            s = trim(s, &n);
            break;
        }
    if (*s == '[') {
        if (s[n - 1] != ']')
            return tmlp_fail(err, TMLP_EFORMAT, "%.200s:%ld: a section header without its ']'",
                             name, line);
        size_t sn = n - 2;
        memmove(section, trim(s + 1, &sn), sn + 1); /* fits: the line did */
        return TMLP_OK;
    }
    char *eq = memchr(s, '=', n);
    if (!eq)
        return tmlp_fail(err, TMLP_EFORMAT, "%.200s:%ld: not a 'key = value' line", name, line);
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    char *key = trim(s, &kn), *value = trim(eq + 1, &vn);
    if (!kn)
        return tmlp_fail(err, TMLP_EFORMAT, "%.200s:%ld: a value without a key", name, line);
    why[0] = '\0';
    if (fn(user, section, key, value, why, sizeof why))
        return tmlp_fail(err, TMLP_EFORMAT, "%.200s:%ld: %s", name, line,
                         why[0] ? why : "refused");
    return TMLP_OK;
}

int cli_ini_parse(const char *text, size_t len, const char *name, cli_ini_fn fn, void *user,
                  tmlp_err *err)
{
    char buf[CLI_INI_MAX_LINE + 1];                  /* one line at a time, NUL-terminated */
    char section[CLI_INI_MAX_LINE + 1] = "";         /* the last "[section]" line's name */
    long line = 0;
    size_t at = 0;
    while (at < len) {
        line++;
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        if (n > CLI_INI_MAX_LINE)
            return tmlp_fail(err, TMLP_EFORMAT, "%.200s:%ld: the line is longer than %d bytes "
                             "(%zu): refused rather than cut", name, line, CLI_INI_MAX_LINE, n);
        if (memchr(text + at, '\0', n))
            return tmlp_fail(err, TMLP_EFORMAT, "%.200s:%ld: a NUL byte: not a text file",
                             name, line);
        memcpy(buf, text + at, n);
        buf[n] = '\0';
        int rc = parse_line(buf, n, line, name, section, fn, user, err);
        if (rc != TMLP_OK)
            return rc;
        at += n + (nl != NULL);
    }
    return TMLP_OK;
}

int cli_ini_read(const char *path, cli_ini_fn fn, void *user, tmlp_err *err)
{
    /* O_NONBLOCK: opening a FIFO with no writer returns at once, and is then refused */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tmlp_fail(err, TMLP_EIO, "cannot read the config file '%.200s': %s", path,
                         strerror(errno));
    struct stat st;
    char *text = NULL;
    int rc = TMLP_OK;
    if (fstat(fd, &st) != 0) {
        rc = tmlp_fail(err, TMLP_EIO, "cannot read the config file '%.200s': %s", path,
                       strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = tmlp_fail(err, TMLP_EIO, "the config file '%.200s' is not a regular file (a %s): "
                       "refused", path, S_ISDIR(st.st_mode) ? "folder" : S_ISFIFO(st.st_mode) ?
                       "FIFO" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device" : "socket");
    } else if (st.st_size > CLI_INI_MAX_FILE) {
        rc = tmlp_fail(err, TMLP_EIO, "the config file '%.200s' is %lld bytes; at most %d are "
                       "read", path, (long long)st.st_size, CLI_INI_MAX_FILE);
    } else if (!(text = malloc((size_t)st.st_size + 1))) {
        rc = tmlp_fail(err, TMLP_ENOMEM, "%.200s: no memory", path);
    }
    size_t len = 0;
    while (rc == TMLP_OK) {                          /* at most size + 1: growing is refused */
        ssize_t got = read(fd, text + len, (size_t)st.st_size + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            rc = tmlp_fail(err, TMLP_EIO, "reading the config file '%.200s' failed: %s", path,
                           strerror(errno));
        else if (got == 0)
            break;
        else if ((len += (size_t)got) > (size_t)st.st_size)
            rc = tmlp_fail(err, TMLP_EIO, "the config file '%.200s' grew while it was read",
                           path);
    }
    close(fd);
    if (rc == TMLP_OK)
        rc = cli_ini_parse(text, len, path, fn, user, err);
    free(text);
    return rc;
}
