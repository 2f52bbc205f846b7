/* The coordinator connection: connect, line reads (with the descriptors that come
 * along), replies (optionally carrying a descriptor). Raw syscalls and static
 * buffers only (used while user threads are suspended).
 *
 * The connection lives in the relay's own file table (relay.c): the program never
 * sees it. g_sock is its number there. Descriptors cross between that table and the
 * program's with pidfd_getfd(2). Going through the relay costs two thread switches
 * per call, so a new connection is made in the program's table and kept there (as
 * g_direct, used directly) only while the program cannot run: in the constructor and
 * in the fork child handler, until stasis_conn_hide(). A new relay takes it over at
 * the same number in its copy of the table. The fd table the program has while it is
 * suspended is exactly its own (a coordinator may compare it from outside). Fallback, when the relay cannot run (no thread
 * pidfds before Linux 6.9): the connection is a program fd at a high number
 * (g_agent_fd), which the interposed close/dup2/close_range calls protect. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#define PIDFD_THREAD O_EXCL /* linux/pidfd.h, Linux 6.9 */

int g_agent_fd = -1;      /* the connection as a program fd (fallback), else -1 */
int g_agent_fallback;     /* STASIS_AGENT_FALLBACK=1: never use the relay */
static int g_relayed;     /* 1: g_sock is a number in the relay's table */
static int g_direct = -1; /* while the program cannot look: the connection as a program fd */
static char g_out[8192];

static int via_relay(void) { return g_relayed && g_direct < 0; }

/* system call nr on the connection (its fd is the first argument) */
static long conn_call(long nr, long b, long c, long d)
{
    if (g_direct >= 0) return rsys4(nr, g_direct, b, c, d);
    if (g_relayed) return stasis_relay_call(nr, g_sock, b, c, d, 0, 0);
    return rsys4(nr, g_sock, b, c, d);
}

/* before the program can run: no program fd of ours is left */
void stasis_conn_hide(void)
{
    if (g_direct < 0) return;
    rsys1(SYS_close, g_direct);
    g_direct = -1;
}

