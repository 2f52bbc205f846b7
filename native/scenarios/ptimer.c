/* Scenario: a POSIX timer with SIGEV_THREAD notification. ptimer N [STEP_MS]
 * glibc runs the notifications through a helper thread that blocks every signal
 * but its own, and starts one short-lived thread per expiry: a checkpoint must
 * suspend (and restore) such threads without waiting for them. Counts N steps,
 * prints "count i" (and "restarted g"), "OK ptimer ..." at the end. */
#include "common.h"
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t g_ticks;

static void on_tick(union sigval v)
{
    (void)v;
    __atomic_add_fetch(&g_ticks, 1, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100;
    long step = argc > 2 ? atol(argv[2]) : 10;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = on_tick;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0) sc_fail("timer_create");
    struct itimerspec its = {{0, 2000000}, {0, 2000000}}; /* every 2 ms */
    if (timer_settime(timer, 0, &its, NULL) < 0) sc_fail("timer_settime");
    int gen = 0;
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= n; i++) {
        sum += i;
        if (sum != i * (i + 1) / 2) sc_fail("sum");
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %llu\n", (unsigned long long)i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    if (g_ticks == 0) sc_fail("the timer never fired");
    printf("OK ptimer %llu ticks %llu\n", (unsigned long long)n, (unsigned long long)g_ticks);
    return 0;
}
