/* fuzz.h: what the fuzz targets share (fuzz/README.md says how they run).
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with clang -fsanitize=fuzzer it is a
 * libFuzzer binary (make fuzz); built with fuzz/replay.c it replays files (the seed corpus
 * and tests/regress/) under the normal test build and make asan. A crash, a sanitizer report,
 * a leak or a timeout is a finding; any return value from the library is fine. */
#ifndef TINYMLP_FUZZ_H
#define TINYMLP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A file path of this process's own in /tmp (or $TMPDIR), numbered k. */
static inline const char *fuzz_path(int k, const char *suffix)
{
    static char path[8][256];
    const char *dir = getenv("TMPDIR");
    snprintf(path[k & 7], sizeof path[k & 7], "%s/tmlp_fuzz_%ld_%d%s", dir && *dir ? dir : "/tmp",
             (long)getpid(), k, suffix ? suffix : "");
    return path[k & 7];
}

/* Writes size bytes to path (replacing it); 0 when it cannot. */
static inline int fuzz_write(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* The CLI code prints usage errors through stdout/stderr: point those streams at /dev/null
 * (sanitizers and libFuzzer still write their reports to file descriptor 2). */
static inline void fuzz_quiet(void)
{
    static int done;
    if (done++)
        return;
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        stdout = null;
        stderr = null;
    }
}

#endif
