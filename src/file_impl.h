/* file_impl.h: opening a file the user named, for reading (private, not installed).
 *
 * Every reader of the library (CSV, IDX plain or gzip, model, checkpoint) opens its file
 * through here, so a character device (/dev/zero), a FIFO, a socket or a folder is refused
 * with one clear message before a byte is read: none of them can grow memory without end or
 * block the reader forever. The check is on the descriptor that is then read (open, fstat),
 * so the file cannot be swapped between the check and the use. */
#ifndef TINYMLP_FILE_IMPL_H
#define TINYMLP_FILE_IMPL_H

#include <stdio.h>
#include <sys/stat.h>

#include "tinymlp/err.h"

/* Opens path read-only as *out ("rb" stdio stream) if it is a regular file, filling *st
 * (may be NULL) from the open descriptor. what names the file's kind in messages ("CSV
 * file"). Returns TMLP_OK, or *out NULL and TMLP_ENOTFOUND (no such file) or TMLP_EIO (any
 * other open or stat failure, or not a regular file: the message says what it is). A FIFO
 * does not block the open. */
int tmlp_file_open(const char *path, const char *what, FILE **out, struct stat *st,
                   tmlp_err *err);

#endif
