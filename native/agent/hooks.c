/* Program hooks around every checkpoint, whoever requested it, and the id of the
 * last checkpoint (doc/agent-protocol.md, "Hooks").
 *
 * void stasis_set_hooks(before, after) registers two callbacks. They run on a hook
 * thread of their own ("stasis-hooks", a normal pthread created by the first call),
 * never on the checkpoint thread: the checkpoint thread only bumps counters and waits
 * (bounded) for the hook thread, so a hook that blocks cannot wedge the protocol.
 *   before():           on SUSPEND, before the other threads are stopped; the
 *                       checkpoint thread waits for it at most STASIS_HOOK_WAIT_MS,
 *                       then suspends anyway (the hook thread is then stopped where
 *                       it is, like any thread, and finishes its hook after RESUME).
 *   after(restarted):   after RESUME released the threads; restarted = 1 in a
 *                       restored process. Nobody waits for it except a thread in
 *                       stasis_checkpoint() (request.c), at most STASIS_HOOK_WAIT_MS.
 * The hook thread is an ordinary user thread for the suspend logic: it is stopped,
 * saved in the image and recreated at restart like the program's own threads. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <sys/prctl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <time.h>

#define STASIS_HOOK_WAIT_MS 10000

typedef void (*before_fn)(void);
typedef void (*after_fn)(int);

static before_fn volatile g_before;
static after_fn volatile g_after;
static volatile int g_hook_started; /* 0 none, 1 starting/running */
static volatile int g_hook_tid;
static volatile int g_hook_seq; /* bumped on every request: the hook thread waits on it */
static volatile int g_before_req, g_before_done;
static volatile int g_after_req, g_after_done;
static volatile int g_after_restarted;

static char g_last_id[256]; /* id from the last RESUME ("" = none / aborted) */

static void hook_wake(volatile int *addr) { rsys3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff); }

/* wait until the counter *addr reaches want (wrap-safe) or ms elapsed;
 * 0 = reached, -1 = timeout */
static int hook_wait_reach(volatile int *addr, int want, long ms)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int v = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
        if (v - want >= 0) return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= ms) return -1;
        long left = ms - spent;
        if (left > 100) left = 100; /* re-check often: cheap and robust */
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        rsys4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, v, &ts);
    }
}

static void *hook_thread(void *arg)
{
    (void)arg;
    rsys2(SYS_prctl, PR_SET_NAME, "stasis-hooks");
    __atomic_store_n(&g_hook_tid, (int)r_gettid(), __ATOMIC_SEQ_CST);
    int before_seen = __atomic_load_n(&g_before_req, __ATOMIC_SEQ_CST);
    int after_seen = __atomic_load_n(&g_after_req, __ATOMIC_SEQ_CST);
    for (;;) {
        /* tid again each round: a restart without pid namespace may change it */
        __atomic_store_n(&g_hook_tid, (int)r_gettid(), __ATOMIC_SEQ_CST);
        int seq = __atomic_load_n(&g_hook_seq, __ATOMIC_SEQ_CST);
        int b = __atomic_load_n(&g_before_req, __ATOMIC_SEQ_CST);
        if (b != before_seen) {
            before_seen = b;
            before_fn f = g_before;
            if (f) f();
            __atomic_store_n(&g_before_done, b, __ATOMIC_SEQ_CST);
            hook_wake(&g_before_done);
            continue;
        }
        int a = __atomic_load_n(&g_after_req, __ATOMIC_SEQ_CST);
        if (a != after_seen) {
            after_seen = a;
            after_fn f = g_after;
            if (f) f(__atomic_load_n(&g_after_restarted, __ATOMIC_SEQ_CST));
            __atomic_store_n(&g_after_done, a, __ATOMIC_SEQ_CST);
            hook_wake(&g_after_done);
            continue;
        }
        /* EINTR from the suspend signal, or a spurious wake: just look again */
        rsys4(SYS_futex, &g_hook_seq, FUTEX_WAIT_PRIVATE, seq, NULL);
    }
    return NULL;
}

