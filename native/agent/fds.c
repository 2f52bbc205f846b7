/* FDS request: report the open fds (agent's own excluded) as
 *   FD <n> <flags-octal> <pos> <path>   ...   END
 * (<path> escaped: a backslash is "\\\\", a newline "\\n") */
#include "agent.h"
#include "stasis/rawsys.h"
#include <fcntl.h>

static char g_buf[8192];
static char g_line[8448]; /* a target of 4095 bytes, escaped, and the fields */
static char g_info[1024];
static char g_out[16384]; /* lines go out in batches (one relay round trip each) */
static size_t g_olen;

static void flush_out(void)
{
    g_out[g_olen] = 0;
    if (g_olen) stasis_send(g_out);
    g_olen = 0;
}

static void put_line(const char *s)
{
    size_t n = r_strlen(s);
    if (g_olen + n >= sizeof g_out) flush_out();
    r_memcpy(g_out + g_olen, s, n);
    g_olen += n;
}

static void append_fd(int fd)
{
    char p[64], *e;
    e = r_stpcpy(p, "/proc/thread-self/fd/");
    r_utoa(e, (uint64_t)fd);
    static char target[4096];
    long n = rsys3(SYS_readlink, p, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    uint64_t pos = 0, flags = 0;
    e = r_stpcpy(p, "/proc/thread-self/fdinfo/");
    r_utoa(e, (uint64_t)fd);
    if (r_read_file(p, g_info, sizeof g_info, NULL) == 0) {
        for (const char *q = g_info; *q;) {
            if (r_startswith(q, "pos:")) {
                q += 4;
                while (*q == ' ' || *q == '\t') q++;
                pos = r_parse_dec(&q);
            } else if (r_startswith(q, "flags:")) {
                q += 6;
                while (*q == ' ' || *q == '\t') q++;
                while (*q >= '0' && *q <= '7') flags = flags * 8 + (uint64_t)(*q++ - '0');
            }
            while (*q && *q != '\n') q++;
            if (*q) q++;
        }
    }
    e = r_stpcpy(g_line, "FD ");
    e = r_utoa(e, (uint64_t)fd);
    e = r_stpcpy(e, " ");
    char oct[24];
    int k = 0;
    do {
        oct[k++] = (char)('0' + (flags & 7));
        flags >>= 3;
    } while (flags);
    while (k) *e++ = oct[--k];
    e = r_stpcpy(e, " ");
    e = r_utoa(e, pos);
    e = r_stpcpy(e, " ");
    e = r_stpcpy_escaped(e, target);
    r_stpcpy(e, "\n");
    put_line(g_line);
}

int stasis_report_fds(void)
{
    g_olen = 0;
    long dfd = rsys3(SYS_open, "/proc/thread-self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dfd < 0) {
        stasis_send("ERROR cannot open /proc/self/fd\n");
        return -1;
    }
    for (;;) {
        long n = rsys3(SYS_getdents64, dfd, g_buf, sizeof g_buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            struct r_dirent64 *d = (void *)(g_buf + off);
            off += d->reclen;
            if (d->name[0] < '0' || d->name[0] > '9') continue;
            const char *q = d->name;
            int fd = (int)r_parse_dec(&q);
            if (fd == g_agent_fd || fd == dfd || stasis_conn_holds(fd)) continue;
            append_fd(fd);
        }
    }
    rsys1(SYS_close, dfd);
    put_line("END\n");
    flush_out();
    return 0;
}
