/* Restarting the system calls a checkpoint interrupted (doc/agent-protocol.md,
 * "Blocking calls").
 *
 * The kernel restarts ERESTARTSYS calls itself (the suspend handler has SA_RESTART),
 * but poll, epoll_wait, select, nanosleep, sigtimedwait, semop, msgrcv, pause, timed
 * futex waits... return EINTR once any handler ran. Before it signals a thread, the
 * checkpoint thread reads /proc/self/task/TID/syscall (number, 6 arguments, sp, pc)
 * into the thread's probe. In the handler, when the interrupted context is exactly
 * that syscall (pc, sp and the 6 argument registers match) and it returned -EINTR,
 * (or, when the thread entered the call just after the probe, a `syscall` right
 * before rip with a certain number: syscall_before), the context is rewritten on
 * the way out (after the release, also after a restart):
 * rip back onto the `syscall` instruction, rax = the number, and a relative timeout
 * replaced by the time that was left when the thread was suspended. Time spent
 * suspended (or dead, between a checkpoint and its restart) does not count against
 * relative timeouts; absolute ones are restarted unchanged.
 * Only raw syscalls and plain memory accesses here: it runs in the signal handler. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>

#define NS 1000000000LL

struct probe {
    long nr;
    uint64_t args[6], sp, pc;
};
static struct probe g_probe[STASIS_IMG_MAX_THREADS];

/* replacement timeouts that restarted calls point at (the program's are const) */
static __thread struct timespec t_rts;

static int64_t mono_ns(void)
{
    struct timespec ts;
    rsys2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts) { return ts->tv_sec * NS + ts->tv_nsec; }

static const char *skip_sp(const char *p)
{
    while (*p == ' ') p++;
    return p;
}

static uint64_t hex_field(const char **p)
{
    const char *s = skip_sp(*p);
    if (s[0] == '0' && s[1] == 'x') s += 2;
    uint64_t v = r_parse_hex(&s);
    *p = s;
    return v;
}

/* checkpoint thread, just before it signals thread `tid` that got slot `idx` */
void stasis_sysrestart_probe(int idx, int tid)
{
    struct probe *p = &g_probe[idx];
    char path[64], buf[256];
    size_t len;
    p->nr = -1;
    char *e = r_stpcpy(path, "/proc/self/task/");
    e = r_itoa(e, tid);
    r_stpcpy(e, "/syscall");
    if (stasis_read_private(path, buf, sizeof buf, &len) < 0) return;
    buf[len] = 0;
    if (buf[0] < '0' || buf[0] > '9') return; /* "running" or "-1 sp pc" */
    const char *s = buf;
    long nr = (long)r_parse_dec(&s);
    for (int i = 0; i < 6; i++) p->args[i] = hex_field(&s);
    p->sp = hex_field(&s);
    p->pc = hex_field(&s);
    p->nr = nr;
}

static const int arg_reg[6] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};

/* the context is the probed syscall, just returned -EINTR */
static int interrupted_probe(const greg_t *g, const struct probe *p)
{
    if (p->nr < 0 || g[REG_RAX] != -EINTR) return 0;
    if ((uint64_t)g[REG_RIP] != p->pc || (uint64_t)g[REG_RSP] != p->sp) return 0;
    for (int i = 0; i < 6; i++)
        if ((uint64_t)g[arg_reg[i]] != p->args[i]) return 0;
    return 1;
}

/* `mov $imm32,%eax` ending at code[at] (exclusive), then maybe one
 * `mov disp8(%rsp),%reg` that leaves eax alone (glibc's cancellable call sites), then
 * `syscall` at code[n-2]: the number, or -1 */
