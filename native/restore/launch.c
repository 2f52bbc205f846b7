/* stasis-launch [--no-namespaces] AGENT_SO SOCKET -- PROGRAM ARGS...
 * Runs PROGRAM as pid 2 under an init in new user+pid+mount namespaces, with the
 * agent preloaded. Returns PROGRAM's exit status when PROGRAM ends; processes it
 * left behind (daemons) live on under the init, which ends with the last of them.
 * The namespaces are made by a child: this process stays in the user's namespaces as
 * the front (front.h), which can replace the computation by a checkpoint without
 * nesting. Without namespaces (unavailable or --no-namespaces) it execs PROGRAM
 * directly. */
#include "front.h"
#include "nsinit.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: stasis-launch [--no-namespaces] AGENT_SO SOCKET -- PROGRAM [ARGS...]\n");
    return 2;
}

static int set_env(const char *agent, const char *sock)
{
    const char *old = getenv("LD_PRELOAD");
    static char buf[8192];
    if (old && *old) snprintf(buf, sizeof buf, "%s:%s", agent, old);
    else snprintf(buf, sizeof buf, "%s", agent);
    if (setenv("LD_PRELOAD", buf, 1) < 0 || setenv("STASIS_AGENT_SOCKET", sock, 1) < 0) return -1;
    return 0;
}

/* Forks: the parent stays the front until the computation ends; the child makes the
 * namespaces (1) or, when it cannot, goes on without them (0). */
static int enter_namespaces(const char *sock)
{
    int p[2];
    front_init();
    front_kill_marker(sock);
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("stasis-launch: pipe");
        _exit(1);
    }
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t c = fork();
    if (c < 0) {
        perror("stasis-launch: fork");
        _exit(1);
    }
    if (c > 0) {
        close(p[1]);
        if (p[0] != 3) {
            dup3(p[0], 3, O_CLOEXEC);
            close(p[0]);
        }
        close_range(4, ~0u, 0); /* the program's descriptors are the program's */
        sigprocmask(SIG_SETMASK, &old, NULL);
        front_run(c, 3);
    }
    close(p[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the front killed: the computation goes too */
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (ns_enter() < 0) {
        fprintf(stderr, "stasis-launch: warning: namespaces unavailable (%s); running without\n", strerror(errno));
        prctl(PR_SET_PDEATHSIG, 0);
        close(p[1]);
        return 0;
    }
    g_ns_report_fd = p[1]; /* ns_spawn tells the front its namespace */
    return 1;
}

int main(int argc, char **argv)
{
    int i = 1, use_ns = 1;
    if (i < argc && !strcmp(argv[i], "--no-namespaces")) {
        use_ns = 0;
        i++;
    }
    if (argc - i < 4 || strcmp(argv[i + 2], "--")) return usage();
    const char *agent = argv[i], *sock = argv[i + 1];
    char **prog = &argv[i + 3];
    if (access(agent, R_OK) < 0) {
        fprintf(stderr, "stasis-launch: %s: %s\n", agent, strerror(errno));
        return 1;
    }
    if (use_ns) use_ns = enter_namespaces(sock);
    if (use_ns) ns_spawn(0, "stasis-launch");
    if (set_env(agent, sock) < 0) {
        perror("stasis-launch: setenv");
        return 1;
    }
    execvp(prog[0], prog);
    fprintf(stderr, "stasis-launch: %s: %s\n", prog[0], strerror(errno));
    return 127;
}
