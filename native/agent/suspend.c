/* Quiescing user threads: the suspend signal handler parks each thread after saving
 * its callee-saved context; the checkpoint thread waits until all are parked.
 * At restart the thread is recreated and jumps back into the handler (ctx restore
 * returns 1), waits for the release, and rt_sigreturn restores the full interrupted
 * register state, signal mask and sigaltstack from the signal frame on its stack.
 * A blocking call the signal interrupted with EINTR is restarted on the way out
 * (sysrestart.c). */
#include "agent.h"
#include "stasis/rawsys.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <asm/prctl.h>
#include <time.h>

struct stasis_thread g_threads[STASIS_IMG_MAX_THREADS];
int g_nthreads;
static volatile int g_gen;        /* suspend generation */
static volatile int g_resume_gen; /* generation released */
static volatile int g_parked;

static void futex_wait(volatile int *addr, int val, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    rsys4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : NULL);
}
static void futex_wake(volatile int *addr) { rsys3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff); }

/* A thread's state is written by the checkpoint thread and by the thread itself in
 * the signal handler: every access is atomic. */
static int ts_get(const struct stasis_thread *t) { return __atomic_load_n(&t->state, __ATOMIC_SEQ_CST); }
static void ts_set(struct stasis_thread *t, int v) { __atomic_store_n(&t->state, v, __ATOMIC_SEQ_CST); }
static int load(volatile int *v) { return __atomic_load_n(v, __ATOMIC_SEQ_CST); }

/* per-thread kernel state readable from inside the thread (async-signal-safe) */
void stasis_fill_self_slot(struct stasis_thread *t)
{
    uint64_t fs = 0, head = 0, len = 0, tidaddr = 0;
    rsys2(SYS_arch_prctl, ARCH_GET_FS, &fs);
    rsys3(SYS_get_robust_list, 0, &head, &len);
    if (rsys2(SYS_prctl, PR_GET_TID_ADDRESS, &tidaddr) < 0) tidaddr = (g_tid_off >= 0) ? fs + (uint64_t)g_tid_off : 0;
    t->fsbase = fs;
    t->robust_head = head;
    t->robust_len = len;
    t->tid_addr = tidaddr;
    r_memset(t->name, 0, sizeof t->name);
    rsys2(SYS_prctl, PR_GET_NAME, t->name);
}

/* The slot count and the slots' tids are read by threads in the signal handler while
 * the checkpoint thread adds slots: a slot is filled first, then published by the
 * count (release/acquire). */
static int nthreads(void) { return __atomic_load_n(&g_nthreads, __ATOMIC_ACQUIRE); }
static void set_nthreads(int n) { __atomic_store_n(&g_nthreads, n, __ATOMIC_RELEASE); }

static struct stasis_thread *find_slot(int tid)
{
    int n = nthreads();
    for (int i = 0; i < n; i++)
        if (__atomic_load_n(&g_threads[i].tid, __ATOMIC_RELAXED) == tid) return &g_threads[i];
    return NULL;
}

/* Cookie of the coordinator's "hold" signals (HELLO hold=<hex>). A stopped process
 * cannot run its checkpoint thread: before it continues it with SIGCONT, the
 * coordinator queues the suspend signal with this cookie (SI_QUEUE) to every thread
 * of the program, so that each one enters this handler before it runs a single
 * instruction of the program, and waits here until the checkpoint thread's suspend
 * signals it (that signal stays pending meanwhile: every signal is blocked in here). */
uint64_t g_hold_cookie;

void stasis_hold_init(void)
{
    uint64_t c = 0;
    if (rsys3(SYS_getrandom, &c, sizeof c, 0) != (long)sizeof c || !c)
        c = 0x5eed5eed5eed5eedull ^ (uint64_t)(uintptr_t)&c;
    g_hold_cookie = c;
}

/* held thread: until a suspend has signalled it (1), or 10 s without one (0) */
static int hold_until_signalled(int tid)
{
    for (int waited = 0; waited < 2000; waited++) {
        struct stasis_thread *t = find_slot(tid);
        if (t && ts_get(t) == TS_SIGNALLED) return 1;
        int g = load(&g_gen);
        futex_wait(&g_gen, g, 5);
    }
    return 0;
}

