/* Scenario: fork in a multithreaded program whose allocator holds its lock across
 * fork (issue #17 item 3).
 *
 *   forklock N [STEP_MS]
 *
 * The program has its own malloc (interposed malloc/calloc/realloc/free around one
 * mutex) and protects it across fork the way jemalloc and tcmalloc do: its
 * pthread_atfork prepare handler takes the lock, its parent and child handlers release
 * it. Those handlers are registered after the agent's (the agent's constructor runs
 * before main), so in the child the agent's child handler runs while the lock is still
 * held. Two threads keep the allocator and stdout's lock busy while the main thread
 * forks. The default thread stack is made larger than any thread the parent has, so a
 * thread created in the child gets a new stack and glibc allocates its TLS with the
 * program's calloc: a child handler that starts a thread deadlocks there.
 *
 * The child counts to N ("count i", one line every STEP_MS with allocations), prints
 * "restarted G" after a restart; the parent waits for it and prints "OK" when it
 * exited 0. */
#include "common.h"
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static pthread_mutex_t g_heap = PTHREAD_MUTEX_INITIALIZER;

void *malloc(size_t n)
{
    pthread_mutex_lock(&g_heap);
    void *p = __libc_malloc(n);
    pthread_mutex_unlock(&g_heap);
    return p;
}

void *calloc(size_t n, size_t size)
{
    pthread_mutex_lock(&g_heap);
    void *p = __libc_calloc(n, size);
    pthread_mutex_unlock(&g_heap);
    return p;
}

void *realloc(void *q, size_t n)
{
    pthread_mutex_lock(&g_heap);
    void *p = __libc_realloc(q, n);
    pthread_mutex_unlock(&g_heap);
    return p;
}

void free(void *p)
{
    pthread_mutex_lock(&g_heap);
    __libc_free(p);
    pthread_mutex_unlock(&g_heap);
}

static void heap_lock(void) { pthread_mutex_lock(&g_heap); }
static void heap_unlock(void) { pthread_mutex_unlock(&g_heap); }

static void *churn_heap(void *arg)
{
    (void)arg;
    for (;;) {
        char *p = malloc(512);
        if (p) memset(p, 1, 512);
        free(p);
    }
    return NULL;
}

static void *churn_stdio(void *arg)
{
    FILE *f = arg;
    for (unsigned long i = 0;; i++) {
        fprintf(f, "%lu\n", i);
        if (i % 1024 == 0) fflush(f);
    }
    return NULL;
}

static void start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) sc_fail("pthread_create");
}

static int child(long n, long step)
{
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        char *p = malloc(64 + (size_t)i % 256);
        if (!p) return 1;
        snprintf(p, 64, "count %ld", i);
        printf("%s\n", p);
        fflush(stdout);
        free(p);
        sc_sleep_ms(step);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: forklock N [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long step = argc > 2 ? atol(argv[2]) : 20;
    FILE *null = fopen("/dev/null", "w");
    if (!null) sc_fail("fopen /dev/null");
    pthread_attr_t big;
    pthread_attr_init(&big);
    pthread_attr_setstacksize(&big, 32 << 20);
    if (pthread_setattr_default_np(&big) != 0) sc_fail("pthread_setattr_default_np");
    pthread_attr_destroy(&big);
    start(churn_heap, NULL);
    start(churn_stdio, null);
    if (pthread_atfork(heap_lock, heap_unlock, heap_unlock) != 0) sc_fail("pthread_atfork");
    printf("forking\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) sc_fail("fork");
    if (pid == 0) {
        int rc = child(n, step);
        fflush(stdout);
        _exit(rc);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) sc_fail("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) sc_fail("child");
    printf("OK\n");
    fflush(stdout);
    return 0;
}
