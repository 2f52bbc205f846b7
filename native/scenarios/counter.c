/* Scenario (a): single-threaded counter. counter N [STEP_MS]
 * Keeps state in static data, the brk heap, an mmap'd area and a PROT_NONE area;
 * verifies everything each step; prints "count i"; exits 0 with "OK" at N. */
#include "common.h"
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define HEAP_WORDS (256 * 1024)
#define MAP_BYTES  (4u << 20)

static uint64_t g_static[1024];
static uint64_t *g_heap;
static unsigned char *g_map;
static unsigned char *g_locked; /* PROT_NONE page with a pattern inside */

static uint64_t pattern(uint64_t i) { return i * 0x9E3779B97F4A7C15ull + 17; }

static volatile sig_atomic_t g_usr1;
static char g_altstack[65536];
static void on_usr1(int sig)
{
    (void)sig;
    g_usr1++;
}

/* kernel state that must survive: handler (on an alternate stack), mask, umask, name */
static void setup_kernel_state(void)
{
    stack_t ss = {.ss_sp = g_altstack, .ss_size = sizeof g_altstack, .ss_flags = 0};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0) sc_fail("sigaction");
    /* block SIGUSR2 and every real-time signal (the agent keeps its own signal
     * deliverable) and close every fd above 2 (the agent keeps its connection) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, NULL);
    closefrom(3);
    umask(027);
    prctl(PR_SET_NAME, "stasis-counter");
    struct itimerval it = {{0, 0}, {1000, 0}}; /* armed, never fires in a test */
    setitimer(ITIMER_REAL, &it, NULL);
}

static void check_kernel_state(void)
{
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    if (sigismember(&cur, SIGUSR2) != 1 || sigismember(&cur, SIGUSR1) != 0) sc_fail("signal mask");
    stack_t ss;
    if (sigaltstack(NULL, &ss) < 0 || ss.ss_sp != g_altstack || ss.ss_size != sizeof g_altstack) sc_fail("sigaltstack");
    raise(SIGUSR1);
    if (g_usr1 != 1) sc_fail("SIGUSR1 handler");
    mode_t m = umask(022);
    if (m != 027) sc_fail("umask");
    char name[16] = "";
    prctl(PR_GET_NAME, name);
    if (strcmp(name, "stasis-counter")) sc_fail("thread name");
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    if (it.it_value.tv_sec < 900) sc_fail("interval timer");
}

static void setup(void)
{
    setup_kernel_state();
    for (int i = 0; i < 1024; i++) g_static[i] = pattern((uint64_t)i);
    g_heap = malloc(HEAP_WORDS * sizeof *g_heap);
    g_map = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_locked = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!g_heap || g_map == MAP_FAILED || g_locked == MAP_FAILED) sc_fail("alloc");
    for (size_t i = 0; i < HEAP_WORDS; i++) g_heap[i] = pattern(i);
    for (size_t i = 0; i < MAP_BYTES; i += 4096) g_map[i] = (unsigned char)(i >> 12); /* sparse */
    memset(g_locked, 0xA5, 4096);
    mprotect(g_locked, 4096, PROT_NONE);
}

static void check(uint64_t count, uint64_t sum)
{
    if (g_static[7] != pattern(7) || g_static[1023] != pattern(1023)) sc_fail("static data");
    for (size_t i = 0; i < HEAP_WORDS; i += 997)
        if (g_heap[i] != pattern(i)) sc_fail("heap");
    for (size_t i = 0; i < MAP_BYTES; i += 4096)
        if (g_map[i] != (unsigned char)(i >> 12)) sc_fail("mmap");
    if (sum != count * (count + 1) / 2) sc_fail("sum");
}

/* uses ~4 MiB of stack: the restored [stack] must still be able to grow */
static int __attribute__((noinline)) deep(int n)
{
    volatile char buf[1024];
    buf[0] = (char)n;
    buf[1023] = (char)n;
    return n ? deep(n - 1) + buf[0] - buf[1023] + 1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100;
    long step = argc > 2 ? atol(argv[2]) : 10;
    setup();
    uint64_t sum = 0;
    int gen = 0;
    for (uint64_t i = 1; i <= n; i++) {
        sum += i;
        check(i, sum);
        void *p = malloc(1000 + (i % 5000)); /* keep the brk heap moving */
        if (!p) sc_fail("malloc");
        memset(p, 1, 1000);
        if (i % 3) free(p);
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %llu\n", (unsigned long long)i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    mprotect(g_locked, 4096, PROT_READ);
    for (int i = 0; i < 4096; i++)
        if (g_locked[i] != 0xA5) sc_fail("PROT_NONE page");
    void *big = malloc(64 << 20); /* brk/mmap still work */
    if (!big) sc_fail("big malloc");
    memset(big, 3, 64 << 20);
    free(big);
    void *s = sbrk(1 << 20);
    if (s == (void *)-1) sc_fail("sbrk");
    memset(s, 7, 1 << 20);
    if (deep(4000) != 4000) sc_fail("deep recursion");
    check_kernel_state();
    printf("OK counter %llu pid %d\n", (unsigned long long)n, (int)getpid());
    return 0;
}
