/* The relay: a task of the process's thread group with a file table of its own, so
 * that the coordinator connection is not a descriptor of the program (it is not in
 * /proc/self/fd, close_range/closefrom cannot reach it, RLIMIT_NOFILE cannot be
 * lowered below it, dup2 cannot land on it).
 *
 * glibc cannot make such a thread: it is cloned by hand (CLONE_THREAD without
 * CLONE_FILES) on a static stack, with every signal blocked, no TLS use and raw
 * system calls only. It closes its copy of the program's table at once, then runs
 * the system calls the agent posts in a one-slot mailbox (futexes). The agent's
 * checkpoint thread stays an ordinary thread that shares the program's table; it
 * reaches the connection only through stasis_relay_call(). Descriptors cross
 * between the tables with pidfd_getfd(2).
 *
 * The relay is not a thread of the program: suspend skips it, it is not in the
 * image's thread list, a fork child or a restored process starts its own (a restored
 * one with its saved tid when tids are kept, so it cannot take the pid of a process
 * of the tree that is still to be recreated). */
#include "agent.h"
#include <sys/prctl.h>
#include <fcntl.h>
#include "stasis/rawsys.h"
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>

#define MB_IDLE   0
#define MB_POSTED 1
#define MB_DONE   2
#define NR_EXIT   (-1L)

volatile int g_relay_tid; /* 0 = no relay; cleared by the kernel when it exits */
static int g_relay_drop_caps;
static int g_relay_keep; /* the fd of the creator's table that the relay keeps, or -1 */
static char g_relay_stack[16384] __attribute__((aligned(64)));
static struct {
    volatile int state; /* MB_* */
    long nr, a[6];
    long ret;
} g_mb;

/* long stasis_relay_clone3(struct clone_args *a, size_t size, void (*fn)(void)):
 * parent: the new tid or -errno; child: fn() on a->stack, never returns */
long stasis_relay_clone3(void *args, size_t size, void (*fn)(void));
__asm__(".text\n"
        ".globl stasis_relay_clone3\n"
        ".hidden stasis_relay_clone3\n"
        ".type stasis_relay_clone3,@function\n"
        "stasis_relay_clone3:\n"
        "    movq %rdx, %r9\n"
        "    movl $435, %eax\n"
        "    syscall\n"
        "    testq %rax, %rax\n"
        "    jnz 1f\n"
        "    xorl %ebp, %ebp\n"
        "    andq $-16, %rsp\n"
        "    call *%r9\n"
        "    ud2\n"
        "1:  ret\n"
        ".size stasis_relay_clone3,.-stasis_relay_clone3\n");

static void fwait(volatile int *addr, int val, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    rsys4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : NULL);
}

static void fwake(volatile int *addr) { rsys3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 0x7fffffff); }

/* this thread gives up every capability (capset with empty sets) */
void stasis_drop_caps(void)
{
    struct {
        uint32_t version;
        int pid;
    } hdr = {0x20080522, 0};
    struct {
        uint32_t eff, perm, inh;
    } data[2];
    r_memset(data, 0, sizeof data);
    rsys2(SYS_capset, &hdr, data);
}

static void relay_main(void)
{
    int k = g_relay_keep; /* our copy of the program's table: all but k */
    if (k > 0) rsys3(SYS_close_range, 0, k - 1, 0);
    rsys3(SYS_close_range, k >= 0 ? (unsigned)k + 1 : 0u, ~0u, 0);
    if (g_relay_drop_caps) stasis_drop_caps();
    rsys2(SYS_prctl, PR_SET_NAME, "stasis-relay");
    for (;;) {
        for (;;) { /* DONE until the caller took the result, then IDLE */
            int s = __atomic_load_n(&g_mb.state, __ATOMIC_SEQ_CST);
            if (s == MB_POSTED) break;
            fwait(&g_mb.state, s, -1);
        }
        long nr = g_mb.nr;
        long r = nr == NR_EXIT ? 0 : rsys6(nr, g_mb.a[0], g_mb.a[1], g_mb.a[2], g_mb.a[3], g_mb.a[4], g_mb.a[5]);
        g_mb.ret = r;
        __atomic_store_n(&g_mb.state, MB_DONE, __ATOMIC_SEQ_CST);
        fwake(&g_mb.state);
        if (nr == NR_EXIT) {
            rsys3(SYS_close_range, 0, ~0u, 0);
            rsys1(SYS_exit, 0);
        }
    }
}

