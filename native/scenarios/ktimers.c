/* Scenario: POSIX timers survive checkpoints. ktimers N [STEP_MS [nothread]]
 * A: CLOCK_MONOTONIC, signal SIGRTMIN+1 with a value, every 20 ms (a handler counts);
 * B: SIGEV_THREAD_ID to a worker thread, SIGRTMIN+2, every 30 ms (sigwaitinfo there);
 * C: SIGEV_THREAD, every 25 ms (a callback counts); D: created, never armed;
 * E: CLOCK_BOOTTIME, SIGEV_NONE, armed once for 1000 s. "nothread": no C.
 * F: CLOCK_MONOTONIC, SIGRTMIN+4, once after 3 s: it must have fired half a second
 * after its deadline at the latest (also when the deadline passed while the program
 * was not running: after a restart it fires at once).
 * Every step checks /proc/self/timers is what it was (ids, signals, values, targets,
 * clocks), D and E's state, and every second of undisturbed run that A, B and C fire
 * at their rate with the right id and value (expirations counted with their overruns,
 * so a loaded machine that delivers late does not look slow). Prints "step i",
 * "restarted", "OK". SC_STOP_FILE (common.h) ends it once an undisturbed window
 * followed the last restart. */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static timer_t g_ta, g_tb, g_tc, g_td, g_te;
static volatile int g_ticks_a, g_ticks_b, g_ticks_c, g_bad;
static pid_t g_main_tid, g_worker_tid;
static char g_timers0[4096];
static timer_t g_tf;
static volatile int g_f_fired;
static double g_f_deadline;
static int g_nothread;

static void on_a(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si->si_code != SI_TIMER || si->si_value.sival_int != 0xA1 || si->si_timerid != (int)(intptr_t)g_ta) g_bad = 1;
    g_ticks_a += 1 + si->si_overrun;
}

static void on_f(int sig)
{
    (void)sig;
    g_f_fired++;
}

static void on_c(union sigval v)
{
    if (v.sival_int != 0xC3 || (pid_t)syscall(SYS_gettid) == g_main_tid) g_bad = 3;
    int over = timer_getoverrun(g_tc);
    __atomic_add_fetch(&g_ticks_c, 1 + (over > 0 ? over : 0), __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
    (void)arg;
    g_worker_tid = (pid_t)syscall(SYS_gettid);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&set, &si) < 0) continue;
        if (si.si_code != SI_TIMER || si.si_value.sival_ptr != (void *)&g_tb || si.si_timerid != (int)(intptr_t)g_tb)
            g_bad = 2;
        __atomic_add_fetch(&g_ticks_b, 1 + si.si_overrun, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void make_timer(clockid_t clk, int notify, int sig, union sigval v, timer_t *t)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = notify;
    ev.sigev_signo = sig;
    ev.sigev_value = v;
    if (notify == SIGEV_THREAD) ev.sigev_notify_function = on_c;
    if (notify & SIGEV_THREAD_ID) ev._sigev_un._tid = g_worker_tid;
    if (timer_create(clk, &ev, t) < 0) sc_fail("timer_create");
}

static void arm(timer_t t, long value_ms, long interval_ms)
{
    struct itimerspec its = {{interval_ms / 1000, (interval_ms % 1000) * 1000000L},
                             {value_ms / 1000, (value_ms % 1000) * 1000000L}};
    if (timer_settime(t, 0, &its, NULL) < 0) sc_fail("timer_settime");
}

/* /proc/self/timers with its entries sorted by id (the kernel lists them in any order) */
static void read_timers(char *out, size_t cap)
{
    char ent[16][256], line[256];
    int k = -1;
    FILE *f = fopen("/proc/self/timers", "r");
    if (!f) sc_fail("open /proc/self/timers");
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "ID: ", 4) && k < 15) ent[++k][0] = 0;
        if (k >= 0 && strlen(ent[k]) + strlen(line) < sizeof ent[k]) strcat(ent[k], line);
    }
    fclose(f);
    int order[16];
    for (int i = 0; i <= k; i++) order[i] = i;
    for (int i = 1; i <= k; i++)
        for (int j = i; j > 0 && atoi(ent[order[j]] + 4) < atoi(ent[order[j - 1]] + 4); j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    out[0] = 0;
    for (int i = 0; i <= k; i++)
        if (strlen(out) + strlen(ent[order[i]]) < cap) strcat(out, ent[order[i]]);
}

