/* The restart's supervisor (supervise.h): the process the user started stays outside
 * the restart, reads the report channel of every restoring process, and decides: all
 * processes back, or none. */
#include "supervise.h"
#include "front.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int g_report_fd = -1;

static pid_t g_child;
static int g_coord = -1;    /* connection to the coordinator, -1 none */
static int g_expected = -1; /* processes of the plan (-1: not known yet) */
static int g_ready;
static int g_front = -1; /* the replace channel (front.h), -1 none */
static const int g_fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* ---- child side ---- */

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    (void)c;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(g_report_fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return done ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)n;
}

void supervise_expect(const int *pids, int n)
{
    char line[64];
    snprintf(line, sizeof line, "@expect %d\n", n);
    cookie_write(NULL, line, strlen(line));
    for (int i = 0; i < n; i++) {
        snprintf(line, sizeof line, "@proc %d\n", pids[i]);
        cookie_write(NULL, line, strlen(line));
    }
}

static void become_restorer(int report)
{
    g_report_fd = report;
    cookie_io_functions_t io = {.write = cookie_write};
    FILE *f = fopencookie(NULL, "w", io);
    if (f) {
        setvbuf(f, NULL, _IONBF, 0); /* one write per message: whole lines */
        stderr = f;
    }
}

/* ---- supervisor side ---- */

static void send_coord(const char *what, const char *line)
{
    if (g_coord < 0) return;
    char buf[4200];
    int n = snprintf(buf, sizeof buf, "%s%s\n", what, line);
    if (n > (int)sizeof buf - 1) {
        n = (int)sizeof buf - 1;
        buf[n - 1] = '\n';
    }
    if (send(g_coord, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
        close(g_coord);
        g_coord = -1;
    }
}

/* the restart's processes: the child's children (init of the pid namespace: killing
 * it ends every process in the namespace), then the child */
static void kill_restart(void)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)g_child, (int)g_child);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        for (char *p = buf; *p;) {
            long pid = strtol(p, &p, 10);
            if (pid > 0) kill((pid_t)pid, SIGKILL);
            while (*p == ' ' || *p == '\n') p++;
        }
    }
    kill(g_child, SIGKILL);
}

static unsigned long g_pidns; /* the restored computation's pid namespace, from "@pidns" */

static int status_code(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

static void __attribute__((noreturn)) fail(const char *line, const char *to_coordinator)
{
    kill_restart();
    dprintf(2, "%s\n", line);
    send_coord("FAILED ", to_coordinator ? to_coordinator : line);
    int st;
    while (waitpid(g_child, &st, 0) < 0 && errno == EINTR) {}
    _exit(1);
}

static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si && si->si_code == SI_KERNEL) return; /* a terminal's: the program got it too */
    if (g_child > 0) kill(g_child, sig);
}

static void set_forwarding(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    for (size_t i = 0; i < sizeof g_fwd / sizeof g_fwd[0]; i++) sigaction(g_fwd[i], &sa, NULL);
}

static int connect_coordinator(const char *plan_file)
{
    FILE *f = fopen(plan_file, "re");
    if (!f) return -1;
    char line[512], path[108] = "";
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (strncmp(p, "agent-socket ", 13)) continue;
        p += 13;
        while (*p == ' ') p++;
        p[strcspn(p, "\r\n")] = 0;
        if (strlen(p) < sizeof path) strcpy(path, p);
    }
    fclose(f);
    if (!path[0]) return -1;
    front_kill_marker(path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (s >= 0) close(s);
        return -1;
    }
    char abs[4096], hello[4300];
    const char *plan = realpath(plan_file, abs) ? abs : plan_file;
    int n = snprintf(hello, sizeof hello, "RESTORER pid=%d plan=%s\n", (int)getpid(), plan);
    if (n >= (int)sizeof hello || send(s, hello, (size_t)n, MSG_NOSIGNAL) != n) {
        close(s);
        return -1;
    }
    return s;
}

/* close every fd from 3 up except a and b */
static void close_others(int a, int b)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    if (lo > 3) close_range(3, (unsigned)lo - 1, 0);
    if (hi > lo + 1) close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
    close_range((unsigned)hi + 1, ~0u, 0);
}

static void report_line(char *line)
{
    if (!strncmp(line, "@expect ", 8)) {
        g_expected = atoi(line + 8);
        return;
    }
    if (!strncmp(line, "@proc ", 6)) return;
    if (!strncmp(line, "@pidns ", 7)) {
        g_pidns = strtoul(line + 7, NULL, 10);
        if (g_front < 0) g_front = front_listen(g_pidns);
        return;
    }
    if (!strncmp(line, "@ready ", 7)) {
        g_ready++;
        return;
    }
    if (strstr(line, "warning:")) {
        dprintf(2, "%s\n", line);
        return;
    }
    fail(line, NULL);
}

