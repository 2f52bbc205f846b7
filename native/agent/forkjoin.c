/* Children made by fork() join the computation (doc/agent-protocol.md, "Processes
 * made by fork").
 *
 * prepare (forking thread): wait while a checkpoint is in progress (SUSPEND..RESUME),
 *     then count the fork in g_forking; the checkpoint thread waits for that count
 *     to drop to 0 before it suspends, so a fork is never half inside a checkpoint.
 *     A pipe (close-on-exec) tells the parent when the child has registered.
 * child handler: the child of a multithreaded process may only make async-signal-safe
 *     calls, and the program's own child handlers (registered after ours: they run
 *     after it) have not yet released the locks their prepare handlers took (an
 *     allocator's, typically). So it makes raw system calls only: forget the parent's
 *     connection (its relay did not survive fork; in the fallback close the inherited
 *     copy), connect anew (its own relay, cloned by hand), HELLO with join=fork, wait
 *     for the coordinator's PING (sent once the process is registered), answer PONG,
 *     tell the parent. Starting the checkpoint thread (and the hook thread) needs
 *     pthread_create: that waits, as g_settle, for the first safe point.
 * safe point: fork() (also daemon(), forkpty()) returning in the child, interposed
 *     here: every child handler has run, the process is as consistent as the program
 *     itself may rely on. A checkpoint that comes in between finds the child registered;
 *     its SUSPEND waits on the connection until the checkpoint thread reads it.
 * parent: wait (bounded) for the child's word, then uncount the fork.
 * vfork/posix_spawn children run no fork handlers; they join when they exec. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#define JOIN_WAIT_MS 10000

static volatile int g_ckpt_busy; /* 1 from SUSPEND until the threads are released */
static volatile int g_forking;   /* forks between prepare and parent handlers */
static __thread int t_pipe[2];   /* this thread's fork in progress: [read, write] */
static __thread int t_active;
int g_join_fork; /* next HELLO says join=fork */

/* what the child handler left for the safe point */
#define SETTLE_CKPT  1 /* start the checkpoint thread */
#define SETTLE_HOOKS 2 /* start the hook thread again */
static int g_settle;

static void fwait(volatile int *addr, int val, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    rsys4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : NULL);
}

static void fwake(volatile int *addr) { rsys3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff); }

static void uncount(void)
{
    if (__atomic_sub_fetch(&g_forking, 1, __ATOMIC_SEQ_CST) == 0) fwake(&g_forking);
}

static void fork_prepare(void)
{
    if (g_sock < 0) return;
    for (;;) {
        while (__atomic_load_n(&g_ckpt_busy, __ATOMIC_SEQ_CST)) fwait(&g_ckpt_busy, 1, -1);
        __atomic_add_fetch(&g_forking, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&g_ckpt_busy, __ATOMIC_SEQ_CST)) break;
        uncount(); /* a checkpoint started meanwhile: let it run */
    }
    if (rsys2(SYS_pipe2, t_pipe, O_CLOEXEC) < 0) t_pipe[0] = t_pipe[1] = -1;
    t_active = 1;
}

static void fork_parent(void)
{
    if (!t_active) return;
    t_active = 0;
    if (t_pipe[1] >= 0) rsys1(SYS_close, t_pipe[1]);
    if (t_pipe[0] >= 0) {
        struct pollfd p = {.fd = t_pipe[0], .events = POLLIN};
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct timespec slice = {0, 100000000L};
        for (;;) {
            long r = rsys5(SYS_ppoll, &p, 1, &slice, NULL, KSIGSET_SIZE);
            if (r > 0) {
                char c;
                rsys3(SYS_read, t_pipe[0], &c, 1);
                break;
            } /* word or EOF */
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > JOIN_WAIT_MS) break;
        }
        rsys1(SYS_close, t_pipe[0]);
    }
    uncount();
}

/* the coordinator's PING that confirms the registration; 0 = got it */
static int await_ping(void)
{
    static char line[64];
    if (stasis_conn_wait(JOIN_WAIT_MS) <= 0) return -1;
    if (stasis_read_line(line, sizeof line) < 0 || !r_streq(line, "PING")) return -1;
    stasis_send("PONG\n");
    return 0;
}

