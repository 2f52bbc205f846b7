/* Scenario: a three-level process tree joined by pipes and a Unix socketpair.
 *
 *   socktree TICKS
 *
 *   root ──pipe──▶ A ──socketpair──▶ B     records "r%014ld\n", 100 per tick
 *   root ◀──pipe── A ◀──socketpair── B     one ack "a%014ld\n" per record
 *
 * A leads its own process group (B is in it) and leaves a child Z (exit 5) unreaped,
 * a zombie until A ends. B is slow, so records wait in the socketpair and the pipe at
 * any checkpoint; acks wait the other way. The root and A use non-blocking fds and
 * poll(); B blocks. Every process checks its pid, parent and group against the
 * saved ones and its fds' O_NONBLOCK, and prints "restarted <who> <n>" on noticing a
 * restart. B sends SIGUSR1 to its whole group (A and itself) once after each restart
 * it notices and once at the end of the stream, then tells A how many it sent; A and
 * B each count what they got. The root checks every ack comes once and in order, B
 * every record; A reaps Z (status 5) and B (status 0) and exits 7 if the signal
 * counts matched; the root prints "OK socktree <records>" and exits 0 only then. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define REC      16
#define CAP      (64 * 1024)
#define PER_TICK 100
#define FORWARD  8192 /* A holds at most this much for B: the rest waits in the pipe */

struct buf {
    char d[CAP];
    size_t len;
};

static volatile sig_atomic_t g_usr1;
static void on_usr1(int sig)
{
    (void)sig;
    g_usr1++;
}

static void failf(const char *who, const char *what, long a, long b)
{
    printf("FAIL %s: %s (%ld, %ld)\n", who, what, a, b);
    exit(1);
}

static void set_nonblock(int fd)
{
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) sc_fail("fcntl O_NONBLOCK");
}

static void expect_nonblock(const char *who, int fd, int want)
{
    int is = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
    if (is != want) failf(who, "O_NONBLOCK of fd (fd, is) changed", fd, is);
}

/* The saved place in the tree. A parent that is gone (or died and is not yet reaped,
 * so we belong to init now) means the computation is being killed: leave quietly (a parent wrongly lost at restart shows as its failed waitpid). */
struct place {
    const char *who;
    pid_t ppid, pgid;
    int restarts;
};

static int check_place(struct place *p)
{
    if (getppid() != p->ppid) {
        /* Reparented to init (the parent died and may still be an unreaped zombie,
         * which kill() still finds) or gone: the computation is being killed. */
        if (getppid() == 1 || (kill(p->ppid, 0) < 0 && errno == ESRCH)) _exit(0);
        failf(p->who, "parent (is, want)", getppid(), p->ppid);
    }
    if (getpgid(0) != p->pgid) failf(p->who, "group (is, want)", getpgid(0), p->pgid);
    int r = sc_restarts();
    if (r == p->restarts) return 0;
    p->restarts = r;
    printf("restarted %s %d\n", p->who, r);
    return 1;
}

/* read what fits into b up to `limit` bytes; 0 at end of file, -1 if nothing was there or no room */
static int fill(struct buf *b, int fd, const char *who, size_t limit)
{
    if (b->len >= limit) return -1;
    ssize_t n = read(fd, b->d + b->len, limit - b->len);
    if (n > 0) {
        b->len += (size_t)n;
        return 1;
    }
    if (n == 0) return 0;
    if (errno == EAGAIN || errno == EINTR) return -1;
    printf("FAIL %s: read: %s\n", who, strerror(errno));
    exit(1);
}

/* write what fd takes from the front of b */
static void flush(struct buf *b, int fd, const char *who)
{
    ssize_t n = write(fd, b->d, b->len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        printf("FAIL %s: write: %s\n", who, strerror(errno));
        exit(1);
    }
    memmove(b->d, b->d + n, b->len - (size_t)n);
    b->len -= (size_t)n;
}

static void put(struct buf *b, char kind, long n)
{
    char rec[32];
    snprintf(rec, sizeof rec, "%c%014ld\n", kind, n);
    memcpy(b->d + b->len, rec, REC);
    b->len += REC;
}

/* Takes the whole records off the front of b; each must be `kind` numbered *next
 * (then next grows) unless `other` is given and takes it. */
