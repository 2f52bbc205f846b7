/* POSIX timers (timer_create) across a checkpoint.
 *
 * Checkpoint (checkpoint thread, every thread parked): /proc/self/timers lists each
 * timer's id, signal, sigev_value, notification and clock; timer_gettime gives its
 * remaining time and interval. Restart (restored agent, before threads are released):
 * each timer is created again with its original id (prctl PR_TIMER_CREATE_RESTORE_IDS,
 * Linux 6.16+), the same clock and sigevent (a SIGEV_THREAD_ID target is mapped to the
 * thread's new tid) and armed with the saved remaining time and interval, less the time
 * its clock moved on between the checkpoint and the restart (wall, monotonic and boot
 * clocks: a timer that expired meanwhile fires at once, like a timerfd; CPU-time clocks
 * did not move).
 *
 * SIGEV_THREAD: glibc runs those timers from a helper thread that blocks every signal
 * (the agent's suspend signal too, so it could never be parked). While the agent is
 * active, timer_create(SIGEV_THREAD) is served here instead: a kernel timer that
 * signals the agent's own helper thread (SIGEV_THREAD_ID, signal 32 like glibc), which
 * starts a detached thread per expiry to call the program's function. The timer_t is
 * the kernel id, which glibc's other timer_* functions take as they are. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <linux/futex.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#endif
#define KT_SIGNAL     32 /* the signal glibc's own SIGEV_THREAD helper uses */
#define KT_MAX        512
#define KT_THREAD_MAX 256

/* ---- SIGEV_THREAD timers served by the agent ---- */
struct kt_thread_timer {
    int used; /* by process `pid` (a forked child has none of its parent's) */
    int pid;
    int kid; /* kernel timer id */
    void (*fn)(union sigval);
    union sigval val;
    size_t stacksize; /* 0: default */
};
static struct kt_thread_timer g_tt[KT_THREAD_MAX];
static pthread_mutex_t g_tt_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_helper_tid; /* tid of the helper thread (in g_helper_pid) */
static int g_helper_pid;

struct kt_call {
    void (*fn)(union sigval);
    union sigval val;
};

static void *kt_call_thread(void *arg)
{
    struct kt_call c = *(struct kt_call *)arg;
    free(arg);
    c.fn(c.val);
    return NULL;
}

static void kt_dispatch(const siginfo_t *si)
{
    struct kt_thread_timer *t = si->si_value.sival_ptr;
    if (si->si_code != SI_TIMER || t < g_tt || t >= g_tt + KT_THREAD_MAX) return;
    pthread_mutex_lock(&g_tt_lock);
    struct kt_call *c = (t->used && t->kid == si->si_timerid) ? malloc(sizeof *c) : NULL;
    size_t stack = t->stacksize;
    if (c) {
        c->fn = t->fn;
        c->val = t->val;
    }
    pthread_mutex_unlock(&g_tt_lock);
    if (!c) return;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (stack) pthread_attr_setstacksize(&at, stack);
    pthread_t th;
    if (pthread_create(&th, &at, kt_call_thread, c) != 0) free(c);
    pthread_attr_destroy(&at);
}

/* blocks every signal but the agent's suspend signal; waits for KT_SIGNAL (an
 * interrupted wait, e.g. by a checkpoint, just waits again) */
static void *kt_helper(void *arg)
{
    (void)arg;
    uint64_t mask = ~0ull & ~(1ull << (STASIS_SUSPEND_SIG - 1));
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, KSIGSET_SIZE);
    __atomic_store_n(&g_helper_tid, (int)r_gettid(), __ATOMIC_SEQ_CST);
    rsys3(SYS_futex, &g_helper_tid, FUTEX_WAKE_PRIVATE, 1);
    uint64_t want = 1ull << (KT_SIGNAL - 1);
    for (;;) {
        siginfo_t si;
        if (rsys4(SYS_rt_sigtimedwait, &want, &si, NULL, KSIGSET_SIZE) == KT_SIGNAL) kt_dispatch(&si);
    }
    return NULL;
}

/* the helper of this process (a forked child has none: threads do not survive fork) */
static int kt_helper_tid(void)
{
    int pid = (int)rsys0(SYS_getpid);
    if (g_helper_pid == pid && g_helper_tid) return g_helper_tid;
    g_helper_tid = 0;
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    uint64_t all = ~0ull, old;
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, KSIGSET_SIZE);
    int rc = pthread_create(&th, &at, kt_helper, NULL);
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, KSIGSET_SIZE);
    pthread_attr_destroy(&at);
    if (rc != 0) return -1;
    while (!__atomic_load_n(&g_helper_tid, __ATOMIC_SEQ_CST))
        rsys4(SYS_futex, &g_helper_tid, FUTEX_WAIT_PRIVATE, 0, NULL);
    g_helper_pid = pid;
    return g_helper_tid;
}

