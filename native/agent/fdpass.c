/* Descriptors between the coordinator and the process (doc/agent-protocol.md):
 *   GIVE <fd>                         -> "GIVEN <fd>" carrying the fd (SCM_RIGHTS)
 *   TAKE <fd> <flags-octal>           (one descriptor attached) -> "TAKEN <fd>": the
 *                                        descriptor is installed at <fd>
 *   EPOLL_ADD <epfd> <fd> <ev> <data> -> "EPOLL_ADDED": epoll_ctl(ADD) in the process
 * Served on the checkpoint thread whether the program is suspended or running:
 * raw syscalls (never the interposed close/dup3 of wrap.c), static buffers, and
 * strerrordesc_np (a table lookup: no locale, no lock a parked thread could hold). */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>

static char g_reply[160];

/* "<decimal>" ending at a space or the end; -1 if malformed */
static int parse_fd(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9') return -1;
    uint64_t v = r_parse_dec(&s);
    if (v > 0x7fffffff || (*s && *s != ' ')) return -1;
    *p = *s ? s + 1 : s;
    return (int)v;
}

static int parse_oct(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '7') return -1;
    while (*s >= '0' && *s <= '7') v = v * 8 + (uint64_t)(*s++ - '0');
    if (*s && *s != ' ') return -1;
    *p = *s ? s + 1 : s;
    *out = v;
    return 0;
}

static int parse_hex(const char **p, uint64_t *out)
{
    const char *s = *p;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
    const char *digits = s;
    uint64_t v = r_parse_hex(&s);
    if (s == digits || s - digits > 16 || (*s && *s != ' ')) return -1;
    *p = *s ? s + 1 : s;
    *out = v;
    return 0;
}

static void reply_fd(const char *word, int fd)
{
    char *e = r_stpcpy(g_reply, word);
    e = r_itoa(e, fd);
    r_stpcpy(e, "\n");
}

static void send_errno(const char *what, long err)
{
    const char *text = strerrordesc_np((int)-err);
    char *e = r_stpcpy(g_reply, what);
    r_stpcpy(e, text ? text : "unknown error");
    stasis_send_error(g_reply);
}

void stasis_do_give(const char *args)
{
    const char *p = args;
    int fd = parse_fd(&p);
    if (fd < 0 || *p) {
        stasis_send_error("GIVE <fd>");
        return;
    }
    if (fd == g_agent_fd) {
        stasis_send_error("the agent's own fd cannot be given");
        return;
    }
    if (stasis_conn_holds(fd) || rsys3(SYS_fcntl, fd, F_GETFD, 0) < 0) {
        stasis_send_error("fd not open");
        return;
    }
    reply_fd("GIVEN ", fd);
    long r = stasis_send_fd(g_reply, fd);
    if (r < 0) send_errno("cannot send the fd: ", r); /* closed meanwhile by the program */
}

/* O_CLOEXEC on the fd, O_NONBLOCK on the description, as flags says */
static long apply_flags(int fd, uint64_t flags)
{
    long r = rsys3(SYS_fcntl, fd, F_SETFD, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
    if (r < 0) return r;
    long fl = rsys3(SYS_fcntl, fd, F_GETFL, 0);
    if (fl < 0) return fl;
    long want = (flags & O_NONBLOCK) ? (fl | O_NONBLOCK) : (fl & ~(long)O_NONBLOCK);
    return want == fl ? 0 : rsys3(SYS_fcntl, fd, F_SETFL, want);
}

void stasis_do_take(const char *args)
{
    const char *p = args;
    uint64_t flags = 0;
    int fd = parse_fd(&p);
    if (fd < 0 || parse_oct(&p, &flags) < 0 || *p) {
        stasis_send_error("TAKE <fd> <flags-octal>");
        return;
    }
    if (fd == g_agent_fd) {
        stasis_send_error("fd is the agent's own");
        return;
    }
    int got = stasis_conn_take_fd();
    if (got < 0) {
        stasis_send_error("no descriptor came with TAKE");
        return;
    }
    long r = 0;
    if (got != fd) {
        r = stasis_conn_evict(fd); /* another received one sits there */
        if (r == 0) r = rsys3(SYS_dup3, got, fd, (flags & O_CLOEXEC) ? O_CLOEXEC : 0);
        rsys1(SYS_close, got);
    }
    if (r >= 0) r = apply_flags(fd, flags);
    if (r < 0) {
        send_errno("cannot install the fd: ", r);
        return;
    }
    reply_fd("TAKEN ", fd);
    stasis_send(g_reply);
}

void stasis_do_epoll_add(const char *args)
{
    const char *p = args;
    uint64_t events = 0, data = 0;
    int epfd = parse_fd(&p);
    int fd = epfd < 0 ? -1 : parse_fd(&p);
    if (fd < 0 || parse_hex(&p, &events) < 0 || events > 0xffffffffu || parse_hex(&p, &data) < 0 || *p) {
        stasis_send_error("EPOLL_ADD <epfd> <fd> <events-hex> <data-hex>");
        return;
    }
    if (epfd == g_agent_fd || fd == g_agent_fd) {
        stasis_send_error("fd is the agent's own");
        return;
    }
    struct epoll_event ev;
    r_memset(&ev, 0, sizeof ev);
    ev.events = (uint32_t)events;
    ev.data.u64 = data;
    long r = rsys4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
    if (r < 0) {
        send_errno("epoll_ctl: ", r);
        return;
    }
    stasis_send("EPOLL_ADDED\n");
}
