/* The coordinator's secret token for TCP connections (a file of hex digits, 0600). */
#ifndef STASIS_CLI_TOKEN_H
#define STASIS_CLI_TOKEN_H

#include <stddef.h>

#define TOKEN_MIN_HEX 32
#define TOKEN_MAX_HEX 256

/* Read the token from `path` into out (at least TOKEN_MAX_HEX + 1 bytes). The file must
 * be a regular file closed to group/others holding TOKEN_MIN_HEX..TOKEN_MAX_HEX hex
 * digits (a trailing newline is fine). Returns 0, or -1 after a one-line error. */
int token_read(const char *path, char *out, size_t size);

#endif
