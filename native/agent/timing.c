/* Thin interposers of the libc calls with a relative timeout the kernel does not
 * update (poll, epoll_wait, semtimedop, nanosleep/usleep without `rem`,
 * clock_nanosleep, raw syscall()): each records which syscall it makes and when it
 * started (CLOCK_MONOTONIC) in thread-local storage, so that the suspend handler
 * can restart an interrupted call with the time that was left (sysrestart.c).
 * The record is saved and put back around the call: a signal handler of the program
 * may make such calls inside another one. Other interposers (wrap.c: sigtimedwait,
 * epoll_pwait) use stasis_call_begin/end the same way. */
#include "agent.h"
#include <dlfcn.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define EXPORT __attribute__((visibility("default")))

__thread struct stasis_call stasis_call_rec;

typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*semtimedop_fn)(int, struct sembuf *, size_t, const struct timespec *);
typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);
typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef int (*usleep_fn)(useconds_t);
typedef long (*syscall_fn)(long, ...);

static poll_fn real_poll;
static epoll_wait_fn real_epoll_wait;
static semtimedop_fn real_semtimedop;
static nanosleep_fn real_nanosleep;
static clock_nanosleep_fn real_clock_nanosleep;
static usleep_fn real_usleep;
static syscall_fn real_syscall;

/* resolved at load time: dlsym is not async-signal-safe */
__attribute__((constructor)) static void timing_init(void)
{
    real_poll = (poll_fn)dlsym(RTLD_NEXT, "poll");
    real_epoll_wait = (epoll_wait_fn)dlsym(RTLD_NEXT, "epoll_wait");
    real_semtimedop = (semtimedop_fn)dlsym(RTLD_NEXT, "semtimedop");
    real_nanosleep = (nanosleep_fn)dlsym(RTLD_NEXT, "nanosleep");
    real_clock_nanosleep = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
    real_usleep = (usleep_fn)dlsym(RTLD_NEXT, "usleep");
    real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
}

void stasis_call_begin(struct stasis_call *saved, long nr, long nr2)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    *saved = stasis_call_rec;
    stasis_call_rec.start_ns = 0; /* never half-written for the handler */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    stasis_call_rec.nr = nr;
    stasis_call_rec.nr2 = nr2;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    stasis_call_rec.start_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void stasis_call_end(const struct stasis_call *saved)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    stasis_call_rec.start_ns = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    stasis_call_rec.nr = saved->nr;
    stasis_call_rec.nr2 = saved->nr2;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    stasis_call_rec.start_ns = saved->start_ns;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!real_poll) timing_init();
    if (timeout <= 0) return real_poll(fds, n, timeout);
    struct stasis_call s;
    stasis_call_begin(&s, SYS_poll, SYS_ppoll);
    int r = real_poll(fds, n, timeout);
    stasis_call_end(&s);
    return r;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    if (!real_epoll_wait) timing_init();
    if (timeout <= 0) return real_epoll_wait(epfd, ev, max, timeout);
    struct stasis_call s;
    stasis_call_begin(&s, SYS_epoll_wait, SYS_epoll_pwait);
    int r = real_epoll_wait(epfd, ev, max, timeout);
    stasis_call_end(&s);
    return r;
}

EXPORT int semtimedop(int id, struct sembuf *ops, size_t n, const struct timespec *t)
{
    if (!real_semtimedop) timing_init();
    if (!t) return real_semtimedop(id, ops, n, t);
    struct stasis_call s;
    stasis_call_begin(&s, SYS_semtimedop, SYS_semtimedop);
    int r = real_semtimedop(id, ops, n, t);
    stasis_call_end(&s);
    return r;
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (!real_nanosleep) timing_init();
    struct stasis_call s;
    stasis_call_begin(&s, SYS_nanosleep, SYS_clock_nanosleep);
    int r = real_nanosleep(req, rem);
    stasis_call_end(&s);
    return r;
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
    if (!real_clock_nanosleep) timing_init();
    if (flags & TIMER_ABSTIME) return real_clock_nanosleep(clk, flags, req, rem);
    struct stasis_call s;
    stasis_call_begin(&s, SYS_clock_nanosleep, SYS_nanosleep);
    int r = real_clock_nanosleep(clk, flags, req, rem);
    stasis_call_end(&s);
    return r;
}

EXPORT int usleep(useconds_t us)
{
    if (!real_usleep) timing_init();
    struct stasis_call s;
    stasis_call_begin(&s, SYS_clock_nanosleep, SYS_nanosleep);
    int r = real_usleep(us);
    stasis_call_end(&s);
    return r;
}

/* raw syscall(): only the calls with a relative timeout are recorded */
static int timed_raw(long nr, const long *a)
{
    switch (nr) {
    case SYS_futex: return (a[1] & FUTEX_CMD_MASK) == FUTEX_WAIT && a[3];
    case SYS_poll: return (int)a[2] > 0;
    case SYS_epoll_wait:
    case SYS_epoll_pwait: return (int)a[3] > 0;
    case SYS_epoll_pwait2:
    case SYS_semtimedop: return a[3] != 0;
    case SYS_rt_sigtimedwait: return a[2] != 0;
    case SYS_nanosleep: return 1;
    case SYS_clock_nanosleep: return !(a[1] & TIMER_ABSTIME);
    default: return 0;
    }
}

EXPORT long syscall(long nr, ...)
{
    if (!real_syscall) timing_init();
    long a[6];
    va_list ap;
    va_start(ap, nr);
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (!timed_raw(nr, a)) return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    struct stasis_call s;
    stasis_call_begin(&s, nr, nr);
    long r = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    stasis_call_end(&s);
    return r;
}
