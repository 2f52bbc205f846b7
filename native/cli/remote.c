#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "io.h"
#include "msg.h"
#include "opts.h"
#include "rundir.h"
#include "tcp.h"
#include "token.h"

#define CONNECT_TIMEOUT_MS 10000

static struct {
    const char *address;    /* as given */
    const char *token_file; /* NULL: the default */
    char host[TCP_HOST_MAX];
    char port[TCP_PORT_MAX];
    char used_token_file[4096];
} remote;

int remote_take_option(const char *cmd, int argc, char **argv, int *i)
{
    const char *v;
    int t = opt_take(cmd, "--connect", argc, argv, i, &v);
    if (t == OPT_TAKEN) {
        if (tcp_split_address(v, remote.host, remote.port) < 0) {
            msg_usage(cmd, "--connect wants HOST:PORT (e.g. 127.0.0.1:7070, [::1]:7070), not '%s'", v);
            return OPT_BAD;
        }
        remote.address = v;
        return t;
    }
    if (t == OPT_NO && (t = opt_take(cmd, "--token-file", argc, argv, i, &v)) == OPT_TAKEN) remote.token_file = v;
    return t;
}

int remote_check_usage(void)
{
    if (remote.token_file && !remote.address) {
        msg_err("--token-file is for TCP connections; add --connect HOST:PORT");
        return -1;
    }
    return 0;
}

int remote_enabled(void) { return remote.address != NULL; }

static int token_path(const char *name, char *out, size_t size)
{
    if (remote.token_file) {
        size_t n = strlen(remote.token_file);
        if (n >= size) {
            msg_err("token file path is too long");
            return -1;
        }
        memcpy(out, remote.token_file, n + 1);
        return 0;
    }
    return rundir_file_path(name, ".token", out, size);
}

int remote_open(const char *name, int quiet)
{
    char token[TOKEN_MAX_HEX + 1];
    char line[sizeof token + 8];
    if (token_path(name, remote.used_token_file, sizeof remote.used_token_file) < 0 ||
        token_read(remote.used_token_file, token, sizeof token) < 0)
        return CONN_ERROR;
    const char *why;
    int fd = tcp_connect(remote.host, remote.port, CONNECT_TIMEOUT_MS, &why);
    if (fd < 0) {
        if (errno == ECONNREFUSED) {
            if (!quiet)
                msg_err("nothing listens at %s; start the coordinator there with: "
                        "stasis coordinator --daemon --listen %s",
                        remote.address, remote.address);
            return CONN_ABSENT;
        }
        msg_err("cannot connect to coordinator '%s' at %s: %s", name, remote.address, why ? why : strerror(errno));
        return CONN_ERROR;
    }
    size_t n = (size_t)snprintf(line, sizeof line, "TOKEN %s\n", token);
    explicit_bzero(token, sizeof token);
    int rc = io_write_all(fd, line, n);
    explicit_bzero(line, sizeof line);
    if (rc < 0) {
        msg_err("cannot send the token to %s: %s", remote.address, strerror(errno));
        close(fd);
        return CONN_ERROR;
    }
    return fd;
}

int remote_explain_silent_close(const char *name)
{
    if (!remote_enabled()) return 0;
    msg_err("coordinator '%s' at %s closed the connection without answering: it refused the token "
            "from %s (wrong token? the coordinator logs refusals) or it is stopping",
            name, remote.address, remote.used_token_file);
    return 1;
}
