/* Scenario: processes that outlive the launched program, and stopped processes.
 *   daemon double N FILE   the classic double fork: a child calls setsid and forks the
 *                          daemon, then exits; the launched process prints
 *                          "daemon PID" and exits with status 3 at once. The daemon
 *                          (its parent is now init, pid 1) counts to N into FILE.
 *   daemon count N FILE    counts to N into FILE (for sh -c 'daemon count N FILE &')
 *   daemon selfstop N      prints "count i"; at 5 prints "stopping" and stops itself
 *                          (SIGSTOP); continued, it prints "continued" and counts on.
 * The counting loops check every step that their parent is still what it was (1 for
 * a daemon), print "restarted G" after a restart and "OK N" at the end. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void count_to(unsigned long n, long step_ms, pid_t want_ppid)
{
    int gen = 0;
    for (unsigned long i = 1; i <= n; i++) {
        if (want_ppid && getppid() != want_ppid) {
            printf("FAIL parent is %d, not %d\n", (int)getppid(), (int)want_ppid);
            fflush(stdout);
            exit(1);
        }
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %lu\n", i);
        fflush(stdout);
        sc_sleep_ms(step_ms);
    }
    printf("OK %lu\n", n);
    fflush(stdout);
}

/* stdout and stderr to file (appended), stdin from /dev/null: a daemon's own output */
static void output_to(const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0) sc_fail("open");
    dup2(null, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    close(null);
}

static int double_fork(unsigned long n, const char *file)
{
    int p[2];
    if (pipe(p) < 0) sc_fail("pipe");
    pid_t a = fork();
    if (a < 0) sc_fail("fork");
    if (a == 0) {
        close(p[0]);
        if (setsid() < 0) sc_fail("setsid");
        pid_t d = fork();
        if (d < 0) _exit(1);
        if (d == 0) {
            close(p[1]);
            output_to(file);
            while (getppid() != 1) sc_sleep_ms(1); /* its parent exits at once */
            count_to(n, 20, 1);
            return 0;
        }
        if (write(p[1], &d, sizeof d) != sizeof d) _exit(1);
        _exit(0);
    }
    close(p[1]);
    pid_t d = 0;
    if (read(p[0], &d, sizeof d) != sizeof d) sc_fail("daemon pid");
    int st;
    if (waitpid(a, &st, 0) != a || !WIFEXITED(st) || WEXITSTATUS(st)) sc_fail("first child");
    printf("daemon %d\n", (int)d);
    fflush(stdout);
    return 3;
}

static int self_stop(unsigned long n)
{
    int gen = 0;
    for (unsigned long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %lu\n", i);
        fflush(stdout);
        if (i == 5) {
            printf("stopping\n");
            fflush(stdout);
            raise(SIGSTOP);
            printf("continued\n");
            fflush(stdout);
        }
        sc_sleep_ms(20);
    }
    printf("OK %lu\n", n);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: daemon double N FILE | count N FILE | selfstop N\n");
        return 2;
    }
    unsigned long n = strtoul(argv[2], NULL, 10);
    if (!strcmp(argv[1], "double") && argc == 4) return double_fork(n, argv[3]);
    if (!strcmp(argv[1], "count") && argc == 4) {
        output_to(argv[3]);
        count_to(n, 20, 0);
        return 0;
    }
    if (!strcmp(argv[1], "selfstop")) return self_stop(n);
    fprintf(stderr, "daemon: unknown mode %s\n", argv[1]);
    return 2;
}
