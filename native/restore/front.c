/* The front's replace channel (front.h). */
#include "front.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KILL 8192

static char g_bindir[4096];
static pid_t g_front_child;
static char g_kill_marker[4200]; /* "<runtime>/<name>.killed." + pid namespace inode, or "" */
static const int g_front_fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void front_init(void)
{
    ssize_t n = readlink("/proc/self/exe", g_bindir, sizeof g_bindir - 1);
    g_bindir[n > 0 ? n : 0] = 0;
    char *slash = strrchr(g_bindir, '/');
    if (slash) *slash = 0;
    else g_bindir[0] = 0;
}

int front_listen(unsigned long ino)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int len = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "stasis-front-%lu", ino);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) return -1;
    if (bind(s, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0 ||
        listen(s, 4) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* ---- stop-then-kill of the computation under the front ---- */

/* appends the children of every thread of `pid` to list[*n..max) */
static void add_children(pid_t pid, pid_t *list, int *n, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char file[320], buf[4096];
        snprintf(file, sizeof file, "/proc/%d/task/%s/children", (int)pid, e->d_name);
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t r = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[r > 0 ? r : 0] = 0;
        for (char *p = buf; *p && *n < max;) {
            long c = strtol(p, &p, 10);
            if (c > 0) list[(*n)++] = (pid_t)c;
            while (*p == ' ' || *p == '\n') p++;
        }
    }
    closedir(d);
}

/* Every process is stopped before any is killed: none sees a peer die (EOF, reset)
 * and reacts. A stopped process cannot fork any more, so walking the tree top-down
 * while stopping finds every process; init's death then ends the pid namespace. */
static void stop_then_kill(pid_t child)
{
    static pid_t list[MAX_KILL];
    int n = 1;
    list[0] = child;
    for (int i = 0; i < n; i++) {
        kill(list[i], SIGSTOP);
        add_children(list[i], list, &n, MAX_KILL);
    }
    for (int i = n - 1; i >= 0; i--) kill(list[i], SIGKILL);
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
}

/* ---- the request ---- */

static void answer(int c, const char *line)
{
    ssize_t w;
    do w = send(c, line, strlen(line), MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
}

static int read_line(int c, char *buf, size_t size)
{
    size_t have = 0;
    while (have < size - 1) {
        ssize_t r = recv(c, buf + have, size - 1 - have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        have += (size_t)r;
        buf[have] = 0;
        char *nl = strchr(buf, '\n');
        if (nl) {
            *nl = 0;
            return 0;
        }
    }
    return -1;
}

static int valid_name(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') && *s != '-' &&
            *s != '_' && *s != '.')
            return 0;
    return 1;
}

/* checks "REPLACE NAME DIR": 0 and name/dir set, or -1 with the reason in why */
static int parse(char *line, char **name, char **dir, char *why, size_t whysize)
{
    if (strncmp(line, "REPLACE ", 8)) {
        snprintf(why, whysize, "unknown request");
        return -1;
    }
    *name = line + 8;
    char *sp = strchr(*name, ' ');
    if (!sp) {
        snprintf(why, whysize, "REPLACE needs a name and a checkpoint directory");
        return -1;
    }
    *sp = 0;
    *dir = sp + 1;
    struct stat st;
    if (!valid_name(*name)) {
        snprintf(why, whysize, "bad coordinator name");
        return -1;
    }
    if ((*dir)[0] != '/' || stat(*dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, whysize, "no checkpoint directory %.200s", *dir);
        return -1;
    }
    return 0;
}

static __attribute__((noreturn)) void become_restart(const char *name, const char *dir)
{
    char stasis[4200];
    snprintf(stasis, sizeof stasis, "%s/stasis", g_bindir);
    close_range(3, ~0u, 0);
    for (size_t i = 0; i < sizeof g_front_fwd / sizeof g_front_fwd[0]; i++) signal(g_front_fwd[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char *argv[] = {"stasis", "restart", "--name", (char *)name, (char *)dir, NULL};
    execv(stasis, argv);
    dprintf(2, "stasis: cannot run %s to restore %s: %s\n", stasis, dir, strerror(errno));
    _exit(1);
}

void front_serve(int listen_fd, pid_t child)
{
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return;
    struct ucred cred;
    socklen_t len = sizeof cred;
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char line[4400], why[300], *name, *dir;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid() ||
        read_line(c, line, sizeof line) < 0) {
        close(c);
        return;
    }
    if (parse(line, &name, &dir, why, sizeof why) < 0) {
        char out[400];
        snprintf(out, sizeof out, "ERR %s\n", why);
        answer(c, out);
        close(c);
        return;
    }
    char stasis[4200];
    snprintf(stasis, sizeof stasis, "%s/stasis", g_bindir);
    if (access(stasis, X_OK) < 0) {
        answer(c, "ERR the stasis command is not next to this front; restart with: stasis restart DIR\n");
        close(c);
        return;
    }
    answer(c, "OK\n");
    stop_then_kill(child);
    close(c);
    become_restart(name, dir);
}

/* ---- stasis-launch's front ---- */

static void front_forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si && si->si_code == SI_KERNEL) return; /* a terminal's: the program got it too */
    if (g_front_child > 0) kill(g_front_child, sig);
}

static int status_code(int st)
{
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

void front_kill_marker(const char *agent_socket)
{
    static const char suffix[] = ".agent.sock";
    size_t n = strlen(agent_socket), k = sizeof suffix - 1;
    g_kill_marker[0] = 0;
    if (n > k && n - k + 16 < sizeof g_kill_marker && !strcmp(agent_socket + n - k, suffix))
        snprintf(g_kill_marker, sizeof g_kill_marker, "%.*s.killed.", (int)(n - k), agent_socket);
}

/* `stasis kill` leaves <runtime>/<name>.killed.<pidns inode> before it kills the
 * computation: then the user learns why the program died (it had no chance to say). */
void front_say_if_killed(unsigned long ino)
{
    if (!g_kill_marker[0] || !ino) return;
    char path[4300];
    snprintf(path, sizeof path, "%s%lu", g_kill_marker, ino);
    if (unlink(path) < 0) return;
    const char *id = getenv("STASIS_COMPUTATION");
    if (id && *id) fprintf(stderr, "stasis: computation %s was killed by stasis kill\n", id);
    else fprintf(stderr, "stasis: the computation was killed by stasis kill\n");
}

/* reads "@pidns N" from ns_fd: the channel's listening socket, -1 without one */
static unsigned long g_pidns;
static int listen_for_child(int ns_fd)
{
    char buf[64];
    size_t have = 0;
    while (have < sizeof buf - 1) {
        ssize_t r = read(ns_fd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        have += (size_t)r;
        if (memchr(buf, '\n', have)) break;
    }
    buf[have] = 0;
    if (strncmp(buf, "@pidns ", 7)) return -1;
    g_pidns = strtoul(buf + 7, NULL, 10);
    return front_listen(g_pidns);
}

void front_run(pid_t child, int ns_fd)
{
    g_front_child = child;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = front_forward;
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    for (size_t i = 0; i < sizeof g_front_fwd / sizeof g_front_fwd[0]; i++) sigaction(g_front_fwd[i], &sa, NULL);
    int lfd = listen_for_child(ns_fd);
    close(ns_fd);
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    for (;;) {
        struct pollfd p[2] = {{lfd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        int r = poll(p, 2, pidfd < 0 ? 100 : -1);
        if (r < 0 && errno != EINTR) pidfd = -1;
        if (r > 0 && lfd >= 0 && p[0].revents) front_serve(lfd, child);
        int st;
        pid_t w = waitpid(child, &st, WNOHANG);
        if (w == child) {
            front_say_if_killed(g_pidns);
            _exit(status_code(st));
        }
        if (w < 0 && errno == ECHILD) _exit(1);
    }
}
