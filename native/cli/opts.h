/* Small helpers for the subcommands' option parsing. */
#ifndef STASIS_CLI_OPTS_H
#define STASIS_CLI_OPTS_H

#include <sys/types.h>

#define OPT_NO    0  /* argv[*i] is not this option */
#define OPT_TAKEN 1  /* value stored, *i points at the last argument consumed */
#define OPT_BAD   -1 /* usage error already printed */

/* Returned by the subcommands' parse functions after printing --help. */
#define PARSE_HELP (-1)

/* Match "--key VALUE" or "--key=VALUE" at argv[*i]. */
int opt_take(const char *cmd, const char *key, int argc, char **argv, int *i, const char **val);

int opt_is_help(const char *arg);

/* Validators: return 0, or OPT_BAD after printing a usage error. */
int opt_check_name(const char *cmd, const char *name);
int opt_parse_seconds(const char *cmd, const char *key, const char *text, double *out);
int opt_parse_pid(const char *cmd, const char *text, pid_t *out);

/* Usage error for an unexpected argument; returns EXIT_USAGE. */
int opt_unexpected(const char *cmd, const char *arg);

#endif
