/* ini.h: the reader of `tinymlp train --config FILE` (our own, in place of libinih, whose
 * fixed line buffer split long lines in two and whose line numbers could be off by one).
 *
 * The format: "key = value" lines; "[section]" lines, which name the section of the keys after
 * them (passed to the callback; train ignores it, sweep reads [grid]); blank lines; comments
 * from ';' or '#' at the start of a line, or after a space or tab inside one. Keys and values
 * are trimmed. Everything else is refused with its line number, including a line longer than
 * CLI_INI_MAX_LINE bytes and a NUL byte. The file must be a regular file of at most
 * CLI_INI_MAX_FILE bytes (no FIFO, device or /dev/zero: they are refused, never read). */
#ifndef TINYMLP_CLI_INI_H
#define TINYMLP_CLI_INI_H

#include <stddef.h>
#include "tinymlp.h"

enum { CLI_INI_MAX_LINE = 4096, CLI_INI_MAX_FILE = 1 << 20 };

/* Called once per "key = value" line, in order, with the section it is in ("" before any
 * "[section]" line). Returns 0 to go on, or nonzero after writing why (at most why_size
 * bytes, no line number) to stop. */
typedef int (*cli_ini_fn)(void *user, const char *section, const char *key, const char *value,
                          char *why, size_t why_size);

/* Parses len bytes of text (need not end in a NUL or a newline). Returns TMLP_OK, or
 * TMLP_EFORMAT with err->msg "NAME:LINE: what is wrong" (name: what to call the text). */
int cli_ini_parse(const char *text, size_t len, const char *name, cli_ini_fn fn, void *user,
                  tmlp_err *err);

/* Reads path (refusing anything but a regular file of at most CLI_INI_MAX_FILE bytes, with
 * TMLP_EIO) and parses it as cli_ini_parse does. */
int cli_ini_read(const char *path, cli_ini_fn fn, void *user, tmlp_err *err);

#endif
