/* TCP connections to a coordinator started with --listen HOST:PORT. */
#ifndef STASIS_CLI_TCP_H
#define STASIS_CLI_TCP_H

#include <stddef.h>

#define TCP_HOST_MAX 256
#define TCP_PORT_MAX 6

/* Split "HOST:PORT" or "[IPV6]:PORT" (port 1..65535). Returns 0, or -1 if malformed. */
int tcp_split_address(const char *text, char host[TCP_HOST_MAX], char port[TCP_PORT_MAX]);

/* Connect to host:port, giving up after timeout_ms. Returns a socket fd, or -1 with
 * errno set; *why is then a resolver message, or NULL when errno says it all. */
int tcp_connect(const char *host, const char *port, int timeout_ms, const char **why);

#endif
