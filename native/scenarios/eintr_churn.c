/* Threads that enter and leave short blocking calls all the time (poll, nanosleep,
 * futex, epoll_wait, semtimedop of 1-3 ms), so that checkpoints often catch a thread
 * on its way into a call: none may ever see EINTR.
 *   eintr_churn SECONDS
 * Prints "ready", then "OK churn calls=<n> eintr=0" (or FAIL ... eintr=<n>, exit 1). */
#include "common.h"
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 5
static int secs, epfd, semid;
static volatile int stop;
static int fw;
static long calls[NTHREADS], eintr[NTHREADS];

static long one_call(int kind)
{
    struct timespec ts = {0, 1000000L * (1 + kind % 3)};
    struct epoll_event ev;
    struct sembuf op = {0, -1, 0};
    switch (kind) {
    case 0: return poll(NULL, 0, 2);
    case 1: return nanosleep(&ts, NULL);
    case 2: return syscall(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    case 3: return epoll_wait(epfd, &ev, 1, 1);
    default: return semtimedop(semid, &op, 1, &ts);
    }
}

static void *churn(void *arg)
{
    int kind = (int)(intptr_t)arg;
    while (!stop) {
        long r = one_call(kind);
        calls[kind]++;
        if (r < 0 && errno == EINTR) eintr[kind]++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    secs = argc > 1 ? atoi(argv[1]) : 5;
    setvbuf(stdout, NULL, _IOLBF, 0);
    epfd = epoll_create1(0);
    semid = semget(IPC_PRIVATE, 1, 0600 | IPC_CREAT);
    if (epfd < 0 || semid < 0) sc_fail("setup");
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, churn, (void *)(intptr_t)i);
    printf("ready\n");
    sc_sleep_ms(secs * 1000L);
    stop = 1;
    long n = 0, e = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        n += calls[i];
        e += eintr[i];
        if (eintr[i]) printf("kind %d: %ld EINTR in %ld calls\n", i, eintr[i], calls[i]);
    }
    semctl(semid, 0, IPC_RMID);
    printf("%s churn calls=%ld eintr=%ld\n", e ? "FAIL" : "OK", n, e);
    return e ? 1 : 0;
}