/* reads what is there; 0 at EOF */
static int read_reports(int fd)
{
    static char buf[8192];
    static size_t have;
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (n == 0) {
        if (have) {
            buf[have] = 0;
            have = 0;
            report_line(buf);
        }
        return 0;
    }
    have += (size_t)n;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', (size_t)(buf + have - start)))) {
        *nl = 0;
        report_line(start);
        start = nl + 1;
    }
    have = (size_t)(buf + have - start);
    memmove(buf, start, have);
    if (have == sizeof buf - 1) {
        buf[have] = 0;
        have = 0;
        report_line(buf);
    } /* overlong line */
    return 1;
}

/* a line from the coordinator: "ABORT <why>" (never returns), "DONE" (2); 0: it
 * closed the connection (or said something else): stop listening */
static int read_coordinator(void)
{
    static char buf[4200];
    static size_t have;
    ssize_t n = read(g_coord, buf + have, sizeof buf - 1 - have);
    if (n < 0 && errno == EINTR) return 1;
    if (n <= 0) return 0;
    have += (size_t)n;
    buf[have] = 0;
    char *nl = strchr(buf, '\n');
    if (!nl) return have < sizeof buf - 1;
    *nl = 0;
    if (!strncmp(buf, "ABORT ", 6)) {
        char line[4300];
        snprintf(line, sizeof line, "stasis: restart failed: %s", buf + 6);
        close(g_coord); /* the coordinator knows: no FAILED back */
        g_coord = -1;
        fail(line, NULL);
    }
    return strcmp(buf, "DONE") ? 0 : 2; /* DONE: it released every process */
}

static int complete(void) { return g_expected >= 0 && g_ready >= g_expected; }

static void __attribute__((noreturn)) supervise(int reports)
{
    int pidfd = (int)syscall(SYS_pidfd_open, g_child, 0);
    int released = 0; /* the coordinator said DONE */
    for (;;) {
        struct pollfd p[4] = {{reports, POLLIN, 0}, {g_coord, POLLIN, 0}, {pidfd, POLLIN, 0}, {g_front, POLLIN, 0}};
        if (poll(p, 4, pidfd < 0 ? 100 : -1) < 0 && errno != EINTR) break;
        if (g_front >= 0 && p[3].revents) front_serve(g_front, g_child);
        if (reports >= 0 && p[0].revents && !read_reports(reports)) {
            close(reports);
            reports = -1;
            if (!complete()) {
                char line[200];
                snprintf(line, sizeof line,
                         "stasis-restore: %d of %d processes were restored; the others ended "
                         "during their restore without a message",
                         g_ready, g_expected < 0 ? 1 : g_expected);
                fail(line, NULL);
            }
        }
        if (g_coord >= 0 && p[1].revents) {
            int r = read_coordinator();
            if (r != 1) {
                close(g_coord);
                g_coord = -1;
                released = r == 2;
            }
        }
        int st;
        pid_t w = waitpid(g_child, &st, WNOHANG);
        if (w == g_child) {
            if (reports >= 0)
                while (read_reports(reports) > 0) {} /* its last words first */
            if (!complete() && !released) {
                char line[200];
                snprintf(line, sizeof line,
                         "stasis-restore: the restart ended (status %d) before every process "
                         "was restored",
                         status_code(st));
                fail(line, NULL);
            }
            front_say_if_killed(g_pidns);
            _exit(status_code(st));
        }
        if (reports >= 0 && complete()) {
            close(reports);
            reports = -1;
        }
        if (pidfd >= 0 && (p[2].revents & POLLNVAL)) pidfd = -1;
    }
    _exit(1);
}

void supervise_start(const char *plan_file)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return; /* no channel: messages go to stderr as they are */
    g_coord = connect_coordinator(plan_file);
    g_child = fork();
    if (g_child < 0) {
        close(p[0]);
        close(p[1]);
        if (g_coord >= 0) close(g_coord);
        g_coord = -1;
        return;
    }
    if (g_child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* the supervisor killed: the restart goes too */
        close(p[0]);
        if (g_coord >= 0) close(g_coord);
        become_restorer(p[1]);
        return;
    }
    close(p[1]);
    close_others(p[0], g_coord < 0 ? p[0] : g_coord);
    set_forwarding();
    supervise(p[0]);
}
