/* Scenario: kf_pipeflags N [STEP_MS]. Pipes whose file status flags matter, shared with
 * a forked child, checked every step by both processes:
 *   A: read end O_NONBLOCK (an empty read says EAGAIN), write end blocking;
 *   B: a packet-mode pipe (O_DIRECT on its write end: each write is one read), write
 *      end also O_NONBLOCK;
 * Each step the parent writes a packet into B and waits for the child's answer through
 * pipe R, then a second packet and a byte into A, and waits again: at most one packet is
 * ever in flight (a checkpoint drains and refills a pipe as a byte stream: packet
 * boundaries of data in flight are not kept, a known limit). Exit 0 only if the flags
 * and data stayed right. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void expect_flags(int fd, int want, const char *what)
{
    int got = fcntl(fd, F_GETFL) & (O_NONBLOCK | O_DIRECT | O_ACCMODE);
    if (got != want) {
        printf("FAIL %s: flags 0%o, not 0%o\n", what, got, want);
        fflush(stdout);
        exit(1);
    }
}

static void child(int ar, int br, int rw, long n)
{
    char buf[100];
    for (long i = 1; i <= n; i++) {
        expect_flags(ar, O_RDONLY | O_NONBLOCK, "child: A read end");
        expect_flags(br, O_RDONLY, "child: B read end");
        if (read(br, buf, sizeof buf) != 3 || memcmp(buf, "one", 3)) sc_fail("child: first packet of B");
        if (write(rw, &i, sizeof i) != sizeof i) sc_fail("child: answer");
        if (read(br, buf, sizeof buf) != 4 || memcmp(buf, "four", 4)) sc_fail("child: second packet of B");
        ssize_t r;
        while ((r = read(ar, buf, 1)) < 0 && errno == EAGAIN) sc_sleep_ms(1);
        if (r != 1 || buf[0] != (char)('a' + i % 26)) sc_fail("child: byte of A");
        if (read(ar, buf, 1) != -1 || errno != EAGAIN) sc_fail("child: empty A did not say EAGAIN");
        if (write(rw, &i, sizeof i) != sizeof i) sc_fail("child: answer");
    }
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: kf_pipeflags N [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long step = argc > 2 ? atol(argv[2]) : 10;
    int a[2], b[2], r[2];
    if (pipe(a) < 0 || pipe2(b, O_DIRECT) < 0 || pipe(r) < 0) sc_fail("pipe");
    if (fcntl(a[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(b[1], F_SETFL, O_NONBLOCK | O_DIRECT) < 0) sc_fail("F_SETFL");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) sc_fail("fork");
    if (pid == 0) {
        close(a[1]);
        close(b[1]);
        close(r[0]);
        child(a[0], b[0], r[1], n);
    }
    close(a[0]);
    close(b[0]);
    close(r[1]);
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        expect_flags(a[1], O_WRONLY, "A write end");
        expect_flags(b[1], O_WRONLY | O_NONBLOCK | O_DIRECT, "B write end");
        expect_flags(r[0], O_RDONLY, "R read end");
        long got = 0;
        if (write(b[1], "one", 3) != 3) sc_fail("first packet into B");
        if (read(r[0], &got, sizeof got) != sizeof got || got != i) sc_fail("child's first answer");
        if (write(b[1], "four", 4) != 4) sc_fail("second packet into B");
        char c = (char)('a' + i % 26);
        if (write(a[1], &c, 1) != 1) sc_fail("byte into A");
        if (read(r[0], &got, sizeof got) != sizeof got || got != i) sc_fail("child's answer");
        printf("pipes %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) sc_fail("child failed");
    printf("OK pipeflags %ld\n", n);
    return 0;
}