static int send_all(const char *s, size_t len)
{
    while (len) {
        long n = conn_call(SYS_sendto, (long)s, (long)len, MSG_NOSIGNAL);
        if (n == -EINTR) continue;
        if (n <= 0) return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

void stasis_send(const char *s)
{
    if (g_sock >= 0) send_all(s, r_strlen(s));
}

void stasis_send_error(const char *msg)
{
    char *e = r_stpcpy(g_out, "ERROR ");
    size_t n = r_strlen(msg);
    if (n > sizeof g_out - 16) n = sizeof g_out - 16;
    r_memcpy(e, msg, n);
    e[n] = '\n';
    e[n + 1] = 0;
    stasis_send(g_out);
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    r_memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (r_strlen(path) >= sizeof sa->sun_path) return -1;
    r_stpcpy(sa->sun_path, path);
    return 0;
}

static long open_connected(const struct sockaddr_un *sa)
{
    long fd = rsys3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fd;
    long r = rsys3(SYS_connect, fd, sa, sizeof *sa);
    if (r < 0) {
        rsys1(SYS_close, fd);
        return r;
    }
    return fd;
}

/* fallback: the connection fd becomes a program fd at number want (or a high free
 * number if want < 0) */
static int to_program_fd(long fd, int want)
{
    if (want < 0) {
        struct rlimit rl;
        rsys4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl);
        long lim = rl.rlim_cur > 65536 ? 65536 : (long)rl.rlim_cur;
        want = (int)(lim > 64 ? lim - 8 : lim - 1);
        while (want > 3 && rsys3(SYS_fcntl, want, F_GETFD, 0) >= 0) want--;
    }
    if (fd != want) {
        if (rsys3(SYS_dup3, fd, want, O_CLOEXEC) < 0) {
            rsys1(SYS_close, fd);
            return -1;
        }
        rsys1(SYS_close, fd);
    }
    g_relayed = 0;
    g_agent_fd = want;
    return want;
}

/* the relay can hand descriptors over: thread pidfds exist (Linux 6.9) */
static int relay_usable(void)
{
    long p = rsys2(SYS_pidfd_open, g_relay_tid, PIDFD_THREAD);
    if (p < 0) return 0;
    rsys1(SYS_close, p);
    return 1;
}

/* a new relay keeps fd at the same number in its copy of our table (and closes the
 * rest): no round trip; our copy stays usable directly until stasis_conn_hide() */
static int hand_to_new_relay(int fd)
{
    if (stasis_relay_start(0, 0, fd) < 0) return -1;
    if (!relay_usable()) {
        stasis_relay_stop();
        return -1;
    }
    g_relayed = 1;
    g_agent_fd = -1;
    g_direct = fd;
    return 0;
}

/* a relay runs already (a restored process: restart.c started it): it connects */
static int connect_in_relay(const struct sockaddr_un *sa)
{
    long fd = stasis_relay_call(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0);
    if (fd < 0) return -1;
    if (stasis_relay_call(SYS_connect, fd, (long)sa, sizeof *sa, 0, 0, 0) < 0) {
        stasis_relay_call(SYS_close, fd, 0, 0, 0, 0, 0);
        return -1;
    }
    g_relayed = 1;
    g_agent_fd = -1;
    return (int)fd;
}

/* connect to path; want >= 0: as a program fd at that number (a restored fallback
 * connection). The caller stores the result in g_sock (-1 = failed) and calls
 * stasis_conn_hide() before the program can look at its fds. */
int stasis_connect(const char *path, int want)
{
    struct sockaddr_un sa;
    if (fill_addr(&sa, path) < 0) return -1;
    int relay = want < 0 && !g_agent_fallback;
    if (relay && g_relay_tid > 0) return connect_in_relay(&sa);
    long fd = open_connected(&sa);
    if (fd < 0) return -1;
    if (relay && hand_to_new_relay((int)fd) == 0) return (int)fd;
    return to_program_fd(fd, want);
}

/* close the connection (the relay ends with it) */
void stasis_conn_close(void)
{
    if (g_sock < 0) return;
    stasis_conn_hide();
    if (g_relayed) {
        stasis_relay_call(SYS_close, g_sock, 0, 0, 0, 0, 0);
        stasis_relay_stop();
    } else {
        rsys1(SYS_close, g_sock);
    }
    g_sock = -1;
    g_agent_fd = -1;
    g_relayed = 0;
}

/* fork child, restored process: the connection of the parent / of the image is not
 * ours (the relay, if any, is forgotten or restarted by the caller); fallback: the
 * program fd number it had is returned (to reconnect there) */
int stasis_conn_forget(int close_fd)
{
    int was = g_relayed ? -1 : g_agent_fd;
    if (!g_relayed && close_fd && g_agent_fd >= 0) rsys1(SYS_close, g_agent_fd);
    if (close_fd && g_direct >= 0) rsys1(SYS_close, g_direct);
    g_direct = -1;
    g_sock = -1;
    g_agent_fd = -1;
    g_relayed = 0;
    return was;
}

/* wait up to ms for bytes on the connection: 1 readable, 0 timeout, -1 error */
int stasis_conn_wait(long ms)
{
    struct pollfd {
        int fd;
        short events, revents;
    } p = {g_direct >= 0 ? g_direct : g_sock, 1 /* POLLIN */, 0};
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    long r = via_relay() ? stasis_relay_call(SYS_ppoll, (long)&p, 1, (long)&ts, 0, 0, 0)
                         : rsys4(SYS_ppoll, &p, 1, &ts, 0);
    return r > 0 ? 1 : r == 0 ? 0 : -1;
}

/* ---- request stream ----
 * Read with recvmsg() so that descriptors the coordinator attaches to a request
 * (SCM_RIGHTS) are kept, not dropped by the kernel. A stream socket delivers them
 * with the bytes of the sendmsg() that carried them, and one recvmsg() returns at
 * most one such sendmsg's descriptors, as the last part of its data. So received
 * descriptors belong to the request line that holds the last byte of the chunk they
 * came with (the coordinator sends a line and its descriptors in one sendmsg). They
 * wait in a small queue (stream offset of that byte) until their line is read, then
 * belong to that request; stasis_conn_drop_fds() closes what it did not use once it
 * is answered. Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC). */
#define FDQ_MAX 8

static char g_rbuf[4096];
static size_t g_rhave, g_rpos;
static uint64_t g_rtotal; /* bytes received on this connection so far */
static struct {
    int fd;
    uint64_t at;
} g_fdq[FDQ_MAX]; /* not yet claimed by a line */
static int g_nfdq;
static int g_req_fds[FDQ_MAX]; /* descriptors of the request being served */
static int g_nreq;

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) rsys1(SYS_close, fds[i]);
}