static int kt_create_thread_timer(clockid_t clk, const struct sigevent *sev, timer_t *out)
{
    pthread_mutex_lock(&g_tt_lock);
    int tid = kt_helper_tid();
    struct kt_thread_timer *t = NULL;
    int pid = (int)rsys0(SYS_getpid);
    for (int i = 0; i < KT_THREAD_MAX && !t; i++)
        if (!g_tt[i].used || g_tt[i].pid != pid) t = &g_tt[i];
    long r = -EAGAIN;
    if (tid > 0 && t) {
        struct sigevent k;
        r_memset(&k, 0, sizeof k);
        k.sigev_notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
        k.sigev_signo = KT_SIGNAL;
        k.sigev_value.sival_ptr = t;
        k._sigev_un._tid = tid;
        int kid = 0;
        r = rsys3(SYS_timer_create, clk, &k, &kid);
        if (r == 0) {
            size_t stack = 0;
            if (sev->sigev_notify_attributes) pthread_attr_getstacksize(sev->sigev_notify_attributes, &stack);
            t->used = 1;
            t->pid = pid;
            t->kid = kid;
            t->fn = sev->sigev_notify_function;
            t->val = sev->sigev_value;
            t->stacksize = stack;
            *out = (timer_t)(intptr_t)kid;
        }
    }
    pthread_mutex_unlock(&g_tt_lock);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return 0;
}

__attribute__((visibility("default"))) int timer_create(clockid_t clk, struct sigevent *sev, timer_t *out)
{
    static int (*real)(clockid_t, struct sigevent *, timer_t *);
    if (g_sock >= 0 && sev && sev->sigev_notify == SIGEV_THREAD) return kt_create_thread_timer(clk, sev, out);
    if (!real) real = (int (*)(clockid_t, struct sigevent *, timer_t *))dlsym(RTLD_NEXT, "timer_create");
    return real(clk, sev, out);
}

__attribute__((visibility("default"))) int timer_delete(timer_t id)
{
    static int (*real)(timer_t);
    if (!real) real = (int (*)(timer_t))dlsym(RTLD_NEXT, "timer_delete");
    if ((intptr_t)id >= 0) {
        int pid = (int)rsys0(SYS_getpid);
        pthread_mutex_lock(&g_tt_lock);
        for (int i = 0; i < KT_THREAD_MAX; i++)
            if (g_tt[i].used && g_tt[i].pid == pid && g_tt[i].kid == (int)(intptr_t)id) g_tt[i].used = 0;
        pthread_mutex_unlock(&g_tt_lock);
    }
    return real(id);
}

/* ---- checkpoint: what /proc/self/timers and timer_gettime say ---- */
struct kt_ts {
    int64_t sec, nsec;
};
struct kt_saved {
    int32_t id, clock, signo, notify, tid;
    uint64_t value;                   /* sigev_value */
    struct kt_ts interval, remaining; /* as timer_gettime's struct itimerspec */
    struct kt_ts taken;               /* its clock when remaining was read */
};
static struct kt_saved g_kt[KT_MAX];
static int g_nkt;
static char g_timers_buf[KT_MAX * 96];

static int kt_notify(const char **p, int32_t *tid)
{
    int n = r_startswith(*p, "signal/") ? SIGEV_SIGNAL : r_startswith(*p, "none/") ? SIGEV_NONE : -1;
    while (**p && **p != '/') (*p)++;
    if (r_startswith(*p, "/tid.")) n |= SIGEV_THREAD_ID;
    while (**p && **p != '.') (*p)++;
    if (**p == '.') (*p)++;
    *tid = (int32_t)r_parse_dec(p);
    return n;
}

static int kt_parse(const char **err)
{
    size_t len;
    g_nkt = 0;
    if (r_read_file("/proc/self/timers", g_timers_buf, sizeof g_timers_buf, &len) < 0) {
        *err = "cannot read /proc/self/timers";
        return -1;
    }
    if (len >= sizeof g_timers_buf - 1) {
        *err = "too many POSIX timers (more than 512)";
        return -1;
    }
    for (const char *p = g_timers_buf; *p;) {
        if (r_startswith(p, "ID: ")) {
            if (g_nkt >= KT_MAX) {
                *err = "too many POSIX timers (more than 512)";
                return -1;
            }
            p += 4;
            r_memset(&g_kt[g_nkt], 0, sizeof g_kt[0]);
            g_kt[g_nkt++].id = (int32_t)r_parse_dec(&p);
        } else if (g_nkt && r_startswith(p, "signal: ")) {
            p += 8;
            g_kt[g_nkt - 1].signo = (int32_t)r_parse_dec(&p);
            if (*p == '/') p++;
            g_kt[g_nkt - 1].value = r_parse_hex(&p);
        } else if (g_nkt && r_startswith(p, "notify: ")) {
            p += 8;
            g_kt[g_nkt - 1].notify = kt_notify(&p, &g_kt[g_nkt - 1].tid);
        } else if (g_nkt && r_startswith(p, "ClockID: ")) {
            p += 9;
            int neg = *p == '-';
            if (neg) p++;
            int64_t c = (int64_t)r_parse_dec(&p);
            g_kt[g_nkt - 1].clock = (int32_t)(neg ? -c : c);
        }
        while (*p && *p != '\n') p++;
        if (*p) p++;
    }
    return 0;
}

