/* Scenario (b): threads N [STEP_US]. 8 threads update per-thread counters (also
 * mirrored in a stack local and a __thread variable) and mutex-protected shared
 * counters; the main thread checks invariants continuously; exit 0 with "OK". */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#define NT 8

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_count[NT];
static uint64_t g_a, g_b;
static uint64_t g_n;
static long g_step_us;
static __thread uint64_t t_mine;

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t local = 0;
    for (uint64_t i = 0; i < g_n; i++) {
        pthread_mutex_lock(&g_lock);
        if (g_count[id] != local || t_mine != local) {
            pthread_mutex_unlock(&g_lock);
            sc_fail("per-thread counter");
        }
        g_count[id]++;
        g_a++;
        g_b += 2;
        if (g_b != 2 * g_a) sc_fail("shared invariant");
        pthread_mutex_unlock(&g_lock);
        local++;
        t_mine++;
        if (g_step_us) usleep((useconds_t)g_step_us);
    }
    return (void *)(intptr_t)local;
}

/* a thread parked in pthread_cond_wait for the whole run, and one spinning
 * without syscalls: both must come back */
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_go;
static volatile int g_stop_spin;
static volatile uint64_t g_spins;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_lock);
    while (!g_go) pthread_cond_wait(&g_cond, &g_lock);
    pthread_mutex_unlock(&g_lock);
    return (void *)1;
}

static void *spinner(void *arg)
{
    (void)arg;
    uint64_t x = 1, n = 0;
    while (!g_stop_spin) {
        for (int i = 0; i < 200000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
        n++;
        g_spins = n;
        if (n % 2 == 0) usleep(500); /* spin about half of the time only */
    }
    return (void *)(uintptr_t)(x | 1);
}

/* a thread in sigwait() on SIGUSR2 and every real-time signal for the whole run
 * (the agent's suspend signal must still reach its handler) until main sends it
 * SIGUSR2 */
static void *sigwaiter(void *arg)
{
    (void)arg;
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGUSR2);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) sigaddset(&all, s);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    int sig = 0;
    if (sigwait(&all, &sig) != 0) return NULL;
    return (void *)(intptr_t)sig;
}

/* thread churn: short-lived threads created and joined all the time */
static volatile uint64_t g_churned;
static void *tiny(void *arg) { return (void *)((uintptr_t)arg + 1); }
static void *churner(void *arg)
{
    (void)arg;
    while (!g_stop_spin) {
        pthread_t t;
        void *r;
        if (pthread_create(&t, NULL, tiny, (void *)(uintptr_t)g_churned)) sc_fail("churn create");
        if (pthread_join(t, &r) || (uintptr_t)r != g_churned + 1) sc_fail("churn join");
        g_churned++;
    }
    return NULL;
}

static void check_shared(void)
{
    pthread_mutex_lock(&g_lock);
    uint64_t s = 0;
    for (int t = 0; t < NT; t++) s += g_count[t];
    int ok = s == g_a && g_b == 2 * g_a;
    uint64_t a = g_a;
    pthread_mutex_unlock(&g_lock);
    if (!ok) sc_fail("sum of per-thread counters");
    printf("progress %llu\n", (unsigned long long)a);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    g_n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
    g_step_us = argc > 2 ? atol(argv[2]) : 1000;
    pthread_t th[NT], tw, ts, tc, tsw;
    if (pthread_create(&tsw, NULL, sigwaiter, NULL)) sc_fail("pthread_create");
    if (pthread_create(&tw, NULL, waiter, NULL) || pthread_create(&ts, NULL, spinner, NULL) ||
        pthread_create(&tc, NULL, churner, NULL))
        sc_fail("pthread_create");
    for (int t = 0; t < NT; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t)) sc_fail("pthread_create");
    int gen = 0;
    for (;;) {
        check_shared();
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        pthread_mutex_lock(&g_lock);
        int done = g_a == NT * g_n;
        pthread_mutex_unlock(&g_lock);
        if (done) break;
        sc_sleep_ms(20);
    }
    for (int t = 0; t < NT; t++) {
        void *r;
        pthread_join(th[t], &r);
        if ((uint64_t)(intptr_t)r != g_n || g_count[t] != g_n) sc_fail("final per-thread count");
    }
    check_shared();
    pthread_mutex_lock(&g_lock);
    g_go = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    void *r;
    if (pthread_join(tw, &r) || r != (void *)1) sc_fail("cond waiter");
    uint64_t s0 = g_spins;
    sc_sleep_ms(50);
    if (g_spins == s0) sc_fail("spinner stopped");
    g_stop_spin = 1;
    pthread_join(ts, NULL);
    pthread_join(tc, NULL);
    if (!g_churned) sc_fail("churn");
    pthread_kill(tsw, SIGUSR2);
    if (pthread_join(tsw, &r) || r != (void *)(intptr_t)SIGUSR2) sc_fail("sigwait thread");
    printf("OK threads %d x %llu\n", NT, (unsigned long long)g_n);
    return 0;
}
