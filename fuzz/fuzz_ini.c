/* fuzz_ini.c: the --config INI reader (src/cli/ini.c) on its own, from memory and from a file.
 *
 * Input: a mode byte, then the file's text. Mode & 1: through cli_ini_read (a file); else
 * cli_ini_parse on the bytes. Mode & 2: the callback refuses the key "stop", as ini_key
 * refuses an unknown setting. Checks beyond "no crash": every key and value handed over is
 * trimmed, has no newline, and the key no '='; lines arrive in order; a parse that succeeds
 * had no line over CLI_INI_MAX_LINE bytes and no NUL byte (so no line was ever split); a
 * failure says where ("NAME:LINE:" with LINE at most the number of lines). */
#include <ctype.h>

#include "fuzz.h"
#include "../src/cli/ini.h"

typedef struct seen {
    long pairs;
    int refuse_stop;
} seen;

static void check_trimmed(const char *s, int may_be_empty)
{
    size_t n = strlen(s);
    if ((!n && !may_be_empty) || strchr(s, '\n'))
        abort();
    if (n && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1])))
        abort();
    if (n > CLI_INI_MAX_LINE)
        abort();
}

static int on_pair(void *user, const char *section, const char *key, const char *value,
                   char *why, size_t size)
{
    seen *s = user;
    check_trimmed(section, 1);
    check_trimmed(key, 0);
    check_trimmed(value, 1);
    if (strchr(key, '='))
        abort();
    s->pairs++;
    if (s->refuse_stop && !strcmp(key, "stop")) {
        snprintf(why, size, "stop refused");
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 16))
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    long lines = 0, longest = 0, cur = 0;
    int nul = 0;
    for (size_t i = 0; i < len; i++) {
        nul |= text[i] == '\0';
        if (text[i] == '\n') {
            lines++;
            cur = 0;
        } else if (++cur > longest) {
            longest = cur;
        }
    }
    if (len && text[len - 1] != '\n')
        lines++;
    seen s = { 0, data[0] & 2 };
    tmlp_err err = { 0 };
    int rc;
    if (data[0] & 1) {
        const char *path = fuzz_path(0, ".ini");
        if (!fuzz_write(path, text, len))
            return 0;
        rc = cli_ini_read(path, on_pair, &s, &err);
        unlink(path);
    } else {
        rc = cli_ini_parse(text, len, "fuzz.ini", on_pair, &s, &err);
    }
    if (rc == TMLP_OK) {
        if (longest > CLI_INI_MAX_LINE || nul || s.pairs > lines || err.msg[0])
            abort();
        return 0;
    }
    if (!err.msg[0] || (rc != TMLP_EFORMAT && !(data[0] & 1)))
        abort();
    if (rc == TMLP_EFORMAT) {                       /* "NAME:LINE: ..." names a real line */
        const char *colon = strchr(err.msg + (err.msg[0] == '/' ? 1 : 0), ':');
        char *end;
        long at = colon ? strtol(colon + 1, &end, 10) : 0;
        if (data[0] & 1) {                          /* the path has no ':': find ".ini:" */
            const char *dot = strstr(err.msg, ".ini:");
            at = dot ? strtol(dot + 5, &end, 10) : 0;
        }
        if (at < 1 || at > lines)
            abort();
    }
    return 0;
}
