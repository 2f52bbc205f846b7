/* The coordinator connection: connect at a chosen high fd, line reads, replies.
 * Raw syscalls and static buffers only (used while user threads are suspended). */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

static char g_out[8192];

void stasis_send(const char *s) { if (g_sock >= 0) r_write_all(g_sock, s, r_strlen(s)); }

void stasis_send_error(const char *msg)
{
    char *e = r_stpcpy(g_out, "ERROR ");
    size_t n = r_strlen(msg);
    if (n > sizeof g_out - 16) n = sizeof g_out - 16;
    r_memcpy(e, msg, n);
    e[n] = '\n'; e[n + 1] = 0;
    stasis_send(g_out);
}

/* connect to path and move the fd to number want (or a high free number if want < 0) */
int stasis_connect(const char *path, int want)
{
    struct sockaddr_un sa;
    r_memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (r_strlen(path) >= sizeof sa.sun_path) return -1;
    r_stpcpy(sa.sun_path, path);
    long fd = rsys3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (rsys3(SYS_connect, fd, &sa, sizeof sa) < 0) { rsys1(SYS_close, fd); return -1; }
    if (want < 0) {
        struct rlimit rl;
        rsys4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl);
        long lim = rl.rlim_cur > 65536 ? 65536 : (long)rl.rlim_cur;
        want = (int)(lim > 64 ? lim - 8 : 60);
        while (want > 3 && rsys3(SYS_fcntl, want, F_GETFD, 0) >= 0) want--;
    }
    if (fd != want) {
        if (rsys3(SYS_dup3, fd, want, O_CLOEXEC) < 0) { rsys1(SYS_close, fd); return -1; }
        rsys1(SYS_close, fd);
    }
    return want;
}

/* read one request line (without '\n') into line; -1 on EOF/error */
static char g_rbuf[4096];
static size_t g_rhave, g_rpos;

void stasis_conn_reset(void) { g_rhave = g_rpos = 0; }

int stasis_read_line(char *line, size_t cap)
{
    char *buf = g_rbuf;
    size_t have = g_rhave, pos = g_rpos;
    size_t len = 0;
    for (;;) {
        while (pos < have) {
            char c = buf[pos++];
            if (c == '\n') { line[len] = 0; g_rhave = have; g_rpos = pos; return 0; }
            if (len < cap - 1) line[len++] = c;
        }
        long n = rsys3(SYS_read, g_sock, buf, sizeof buf);
        if (n == -EINTR) continue;
        if (n <= 0) { g_rhave = g_rpos = 0; return -1; }
        have = (size_t)n; pos = 0;
    }
}

