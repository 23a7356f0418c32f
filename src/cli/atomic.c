/* atomic.c: temporary file, fsync, rename: the CLI's files appear complete or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "paths.h"

#define SUFFIX ".tmp.XXXXXX"

/* Refuses a path that rename would clobber wrongly: a folder, or a read-only file. */
static int check_target(const char *path, const char *what, tmlp_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return TMLP_OK;
    if (!S_ISREG(st.st_mode))
        return tmlp_fail(err, TMLP_EIO, "%s: cannot write %s there: it exists and is not a "
                         "regular file (a folder?)", path, what);
    if (!(st.st_mode & 0222))
        return tmlp_fail(err, TMLP_EIO, "%s: cannot write %s there: the file is read-only",
                         path, what);
    return TMLP_OK;
}

/* mkstemp of "<path>.tmp.XXXXXX"; the name into *tmp (caller frees). */
static int make_tmp(const char *path, const char *what, char **tmp, tmlp_err *err)
{
    size_t len = strlen(path);
    if (!(*tmp = malloc(len + sizeof SUFFIX)))
        return tmlp_fail(err, TMLP_ENOMEM, "%s: no memory", path);
    memcpy(*tmp, path, len);
    memcpy(*tmp + len, SUFFIX, sizeof SUFFIX);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        return tmlp_fail(err, TMLP_EIO, "%s: cannot write %s there: %s", path, what, strerror(e));
    }
    return fd;
}

int cli_out_check(const char *path, const char *what, tmlp_err *err)
{
    char *target;                                   /* a symlink: its target is written */
    int rc = cli_out_target(path, what, &target, err);
    if (rc != TMLP_OK)
        return rc;
    if (target)
        path = target;
    char *tmp;
    int fd = (rc = check_target(path, what, err)) != TMLP_OK ? rc : make_tmp(path, what, &tmp, err);
    free(target);
    if (fd < 0)
        return fd;
    close(fd);
    unlink(tmp);
    free(tmp);
    return TMLP_OK;
}

int cli_out_open(cli_out *o, const char *path, const char *what, tmlp_err *err)
{
    memset(o, 0, sizeof *o);
    char *target;                                   /* a symlink: written through, kept */
    int rc = cli_out_target(path, what, &target, err);
    if (rc != TMLP_OK)
        return rc;
    if (target)
        path = o->path = target;
    if ((rc = check_target(path, what, err)) != TMLP_OK) {
        cli_out_abort(o);
        return rc;
    }
    int fd = make_tmp(path, what, &o->tmp, err);
    if (fd < 0) {
        cli_out_abort(o);
        return fd;
    }
    struct stat st;                                 /* keep the mode of the file replaced */
    mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w")) ||
        (!o->path && !(o->path = strdup(path)))) {
        rc = tmlp_fail(err, TMLP_EIO, "%s: %s: %s", path, o->tmp, strerror(errno));
        if (!o->f)
            close(fd);
        cli_out_abort(o);
        return rc;
    }
    return TMLP_OK;
}

/* fsyncs the folder holding path, so the rename survives a crash. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    free(dir);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int cli_out_commit(cli_out *o, tmlp_err *err)
{
    int rc = TMLP_OK;
    if (!o->f)
        return tmlp_fail(err, TMLP_EIO, "%s: not open", o->path ? o->path : "(output)");
    int ok = fflush(o->f) == 0 && !ferror(o->f) && fsync(fileno(o->f)) == 0;
    int e = errno;
    ok = fclose(o->f) == 0 && ok;
    e = ok ? 0 : e ? e : errno;
    o->f = NULL;
    if (!ok)
        rc = tmlp_fail(err, TMLP_EIO, "%s: writing %s failed: %s", o->path, o->tmp, strerror(e));
    else if (rename(o->tmp, o->path) != 0)
        rc = tmlp_fail(err, TMLP_EIO, "%s: cannot replace it: %s", o->path, strerror(errno));
    else
        sync_dir(o->path);
    if (rc == TMLP_OK) {
        free(o->tmp);
        o->tmp = NULL;
    }
    cli_out_abort(o);
    return rc;
}

void cli_out_abort(cli_out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}