static void close_queue(void)
{
    for (int i = 0; i < g_nfdq; i++) rsys1(SYS_close, g_fdq[i].fd);
    g_nfdq = 0;
}

/* close_fds = 0 after a restart: the numbers in the queue came from the image and
 * may now be the program's own fds; 1 in a fork child: they are real copies */
void stasis_conn_reset(int close_them)
{
    if (close_them) {
        close_queue();
        close_fds(g_req_fds, g_nreq);
    }
    g_nfdq = g_nreq = 0;
    g_rhave = g_rpos = 0;
    g_rtotal = 0;
}

void stasis_conn_drop_fds(void)
{
    close_fds(g_req_fds, g_nreq);
    g_nreq = 0;
}

int stasis_conn_take_fd(void)
{
    for (int i = 0; i < g_nreq; i++) {
        if (g_req_fds[i] < 0) continue;
        int fd = g_req_fds[i];
        g_req_fds[i] = -1;
        return fd;
    }
    return -1;
}

int stasis_conn_holds(int fd)
{
    if (g_direct >= 0 && fd == g_direct) return 1;
    for (int i = 0; i < g_nreq; i++)
        if (g_req_fds[i] == fd) return 1;
    for (int i = 0; i < g_nfdq; i++)
        if (g_fdq[i].fd == fd) return 1;
    return 0;
}

/* a received descriptor sits at number fd, which a request wants for itself: move it */
int stasis_conn_evict(int fd)
{
    for (int i = 0; i < g_nreq; i++) {
        if (g_req_fds[i] != fd) continue;
        long n = rsys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
        if (n < 0) return (int)n;
        rsys1(SYS_close, fd);
        g_req_fds[i] = (int)n;
    }
    for (int i = 0; i < g_nfdq; i++) {
        if (g_fdq[i].fd != fd) continue;
        long n = rsys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
        if (n < 0) return (int)n;
        rsys1(SYS_close, fd);
        g_fdq[i].fd = (int)n;
    }
    return 0;
}

static void queue_fd(int fd, uint64_t at)
{
    if (g_nfdq >= FDQ_MAX) {
        rsys1(SYS_close, fd);
        return;
    }
    g_fdq[g_nfdq].fd = fd;
    g_fdq[g_nfdq].at = at;
    g_nfdq++;
}

/* the line [first, last] (stream offsets) was read: its descriptors become the
 * request's, stray earlier ones are closed, later ones wait */
static void claim_fds(uint64_t first, uint64_t last)
{
    stasis_conn_drop_fds();
    int keep = 0;
    for (int i = 0; i < g_nfdq; i++) {
        if (g_fdq[i].at > last) g_fdq[keep++] = g_fdq[i];
        else if (g_fdq[i].at >= first && g_nreq < FDQ_MAX) g_req_fds[g_nreq++] = g_fdq[i].fd;
        else rsys1(SYS_close, g_fdq[i].fd);
    }
    g_nfdq = keep;
}

/* a descriptor received into the relay's table: a copy in the program's table (close-
 * on-exec, like MSG_CMSG_CLOEXEC), the relay's closed; -1 if it cannot be copied */
static int import_fd(int rfd, long *pidfd)
{
    if (*pidfd < 0) *pidfd = rsys2(SYS_pidfd_open, g_relay_tid, PIDFD_THREAD);
    long fd = *pidfd < 0 ? *pidfd : rsys3(SYS_pidfd_getfd, *pidfd, rfd, 0);
    stasis_relay_call(SYS_close, rfd, 0, 0, 0, 0, 0);
    return fd < 0 ? -1 : (int)fd;
}

