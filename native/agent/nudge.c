/* Threads that block the suspend signal. glibc blocks every signal but SIGSETXID in
 * the helper thread of SIGEV_THREAD POSIX timers (and in the threads it starts per
 * expiry, for a moment); a program may also block everything in a thread (sigwait
 * loops: the agent's wrappers keep our signal out of such masks, glibc's internal
 * calls bypass them). glibc never blocks SIGSETXID (its set*id broadcast needs it), so
 * such a thread is nudged with SIGSETXID carrying a marker (rt_tgsigqueueinfo,
 * SI_QUEUE): while the suspend runs, a handler of ours takes SIGSETXID, parks marked
 * ones like the suspend signal would and passes every other one to glibc's handler.
 * glibc's action is put back before the image is written. Async-signal-safe. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <signal.h>

#define SIGSETXID_NO 33
#define NUDGE_MARK   0x5354534e /* "STSN" */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

struct ksigaction {
    uint64_t handler, flags, restorer, mask;
};
typedef void (*sa_fn)(int, siginfo_t *, void *);

static struct ksigaction g_glibc; /* SIGSETXID's action while ours is in */
static volatile int g_installed;

static void nudge_handler(int sig, siginfo_t *si, void *uc)
{
    if (si->si_code == SI_QUEUE && si->si_pid == (int)rsys0(SYS_getpid) && si->si_value.sival_int == NUDGE_MARK) {
        stasis_park_signalled(si, uc);
        return;
    }
    /* someone else's SIGSETXID (a set*id call): glibc's handler, as if we were not here */
    if (g_glibc.handler > 1) {
        if (g_glibc.flags & SA_SIGINFO) ((sa_fn)(uintptr_t)g_glibc.handler)(sig, si, uc);
        else ((void (*)(int))(uintptr_t)g_glibc.handler)(sig);
    }
}

/* SIGSETXID blocked in this task? bit (sig-1) of the SigBlk hex mask in its status */
static int blocks(const char *status, int sig)
{
    const char *p = status;
    while (*p && !r_startswith(p, "SigBlk:")) {
        while (*p && *p != '\n') p++;
        if (*p) p++;
    }
    if (!*p) return -1;
    p += 7;
    while (*p == ' ' || *p == '\t') p++;
    uint64_t mask = r_parse_hex(&p);
    return (int)((mask >> (sig - 1)) & 1);
}

static int install(void)
{
    if (g_installed) return 0;
    struct ksigaction ours, suspend;
    if (rsys4(SYS_rt_sigaction, SIGSETXID_NO, NULL, &g_glibc, KSIGSET_SIZE) < 0) return -1;
    if (rsys4(SYS_rt_sigaction, STASIS_SUSPEND_SIG, NULL, &suspend, KSIGSET_SIZE) < 0 || !(suspend.flags & SA_RESTORER))
        return -1;
    ours.handler = (uint64_t)(uintptr_t)nudge_handler;
    ours.flags = SA_SIGINFO | SA_RESTART | SA_RESTORER | (g_glibc.flags & SA_ONSTACK);
    ours.restorer = suspend.restorer; /* libc's rt_sigreturn trampoline */
    ours.mask = ~0ull;
    if (rsys4(SYS_rt_sigaction, SIGSETXID_NO, &ours, NULL, KSIGSET_SIZE) < 0) return -1;
    g_installed = 1;
    return 0;
}

int stasis_nudge(int pid, int tid)
{
    static char path[64], status[4096];
    char *e = r_stpcpy(path, "/proc/self/task/");
    e = r_itoa(e, tid);
    r_stpcpy(e, "/status");
    if (stasis_read_private(path, status, sizeof status, NULL) < 0) return 0; /* gone: reaped later */
    if (blocks(status, STASIS_SUSPEND_SIG) != 1) return 0;                    /* it will get there */
    if (blocks(status, SIGSETXID_NO) != 0 || install() < 0) return -1;
    siginfo_t si;
    r_memset(&si, 0, sizeof si);
    si.si_signo = SIGSETXID_NO;
    si.si_code = SI_QUEUE;
    si.si_pid = pid;
    si.si_uid = (unsigned)rsys0(SYS_getuid);
    si.si_value.sival_int = NUDGE_MARK;
    long r = rsys4(SYS_rt_tgsigqueueinfo, pid, tid, SIGSETXID_NO, &si);
    return r < 0 && r != -ESRCH ? -1 : 1;
}

void stasis_nudge_end(void)
{
    if (!g_installed) return;
    rsys4(SYS_rt_sigaction, SIGSETXID_NO, &g_glibc, NULL, KSIGSET_SIZE);
    g_installed = 0;
}
