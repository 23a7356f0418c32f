/* file.c: opening a file the user named, for reading; regular files only (file_impl.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "file_impl.h"

static const char *kind(mode_t m)
{
    return S_ISDIR(m) ? "a folder" : S_ISCHR(m) ? "a character device" : S_ISBLK(m)
         ? "a block device" : S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISSOCK(m) ? "a socket"
         : "not a regular file";
}

int tmlp_file_open(const char *path, const char *what, FILE **out, struct stat *st,
                   tmlp_err *err)
{
    struct stat own;
    st = st ? st : &own;
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return tmlp_fail(err, errno == ENOENT ? TMLP_ENOTFOUND : TMLP_EIO, "%s: cannot open: %s",
                         path, strerror(errno));
    int rc = TMLP_OK, fl;
    if (fstat(fd, st) != 0)
        rc = tmlp_fail(err, TMLP_EIO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st->st_mode))
        rc = tmlp_fail(err, TMLP_EIO, "%s: is %s, not a regular file (a %s must be a regular "
                       "file)", path, kind(st->st_mode), what);
    else if ((fl = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
             !(*out = fdopen(fd, "rb")))
        rc = tmlp_fail(err, TMLP_EIO, "%s: %s", path, strerror(errno));
    if (rc != TMLP_OK)
        close(fd);
    return rc;
}
