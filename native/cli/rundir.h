/* Where coordinator sockets live (see doc/control-protocol.md). */
#ifndef STASIS_CLI_RUNDIR_H
#define STASIS_CLI_RUNDIR_H

#include <stddef.h>

/* Fill out with "<rundir>/<name>.sock" after checking that <rundir>, if it exists,
 * is a directory owned by the user and closed to group/others.
 * Returns 0, or -1 after printing a one-line error. A missing <rundir> is not an
 * error here: connecting then fails with ENOENT, which means "no coordinator". */
int rundir_socket_path(const char *name, char *out, size_t size);

/* Fill out with "<rundir>/<name><suffix>" (e.g. ".token"), after the same checks.
 * Returns 0, or -1 after printing a one-line error. */
int rundir_file_path(const char *name, const char *suffix, char *out, size_t size);

#endif