/* the registration of a fork child (raw system calls only); 0 = registered */
static int join_as_child(void)
{
    int old = stasis_conn_forget(1);
    stasis_conn_reset(1); /* our copies of fds received by the parent */
    if (!g_sock_path[0]) return -1;
    g_sock = stasis_connect(g_sock_path, old);
    if (g_sock < 0) return -1;
    g_join_fork = 1; /* direct: the program is inside fork() */
    stasis_send_hello();
    g_join_fork = 0;
    if (await_ping() < 0) stasis_conn_close();
    stasis_conn_hide();
    return g_sock >= 0 ? 0 : -1;
}

/* async-signal-safe: no libc call but raw system calls (see the top of the file) */
static void fork_child(void)
{
    if (!t_active) return; /* the parent had no agent */
    t_active = 0;
    if (t_pipe[0] >= 0) rsys1(SYS_close, t_pipe[0]);
    __atomic_store_n(&g_forking, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_ckpt_busy, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_nthreads, 0, __ATOMIC_SEQ_CST);
    stasis_relay_forget();             /* the parent's relay did not survive fork */
    stasis_incr_forget();              /* nor did its dirty page tracking */
    stasis_prefetch_forget();          /* the parent's prefetch is the parent's */
    int hooks = stasis_hooks_forget(); /* the hook thread did not survive fork */
    int settle = 0;
    if (join_as_child() == 0) settle = SETTLE_CKPT | (hooks ? SETTLE_HOOKS : 0);
    __atomic_store_n(&g_settle, settle, __ATOMIC_SEQ_CST);
    if (t_pipe[1] >= 0) {
        rsys3(SYS_write, t_pipe[1], "j", 1);
        rsys1(SYS_close, t_pipe[1]);
    }
}

/* the safe point of a fork child: start what the child handler could not */
static void settle_child(void)
{
    int todo = __atomic_exchange_n(&g_settle, 0, __ATOMIC_SEQ_CST);
    if (!todo) return;
    int saved = errno;
    if (stasis_start_ckpt_thread() < 0) stasis_conn_close();
    if ((todo & SETTLE_HOOKS) && g_sock >= 0) stasis_hooks_restart();
    errno = saved;
}

#define EXPORT __attribute__((visibility("default")))

static void *real_sym(void **cache, const char *name)
{
    void *f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cache, f, __ATOMIC_RELEASE);
    }
    return f;
}

static void *g_real_fork, *g_real_daemon, *g_real_forkpty;

EXPORT pid_t fork(void)
{
    pid_t (*real)(void) = (pid_t(*)(void))real_sym(&g_real_fork, "fork");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    pid_t pid = real();
    if (pid == 0) settle_child();
    return pid;
}

/* glibc's daemon() and forkpty() fork inside libc, out of reach of our fork() */
EXPORT int daemon(int nochdir, int noclose)
{
    int (*real)(int, int) = (int (*)(int, int))real_sym(&g_real_daemon, "daemon");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    int rc = real(nochdir, noclose);
    if (rc == 0) settle_child();
    return rc;
}

struct termios;
struct winsize;
EXPORT pid_t forkpty(int *amaster, char *name, const struct termios *tp, const struct winsize *wp)
{
    typedef pid_t (*forkpty_fn)(int *, char *, const struct termios *, const struct winsize *);
    forkpty_fn real = (forkpty_fn)real_sym(&g_real_forkpty, "forkpty");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    pid_t pid = real(amaster, name, tp, wp);
    if (pid == 0) settle_child();
    return pid;
}

void stasis_forkjoin_init(void)
{
    real_sym(&g_real_fork, "fork"); /* resolved now: dlsym is no call for a child */
    real_sym(&g_real_daemon, "daemon");
    real_sym(&g_real_forkpty, "forkpty");
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* checkpoint thread, on SUSPEND: no new fork starts; wait for those under way.
 * 0 = no fork in progress, -1 = one did not finish in time (the gate is reopened) */
int stasis_fork_gate_close(void)
{
    __atomic_store_n(&g_ckpt_busy, 1, __ATOMIC_SEQ_CST);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int n = __atomic_load_n(&g_forking, __ATOMIC_SEQ_CST);
        if (n == 0) return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > 2 * JOIN_WAIT_MS) {
            stasis_fork_gate_open();
            return -1;
        }
        fwait(&g_forking, n, 100);
    }
}

/* the threads are released (or the checkpoint ended otherwise): forks may go on */
void stasis_fork_gate_open(void)
{
    __atomic_store_n(&g_ckpt_busy, 0, __ATOMIC_SEQ_CST);
    fwake(&g_ckpt_busy);
}
