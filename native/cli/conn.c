#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"
#include "msg.h"
#include "remote.h"
#include "rundir.h"

/* A connect(2) interrupted by a signal completes in the background: wait for it. */
static int finish_interrupted_connect(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof err;
    while (poll(&p, 1, -1) < 0) {
        if (errno != EINTR) return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

static int connect_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked by rundir */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
    if (errno == EINTR && finish_interrupted_connect(fd) == 0) return fd;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int conn_open(const char *name, int quiet)
{
    char path[4096];
    if (remote_check_usage() < 0) return CONN_ERROR;
    if (remote_enabled()) return remote_open(name, quiet);
    if (rundir_socket_path(name, path, sizeof path) < 0) return CONN_ERROR;
    int fd = connect_path(path);
    if (fd >= 0) return fd;
    if (errno == ENOENT || errno == ECONNREFUSED) {
        if (!quiet) msg_no_coordinator(name);
        return CONN_ABSENT;
    }
    msg_err("cannot connect to coordinator '%s' at %s: %s", name, path, strerror(errno));
    return CONN_ERROR;
}

int conn_send(int fd, const char *head, const char *body, size_t len)
{
    struct iovec iov[2] = {
            {.iov_base = (void *)head, .iov_len = strlen(head)},
            {.iov_base = (void *)body, .iov_len = len},
    };
    return io_writev_all(fd, iov, body ? 2 : 1);
}