static void take(struct buf *b, char kind, long *next, const char *who, void (*other)(const char *rec))
{
    size_t whole = b->len / REC * REC;
    for (size_t at = 0; at < whole; at += REC) {
        const char *rec = b->d + at;
        if (rec[0] != kind && other) {
            other(rec);
            continue;
        }
        char want[32];
        snprintf(want, sizeof want, "%c%014ld\n", kind, *next);
        if (memcmp(rec, want, REC) != 0) failf(who, "record (got, want)", strtol(rec + 1, NULL, 10), *next);
        (*next)++;
    }
    memmove(b->d, b->d + whole, b->len - whole);
    b->len -= whole;
}

static void reap(const char *who, pid_t child, int want)
{
    int st;
    while (waitpid(child, &st, 0) < 0)
        if (errno != EINTR) failf(who, "waitpid (pid, errno)", child, errno);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want) failf(who, "child status (pid, status)", child, st);
}

/* ---- B: checks records, acks them, signals the group after each restart ---- */
static void signal_group(long *sent)
{
    kill(-getpgrp(), SIGUSR1);
    (*sent)++;
    for (int i = 0; i < 200 && g_usr1 < *sent; i++) sc_sleep_ms(10); /* own copy arrived */
    if (g_usr1 != *sent) failf("B", "own signals (got, sent)", g_usr1, *sent);
}

static void run_b(pid_t a, int sock)
{
    struct place me = {"B", a, a, sc_restarts()};
    struct buf *in = calloc(1, sizeof *in), *acks = calloc(1, sizeof *acks);
    if (!in || !acks) sc_fail("B: memory");
    long next = 0, sent = 0;
    int r;
    while ((r = fill(in, sock, "B", CAP)) != 0) {
        if (check_place(&me)) {
            expect_nonblock("B", sock, 0);
            signal_group(&sent);
        }
        long first = next;
        take(in, 'r', &next, "B", NULL);
        for (long n = first; n < next; n++) {
            put(acks, 'a', n);
            if (n % 3 == 2) sc_sleep_ms(1); /* slower than the root */
        }
        while (acks->len) flush(acks, sock, "B");
    }
    if (in->len) failf("B", "partial record at the end (bytes, records)", (long)in->len, next);
    sc_sleep_ms(50); /* keep the final signal apart from a restart's */
    signal_group(&sent);
    put(acks, 's', sent);
    while (acks->len) flush(acks, sock, "B");
    printf("B got %ld records, sent %ld signals\n", next, sent);
    exit(0);
}

/* ---- A: forwards records down and acks up; leader of the group; Z's parent ---- */
static long g_b_signals = -1;
static void on_b_word(const char *rec)
{
    if (rec[0] != 's') failf("A", "unknown record from B (byte, -)", rec[0], 0);
    g_b_signals = strtol(rec + 1, NULL, 10);
}

struct pump {
    int down, up, sock; /* from the root, to the root, to B */
    struct buf *tob, *fromb, *toroot;
    int root_eof, b_eof, shut;
    long acks;
};

static void pump_once(struct pump *p)
{
    struct pollfd fds[3] = {
            {p->down, p->root_eof || p->tob->len >= FORWARD ? 0 : POLLIN, 0},
            {p->sock, (p->tob->len ? POLLOUT : 0) | (p->b_eof || p->toroot->len > CAP / 2 ? 0 : POLLIN), 0},
            {p->up, p->toroot->len ? POLLOUT : 0, 0},
    };
    if (poll(fds, 3, 100) < 0) {
        if (errno == EINTR) return;
        sc_fail("A: poll");
    }
    for (int i = 0; i < 3; i++)
        if (fds[i].revents & POLLNVAL) failf("A", "fd not open (fd, -)", fds[i].fd, 0);
    if (fds[0].revents && fill(p->tob, p->down, "A", FORWARD) == 0) p->root_eof = 1;
    if (fds[1].revents & POLLOUT) flush(p->tob, p->sock, "A");
    if (fds[1].revents & (POLLIN | POLLHUP)) {
        size_t room = CAP / 2 - p->fromb->len;
        ssize_t n = read(p->sock, p->fromb->d + p->fromb->len, room < 4096 ? room : 4096);
        if (n == 0) p->b_eof = 1;
        if (n < 0 && errno != EAGAIN && errno != EINTR) sc_fail("A: read from B");
        if (n > 0) {
            p->fromb->len += (size_t)n;
            long before = p->acks;
            take(p->fromb, 'a', &p->acks, "A", on_b_word);
            for (long k = before; k < p->acks; k++) put(p->toroot, 'a', k);
        }
    }
    if (fds[2].revents) flush(p->toroot, p->up, "A");
    if (p->root_eof && !p->tob->len && !p->shut) {
        if (shutdown(p->sock, SHUT_WR) < 0) sc_fail("A: shutdown");
        p->shut = 1;
    }
}

