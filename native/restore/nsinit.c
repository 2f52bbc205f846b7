#include "nsinit.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t g_child;
int g_ns_report_fd = -1;
static const int g_fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

int ns_enter(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS) < 0) return -1;
    char buf[64];
    snprintf(buf, sizeof buf, "%u %u 1\n", uid, uid);
    if (write_file("/proc/self/uid_map", buf) < 0) return -1;
    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) return -1;
    snprintf(buf, sizeof buf, "%u %u 1\n", gid, gid);
    if (write_file("/proc/self/gid_map", buf) < 0) return -1;
    return 0;
}

/* offset (sec, nsec) that lifts clock `id` to at least `want`; 0 if it is ahead */
static void lift(clockid_t id, const int64_t want[2], int64_t *sec, int64_t *nsec)
{
    struct timespec now;
    clock_gettime(id, &now);
    int64_t d = (want[0] - now.tv_sec) * 1000000000LL + (want[1] - now.tv_nsec);
    if (d < 0) d = 0;
    *sec = d / 1000000000LL;
    *nsec = d % 1000000000LL;
}

int ns_time_not_before(const int64_t monotonic[2], const int64_t boottime[2])
{
    int64_t ms, mn, bs, bn;
    lift(CLOCK_MONOTONIC, monotonic, &ms, &mn);
    lift(CLOCK_BOOTTIME, boottime, &bs, &bn);
    if (!ms && !mn && !bs && !bn) return 0; /* same boot: nothing to do */
    if (unshare(CLONE_NEWTIME) < 0) return -1;
    char buf[128];
    snprintf(buf, sizeof buf, "monotonic %lld %lld\nboottime %lld %lld\n", (long long)ms, (long long)mn, (long long)bs,
             (long long)bn);
    return write_file("/proc/self/timens_offsets", buf);
}

/* Forward signals sent to us explicitly (kill: SI_USER/SI_QUEUE). Terminal signals
 * (Ctrl-C: SI_KERNEL) go to the whole foreground process group, which the program
 * is part of: forwarding those would deliver them twice. */
static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si && si->si_code == SI_KERNEL) return;
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

static void default_signals(void)
{
    for (size_t i = 0; i < sizeof g_fwd / sizeof g_fwd[0]; i++) signal(g_fwd[i], SIG_DFL);
}

static int status_code(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

/* The launching side (outside the pid namespace): it learns the main process's exit
 * status from init through a pipe and exits with it at once, while init goes on as
 * long as any process of the namespace lives (daemons outlive the launched program).
 * EOF without a status: init ended first (it could not build the processes). */
static __attribute__((noreturn)) void outer_wait(pid_t init, int status_fd)
{
    int st;
    size_t got = 0;
    while (got < sizeof st) {
        ssize_t n = read(status_fd, (char *)&st + got, sizeof st - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got == sizeof st) _exit(status_code(st));
    for (;;) {
        pid_t p = waitpid(init, &st, 0);
        if (p == init) _exit(status_code(st));
        if (errno != EINTR) _exit(1);
    }
}

/* init after the main process ended: it no longer dies with the launching side, and
 * it lets go of the terminal, so that a reader of the launch's output sees EOF
 * unless a daemon still holds it */
static void detach_from_launcher(int status_fd, int st)
{
    prctl(PR_SET_PDEATHSIG, 0);
    ssize_t n;
    do n = write(status_fd, &st, sizeof st);
    while (n < 0 && errno == EINTR);
    close(status_fd);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        for (int fd = 0; fd < 3; fd++) dup2(null, fd);
        close(null);
    }
}

/* init (pid 1): reaps every process of the namespace (orphans are reparented to it);
 * reports the main process's status when it ends, and exits with it when the last
 * process has ended. No PR_SET_CHILD_SUBREAPER: pid 1 of a namespace already is. */
static __attribute__((noreturn)) void init_reap(pid_t main_child, int status_fd)
{
    int main_st = 0;
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, __WALL);
        if (p < 0) {
            if (errno == EINTR) continue;
            _exit(errno == ECHILD ? status_code(main_st) : 1);
        }
        if (p == main_child) {
            main_st = st;
            g_child = 0; /* nobody to forward signals to any more */
            detach_from_launcher(status_fd, st);
        }
    }
}

