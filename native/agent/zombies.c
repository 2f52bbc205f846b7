/* Children that exited but were not reaped yet (zombies) have no agent and no image;
 * their parent reports them so that a restart can recreate them (doc/agent-protocol.md,
 * ZOMBIES):  "ZOMBIE <pid> <wait-status>" per zombie child, then "END".
 * Children are found in /proc (ppid = this process, state Z); the status comes from
 * waitid(WNOWAIT), which leaves the zombie for the program to reap. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static char g_dents[8192];
static char g_stat[1024];
static char g_line[96];

/* "pid (comm) S ppid ...": state and ppid of /proc/<name>/stat; 0 = read */
static int stat_of(const char *name, char *state, long *ppid)
{
    char path[64], *e = r_stpcpy(path, "/proc/");
    e = r_stpcpy(e, name);
    r_stpcpy(e, "/stat");
    long fd = rsys3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    long n = rsys3(SYS_read, fd, g_stat, sizeof g_stat - 1);
    rsys1(SYS_close, fd);
    if (n <= 0) return -1;
    g_stat[n] = 0;
    const char *p = g_stat + n;
    while (p > g_stat && *p != ')') p--; /* comm may hold spaces and ')' */
    if (*p != ')' || !p[1] || !p[2] || !p[3]) return -1;
    *state = p[2];
    p += 4;
    *ppid = (long)r_parse_dec(&p);
    return 0;
}

void stasis_report_zombies(void)
{
    long me = rsys0(SYS_getpid);
    long dir = rsys3(SYS_open, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0) {
        stasis_send_error("cannot open /proc");
        return;
    }
    for (;;) {
        long n = rsys3(SYS_getdents64, dir, g_dents, sizeof g_dents);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            struct r_dirent64 *d = (void *)(g_dents + off);
            off += d->reclen;
            if (d->name[0] < '1' || d->name[0] > '9') continue;
            char state;
            long ppid;
            if (stat_of(d->name, &state, &ppid) < 0 || ppid != me || state != 'Z') continue;
            const char *q = d->name;
            long pid = (long)r_parse_dec(&q);
            siginfo_t si;
            r_memset(&si, 0, sizeof si);
            if (rsys5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT, 0) < 0 || si.si_pid != pid) continue;
            int status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
                                                  : (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
            char *e = r_stpcpy(g_line, "ZOMBIE ");
            e = r_itoa(e, pid);
            e = r_stpcpy(e, " ");
            e = r_itoa(e, status);
            r_stpcpy(e, "\n");
            stasis_send(g_line);
        }
    }
    rsys1(SYS_close, dir);
    stasis_send("END\n");
}
