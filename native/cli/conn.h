/* Connecting to a coordinator's control socket. */
#ifndef STASIS_CLI_CONN_H
#define STASIS_CLI_CONN_H

#include <stddef.h>

#define CONN_ABSENT (-1) /* no socket file, or nobody listening */
#define CONN_ERROR  (-2) /* anything else; a one-line error was printed */

/* Connect to coordinator `name`: its Unix socket, or over TCP with its token after
 * --connect (remote.h). Returns a socket fd, CONN_ABSENT (the
 * "no coordinator" line is printed unless quiet) or CONN_ERROR. */
int conn_open(const char *name, int quiet);

/* Send one request: `head` (e.g. "PING\n") followed by `len` bytes of body.
 * Returns 0, or -1 with errno set (EPIPE when the coordinator went away). */
int conn_send(int fd, const char *head, const char *body, size_t len);

#endif
