#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define NAME_MAX_LEN 64

int opt_take(const char *cmd, const char *key, int argc, char **argv, int *i, const char **val)
{
    const char *arg = argv[*i];
    size_t klen = strlen(key);
    if (strncmp(arg, key, klen) != 0) return OPT_NO;
    if (arg[klen] == '=') {
        *val = arg + klen + 1;
        return OPT_TAKEN;
    }
    if (arg[klen] != '\0') return OPT_NO;
    if (*i + 1 >= argc) {
        msg_usage(cmd, "option %s needs a value", key);
        return OPT_BAD;
    }
    *val = argv[++*i];
    return OPT_TAKEN;
}

int opt_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

int opt_check_name(const char *cmd, const char *name)
{
    size_t n = strlen(name);
    int ok = n > 0 && n <= NAME_MAX_LEN && name[0] != '.' && name[0] != '-';
    for (size_t k = 0; ok && k < n; k++) {
        char c = name[k];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
             c == '.';
    }
    if (ok) return 0;
    msg_usage(cmd, "invalid coordinator name '%s' (use up to %d letters, digits, '_', '-', '.')", name, NAME_MAX_LEN);
    return OPT_BAD;
}

int opt_parse_seconds(const char *cmd, const char *key, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < 0 || v > 86400.0 * 365) {
        msg_usage(cmd, "%s wants a number of seconds, not '%s'", key, text);
        return OPT_BAD;
    }
    *out = v;
    return 0;
}

int opt_parse_pid(const char *cmd, const char *text, pid_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v <= 0 || v > 0x3fffffff) {
        msg_usage(cmd, "--pid wants a process id, not '%s'", text);
        return OPT_BAD;
    }
    *out = (pid_t)v;
    return 0;
}

int opt_unexpected(const char *cmd, const char *arg)
{
    if (arg[0] == '-' && arg[1] != '\0') return msg_usage(cmd, "unknown option '%s'", arg);
    return msg_usage(cmd, "unexpected argument '%s'", arg);
}