pid_t ns_clone_pid(pid_t want)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    if (want > 0) {
        ca.set_tid = (uint64_t)(uintptr_t)&want;
        ca.set_tid_size = 1;
    }
    long r = rsys2(SYS_clone3, &ca, sizeof ca);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return (pid_t)r;
}

static void *g_forget;
static uint64_t g_forget_len;

void ns_forget(void *addr, uint64_t len)
{
    g_forget = addr;
    g_forget_len = len;
}

static void forget(void)
{
    if (g_forget) munmap(g_forget, g_forget_len);
    g_forget = NULL;
}

static pid_t g_want_pid;
static const char *g_who;

/* the single-process case: one child with the wanted pid */
static int build_one(pid_t *main_child)
{
    pid_t c = ns_clone_pid(g_want_pid);
    if (c < 0) {
        fprintf(stderr, "%s: cannot create process with pid %d: %s\n", g_who, (int)g_want_pid, strerror(errno));
        _exit(1);
    }
    if (c == 0) return 0;
    *main_child = c;
    return -1;
}

int ns_spawn(pid_t want_pid, const char *who)
{
    g_want_pid = want_pid;
    g_who = who;
    ns_spawn_tree(build_one, who);
    return 0;
}

/* "@pidns <inode>" of the namespace init was just created in. Through a directory fd
 * opened before the fork: init may already have mounted the namespace's own /proc,
 * where /proc/self does not name us (and pid_for_children is empty before init). */
static void report_pidns(int nsdir)
{
    struct stat st;
    if (g_ns_report_fd < 0 || nsdir < 0 || fstatat(nsdir, "pid_for_children", &st, 0) < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "@pidns %lu\n", (unsigned long)st.st_ino);
    ssize_t w;
    do w = write(g_ns_report_fd, line, (size_t)n);
    while (w < 0 && errno == EINTR);
}

/* Tests only: how long the outer side waits before it reports the namespace, to show
 * that the processes wait for that report (STASIS_TEST_PIDNS_DELAY_MS). */
static void test_delay(void)
{
    const char *ms = getenv("STASIS_TEST_PIDNS_DELAY_MS");
    long n = ms ? strtol(ms, NULL, 10) : 0;
    struct timespec ts = {n / 1000, (n % 1000) * 1000000L};
    if (n > 0 && n < 10000)
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* init waits until the outer side reported the namespace (or gave up): a restored
 * process that reported "@ready" first made the supervisor stop reading, and the late
 * "@pidns" then died of SIGPIPE in the outer side, taking the restart with it */
static void await_report(int go)
{
    char c;
    while (read(go, &c, 1) < 0 && errno == EINTR) {}
    close(go);
}

int ns_spawn_tree(int (*build)(pid_t *main_child), const char *who)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    int sp[2], go[2];
    if (pipe2(sp, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: pipe: %s\n", who, strerror(errno));
        _exit(1);
    }
    int nsdir = g_ns_report_fd >= 0 ? open("/proc/self/ns", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    pid_t init = fork();
    if (init < 0) {
        fprintf(stderr, "%s: fork: %s\n", who, strerror(errno));
        _exit(1);
    }
    if (init > 0) {
        signal(SIGPIPE, SIG_IGN); /* a reader that is gone is no reason to die */
        close(go[0]);
        test_delay();
        report_pidns(nsdir);
        close(go[1]); /* init goes on */
        close(sp[1]);
        if (sp[0] != 3) {
            dup2(sp[0], 3);
            close(sp[0]);
        }
        close_range(4, ~0u, 0); /* e.g. pipe ends meant for the program only */
        g_child = init;
        set_forwarding();
        sigprocmask(SIG_SETMASK, &old, NULL);
        forget();
        outer_wait(init, 3);
    }
    /* init, pid 1 */
    if (nsdir >= 0) close(nsdir);
    close(sp[0]);
    close(go[1]);
    await_report(go[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        fprintf(stderr, "%s: cannot mount /proc in the new namespace: %s\n", who, strerror(errno));
        _exit(1);
    }
    pid_t c = 0;
    int r = build(&c);
    if (r >= 0) {
        close(sp[1]);
        default_signals();
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
    }
    if (c <= 0) _exit(1);
    if (sp[1] != 3) {
        dup2(sp[1], 3);
        close(sp[1]);
    }
    close_range(4, ~0u, 0); /* readers must see EOF when the writers close */
    g_child = c;
    set_forwarding();
    sigprocmask(SIG_SETMASK, &old, NULL);
    forget();
    init_reap(c, 3);
}