static int is_hold(const siginfo_t *si)
{
    return si->si_code == SI_QUEUE && g_hold_cookie && (uint64_t)(uintptr_t)si->si_value.sival_ptr == g_hold_cookie;
}

/* our own tgkill, or a coordinator's hold once the suspend has signalled the thread
 * (raw syscalls only: errno stays as the program left it) */
static __attribute__((noinline)) int accepted(const siginfo_t *si)
{
    if (is_hold(si)) return hold_until_signalled((int)r_gettid());
    return si->si_code == SI_TKILL && si->si_pid == (int)rsys0(SYS_getpid);
}

static void suspend_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    if (!accepted(si)) return;
    stasis_park_signalled(si, uc);
}

/* in a signal handler of a thread the checkpoint thread signalled: park it (uc: the
 * interrupted context, where a blocking call it interrupted is restarted) */
void stasis_park_signalled(siginfo_t *si, void *uc)
{
    (void)si;
    int saved_errno = errno;
    struct stasis_thread *t = find_slot((int)r_gettid());
    struct stasis_sysplan plan;
    int expected = TS_SIGNALLED;
    /* claimed once: a second entry for the same suspend (our signal and a nudge both
     * delivered) must not save the thread's pending signals a second time */
    if (!t || !__atomic_compare_exchange_n(&t->state, &expected, TS_PARKING, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        /* a late signal of ours (a nudge sent while it was already on its way here):
         * nothing to park, but the call it interrupted is restarted all the same */
        stasis_sysrestart_prepare(uc, -1, &plan);
        stasis_sysrestart_apply(uc, &plan);
        errno = saved_errno;
        return;
    }
    int my_gen = load(&g_gen);
    stasis_sysrestart_prepare(uc, (int)(t - g_threads), &plan);
    stasis_fill_self_slot(t);
    stasis_ksig_thread_save(); /* ksignals.c: pending signals, pdeathsig */
    if (stasis_ctx_save(&t->ctx) == 0) {
        ts_set(t, TS_PARKED);
        __atomic_add_fetch(&g_parked, 1, __ATOMIC_SEQ_CST);
        futex_wake(&g_parked);
    }
    /* original: parked here; restarted: ctx restore lands here too */
    for (;;) {
        int r = __atomic_load_n(&g_resume_gen, __ATOMIC_SEQ_CST);
        if (r >= my_gen) break;
        futex_wait(&g_resume_gen, r, -1);
    }
    stasis_sysrestart_apply(uc, &plan);
    errno = saved_errno;
}

int stasis_install_handler(void)
{
    int (*real_sigaction)(int, const struct sigaction *, struct sigaction *) =
            (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (!real_sigaction) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = suspend_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    /* glibc's sigfillset leaves out its internal signals 32 and 33; the nudge (33) must
     * not interrupt a thread that is parking itself either */
    sa.sa_mask.__val[0] |= (1ul << (32 - 1)) | (1ul << (33 - 1));
    return real_sigaction(STASIS_SUSPEND_SIG, &sa, NULL);
}

/* list /proc/self/task, add unknown tids as slots and signal them; returns number signalled */
static int signal_new_threads(int self, const char **err)
{
    static char buf[8192];
    int pid = (int)rsys0(SYS_getpid), sent = 0;
    /* the program still runs: the descriptor is the relay's, not one it could see */
    long fd = stasis_private_syscall3(SYS_open, (long)"/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
        *err = "cannot open /proc/self/task";
        return -1;
    }
    for (;;) {
        long n = stasis_private_syscall3(SYS_getdents64, fd, (long)buf, sizeof buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            struct r_dirent64 *d = (void *)(buf + off);
            off += d->reclen;
            if (d->name[0] < '0' || d->name[0] > '9') continue;
            const char *p = d->name;
            int tid = (int)r_parse_dec(&p);
            if (tid == self || tid == g_relay_tid || find_slot(tid)) continue; /* relay.c */
            int n = nthreads();
            if (n >= STASIS_IMG_MAX_THREADS) {
                *err = "more than 256 threads: the image format holds 256 per process";
                stasis_private_syscall3(SYS_close, fd, 0, 0);
                return -1;
            }
            struct stasis_thread *t = &g_threads[n];
            r_memset(t, 0, sizeof *t);
            __atomic_store_n(&t->tid, tid, __ATOMIC_RELAXED);
            ts_set(t, TS_SIGNALLED);
            set_nthreads(n + 1);
            stasis_sysrestart_probe(n, tid);
            if (rsys3(SYS_tgkill, pid, tid, STASIS_SUSPEND_SIG) < 0) ts_set(t, TS_GONE);
            else sent++;
        }
    }
    stasis_private_syscall3(SYS_close, fd, 0, 0);
    return sent;
}

static int count_signalled(void)
{
    int n = 0;
    for (int i = 0, end = nthreads(); i < end; i++) {
        int st = ts_get(&g_threads[i]);
        if (st == TS_SIGNALLED || st == TS_PARKING) n++;
    }
    return n;
}

/* drop threads that exited before parking (their tid vanished) */
static void reap_gone(void)
{
    int pid = (int)rsys0(SYS_getpid);
    for (int i = 0, end = nthreads(); i < end; i++)
        if (ts_get(&g_threads[i]) == TS_SIGNALLED && rsys3(SYS_tgkill, pid, g_threads[i].tid, 0) == -ESRCH)
            ts_set(&g_threads[i], TS_GONE);
}

/* compact: main thread first, then the other parked threads, checkpoint thread last */
static void compact_slots(int self)
{
    static struct stasis_thread tmp[STASIS_IMG_MAX_THREADS];
    int pid = (int)rsys0(SYS_getpid), n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0, end = nthreads(); i < end; i++) {
            struct stasis_thread *t = &g_threads[i];
            if (ts_get(t) != TS_PARKED) continue;
            if ((pass == 0) != (t->tid == pid)) continue;
            tmp[n++] = *t;
        }
    struct stasis_thread *me = &tmp[n++];
    r_memset(me, 0, sizeof *me);
    me->tid = self;
    ts_set(me, TS_PARKED);
    me->is_ckpt = 1;
    stasis_fill_self_slot(me);
    set_nthreads(0); /* every thread is parked: none looks */
    r_memcpy(g_threads, tmp, sizeof(tmp[0]) * (size_t)n);
    set_nthreads(n);
}

/* threads that did not park yet may block the suspend signal: nudge them (nudge.c).
 * One that blocks every signal may be starting (pthread_create blocks all for a
 * moment): tried again next time; if it stays so, the timeout names it. */
static int g_blocks_all;
static void nudge_blocking(void)
{
    int pid = (int)rsys0(SYS_getpid);
    for (int i = 0, end = nthreads(); i < end; i++) {
        struct stasis_thread *t = &g_threads[i];
        if (ts_get(t) != TS_SIGNALLED || t->nudged) continue;
        int r = stasis_nudge(pid, t->tid);
        if (r < 0) g_blocks_all = t->tid;
        else t->nudged = r;
    }
}

int stasis_suspend_all(const char **err)
{
    int self = (int)r_gettid();
    set_nthreads(0);
    __atomic_store_n(&g_parked, 0, __ATOMIC_SEQ_CST);
    g_blocks_all = 0;
    __atomic_add_fetch(&g_gen, 1, __ATOMIC_SEQ_CST);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (signal_new_threads(self, err) < 0) {
            stasis_resume_all();
            return -1;
        }
        while (count_signalled() > 0) {
            int p = load(&g_parked);
            futex_wait(&g_parked, p, 20);
            reap_gone();
            nudge_blocking();
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec > 10) {
                *err = g_blocks_all ? "timeout: a thread blocks every signal (also SIGSETXID): it cannot be suspended"
                                    : "timeout: a thread did not reach the suspend handler (signal blocked?)";
                stasis_nudge_end();
                stasis_resume_all();
                return -1;
            }
        }
        /* threads created meanwhile? one more scan that finds nothing new ends it */
        int before = nthreads();
        if (signal_new_threads(self, err) < 0) {
            stasis_resume_all();
            return -1;
        }
        if (nthreads() == before) break;
    }
    stasis_nudge_end();
    compact_slots(self);
    return 0;
}

void stasis_resume_all(void)
{
    __atomic_store_n(&g_resume_gen, load(&g_gen), __ATOMIC_SEQ_CST);
    futex_wake(&g_resume_gen);
}
