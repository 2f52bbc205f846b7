/* Protect the agent's suspend signal (and, in the fallback where the connection is a
 * program fd, that fd) from the application: libc entry points that could
 * close/clobber the fd or block/replace the signal are interposed. Normally the
 * connection is in the relay's own table (relay.c) and the fd calls pass through. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>

#define EXPORT __attribute__((visibility("default")))

static int is_agent_fd(int fd) { return g_agent_fd >= 0 && fd == g_agent_fd; }

static long ret_errno(long r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

EXPORT int close(int fd)
{
    if (is_agent_fd(fd)) {
        errno = EBADF;
        return -1;
    }
    return (int)ret_errno(rsys1(SYS_close, fd));
}

EXPORT int dup2(int oldfd, int newfd)
{
    if (is_agent_fd(newfd)) {
        errno = EBUSY;
        return -1;
    }
    return (int)ret_errno(rsys2(SYS_dup2, oldfd, newfd));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (is_agent_fd(newfd)) {
        errno = EBUSY;
        return -1;
    }
    return (int)ret_errno(rsys3(SYS_dup3, oldfd, newfd, flags));
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    int a = g_agent_fd;
    if (a >= 0 && (unsigned)a >= first && (unsigned)a <= last) {
        long r = 0;
        if ((unsigned)a > first) r = rsys3(SYS_close_range, first, (unsigned)a - 1, flags);
        if (r == 0 && (unsigned)a < last) r = rsys3(SYS_close_range, (unsigned)a + 1, last, flags);
        return (int)ret_errno(r);
    }
    return (int)ret_errno(rsys3(SYS_close_range, first, last, flags));
}

EXPORT void closefrom(int lowfd) { close_range((unsigned)lowfd, ~0u, 0); }

/* ---- signals ---- */
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef int (*sigmask_fn)(int, const sigset_t *, sigset_t *);
typedef int (*sigsuspend_fn)(const sigset_t *);
typedef int (*sigwait_fn)(const sigset_t *, int *);
typedef int (*sigwaitinfo_fn)(const sigset_t *, siginfo_t *);
typedef int (*sigtimedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);
typedef int (*signalfd_fn)(int, const sigset_t *, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);

static void *next_sym(const char *name) { return dlsym(RTLD_NEXT, name); }

static sigaction_fn real_sigaction;
static sigmask_fn real_sigprocmask, real_pthread_sigmask;
static sigsuspend_fn real_sigsuspend;
static sigwait_fn real_sigwait;
static sigwaitinfo_fn real_sigwaitinfo;
static sigtimedwait_fn real_sigtimedwait;
static signalfd_fn real_signalfd;
static ppoll_fn real_ppoll;
static pselect_fn real_pselect;
static epoll_pwait_fn real_epoll_pwait;

/* resolve the real functions early (dlsym is not async-signal-safe; a first call
 * from a signal handler must not resolve lazily) */
void stasis_wrap_init(void)
{
    real_sigaction = (sigaction_fn)next_sym("sigaction");
    real_sigprocmask = (sigmask_fn)next_sym("sigprocmask");
    real_pthread_sigmask = (sigmask_fn)next_sym("pthread_sigmask");
    real_sigsuspend = (sigsuspend_fn)next_sym("sigsuspend");
    real_sigwait = (sigwait_fn)next_sym("sigwait");
    real_sigwaitinfo = (sigwaitinfo_fn)next_sym("sigwaitinfo");
    real_sigtimedwait = (sigtimedwait_fn)next_sym("sigtimedwait");
    real_signalfd = (signalfd_fn)next_sym("signalfd");
    real_ppoll = (ppoll_fn)next_sym("ppoll");
    real_pselect = (pselect_fn)next_sym("pselect");
    real_epoll_pwait = (epoll_pwait_fn)next_sym("epoll_pwait");
    stasis_pathwrap_init();
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!real_sigaction) stasis_wrap_init();
    sigaction_fn real = real_sigaction;
    if (sig == STASIS_SUSPEND_SIG && g_sock >= 0) {
        if (old) {
            memset(old, 0, sizeof *old);
            old->sa_handler = SIG_DFL;
        }
        return 0; /* pretend: the signal is the agent's */
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

/* waiting for signals must not consume the agent's; temporary masks must not block it */
EXPORT int sigwait(const sigset_t *set, int *sig)
{
    if (!real_sigwait) stasis_wrap_init();
    sigset_t copy;
    return real_sigwait(filter_set(set, &copy), sig);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    if (!real_sigwaitinfo) stasis_wrap_init();
    sigset_t copy;
    return real_sigwaitinfo(filter_set(set, &copy), info);
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *t)
{
    if (!real_sigtimedwait) stasis_wrap_init();
    sigset_t copy;
    struct stasis_call call; /* its start time (sysrestart.c) */
    if (t) stasis_call_begin(&call, SYS_rt_sigtimedwait, SYS_rt_sigtimedwait);
    int r = real_sigtimedwait(filter_set(set, &copy), info, t);
    if (t) stasis_call_end(&call);
    return r;
}

EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    if (!real_signalfd) stasis_wrap_init();
    sigset_t copy;
    return real_signalfd(fd, filter_set(mask, &copy), flags);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
    if (!real_ppoll) stasis_wrap_init();
    sigset_t copy;
    return real_ppoll(fds, n, t, filter_set(mask, &copy));
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *mask)
{
    if (!real_pselect) stasis_wrap_init();
    sigset_t copy;
    return real_pselect(n, r, w, e, t, filter_set(mask, &copy));
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    if (!real_epoll_pwait) stasis_wrap_init();
    sigset_t copy;
    struct stasis_call call; /* its start time (sysrestart.c) */
    if (timeout > 0) stasis_call_begin(&call, SYS_epoll_pwait, SYS_epoll_pwait);
    int r = real_epoll_pwait(epfd, ev, max, timeout, filter_set(mask, &copy));
    if (timeout > 0) stasis_call_end(&call);
    return r;
}