static void run_a(pid_t root, int down, int up)
{
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    pid_t self = getpid();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) sc_fail("A: socketpair");
    pid_t b = fork();
    if (b < 0) sc_fail("A: fork B");
    if (b == 0) {
        close(sv[0]);
        close(down);
        close(up);
        run_b(self, sv[1]);
    }
    close(sv[1]);
    pid_t z = fork();
    if (z < 0) sc_fail("A: fork Z");
    if (z == 0) _exit(5);
    set_nonblock(down);
    set_nonblock(up);
    set_nonblock(sv[0]);
    int small = FORWARD; /* few records fit in the socket: B's pace rules the stream */
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) < 0) sc_fail("A: SO_SNDBUF");
    struct pump p = {down,
                     up,
                     sv[0],
                     calloc(1, sizeof(struct buf)),
                     calloc(1, sizeof(struct buf)),
                     calloc(1, sizeof(struct buf)),
                     0,
                     0,
                     0,
                     0};
    if (!p.tob || !p.fromb || !p.toroot) sc_fail("A: memory");
    struct place me = {"A", root, self, sc_restarts()};
    while (!p.b_eof || p.toroot->len) {
        if (check_place(&me)) {
            expect_nonblock("A", down, 1);
            expect_nonblock("A", up, 1);
            expect_nonblock("A", sv[0], 1);
        }
        pump_once(&p);
    }
    close(up);
    if (p.fromb->len) failf("A", "partial ack at the end (bytes, acks)", (long)p.fromb->len, p.acks);
    for (int i = 0; i < 200 && g_usr1 < g_b_signals; i++) sc_sleep_ms(10);
    if (g_b_signals < 1 || g_usr1 != g_b_signals) failf("A", "signals (got, B sent)", g_usr1, g_b_signals);
    printf("A got %ld signals\n", (long)g_usr1);
    reap("A", z, 5);
    reap("A", b, 0);
    printf("A reaped Z and B\n");
    exit(7);
}

/* ---- root: streams records, checks the acks ---- */
static int run_root(int ticks)
{
    signal(SIGPIPE, SIG_IGN);
    pid_t self = getpid();
    int down[2], up[2];
    if (pipe(down) < 0 || pipe(up) < 0) sc_fail("pipe");
    pid_t a = fork();
    if (a < 0) sc_fail("fork A");
    if (a == 0) {
        setpgid(0, 0);
        close(down[1]);
        close(up[0]);
        run_a(self, down[0], up[1]);
    }
    setpgid(a, a); /* both sides: no race with A's own call */
    close(down[0]);
    close(up[1]);
    set_nonblock(down[1]);
    set_nonblock(up[0]);
    printf("tree %d %d\n", (int)self, (int)a);
    struct place me = {"root", getppid(), getpgid(0), sc_restarts()};
    struct buf *out = calloc(1, sizeof *out), *in = calloc(1, sizeof *in);
    if (!out || !in) sc_fail("root: memory");
    long sent = 0, acked = 0;
    int tick = 0, closed = 0, open_up = 1;
    while (open_up) {
        if (check_place(&me)) {
            expect_nonblock("root", down[1], 1);
            expect_nonblock("root", up[0], 1);
        }
        if (!out->len && tick < ticks) {
            for (int k = 0; k < PER_TICK; k++) put(out, 'r', sent++);
            printf("tick %d\n", tick++);
            sc_sleep_ms(20);
        }
        if (!out->len && tick == ticks && !closed) {
            close(down[1]);
            closed = 1;
        }
        struct pollfd fds[2] = {{up[0], POLLIN, 0}, {closed ? -1 : down[1], out->len ? POLLOUT : 0, 0}};
        if (poll(fds, 2, 100) < 0 && errno != EINTR) sc_fail("root: poll");
        for (int i = 0; i < 2; i++)
            if (fds[i].revents & POLLNVAL) failf("root", "fd not open (fd, -)", fds[i].fd, 0);
        if (fds[1].revents) flush(out, down[1], "root");
        if (fds[0].revents) {
            if (fill(in, up[0], "root", CAP) == 0) open_up = 0;
            take(in, 'a', &acked, "root", NULL);
        }
    }
    if (in->len || acked != sent) failf("root", "acks at the end (acks, records)", acked, sent);
    reap("root", a, 7);
    printf("OK socktree %ld\n", sent);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2 || atoi(argv[1]) < 1) {
        fprintf(stderr, "usage: socktree TICKS\n");
        return 2;
    }
    return run_root(atoi(argv[1]));
}
