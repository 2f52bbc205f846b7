/* Scenario: pending signals survive checkpoints, each exactly once with its value.
 * ksigpend N [STEP_MS]. Every signal used is blocked in both threads, then:
 * process-wide: SIGRTMIN+3 queued three times (values 31, 32, 33), SIGUSR2 by kill;
 * worker thread: SIGUSR1 by pthread_kill, SIGRTMIN+4 queued twice (41, 42);
 * main thread: SIGRTMIN+5 queued (51).
 * Each step checks /proc/thread-self/status (SigPnd: the thread's own, ShdPnd: the
 * process's). At the end each thread takes its signals (sigtimedwait, zero timeout)
 * and checks order, codes, values and sender, and that nothing else is pending.
 * SC_STOP_FILE (common.h) ends the steps early. */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static pid_t g_pid;
static volatile int g_stop, g_worker_done, g_queued;
static int g_n;

static uint64_t bit(int s) { return 1ull << (s - 1); }

static uint64_t status_mask(const char *field)
{
    char line[256];
    uint64_t v = 0;
    FILE *f = fopen("/proc/thread-self/status", "r");
    if (!f) sc_fail("open /proc/thread-self/status");
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, strlen(field))) v = strtoull(line + strlen(field) + 1, NULL, 16);
    fclose(f);
    return v;
}

static void expect_pending(const char *who, uint64_t own)
{
    uint64_t shared = bit(SIGUSR2) | bit(SIGRTMIN + 3);
    uint64_t p = status_mask("SigPnd:"), s = status_mask("ShdPnd:");
    if (p != own || s != shared) {
        printf("%s: SigPnd %llx (want %llx) ShdPnd %llx (want %llx)\n", who, (unsigned long long)p,
               (unsigned long long)own, (unsigned long long)s, (unsigned long long)shared);
        sc_fail("pending signal sets");
    }
}

static void take(const sigset_t *set, int sig, int code, int value)
{
    struct timespec zero = {0, 0};
    siginfo_t si;
    int got = sigtimedwait(set, &si, &zero);
    if (got != sig || si.si_code != code || (code == SI_QUEUE && si.si_value.sival_int != value) ||
        si.si_pid != g_pid || si.si_uid != getuid()) {
        printf("took %d code %d value %d pid %d; wanted %d code %d value %d pid %d\n", got, got > 0 ? si.si_code : 0,
               got > 0 ? si.si_value.sival_int : 0, got > 0 ? si.si_pid : 0, sig, code, value, g_pid);
        sc_fail("pending signal taken");
    }
}

static void take_none(const sigset_t *set)
{
    struct timespec zero = {0, 0};
    siginfo_t si;
    int got = sigtimedwait(set, &si, &zero);
    if (got > 0) {
        printf("extra signal %d value %d\n", got, si.si_value.sival_int);
        sc_fail("a signal came twice");
    }
}

static void *worker(void *arg)
{
    (void)arg;
    while (!g_queued) sc_sleep_ms(1);
    while (!g_stop) {
        expect_pending("worker", bit(SIGUSR1) | bit(SIGRTMIN + 4));
        sc_sleep_ms(20);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN + 4);
    take(&set, SIGUSR1, SI_USER, 0); /* glibc reports SI_TKILL as SI_USER */
    take(&set, SIGRTMIN + 4, SI_QUEUE, 41);
    take(&set, SIGRTMIN + 4, SI_QUEUE, 42);
    take_none(&set);
    g_worker_done = 1;
    return NULL;
}

static void queue(pthread_t t, int sig, int v)
{
    if (pthread_sigqueue(t, sig, (union sigval){.sival_int = v}) != 0) sc_fail("pthread_sigqueue");
}

int main(int argc, char **argv)
{
    g_n = argc > 1 ? atoi(argv[1]) : 50;
    long step = argc > 2 ? atol(argv[2]) : 100;
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_pid = getpid();
    sigset_t all;
    sigemptyset(&all);
    int sigs[] = {SIGUSR1, SIGUSR2, SIGRTMIN + 3, SIGRTMIN + 4, SIGRTMIN + 5};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&all, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_t w;
    pthread_create(&w, NULL, worker, NULL);
    for (int v = 31; v <= 33; v++)
        if (sigqueue(g_pid, SIGRTMIN + 3, (union sigval){.sival_int = v}) < 0) sc_fail("sigqueue");
    kill(g_pid, SIGUSR2);
    pthread_kill(w, SIGUSR1);
    queue(w, SIGRTMIN + 4, 41);
    queue(w, SIGRTMIN + 4, 42);
    queue(pthread_self(), SIGRTMIN + 5, 51);
    g_queued = 1;
    int restarts = 0;
    for (int i = 1; i <= g_n; i++) {
        sc_sleep_ms(step);
        expect_pending("main", bit(SIGRTMIN + 5));
        if (sc_restarts() != restarts) {
            restarts = sc_restarts();
            printf("restarted %d\n", restarts);
        }
        printf("step %d\n", i);
        if (sc_stop_requested()) break;
    }
    g_stop = 1;
    sigset_t mine;
    sigemptyset(&mine);
    sigaddset(&mine, SIGUSR2);
    sigaddset(&mine, SIGRTMIN + 3);
    sigaddset(&mine, SIGRTMIN + 5);
    take(&mine, SIGRTMIN + 5, SI_QUEUE, 51); /* the thread's own queue comes first */
    take(&mine, SIGUSR2, SI_USER, 0);
    take(&mine, SIGRTMIN + 3, SI_QUEUE, 31);
    take(&mine, SIGRTMIN + 3, SI_QUEUE, 32);
    take(&mine, SIGRTMIN + 3, SI_QUEUE, 33);
    take_none(&mine);
    pthread_join(w, NULL);
    if (!g_worker_done) sc_fail("worker");
    sigset_t pend;
    sigpending(&pend);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigismember(&pend, sigs[i])) sc_fail("still pending at the end");
    printf("OK restarts %d\n", restarts);
    return 0;
}