static long mov_eax_before(const unsigned char *code, int n)
{
    if (code[n - 2] != 0x0f || code[n - 1] != 0x05) return -1;
    for (int gap = 0; gap <= 5; gap++) {
        const unsigned char *m = code + n - 2 - gap; /* the instruction between */
        int ok = gap == 0 || (gap == 4 && m[0] == 0x8b && (m[1] & 0xc7) == 0x44 && (m[1] & 0x38) && m[2] == 0x24) ||
                 (gap == 5 && (m[0] & 0xf0) == 0x40 && !(m[0] & 0x04) && m[1] == 0x8b && (m[2] & 0xc7) == 0x44 &&
                  (m[2] & 0x38) && m[3] == 0x24);
        const unsigned char *b = m - 5;
        if (ok && b >= code && b[0] == 0xb8) {
            int32_t imm;
            r_memcpy(&imm, b + 1, sizeof imm);
            return imm;
        }
    }
    return -1;
}

/* The probe missed it: the thread entered the call between the probe and the signal
 * (a thread preempted inside the kernel also reads as "running"), or a late signal of
 * ours interrupted it. Accept a `syscall` right before rip (read without faulting)
 * whose number is certain: a `mov $nr,%eax` just before it (glibc's call sites),
 * cross-checked with the interposers' record when there is one, or the record of a
 * raw syscall(). */
static long syscall_before(const greg_t *g)
{
    unsigned char code[12];
    struct iovec local = {code, sizeof code};
    struct iovec remote = {(void *)(uintptr_t)((uint64_t)g[REG_RIP] - sizeof code), sizeof code};
    if (g[REG_RAX] != -EINTR) return -1;
    if (rsys6(SYS_process_vm_readv, rsys0(SYS_getpid), (long)&local, 1, (long)&remote, 1, 0) != (long)sizeof code)
        return -1;
    if (code[10] != 0x0f || code[11] != 0x05) return -1;
    const struct stasis_call *c = &stasis_call_rec;
    int rec = c->start_ns != 0;
    long imm = mov_eax_before(code, (int)sizeof code);
    if (imm >= 0) return (rec && imm != c->nr && imm != c->nr2) ? -1 : imm;
    return (rec && c->nr == c->nr2) ? c->nr : -1;
}

/* time left of a relative timeout of `total` ns, given how long the call ran (-1: unknown) */
static int64_t left_ns(int64_t total, int64_t ran)
{
    if (ran < 0) return total; /* no start time: the full timeout again */
    return total > ran ? total - ran : 0;
}

/* a relative timespec argument (register `reg`): point it at the time left */
static void plan_timespec(struct stasis_sysplan *pl, int reg, const struct timespec *orig,
                          const struct timespec *kernel_left, int64_t ran)
{
    if (!orig) return; /* no timeout: restart as is */
    int64_t left = kernel_left ? ts_ns(kernel_left) : left_ns(ts_ns(orig), ran);
    t_rts.tv_sec = left / NS;
    t_rts.tv_nsec = left % NS;
    pl->reg = reg;
    pl->value = (uint64_t)(uintptr_t)&t_rts;
}

/* a relative timeout in ms (int, register `reg`, < 0 = none) */
static void plan_ms(struct stasis_sysplan *pl, int reg, int ms, int64_t ran)
{
    if (ms <= 0) return;
    int64_t left = left_ns((int64_t)ms * 1000000LL, ran);
    pl->reg = reg;
    pl->value = (uint64_t)(int64_t)((left + 999999) / 1000000); /* round up: never short */
}

static int plan_futex(struct stasis_sysplan *pl, const greg_t *g, int64_t ran)
{
    int cmd = (int)g[REG_RSI] & FUTEX_CMD_MASK;
    if (cmd == FUTEX_WAIT) /* relative timeout */
        plan_timespec(pl, REG_R10, (const struct timespec *)g[REG_R10], NULL, ran);
    /* FUTEX_WAIT_BITSET: absolute or none (the PI ones the kernel restarts itself) */
    return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
}

