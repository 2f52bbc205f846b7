/* Data in flight in pipes (doc/agent-protocol.md, DRAIN/FILL): while the process is
 * suspended the coordinator reads what waits in a pipe through one of its read ends
 * and writes it back later (after the checkpoint; a restart refills in the restorer).
 *   DRAIN <fd> <max>  -> "DRAINED <hex>": up to max (<= 3072) bytes that are already
 *                        in the pipe (FIONREAD: never blocks, whatever O_NONBLOCK says)
 *   FILL <fd> <hex>   -> "FILLED <n>": appends the bytes to the pipe of read end <fd>
 *                        through a write end opened on /proc/self/fd/<fd>
 * Raw syscalls and static buffers: called on the checkpoint thread. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#define CHUNK 3072

static char g_reply[2 * CHUNK + 64];
static unsigned char g_bytes[CHUNK];

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_fd(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9') return -1;
    int fd = (int)r_parse_dec(&s);
    *p = s;
    return fd == g_agent_fd ? -1 : fd;
}

void stasis_do_drain(const char *args)
{
    const char *p = args;
    int fd = parse_fd(&p);
    if (fd < 0 || *p != ' ') {
        stasis_send_error("DRAIN <fd> <max>");
        return;
    }
    p++;
    long max = (long)r_parse_dec(&p);
    if (max <= 0 || max > CHUNK) max = CHUNK;
    int avail = 0;
    if (rsys3(SYS_ioctl, fd, FIONREAD, &avail) < 0) {
        stasis_send_error("not a pipe read end");
        return;
    }
    long n = 0;
    if (avail > 0) {
        long want = avail < max ? avail : max;
        do n = rsys3(SYS_read, fd, g_bytes, want);
        while (n == -EINTR);
        if (n < 0) {
            stasis_send_error("cannot read the pipe");
            return;
        }
    }
    static const char digits[] = "0123456789abcdef";
    char *e = r_stpcpy(g_reply, "DRAINED ");
    for (long i = 0; i < n; i++) {
        *e++ = digits[g_bytes[i] >> 4];
        *e++ = digits[g_bytes[i] & 15];
    }
    r_stpcpy(e, "\n");
    stasis_send(g_reply);
}

void stasis_do_fill(const char *args)
{
    static char path[64];
    const char *p = args;
    int fd = parse_fd(&p);
    if (fd < 0 || *p != ' ') {
        stasis_send_error("FILL <fd> <hex>");
        return;
    }
    p++;
    size_t n = 0;
    while (p[0] && p[1] && n < sizeof g_bytes) {
        int hi = hexval(p[0]), lo = hexval(p[1]);
        if (hi < 0 || lo < 0) {
            stasis_send_error("bad hex");
            return;
        }
        g_bytes[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    if (*p) {
        stasis_send_error("bad hex or chunk too long");
        return;
    }
    char *e = r_stpcpy(path, "/proc/self/fd/");
    e = r_itoa(e, fd);
    long w = rsys3(SYS_open, path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (w < 0) {
        stasis_send_error("cannot open a write end of the pipe");
        return;
    }
    size_t done = 0;
    while (done < n) {
        long r = rsys3(SYS_write, w, g_bytes + done, n - done);
        if (r == -EINTR) continue;
        if (r <= 0) break;
        done += (size_t)r;
    }
    rsys1(SYS_close, w);
    if (done < n) {
        stasis_send_error("the pipe is full");
        return;
    }
    e = r_stpcpy(g_reply, "FILLED ");
    e = r_utoa(e, n);
    r_stpcpy(e, "\n");
    stasis_send(g_reply);
}
