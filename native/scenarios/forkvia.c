/* Scenario: children made by the glibc calls that fork inside libc, out of reach of an
 * interposed fork(): daemon(3) and forkpty(3).
 *
 *   forkvia daemon N FILE    the launched process becomes a daemon (daemon(1, 1): its
 *                            parent exits 0 at once); the daemon counts
 *   forkvia forkpty N FILE   the child runs on a new pseudo-terminal and counts; the
 *                            parent reads the terminal and waits for it
 * The counting process appends "count i" to FILE every 20 ms, N times, "restarted G"
 * after a restart, then "OK". */
#include "common.h"
#include <fcntl.h>
#include <pty.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int count(int fd, long n)
{
    char line[64];
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            gen = g;
            int k = snprintf(line, sizeof line, "restarted %d\n", g);
            if (write(fd, line, (size_t)k) != k) return 1;
        }
        int k = snprintf(line, sizeof line, "count %ld\n", i);
        if (write(fd, line, (size_t)k) != k) return 1;
        sc_sleep_ms(20);
    }
    return write(fd, "OK\n", 3) == 3 ? 0 : 1;
}

static int via_forkpty(int fd, long n)
{
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    if (pid < 0) sc_fail("forkpty");
    if (pid == 0) _exit(count(fd, n));
    char buf[256];
    while (read(master, buf, sizeof buf) > 0 || errno == EINTR) {}
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) sc_fail("waitpid");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: forkvia daemon|forkpty N FILE\n");
        return 2;
    }
    long n = atol(argv[2]);
    int fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) sc_fail("open");
    if (strcmp(argv[1], "forkpty") == 0) return via_forkpty(fd, n);
    if (strcmp(argv[1], "daemon") != 0) return 2;
    fflush(stdout);
    if (daemon(1, 1) < 0) sc_fail("daemon");
    return count(fd, n);
}
