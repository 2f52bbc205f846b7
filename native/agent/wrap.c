/* Protect the agent's fd and suspend signal from the application: libc entry points
 * that could close/clobber the fd or block/replace the signal are interposed. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static int is_agent_fd(int fd) { return g_sock >= 0 && fd == g_sock; }

static long ret_errno(long r)
{
    if (r < 0) { errno = (int)-r; return -1; }
    return r;
}

EXPORT int close(int fd)
{
    if (is_agent_fd(fd)) { errno = EBADF; return -1; }
    return (int)ret_errno(rsys1(SYS_close, fd));
}

EXPORT int dup2(int oldfd, int newfd)
{
    if (is_agent_fd(newfd)) { errno = EBUSY; return -1; }
    return (int)ret_errno(rsys2(SYS_dup2, oldfd, newfd));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (is_agent_fd(newfd)) { errno = EBUSY; return -1; }
    return (int)ret_errno(rsys3(SYS_dup3, oldfd, newfd, flags));
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    if (g_sock >= 0 && (unsigned)g_sock >= first && (unsigned)g_sock <= last) {
        long r = 0;
        if ((unsigned)g_sock > first) r = rsys3(SYS_close_range, first, (unsigned)g_sock - 1, flags);
        if (r == 0 && (unsigned)g_sock < last) r = rsys3(SYS_close_range, (unsigned)g_sock + 1, last, flags);
        return (int)ret_errno(r);
    }
    return (int)ret_errno(rsys3(SYS_close_range, first, last, flags));
}

EXPORT void closefrom(int lowfd)
{
    close_range((unsigned)lowfd, ~0u, 0);
}

/* ---- signals ---- */
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef int (*sigmask_fn)(int, const sigset_t *, sigset_t *);
typedef int (*sigsuspend_fn)(const sigset_t *);

static void *next_sym(const char *name) { return dlsym(RTLD_NEXT, name); }

static sigaction_fn real_sigaction;
static sigmask_fn real_sigprocmask, real_pthread_sigmask;
static sigsuspend_fn real_sigsuspend;

/* resolve the real functions early (dlsym is not async-signal-safe; a first call
 * from a signal handler must not resolve lazily) */
void stasis_wrap_init(void)
{
    real_sigaction = (sigaction_fn)next_sym("sigaction");
    real_sigprocmask = (sigmask_fn)next_sym("sigprocmask");
    real_pthread_sigmask = (sigmask_fn)next_sym("pthread_sigmask");
    real_sigsuspend = (sigsuspend_fn)next_sym("sigsuspend");
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!real_sigaction) stasis_wrap_init();
    sigaction_fn real = real_sigaction;
    if (sig == STASIS_SUSPEND_SIG && g_sock >= 0) {
        if (old) { memset(old, 0, sizeof *old); old->sa_handler = SIG_DFL; }
        return 0;                               /* pretend: the signal is the agent's */
    }
    if (act && sigismember(&act->sa_mask, STASIS_SUSPEND_SIG) == 1) {
        struct sigaction copy = *act;
        sigdelset(&copy.sa_mask, STASIS_SUSPEND_SIG);
        return real(sig, &copy, old);
    }
    return real(sig, act, old);
}

EXPORT sighandler_t signal(int sig, sighandler_t h)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, &old) < 0) return SIG_ERR;
    return old.sa_handler;
}

static const sigset_t *filter_set(const sigset_t *set, sigset_t *copy)
{
    if (!set || g_sock < 0 || sigismember(set, STASIS_SUSPEND_SIG) != 1) return set;
    *copy = *set;
    sigdelset(copy, STASIS_SUSPEND_SIG);
    return copy;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    if (!real_sigprocmask) stasis_wrap_init();
    sigmask_fn real = real_sigprocmask;
    sigset_t copy;
    return real(how, how == SIG_UNBLOCK ? set : filter_set(set, &copy), old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    if (!real_pthread_sigmask) stasis_wrap_init();
    sigmask_fn real = real_pthread_sigmask;
    sigset_t copy;
    return real(how, how == SIG_UNBLOCK ? set : filter_set(set, &copy), old);
}

EXPORT int sigsuspend(const sigset_t *mask)
{
    if (!real_sigsuspend) stasis_wrap_init();
    sigsuspend_fn real = real_sigsuspend;
    sigset_t copy;
    return real(filter_set(mask, &copy));
}
