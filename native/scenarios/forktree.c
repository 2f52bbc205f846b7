/* Scenario: a process tree made by fork() joins the computation.
 *
 *   forktree join SECONDS
 *
 * root ── A (own process group) ── B (A's group)
 *      ├─ Z (exits at once, never reaped: a zombie)
 *      └─ short-lived children, one every few ms (exit at once, reaped)
 * A and B tick until the root ends the group with SIGTERM after SECONDS.
 * Prints "tree <root> <A> <B>" first and "OK" at the end (exit 0 only if every
 * short-lived child exited 0 and A ended by the root's signal). */
#include "common.h"
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void tick_forever(void)
{
    for (;;) sc_sleep_ms(20);
}

static int run_join(int secs)
{
    int up[2];
    if (pipe(up) < 0) sc_fail("pipe");
    pid_t a = fork();
    if (a < 0) sc_fail("fork A");
    if (a == 0) {
        close(up[0]);
        setpgid(0, 0);
        pid_t b = fork();
        if (b < 0) _exit(2);
        if (b == 0) tick_forever();
        if (write(up[1], &b, sizeof b) != (ssize_t)sizeof b) _exit(2);
        tick_forever();
    }
    close(up[1]);
    pid_t b = 0;
    if (read(up[0], &b, sizeof b) != (ssize_t)sizeof b) sc_fail("no pid of B");
    close(up[0]);
    printf("tree %d %d %d\n", (int)getpid(), (int)a, (int)b);
    fflush(stdout);

    pid_t z = fork();
    if (z < 0) sc_fail("fork Z");
    if (z == 0) _exit(0);

    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long made = 0;
    do {
        pid_t c = fork();
        if (c < 0) sc_fail("fork short-lived");
        if (c == 0) _exit(0);
        int st;
        while (waitpid(c, &st, 0) < 0)
            if (errno != EINTR) sc_fail("waitpid short-lived");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) sc_fail("short-lived child status");
        made++;
        sc_sleep_ms(5);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - t0.tv_sec < secs);

    kill(-a, SIGTERM);
    int st;
    while (waitpid(a, &st, 0) < 0)
        if (errno != EINTR) sc_fail("waitpid A");
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM) sc_fail("A did not end by SIGTERM");
    printf("OK %ld children\n", made);
    fflush(stdout);
    return 0;
}

/* ---- forktree tree TICKS: a tree that is checkpointed and restarted ----
 * root ── A (own process group) ── B (A's group); root also leaves a zombie Z
 * (exit status 5) that it reaps only at the very end.
 * Numbered records flow root ─pipe─▶ A ─pipe─▶ B all the time (A forwards them
 * slowly, so bytes are in flight in both pipes at any checkpoint); B checks that
 * every record comes exactly once and in order. Every process checks that its pid,
 * parent and group are the saved ones and prints "restarted <who> <n>" when it
 * notices a restart. After TICKS ticks the root sends SIGUSR1 to A and closes its
 * pipe; A forwards the rest, closes its own, reaps B (exit 0 = all records in order)
 * and exits 7 if it got the signal; the root reaps A and prints OK with the count. */
static volatile sig_atomic_t g_usr1;
static void on_usr1(int sig)
{
    (void)sig;
    g_usr1 = 1;
}

#define REC 16 /* "%015ld\n" */

static void check_place(const char *who, pid_t ppid, pid_t pgid, int *seen)
{
    /* the parent is gone: the computation is being killed (a restart that lost the
     * parent link shows as a failed waitpid in the parent) */
    if (getppid() == 1 && ppid != 1) _exit(0);
    if (getppid() != ppid) {
        printf("FAIL %s: parent %d, want %d\n", who, (int)getppid(), (int)ppid);
        exit(1);
    }
    if (getpgid(0) != pgid) {
        printf("FAIL %s: group %d, want %d\n", who, (int)getpgid(0), (int)pgid);
        exit(1);
    }
    int r = sc_restarts();
    if (r != *seen) {
        *seen = r;
        printf("restarted %s %d\n", who, r);
    }
}

static int read_rec(FILE *in, char *rec)
{
    size_t got = fread(rec, 1, REC, in);
    if (got == 0 && feof(in)) return 0;
    if (got != REC) {
        printf("FAIL partial record (%zu bytes)\n", got);
        exit(1);
    }
    return 1;
}

static void run_b(pid_t a, int rd)
{
    FILE *in = fdopen(rd, "r");
    int seen = 0;
    long want = 0;
    char rec[REC + 1];
    rec[REC] = 0;
    while (read_rec(in, rec)) {
        check_place("B", a, a, &seen);
        long got = strtol(rec, NULL, 10);
        if (got != want || rec[REC - 1] != '\n') {
            printf("FAIL B: record %ld, want %ld\n", got, want);
            exit(1);
        }
        want++;
    }
    printf("B got %ld\n", want);
    exit(0);
}

