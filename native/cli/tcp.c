#include "tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "timeutil.h"

int tcp_split_address(const char *text, char host[TCP_HOST_MAX], char port[TCP_PORT_MAX])
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text) return -1;
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']') return -1;
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return -1; /* IPv6 without brackets */
    }
    const char *p = colon + 1;
    size_t plen = strlen(p);
    if (hlen >= TCP_HOST_MAX || plen == 0 || plen >= TCP_PORT_MAX) return -1;
    long v = 0;
    for (size_t i = 0; i < plen; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, plen + 1);
    return 0;
}

/* Non-blocking connect bounded by the deadline; the socket is blocking again on success. */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) goto fail;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        for (;;) {
            int64_t left = deadline - time_now_ms();
            if (left <= 0) {
                errno = ETIMEDOUT;
                goto fail;
            }
            int n = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
            if (n > 0) break;
            if (n < 0 && errno != EINTR) goto fail;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) goto fail;
        if (err) {
            errno = err;
            goto fail;
        }
    }
    int flags = fcntl(fd, F_GETFL);
    int one = 1;
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) goto fail;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int tcp_connect(const char *host, const char *port, int timeout_ms, const char **why)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list;
    *why = NULL;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        *why = rc == EAI_SYSTEM ? NULL : gai_strerror(rc);
        if (rc != EAI_SYSTEM) errno = EHOSTUNREACH;
        return -1;
    }
    int64_t deadline = time_now_ms() + timeout_ms;
    int fd = -1, err = ECONNREFUSED;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        if (fd < 0) err = errno;
    }
    freeaddrinfo(list);
    if (fd < 0) errno = err;
    return fd;
}
