/* --connect HOST:PORT [--token-file F]: reach a coordinator over TCP (started with
 * --listen) instead of its Unix socket. The first line sent is "TOKEN <hex>". */
#ifndef STASIS_CLI_REMOTE_H
#define STASIS_CLI_REMOTE_H

/* Match --connect or --token-file (with a value, or =VALUE) at argv[*i], as opt_take.
 * Accepted before the command and in every command, like --name. */
int remote_take_option(const char *cmd, int argc, char **argv, int *i);

/* -1 after a one-line error if --token-file came without --connect, else 0. */
int remote_check_usage(void);

/* Whether --connect was given. */
int remote_enabled(void);

/* Connect to the --connect address and present the token of coordinator `name`
 * (--token-file, else <rundir>/<name>.token). Returns a socket fd, CONN_ABSENT when
 * nothing listens (message unless quiet) or CONN_ERROR (message printed). */
int remote_open(const char *name, int quiet);

/* A reply ended before its first byte: on TCP that is how a refused token looks.
 * Prints the explanation and returns 1 if remote, else returns 0. */
int remote_explain_silent_close(const char *name);

#endif