static void run_a(pid_t root, int rd)
{
    pid_t me = getpid();
    signal(SIGUSR1, on_usr1);
    int p2[2];
    if (pipe(p2) < 0) _exit(2);
    pid_t b = fork();
    if (b < 0) _exit(2);
    if (b == 0) {
        close(rd);
        close(p2[1]);
        run_b(me, p2[0]);
    }
    close(p2[0]);
    FILE *in = fdopen(rd, "r");
    int seen = 0;
    long n = 0;
    char rec[REC];
    while (read_rec(in, rec)) {
        check_place("A", root, me, &seen);
        if (write(p2[1], rec, REC) != REC) {
            printf("FAIL A: write: %s\n", strerror(errno));
            exit(1);
        }
        if (++n % 4 == 0) sc_sleep_ms(1); /* slower than the root: data waits in the pipe */
    }
    close(p2[1]);
    int st;
    while (waitpid(b, &st, 0) < 0)
        if (errno != EINTR) {
            printf("FAIL A: waitpid B: %s\n", strerror(errno));
            exit(1);
        }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("FAIL A: B status %#x\n", st);
        exit(1);
    }
    printf("A reaped B\n");
    exit(g_usr1 ? 7 : 3);
}

static int run_tree(int ticks)
{
    pid_t root = getpid(), grp = getpgid(0), parent = getppid();
    signal(SIGPIPE, SIG_IGN);
    int p1[2];
    if (pipe(p1) < 0) sc_fail("pipe");
    pid_t a = fork();
    if (a < 0) sc_fail("fork A");
    if (a == 0) {
        close(p1[1]);
        setpgid(0, 0);
        run_a(root, p1[0]);
    }
    close(p1[0]);
    setpgid(a, a); /* both sides: no race with A's own call */
    pid_t z = fork();
    if (z < 0) sc_fail("fork Z");
    if (z == 0) _exit(5);
    printf("tree %d %d\n", (int)root, (int)a);
    int seen = 0;
    long sent = 0;
    char rec[32];
    for (int i = 0; i < ticks; i++) {
        check_place("root", parent, grp, &seen);
        for (int k = 0; k < 100; k++, sent++) {
            snprintf(rec, sizeof rec, "%015ld\n", sent);
            if (write(p1[1], rec, REC) != REC) {
                printf("FAIL root: write: %s\n", strerror(errno));
                return 1;
            }
        }
        printf("tick %d\n", i);
        sc_sleep_ms(20);
    }
    kill(a, SIGUSR1);
    close(p1[1]);
    int st;
    while (waitpid(a, &st, 0) < 0)
        if (errno != EINTR) sc_fail("waitpid A");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 7) {
        printf("FAIL root: A status %#x\n", st);
        return 1;
    }
    /* the zombie left at the start is still there (recreated by every restart) */
    while (waitpid(z, &st, 0) < 0)
        if (errno != EINTR) {
            printf("FAIL root: waitpid zombie %d: %s\n", (int)z, strerror(errno));
            return 1;
        }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 5) {
        printf("FAIL root: zombie status %#x\n", st);
        return 1;
    }
    printf("OK tree %ld\n", sent);
    return 0;
}

/* ---- forktree outside: a child started without the agent ----
 * The root forks a child that execs sleep with STASIS_AGENT_SOCKET set empty (the
 * way to ask for "outside"; a merely cleared environment gets the agent back):
 * the agent warns on stderr and the child leaves the computation; the root ticks
 * 100 times (checkpoints happen meanwhile), then reaps the child and prints OK. */
static int run_outside(void)
{
    pid_t c = fork();
    if (c < 0) sc_fail("fork");
    if (c == 0) {
        char *argv[] = {"sleep", "2", NULL}, *envp[] = {"STASIS_AGENT_SOCKET=", NULL};
        execve("/bin/sleep", argv, envp);
        _exit(127);
    }
    printf("outside %d\n", (int)c);
    for (int i = 0; i < 100; i++) {
        printf("tick %d\n", i);
        sc_sleep_ms(20);
    }
    int st;
    while (waitpid(c, &st, 0) < 0)
        if (errno != EINTR) sc_fail("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("FAIL child status %#x\n", st);
        return 1;
    }
    printf("OK outside\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "join") == 0) return run_join(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "tree") == 0) return run_tree(atoi(argv[2]));
    if (argc == 2 && strcmp(argv[1], "outside") == 0) return run_outside();
    fprintf(stderr, "usage: forktree join SECONDS | tree TICKS | outside\n");
    return 2;
}