/* Public: register the hooks (NULL = none). Returns 0, or -1 without agent / when the
 * hook thread cannot be started. Call again to replace them. */
__attribute__((visibility("default"))) int stasis_set_hooks(void (*before)(void), void (*after)(int restarted))
{
    if (g_sock < 0) return -1;
    g_before = before;
    g_after = after;
    if (__atomic_exchange_n(&g_hook_started, 1, __ATOMIC_SEQ_CST)) return 0;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &at, hook_thread, NULL);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        __atomic_store_n(&g_hook_started, 0, __ATOMIC_SEQ_CST);
        return -1;
    }
    return 0;
}

/* Public: the checkpoint id the coordinator sent with the last RESUME (the checkpoint
 * just taken, or the one this process was restarted from); NULL if none yet or the
 * last checkpoint was aborted. The buffer is rewritten by the next RESUME. */
__attribute__((visibility("default"))) const char *stasis_last_checkpoint_id(void)
{
    return g_last_id[0] ? g_last_id : NULL;
}

/* checkpoint thread: the id after "RESUME <flag>" (or none) */
void stasis_hooks_set_id(const char *resume_line)
{
    const char *p = resume_line;
    while (*p && *p != ' ') p++; /* "RESUME" */
    while (*p == ' ') p++;
    while (*p && *p != ' ') p++; /* flag */
    while (*p == ' ') p++;
    size_t n = 0;
    while (p[n] && p[n] != ' ' && n < sizeof g_last_id - 1) n++;
    r_memcpy(g_last_id, p, n);
    g_last_id[n] = 0;
}

/* checkpoint thread, on SUSPEND before stopping the threads: run before() and wait
 * for it at most STASIS_HOOK_WAIT_MS. No-op if no hook thread. */
void stasis_hooks_before(void)
{
    if (!__atomic_load_n(&g_hook_started, __ATOMIC_SEQ_CST) || !__atomic_load_n(&g_hook_tid, __ATOMIC_SEQ_CST)) return;
    int req = __atomic_add_fetch(&g_before_req, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_hook_seq, 1, __ATOMIC_SEQ_CST);
    hook_wake(&g_hook_seq);
    hook_wait_reach(&g_before_done, req, STASIS_HOOK_WAIT_MS);
}

/* checkpoint thread, after the threads were released: ask for after(restarted) and
 * return at once. Returns the request number (0 = no hooks). */
int stasis_hooks_after(int restarted)
{
    if (!__atomic_load_n(&g_hook_started, __ATOMIC_SEQ_CST) || !__atomic_load_n(&g_hook_tid, __ATOMIC_SEQ_CST))
        return 0;
    __atomic_store_n(&g_after_restarted, restarted, __ATOMIC_SEQ_CST);
    int req = __atomic_add_fetch(&g_after_req, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_hook_seq, 1, __ATOMIC_SEQ_CST);
    hook_wake(&g_hook_seq);
    return req;
}

/* stasis_checkpoint() caller: wait (bounded) until the after hooks of the RESUME it
 * woke up for have run, so that they precede the return to the program. */
void stasis_hooks_wait_after(void)
{
    if (!__atomic_load_n(&g_hook_started, __ATOMIC_SEQ_CST)) return;
    int tid = __atomic_load_n(&g_hook_tid, __ATOMIC_SEQ_CST);
    if (!tid || tid == (int)r_gettid()) return; /* requested from inside a hook */
    hook_wait_reach(&g_after_done, __atomic_load_n(&g_after_req, __ATOMIC_SEQ_CST), STASIS_HOOK_WAIT_MS);
}

/* fork child handler (async-signal-safe): the hook thread stayed in the parent.
 * Returns 1 if the program had set hooks: stasis_hooks_restart() at the safe point. */
int stasis_hooks_forget(void)
{
    int had = __atomic_exchange_n(&g_hook_started, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_hook_tid, 0, __ATOMIC_SEQ_CST);
    return had && (g_before || g_after);
}

/* fork child, once fork() returned (forkjoin.c): a hook thread of its own */
void stasis_hooks_restart(void)
{
    if (g_before || g_after) stasis_set_hooks(g_before, g_after);
}
