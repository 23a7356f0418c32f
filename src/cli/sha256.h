/* sha256.h: SHA-256 (FIPS 180-4) of a file, for the comments `tinymlp export` writes. */
#ifndef TINYMLP_CLI_SHA256_H
#define TINYMLP_CLI_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "tinymlp.h"

typedef struct cli_sha256 {
    uint32_t h[8];
    uint64_t n;            /* bytes hashed so far */
    unsigned char buf[64]; /* the partial block: n % 64 bytes */
} cli_sha256;

void cli_sha256_init(cli_sha256 *s);
void cli_sha256_update(cli_sha256 *s, const void *data, size_t len);
/* Writes the digest as 64 lower-case hex digits and a NUL into hex. */
void cli_sha256_hex(cli_sha256 *s, char hex[65]);

/* The SHA-256 of the file at path into hex. TMLP_EIO naming path when it cannot be read. */
int cli_sha256_file(const char *path, char hex[65], tmlp_err *err);

#endif