/* 1 = restart `nr` (pl->reg/value set when a timeout argument changes) */
static int plan_call(struct stasis_sysplan *pl, long nr, const greg_t *g, int64_t ran)
{
    switch (nr) {
    case SYS_poll: plan_ms(pl, REG_RDX, (int)g[REG_RDX], ran); return 1;
    case SYS_epoll_wait:
    case SYS_epoll_pwait: plan_ms(pl, REG_R10, (int)g[REG_R10], ran); return 1;
    case SYS_epoll_pwait2:
    case SYS_semtimedop: plan_timespec(pl, REG_R10, (const struct timespec *)g[REG_R10], NULL, ran); return 1;
    case SYS_rt_sigtimedwait: plan_timespec(pl, REG_RDX, (const struct timespec *)g[REG_RDX], NULL, ran); return 1;
    case SYS_nanosleep:
        plan_timespec(pl, REG_RDI, (const struct timespec *)g[REG_RDI], (const struct timespec *)g[REG_RSI], ran);
        return 1;
    case SYS_clock_nanosleep:
        if (!(g[REG_RSI] & TIMER_ABSTIME))
            plan_timespec(pl, REG_RDX, (const struct timespec *)g[REG_RDX], (const struct timespec *)g[REG_R10], ran);
        return 1;
    case SYS_futex: return plan_futex(pl, g, ran);
    /* the kernel updated the timeout in place, or there is none, or it is absolute */
    case SYS_select:
    case SYS_pselect6:
    case SYS_ppoll:
    case SYS_pause:
    case SYS_rt_sigsuspend:
    case SYS_semop:
    case SYS_msgrcv:
    case SYS_msgsnd:
    case SYS_mq_timedreceive:
    case SYS_mq_timedsend:
    case SYS_futex_waitv:
    /* EINTR only when nothing was transferred (socket timeouts turn ERESTARTSYS into EINTR) */
    case SYS_read:
    case SYS_readv:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_write:
    case SYS_writev:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_accept:
    case SYS_accept4:
    case SYS_wait4:
    case SYS_waitid: return 1;
    default: return 0; /* unknown semantics: EINTR stays */
    }
}

/* handler entry (the moment of suspension): decide and compute what to restart */
void stasis_sysrestart_prepare(void *ucv, int idx, struct stasis_sysplan *pl)
{
    ucontext_t *uc = ucv;
    const greg_t *g = uc->uc_mcontext.gregs;
    pl->nr = -1;
    pl->reg = -1;
    pl->rec = 0;
    int probed = idx >= 0 && idx < STASIS_IMG_MAX_THREADS && interrupted_probe(g, &g_probe[idx]);
    long nr = probed ? g_probe[idx].nr : syscall_before(g);
    if (nr < 0) return;
    int64_t ran = -1;
    if (stasis_call_rec.start_ns && (stasis_call_rec.nr == nr || stasis_call_rec.nr2 == nr)) {
        ran = mono_ns() - stasis_call_rec.start_ns;
        pl->rec = 1;
    }
    if (plan_call(pl, nr, g, ran)) pl->nr = nr;
}

/* a signal of the program's own is pending and not blocked at the interrupted point:
 * it is delivered on sigreturn, and its EINTR belongs to the program */
static int program_signal_pending(const ucontext_t *uc)
{
    uint64_t pend = 0, mask;
    rsys2(SYS_rt_sigpending, &pend, KSIGSET_SIZE);
    r_memcpy(&mask, &uc->uc_sigmask, sizeof mask);
    pend &= ~mask;
    pend &= ~(1ull << (STASIS_SUSPEND_SIG - 1));
    return pend != 0;
}

/* handler exit (after the release, in the original or the restarted process) */
void stasis_sysrestart_apply(void *ucv, const struct stasis_sysplan *pl)
{
    ucontext_t *uc = ucv;
    if (pl->nr < 0 || program_signal_pending(uc)) return;
    greg_t *g = uc->uc_mcontext.gregs;
    g[REG_RIP] -= 2; /* back onto `syscall` (0f 05) */
    g[REG_RAX] = pl->nr;
    if (pl->reg >= 0) g[pl->reg] = (greg_t)pl->value;
    if (pl->rec) stasis_call_rec.start_ns = mono_ns(); /* the rest of it runs from now */
}
