/* paths.c: outputs that would destroy an input or each other, special files as inputs, and
 * symlinked outputs (see paths.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"

/* The resolved name of a path that may not exist yet: realpath of its folder, then its last
 * component. NULL when the folder cannot be resolved (the write fails later and says so). */
static char *resolved(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    char *rdir = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    if (!rdir)
        return NULL;
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(rdir) + strlen(base) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", strcmp(rdir, "/") ? rdir : "", base);
    free(rdir);
    return out;
}

int cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb)
        return 0;
    char *ra = resolved(a), *rb = resolved(b);
    int same = ra && rb ? !strcmp(ra, rb) : !strcmp(a, b);
    free(ra);
    free(rb);
    return same;
}

/* --checkpoint FILE --resume FILE: the run continues where it was saved, on purpose. */
static int resumed_there(const cli_file *out, const cli_file *in)
{
    return !strcmp(out->what, "--checkpoint") && !strcmp(in->what, "--resume");
}

int cli_files_check(const char *cmd, const cli_file *in, int n_in, const cli_file *out,
                    int n_out)
{
    for (int i = 0; i < n_out; i++) {
        if (!out[i].path)
            continue;
        if (!*out[i].path)
            return cli_usage_error(cmd, "%s needs a file name, got ''", out[i].what);
        for (int j = 0; j < n_in; j++)
            if (in[j].path && *in[j].path && !resumed_there(&out[i], &in[j]) &&
                cli_same_file(out[i].path, in[j].path))
                return cli_usage_error(cmd, "%s '%s' is the same file as %s '%s': writing it "
                                       "would destroy it", out[i].what, out[i].path, in[j].what,
                                       in[j].path);
        for (int j = 0; j < i; j++)
            if (out[j].path && cli_same_file(out[i].path, out[j].path))
                return cli_usage_error(cmd, "%s '%s' and %s '%s' are the same file: one "
                                       "would overwrite the other", out[j].what, out[j].path,
                                       out[i].what, out[i].path);
    }
    return 0;
}

/* Follows the links of path by hand to the name they end at (which need not exist: a link
 * to a file not written yet); NULL on a loop or an unreadable link. */
static char *follow(const char *path)
{
    char *cur = strdup(path);
    for (int depth = 0; cur && depth < 40; depth++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        char link[4096];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n <= 0)
            break;
        link[n] = '\0';
        const char *slash = strrchr(cur, '/');
        size_t keep = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = malloc(keep + (size_t)n + 1);
        if (next) {
            memcpy(next, cur, keep);
            memcpy(next + keep, link, (size_t)n + 1);
        }
        free(cur);
        cur = next;
    }
    free(cur);
    return NULL;
}

int cli_out_target(const char *path, const char *what, char **target, tmlp_err *err)
{
    struct stat st;
    *target = NULL;
    if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
        return TMLP_OK;
    int e = 0;
    if (!(*target = realpath(path, NULL)) && (e = errno) == ENOENT)
        *target = follow(path);                     /* a link to a file not written yet */
    if (!*target)
        return tmlp_fail(err, TMLP_EIO, "%s: cannot write %s there: it is a symlink whose "
                         "target cannot be resolved (%s); it is not replaced", path, what,
                         strerror(e ? e : ELOOP));
    return TMLP_OK;
}

int cli_input_regular(const char *path, const char *what, tmlp_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return TMLP_OK;
    return tmlp_fail(err, TMLP_EIO, "%s: %s is not a regular file (a %s): refused", path, what,
                     S_ISFIFO(st.st_mode) ? "FIFO" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)
                     ? "device" : "socket");
}
