#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "io.h"
#include "msg.h"
#include "opts.h"
#include "remote.h"

#define RELAY_BUF 65536

static const char HELP[] = "usage: stasis shell [--name N]\n"
                           "\n"
                           "Attach an interactive Gogo shell of coordinator N (default 'default').\n"
                           "End it with 'exit' or Ctrl-D.\n";

/* stdin -> socket goes through `pending` so that a slow coordinator never blocks
 * us while it is itself blocked writing output to us. */
typedef struct relay {
    const char *name;
    int sock;
    int stdin_open;    /* still reading stdin */
    int sock_writable; /* the coordinator still takes input */
    char pending[RELAY_BUF];
    size_t off, len;
    int lost;        /* 1: connection failed; 2: our stdout failed (already reported) */
    size_t received; /* bytes the coordinator sent */
} relay;

static void close_input(relay *r)
{
    r->stdin_open = 0;
    r->len = r->off = 0;
    if (r->sock_writable) shutdown(r->sock, SHUT_WR);
    r->sock_writable = 0;
}

static void read_stdin(relay *r)
{
    ssize_t n = io_read(0, r->pending, sizeof r->pending);
    if (n <= 0) { /* EOF (Ctrl-D), or a hung-up terminal */
        close_input(r);
        return;
    }
    r->off = 0;
    r->len = (size_t)n;
}

static void write_sock(relay *r)
{
    ssize_t w = send(r->sock, r->pending + r->off, r->len - r->off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
        r->sock_writable = 0; /* coordinator stopped reading: just show what it says */
        r->stdin_open = 0;
        r->len = r->off = 0;
        return;
    }
    r->off += (size_t)w;
    if (r->off == r->len) r->off = r->len = 0;
}

/* Returns 1 when the session is over. */
static int read_sock(relay *r)
{
    char buf[RELAY_BUF];
    ssize_t n = io_read(r->sock, buf, sizeof buf);
    if (n == 0) return 1;
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        r->lost = 1;
        return 1;
    }
    r->received += (size_t)n;
    if (io_write_all(1, buf, (size_t)n) < 0) {
        msg_err("cannot write the shell's output: %s", strerror(errno));
        r->lost = 2;
        return 1;
    }
    return 0;
}

static int relay_step(relay *r)
{
    struct pollfd p[2] = {
            {.fd = r->sock, .events = POLLIN | (r->len ? POLLOUT : 0)},
            {.fd = (r->stdin_open && !r->len) ? 0 : -1, .events = POLLIN},
    };
    if (poll(p, 2, -1) < 0) return errno == EINTR ? 0 : (r->lost = 1);
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) read_stdin(r);
    else if (p[1].revents & POLLNVAL) close_input(r);
    if ((p[0].revents & POLLOUT) && r->len) write_sock(r);
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) return read_sock(r);
    return 0;
}

static int parse(int argc, char **argv, const char **name)
{
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        if (opt_is_help(argv[i])) return msg_help(HELP) ? EXIT_FAIL : PARSE_HELP;
        int t = opt_take(cmd, "--name", argc, argv, &i, name);
        if (t == OPT_NO) t = remote_take_option(cmd, argc, argv, &i);
        if (t == OPT_BAD) return EXIT_USAGE;
        if (t == OPT_NO) return opt_unexpected(cmd, argv[i]);
    }
    return opt_check_name(cmd, *name) ? EXIT_USAGE : 0;
}

int cmd_shell(int argc, char **argv)
{
    static relay r;
    r.name = "default";
    int rc = parse(argc, argv, &r.name);
    if (rc) return rc == PARSE_HELP ? EXIT_OK : rc;
    r.sock = conn_open(r.name, 0);
    if (r.sock < 0) return EXIT_FAIL;
    if (conn_send(r.sock, "SHELL\n", NULL, 0) < 0) {
        report_reply_error(r.name, FRAMES_LOST, "SHELL");
        return EXIT_FAIL;
    }
    r.stdin_open = r.sock_writable = 1;
    while (!relay_step(&r)) {}
    close(r.sock);
    if (r.received == 0 && r.lost != 2 && remote_explain_silent_close(r.name)) return EXIT_FAIL;
    if (r.lost == 1)
        msg_err("lost connection to the shell of coordinator '%s'; "
                "check whether it is still running (stasis ping)",
                r.name);
    return r.lost ? EXIT_FAIL : EXIT_OK;
}