static void check_state(void)
{
    static char now[4096];
    read_timers(now, sizeof now);
    if (strcmp(now, g_timers0)) {
        printf("was:\n%snow:\n%s", g_timers0, now);
        sc_fail("/proc/self/timers changed");
    }
    struct itimerspec its;
    if (timer_gettime(g_td, &its) < 0 || its.it_value.tv_sec || its.it_value.tv_nsec) sc_fail("disarmed timer D");
    if (timer_gettime(g_te, &its) < 0 || its.it_value.tv_sec < 900 || its.it_value.tv_sec > 1000)
        sc_fail("timer E remaining");
    if (timer_gettime(g_ta, &its) < 0 || its.it_interval.tv_nsec != 20000000) sc_fail("timer A interval");
    if (g_bad) {
        printf("bad delivery %d\n", g_bad);
        sc_fail("timer signal id/value/thread");
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!g_f_fired && (double)ts.tv_sec + ts.tv_nsec / 1e9 > g_f_deadline + 0.5) sc_fail("one-shot timer F is late");
    if (g_f_fired > 1) sc_fail("one-shot timer F fired twice");
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* one undisturbed window: rates within half and one and a half of nominal */
static int check_rates(double dt, int da, int db, int dc)
{
    double ea = dt / 0.020, eb = dt / 0.030, ec = dt / 0.025;
    if (g_nothread) ec = dc = 0;
    if (da < ea * 0.5 || da > ea * 1.5 + 2 || db < eb * 0.5 || db > eb * 1.5 + 2 || dc < ec * 0.5 ||
        dc > ec * 1.5 + 2) {
        printf("rates over %.2fs: A %d (~%.0f) B %d (~%.0f) C %d (~%.0f)\n", dt, da, ea, db, eb, dc, ec);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    long step = argc > 2 ? atol(argv[2]) : 100;
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_main_tid = (pid_t)syscall(SYS_gettid);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_a;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    signal(SIGRTMIN + 4, on_f);
    pthread_t w;
    pthread_create(&w, NULL, worker, NULL);
    while (!__atomic_load_n(&g_worker_tid, __ATOMIC_SEQ_CST)) sc_sleep_ms(1);
    make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, (union sigval){.sival_int = 0xA1}, &g_ta);
    make_timer(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGRTMIN + 2, (union sigval){.sival_ptr = &g_tb}, &g_tb);
    g_nothread = argc > 3 && !strcmp(argv[3], "nothread");
    if (!g_nothread) make_timer(CLOCK_MONOTONIC, SIGEV_THREAD, 0, (union sigval){.sival_int = 0xC3}, &g_tc);
    make_timer(CLOCK_REALTIME, SIGEV_SIGNAL, SIGRTMIN + 3, (union sigval){.sival_int = 0xD4}, &g_td);
    make_timer(CLOCK_BOOTTIME, SIGEV_NONE, 0, (union sigval){.sival_int = 0xE5}, &g_te);
    arm(g_ta, 20, 20);
    arm(g_tb, 30, 30);
    if (!g_nothread) arm(g_tc, 25, 25);
    arm(g_te, 1000000, 0);
    make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 4, (union sigval){.sival_int = 0xF6}, &g_tf);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    arm(g_tf, 3000, 0);
    g_f_deadline = (double)now.tv_sec + now.tv_nsec / 1e9 + 3.0;
    read_timers(g_timers0, sizeof g_timers0);
    int restarts = 0, windows_since_restart = 0;
    double t0 = mono();
    int a0 = g_ticks_a, b0 = g_ticks_b, c0 = g_ticks_c;
    for (int i = 1; i <= n; i++) {
        sc_sleep_ms(step);
        check_state();
        if (sc_restarts() != restarts) {
            restarts = sc_restarts();
            windows_since_restart = 0;
            printf("restarted %d\n", restarts);
        }
        printf("step %d a=%d b=%d c=%d\n", i, g_ticks_a, g_ticks_b, g_ticks_c);
        double t = mono();
        if (t - t0 >= 1.0) {
            int da = g_ticks_a - a0, db = g_ticks_b - b0, dc = g_ticks_c - c0;
            /* a window with a checkpoint in it is longer than planned: not judged */
            if (t - t0 < 1.5) {
                if (!check_rates(t - t0, da, db, dc)) sc_fail("timer rate");
                windows_since_restart++;
            }
            t0 = t;
            a0 = g_ticks_a;
            b0 = g_ticks_b;
            c0 = g_ticks_c;
        }
        if (sc_stop_requested() && (!restarts || windows_since_restart)) break;
    }
    if (restarts && !windows_since_restart) sc_fail("no undisturbed window after the last restart");
    printf("OK ticks a=%d b=%d c=%d\n", g_ticks_a, g_ticks_b, g_ticks_c);
    return 0;
}
