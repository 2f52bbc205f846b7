/* Scenario: many processes, or many descriptors in one process.
 *
 *   manyproc procs N STEPS [FILE] the root and N-1 children (fork); each child checks
 *                                its state every 20 ms and exits 0 on SIGTERM if
 *                                it is intact; the root ends them after STEPS steps;
 *                                with FILE the last child maps FILE shared (its
 *                                descriptor closed) and checks it too
 *   manyproc fds N FILE STEPS    N descriptors on FILE, descriptor k at offset k
 *
 * Prints "count i" every 20 ms (and "restarted g"), "OK manyproc ..." at the end;
 * exit 0 only if nothing was lost. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static void on_term(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t pattern(uint64_t i) { return i * 0x9E3779B97F4A7C15ull + 5; }

static volatile uint64_t *map_shared(const char *file)
{
    int fd = open(file, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ftruncate(fd, 4096) < 0) _exit(5);
    volatile uint64_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) _exit(5);
    m[0] = pattern(99);
    return m;
}

static void __attribute__((noreturn)) child(pid_t root, int k, const char *file)
{
    static uint64_t state[4096];
    for (int i = 0; i < 4096; i++) state[i] = pattern((uint64_t)(i + k));
    volatile uint64_t *shared = file ? map_shared(file) : NULL;
    signal(SIGTERM, on_term);
    while (!g_stop) {
        if (getppid() != root) _exit(3);
        if (shared && shared[0] != pattern(99)) _exit(6);
        for (int i = 0; i < 4096; i += 61)
            if (state[i] != pattern((uint64_t)(i + k))) _exit(4);
        sc_sleep_ms(20);
    }
    _exit(0);
}

static void count(long steps, void (*check)(void))
{
    int gen = 0;
    for (long i = 1; i <= steps; i++) {
        check();
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(20);
    }
}

static void nothing(void) {}

static int run_procs(int n, long steps, const char *file)
{
    pid_t root = getpid(), *kids = calloc((size_t)n, sizeof *kids);
    if (!kids) sc_fail("calloc");
    for (int k = 1; k < n; k++) {
        kids[k] = fork();
        if (kids[k] < 0) sc_fail("fork");
        if (kids[k] == 0) child(root, k, k == n - 1 ? file : NULL);
    }
    printf("procs %d\n", n);
    count(steps, nothing);
    for (int k = 1; k < n; k++) kill(kids[k], SIGTERM);
    for (int k = 1; k < n; k++) {
        int st;
        while (waitpid(kids[k], &st, 0) < 0)
            if (errno != EINTR) sc_fail("waitpid");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("FAIL child %d (pid %d) status %#x\n", k, (int)kids[k], st);
            return 1;
        }
    }
    printf("OK manyproc procs %d\n", n);
    return 0;
}

static int g_nfds;

static void check_fds(void)
{
    for (int k = 0; k < g_nfds; k++)
        if (lseek(3 + k, 0, SEEK_CUR) != k) {
            printf("FAIL fd %d offset\n", 3 + k);
            fflush(stdout);
            exit(1);
        }
}

static int run_fds(int n, const char *file, long steps)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)n + 64 && rl.rlim_max >= (rlim_t)n + 64) {
        rl.rlim_cur = (rlim_t)n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int k = 0; k < n; k++) {
        int fd = open(file, O_RDONLY);
        if (fd < 0) sc_fail("open");
        if (fd != 3 + k) {
            if (dup2(fd, 3 + k) < 0) sc_fail("dup2");
            close(fd);
        }
        if (lseek(3 + k, k, SEEK_SET) != k) sc_fail("lseek");
    }
    g_nfds = n;
    printf("fds %d\n", n);
    count(steps, check_fds);
    printf("OK manyproc fds %d\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "procs"))
        return run_procs(atoi(argv[2]), atol(argv[3]), argc == 5 ? argv[4] : NULL);
    if (argc == 5 && !strcmp(argv[1], "fds")) return run_fds(atoi(argv[2]), argv[3], atol(argv[4]));
    fprintf(stderr, "usage: manyproc procs N STEPS [FILE] | manyproc fds N FILE STEPS\n");
    return 2;
}