int stasis_timers_save(const char **err)
{
    if (kt_parse(err) < 0) return -1;
    for (int i = 0; i < g_nkt; i++) {
        struct kt_saved *t = &g_kt[i];
        if (t->notify < 0) {
            *err = "a POSIX timer has a notification this agent does not know";
            return -1;
        }
        rsys2(SYS_clock_gettime, t->clock, &t->taken);
        long r = rsys2(SYS_timer_gettime, t->id, &t->interval); /* {interval, value} */
        if (r < 0) {
            *err = "timer_gettime failed on a POSIX timer listed in /proc/self/timers";
            return -1;
        }
    }
    return 0;
}

/* ---- restart (raw syscalls: the program's libc is not ours to use yet) ---- */
static void kt_die(const char *msg, int id, long err)
{
    static char buf[256];
    char *e = r_stpcpy(buf, msg);
    e = r_stpcpy(e, " (timer id ");
    e = r_itoa(e, id);
    e = r_stpcpy(e, ", errno ");
    e = r_itoa(e, -err);
    r_stpcpy(e, ")");
    stasis_restart_die(buf); /* to the restorer's report channel, like every restart error */
}

static int kt_new_tid(int old)
{
    for (int i = 0; i < g_nthreads && i < (int)g_hdr.n_threads; i++)
        if (g_hdr.tids[i] == old) return g_threads[i].tid;
    return old;
}

/* clocks that run while the program is not: wall, monotonic, boot, TAI (and alarms) */
static int kt_clock_moves(int clock)
{
    return clock == 0 || clock == 1 || clock == 7 || clock == 8 || clock == 9 || clock == 11;
}

/* remaining time less what the clock moved since the checkpoint; at least 1 ns */
static void kt_time_left(const struct kt_saved *t, struct kt_ts *spec)
{
    spec[0].sec = t->interval.sec;
    spec[0].nsec = t->interval.nsec;
    spec[1].sec = t->remaining.sec;
    spec[1].nsec = t->remaining.nsec;
    struct kt_ts now;
    if (!kt_clock_moves(t->clock) || rsys2(SYS_clock_gettime, t->clock, &now) < 0) return;
    int64_t left = (t->remaining.sec * 1000000000 + t->remaining.nsec) -
                   ((now.sec - t->taken.sec) * 1000000000 + (now.nsec - t->taken.nsec));
    if (left < 1) left = 1;
    spec[1].sec = left / 1000000000;
    spec[1].nsec = left % 1000000000;
}

void stasis_timers_restore(void)
{
    if (!g_nkt) return;
    long r = rsys5(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0);
    if (r < 0) kt_die("this kernel cannot recreate POSIX timers with their ids (Linux 6.16+ needed)", g_kt[0].id, r);
    for (int i = 0; i < g_nkt; i++) {
        struct kt_saved *t = &g_kt[i];
        struct sigevent k;
        r_memset(&k, 0, sizeof k);
        k.sigev_notify = t->notify;
        k.sigev_signo = t->signo;
        k.sigev_value.sival_ptr = (void *)(uintptr_t)t->value;
        if (t->notify & SIGEV_THREAD_ID) k._sigev_un._tid = kt_new_tid(t->tid);
        int id = t->id;
        r = rsys3(SYS_timer_create, t->clock, &k, &id);
        if (r < 0 || id != t->id) kt_die("cannot recreate a POSIX timer", t->id, r < 0 ? r : -EEXIST);
        if (t->remaining.sec || t->remaining.nsec) {
            struct kt_ts spec[2];
            kt_time_left(t, spec);
            r = rsys4(SYS_timer_settime, id, 0, spec, NULL);
            if (r < 0) kt_die("cannot arm a recreated POSIX timer", id, r);
        }
    }
    rsys5(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
    /* the agent's SIGEV_THREAD helper keeps serving them: only its tid may change */
    if (g_helper_tid) {
        g_helper_tid = kt_new_tid(g_helper_tid);
        g_helper_pid = (int)rsys0(SYS_getpid);
    }
}
