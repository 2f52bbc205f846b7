/* Worker processes (or threads) for the restorer's parallel checks (verify.c) and decompression
 * (inflate.c): they share the work through memory mapped before the fork and die with
 * the restorer (PR_SET_PDEATHSIG). */
#include "workers.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int workers_usable(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : n;
}

int workers_run(int n, uint64_t items, int (*work)(void *), void *arg, int *failed)
{
    pid_t pids[WORKERS_MAX];
    int started = 0;
    if (n > WORKERS_MAX) n = WORKERS_MAX;
    for (; started < n && (uint64_t)started < items; started++) {
        pids[started] = fork();
        if (pids[started] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            _exit(work(arg));
        }
        if (pids[started] < 0) break;
    }
    int saved = errno;
    *failed = 0;
    for (int i = 0; i < started; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) *failed = 1;
    }
    errno = saved;
    return started;
}

struct thread_job {
    int (*work)(void *);
    void *arg;
};

static void *thread_main(void *p)
{
    const struct thread_job *j = p;
    j->work(j->arg);
    return NULL;
}

int workers_run_threads(int n, uint64_t items, int (*work)(void *), void *arg)
{
    pthread_t tids[WORKERS_MAX];
    struct thread_job job = {work, arg};
    int started = 0;
    if (n > WORKERS_MAX) n = WORKERS_MAX;
    for (; started < n && (uint64_t)started < items; started++) {
        int err = pthread_create(&tids[started], NULL, thread_main, &job);
        if (err) {
            errno = err;
            break;
        }
    }
    int saved = errno;
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    errno = saved;
    return started;
}