/* forget a relay that does not exist in this process (fork child, restored image) */
void stasis_relay_forget(void)
{
    g_relay_tid = 0;
    __atomic_store_n(&g_mb.state, MB_IDLE, __ATOMIC_SEQ_CST);
}

/* start the relay (tid > 0: with that tid, needs set_tid rights), keeping our fd
 * keep (>= 0) at the same number in its table; 0 or -errno */
int stasis_relay_start(int tid, int drop_caps_flag, int keep)
{
    if (g_relay_tid > 0) return 0;
    struct clone_args ca;
    r_memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VM | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
               CLONE_CHILD_CLEARTID;
    ca.parent_tid = (uint64_t)(uintptr_t)&g_relay_tid;
    ca.child_tid = (uint64_t)(uintptr_t)&g_relay_tid;
    ca.stack = (uint64_t)(uintptr_t)g_relay_stack;
    ca.stack_size = sizeof g_relay_stack;
    pid_t want = tid;
    if (tid > 0) {
        ca.set_tid = (uint64_t)(uintptr_t)&want;
        ca.set_tid_size = 1;
    }
    __atomic_store_n(&g_mb.state, MB_IDLE, __ATOMIC_SEQ_CST);
    g_relay_drop_caps = drop_caps_flag;
    g_relay_keep = keep;
    uint64_t all = ~0ull, old;
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, KSIGSET_SIZE);
    long r = stasis_relay_clone3(&ca, sizeof ca, relay_main);
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, KSIGSET_SIZE);
    if (r < 0) {
        g_relay_tid = 0;
        return (int)r;
    }
    return 0;
}

/* run system call nr in the relay's file table; -errno, or -EPIPE without relay */
long stasis_relay_call(long nr, long a, long b, long c, long d, long e, long f)
{
    if (g_relay_tid <= 0) return -EPIPE;
    g_mb.nr = nr;
    g_mb.a[0] = a;
    g_mb.a[1] = b;
    g_mb.a[2] = c;
    g_mb.a[3] = d;
    g_mb.a[4] = e;
    g_mb.a[5] = f;
    __atomic_store_n(&g_mb.state, MB_POSTED, __ATOMIC_SEQ_CST);
    fwake(&g_mb.state);
    for (;;) {
        int s = __atomic_load_n(&g_mb.state, __ATOMIC_SEQ_CST);
        if (s == MB_DONE) break;
        if (__atomic_load_n(&g_relay_tid, __ATOMIC_SEQ_CST) <= 0) {
            __atomic_store_n(&g_mb.state, MB_IDLE, __ATOMIC_SEQ_CST);
            return -EPIPE;
        }
        fwait(&g_mb.state, s, 1000);
    }
    long r = g_mb.ret;
    __atomic_store_n(&g_mb.state, MB_IDLE, __ATOMIC_SEQ_CST);
    return r;
}

/* a system call on a descriptor of the agent's own, made while the program runs (the
 * /proc reads that start a checkpoint): in the relay's table when there is one, so the
 * program never sees the descriptor in /proc/self/fd nor closes it; else directly.
 * Only for the checkpoint thread (the relay's one client), never in a signal handler. */
long stasis_private_syscall3(long nr, long a, long b, long c)
{
    if (g_relay_tid > 0) {
        long r = stasis_relay_call(nr, a, b, c, 0, 0, 0);
        if (r != -EPIPE) return r;
    }
    return rsys3(nr, a, b, c);
}

/* r_read_file through stasis_private_syscall3 */
int stasis_read_private(const char *path, char *buf, size_t cap, size_t *len)
{
    long fd = stasis_private_syscall3(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return (int)fd;
    size_t got = 0;
    int rc = 0;
    for (;;) {
        if (got + 1 >= cap) {
            rc = -E2BIG;
            break;
        }
        long n = stasis_private_syscall3(SYS_read, fd, (long)(buf + got), (long)(cap - 1 - got));
        if (n == -EINTR) continue;
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    stasis_private_syscall3(SYS_close, fd, 0, 0);
    if (rc < 0) return rc;
    buf[got] = 0;
    if (len) *len = got;
    return 0;
}

/* end the relay (its table, with the connection, goes with it) */
void stasis_relay_stop(void)
{
    if (g_relay_tid <= 0) return;
    stasis_relay_call(NR_EXIT, 0, 0, 0, 0, 0, 0);
    for (int i = 0; i < 100; i++) {
        int t = g_relay_tid;
        if (t <= 0) break;
        struct timespec ts = {0, 100000000L}; /* the kernel's wake at exit is not private */
        rsys4(SYS_futex, &g_relay_tid, FUTEX_WAIT, t, &ts);
    }
}
