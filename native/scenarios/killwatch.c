/* Scenario: killwatch N. The parent forks N children. Each child blocks on a pipe whose
 * only write end the parent holds (end-of-file there: its parent died while it lived
 * on); the last child (highest pid, so the first a children-first kill reaches) also
 * drains a pipe the parent keeps writing to (EPIPE in the parent: that child died while
 * the parent lived on). Either is printed as a FAIL line: `stasis kill` must end the
 * whole computation without any process seeing another one die, in either order. "watching N" once all are waiting. */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <unistd.h>

static void watch(int parent_alive, int feed, int who)
{
    struct pollfd fds[2] = {{.fd = parent_alive, .events = POLLIN}, {.fd = feed, .events = POLLIN}};
    char buf[512];
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            sc_fail("poll");
        }
        if (fds[1].revents & POLLIN) {
            while (read(feed, buf, sizeof buf) < 0 && errno == EINTR) {}
        }
        if (fds[0].revents) {
            ssize_t r;
            while ((r = read(parent_alive, buf, 1)) < 0 && errno == EINTR) {}
            printf("FAIL child %d saw its parent die (read %zd)\n", who, r);
            fflush(stdout);
            _exit(1);
        }
    }
}

/* writes to the last child for ever; returns only if it died before the parent */
static void feed_last_child(int feed)
{
    char buf[64] = {0};
    for (;;) {
        ssize_t w = write(feed, buf, sizeof buf);
        if (w < 0 && errno == EPIPE) {
            printf("FAIL parent saw its last child die (write: EPIPE)\n");
            fflush(stdout);
            _exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: killwatch N\n");
        return 2;
    }
    int n = atoi(argv[1]);
    int alive[2], feed[2];
    if (pipe(alive) < 0 || pipe(feed) < 0) sc_fail("pipe");
    signal(SIGPIPE, SIG_IGN);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) sc_fail("fork");
        if (pid == 0) {
            close(alive[1]);
            close(feed[1]);
            if (i < n - 1) close(feed[0]);
            watch(alive[0], i == n - 1 ? feed[0] : -1, i);
        }
    }
    close(alive[0]);
    close(feed[0]);
    sc_sleep_ms(200);
    printf("watching %d\n", n);
    fflush(stdout);
    feed_last_child(feed[1]);
}
