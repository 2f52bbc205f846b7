/* Pending signals and the parent-death signal across a checkpoint.
 *
 * In the suspend handler (all signals blocked there) each thread takes its own pending
 * signals with rt_sigtimedwait (zero timeout), siginfo and all (si_value of real-time
 * signals), and queues them straight back to itself: the running program loses
 * nothing, they are delivered when the handler returns, as they would have been. The
 * main thread does the same for the process-wide pending signals (only a thread whose
 * tid is the pid may queue a signal with the kernel's codes, SI_USER etc., to the
 * process). The taken copies stay in the agent's memory, so the image holds them; at
 * restart each thread queues its own again (and the main thread the process-wide ones)
 * before it is released. Raw syscalls only: this runs in a signal handler. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>

#define KS_MAX  2048
#define KS_INFO 128 /* sizeof(siginfo_t) */

struct ks_sig {
    int32_t tid; /* thread that had it pending; 0 = process-wide */
    int32_t signo;
    unsigned char info[KS_INFO];
};
struct ks_thread {
    int32_t tid, pdeathsig;
};

static struct ks_sig g_sig[KS_MAX];
static int g_nsig;
static struct ks_thread g_thr[STASIS_IMG_MAX_THREADS];
static int g_nthr;
static int g_overflow; /* more pending signals than room: refuse the checkpoint */

/* a new suspend: forget the previous one (before any thread is signalled) */
void stasis_ksig_begin(void)
{
    __atomic_store_n(&g_nsig, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_nthr, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_overflow, 0, __ATOMIC_SEQ_CST);
}

int stasis_ksig_check(const char **err)
{
    if (!__atomic_load_n(&g_overflow, __ATOMIC_SEQ_CST)) return 0;
    *err = "too many pending signals to save (more than 2048, or 256 in one thread): cannot checkpoint";
    return -1;
}

/* SigPnd (thread) or ShdPnd (process) of /proc/thread-self/status */
static uint64_t pending_mask(const char *field)
{
    char buf[2048];
    size_t len;
    if (r_read_file("/proc/thread-self/status", buf, sizeof buf, &len) < 0) return 0;
    for (const char *p = buf; *p;) {
        if (r_startswith(p, field)) {
            p += r_strlen(field);
            while (*p == '\t' || *p == ' ') p++;
            return r_parse_hex(&p) & ~(1ull << (STASIS_SUSPEND_SIG - 1));
        }
        while (*p && *p != '\n') p++;
        if (*p) p++;
    }
    return 0;
}

/* take every signal pending in `field`'s set, one at a time (the set is read again
 * after each: a thread's own queue is searched first, so only signals it still holds
 * may be asked for); their slots go to mine[] */
static int take_pending(const char *field, int32_t owner, int *mine, int n, int cap)
{
    const struct {
        long sec, nsec;
    } zero = {0, 0};
    for (;;) {
        uint64_t set = pending_mask(field);
        if (!set) break;
        int i = n < cap ? __atomic_fetch_add(&g_nsig, 1, __ATOMIC_SEQ_CST) : KS_MAX;
        if (i >= KS_MAX) {
            __atomic_store_n(&g_overflow, 1, __ATOMIC_SEQ_CST);
            break;
        }
        struct ks_sig *s = &g_sig[i];
        long r = rsys4(SYS_rt_sigtimedwait, &set, s->info, &zero, KSIGSET_SIZE);
        s->tid = owner;
        s->signo = r > 0 ? (int32_t)r : 0; /* 0: gone meanwhile, skipped */
        if (r <= 0) break;
        mine[n++] = i;
    }
    return n;
}

static void queue_one(const struct ks_sig *s, int pid, int tid)
{
    if (s->tid) rsys4(SYS_rt_tgsigqueueinfo, pid, tid, s->signo, s->info);
    else rsys3(SYS_rt_sigqueueinfo, pid, s->signo, s->info);
}

/* suspend handler hook: the calling thread's pending signals and parent-death signal */
void stasis_ksig_thread_save(void)
{
    int tid = (int)r_gettid(), pid = (int)rsys0(SYS_getpid);
    int k = __atomic_fetch_add(&g_nthr, 1, __ATOMIC_SEQ_CST);
    if (k < STASIS_IMG_MAX_THREADS) {
        g_thr[k].tid = tid;
        g_thr[k].pdeathsig = 0;
        rsys2(SYS_prctl, PR_GET_PDEATHSIG, &g_thr[k].pdeathsig);
    }
    int mine[256], n = take_pending("SigPnd:", tid, mine, 0, 256);
    if (tid == pid) n = take_pending("ShdPnd:", 0, mine, n, 256);
    for (int i = 0; i < n; i++) queue_one(&g_sig[mine[i]], pid, tid);
}

/* restart: in each recreated thread (index in g_threads) before it is released */
void stasis_ksig_thread_restore(int index)
{
    if (index < 0 || index >= (int)g_hdr.n_threads) return;
    int old = g_hdr.tids[index], pid = (int)rsys0(SYS_getpid), tid = (int)r_gettid();
    int nt = __atomic_load_n(&g_nthr, __ATOMIC_SEQ_CST);
    for (int k = 0; k < nt && k < STASIS_IMG_MAX_THREADS; k++)
        if (g_thr[k].tid == old && g_thr[k].pdeathsig) rsys2(SYS_prctl, PR_SET_PDEATHSIG, g_thr[k].pdeathsig);
    int n = __atomic_load_n(&g_nsig, __ATOMIC_SEQ_CST);
    for (int i = 0; i < n && i < KS_MAX; i++)
        if (g_sig[i].signo && (g_sig[i].tid == old || (index == 0 && g_sig[i].tid == 0)))
            queue_one(&g_sig[i], pid, tid);
}
