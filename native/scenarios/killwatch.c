/* Scenario: killwatch N. The parent forks N children that each block reading a pipe
 * whose only write end the parent holds, and prints "watching N" once all are
 * waiting. A child that reads end-of-file (its parent died while it lived on) prints
 * a FAIL line: `stasis kill` must end the whole computation without any process
 * seeing another one die. The parent waits for ever. */
#include "common.h"
#include <unistd.h>

static void watch(int fd, int who)
{
    char c;
    ssize_t r;
    while ((r = read(fd, &c, 1)) < 0 && errno == EINTR) {}
    printf("FAIL child %d saw its parent die (read %zd)\n", who, r);
    fflush(stdout);
    _exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: killwatch N\n"); return 2; }
    int n = atoi(argv[1]);
    int p[2];
    if (pipe(p) < 0) sc_fail("pipe");
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) sc_fail("fork");
        if (pid == 0) { close(p[1]); watch(p[0], i); }
    }
    close(p[0]);
    sc_sleep_ms(200);
    printf("watching %d\n", n);
    fflush(stdout);
    for (;;) pause();
}