/* one recvmsg into g_rbuf; n > 0 bytes, 0 EOF, -errno */
static long receive(void)
{
    struct iovec iov = {g_rbuf, sizeof g_rbuf};
    union {
        char buf[CMSG_SPACE(FDQ_MAX * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh;
    r_memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof ctl.buf;
    int relayed = via_relay();
    long n = conn_call(SYS_recvmsg, (long)&mh, MSG_CMSG_CLOEXEC, 0);
    if (n < 0) return n;
    long pidfd = -1;
    uint64_t at = g_rtotal + (uint64_t)(n > 0 ? n - 1 : 0);
    /* walk the control messages by hand (CMSG_NXTHDR may be a libc call) */
    size_t off = 0;
    while (off + sizeof(struct cmsghdr) <= mh.msg_controllen) {
        struct cmsghdr *c = (struct cmsghdr *)(ctl.buf + off);
        if (c->cmsg_len < sizeof(struct cmsghdr) || off + c->cmsg_len > mh.msg_controllen) break;
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                r_memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (relayed) fd = import_fd(fd, &pidfd);
                if (fd < 0) continue;
                if (n > 0) queue_fd(fd, at);
                else rsys1(SYS_close, fd);
            }
        }
        off += CMSG_ALIGN(c->cmsg_len);
    }
    if (pidfd >= 0) rsys1(SYS_close, pidfd);
    g_rtotal += (uint64_t)n;
    return n;
}

/* read one request line (without '\n') into line; -1 on EOF/error (received
 * descriptors not yet served are closed) */
int stasis_conn_buffered(void) { return g_rpos < g_rhave; }

int stasis_read_line(char *line, size_t cap)
{
    char *buf = g_rbuf;
    size_t have = g_rhave, pos = g_rpos;
    size_t len = 0;
    uint64_t first = g_rtotal - (have - pos);
    stasis_conn_drop_fds();
    for (;;) {
        while (pos < have) {
            char c = buf[pos++];
            if (c == '\n') {
                line[len] = 0;
                g_rhave = have;
                g_rpos = pos;
                claim_fds(first, g_rtotal - (have - pos) - 1);
                return 0;
            }
            if (len < cap - 1) line[len++] = c;
        }
        long n = receive();
        if (n == -EINTR) continue;
        if (n <= 0) {
            g_rhave = g_rpos = 0;
            close_queue();
            return -1;
        }
        have = (size_t)n;
        pos = 0;
    }
}

/* send one line with a descriptor attached (SCM_RIGHTS, one sendmsg); 0 or -errno */
int stasis_send_fd(const char *s, int fd)
{
    size_t len = r_strlen(s);
    struct iovec iov = {(void *)s, len};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    r_memset(&ctl, 0, sizeof ctl);
    struct msghdr mh;
    r_memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = (struct cmsghdr *)ctl.buf;
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    r_memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (g_sock < 0) return -EPIPE;
    int rfd = fd, copied = 0;
    if (via_relay()) { /* the relay sends a copy from its own table */
        long p = stasis_relay_call(SYS_pidfd_open, r_gettid(), PIDFD_THREAD, 0, 0, 0, 0);
        long cp = p < 0 ? p : stasis_relay_call(SYS_pidfd_getfd, p, fd, 0, 0, 0, 0);
        if (p >= 0) stasis_relay_call(SYS_close, p, 0, 0, 0, 0, 0);
        if (cp < 0) return (int)cp;
        rfd = (int)cp;
        copied = 1;
        r_memcpy(CMSG_DATA(c), &rfd, sizeof rfd);
    }
    long n;
    do n = conn_call(SYS_sendmsg, (long)&mh, MSG_NOSIGNAL, 0);
    while (n == -EINTR);
    if (copied) stasis_relay_call(SYS_close, rfd, 0, 0, 0, 0, 0);
    if (n < 0) return (int)n;
    if ((size_t)n < len) return send_all(s + n, len - (size_t)n);
    return 0;
}
