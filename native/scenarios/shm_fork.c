/* Scenario: memory shared between processes, and between two views in one process.
 *
 *   shm_fork fork STEPS    parent and child ping-pong a counter through shared memory
 *   shm_fork twice STEPS   one process, one memfd mapped at two addresses
 *   shm_fork posix STEPS   as fork, the counter in a POSIX shared memory object
 *                          (/dev/shm, as Open MPI's shared memory transport)
 *
 * fork: the parent maps a page MAP_SHARED|MAP_ANONYMOUS ("/dev/zero (deleted)") and a
 * page of a file it deleted ("(deleted)", as Python's multiprocessing semaphores),
 * then forks. The parent moves the counter from even to odd, the child from odd to
 * even (polling), each time also advancing a copy in the file page after checking it
 * equals the counter. If a restart gave each process its own copy, both would wait
 * forever (or the copies would disagree: FAIL). Prints "shm <parent> <child>" first,
 * progress lines, "restarted <who> <n>" after each restart, "OK <steps>" at the end.
 *
 * posix: the counter lives in a POSIX shared memory object that stays in /dev/shm while
 * the program runs (removed at the end). The processes go on after a checkpoint, so at
 * restart the object holds a later counter than their memory: only the checkpoint's
 * copy of it agrees with the deleted file's copy.
 *
 * twice: a two-page memfd mapped whole (offset 0) and its second page alone (offset
 * 4096) at another address, fd closed: each value written through one view must be
 * read back through the other. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static void say(const char *fmt, long a, long b)
{
    printf(fmt, a, b);
    fflush(stdout);
}

/* a page of a file that no longer exists, mapped shared (fd closed) */
static volatile long *deleted_file_page(void)
{
    char path[] = "/dev/shm/stasis-shm-fork-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        strcpy(path, "/tmp/stasis-shm-fork-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd < 0 || ftruncate(fd, PAGE) < 0) sc_fail("temporary file");
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) sc_fail("mmap file");
    unlink(path);
    close(fd);
    return p;
}

static long load(volatile long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store(volatile long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* side 0 (parent) moves even values, side 1 (child) odd ones, until steps */
static int ping_pong(int side, const char *who, volatile long *counter, volatile long *copy, long steps)
{
    int seen = sc_restarts();
    for (;;) {
        long c = load(counter);
        if (sc_restarts() != seen) {
            seen = sc_restarts();
            printf("restarted %s %d\n", who, seen);
            fflush(stdout);
        }
        if (c >= steps) return 0;
        if ((c & 1) != side) {
            usleep(500);
            continue;
        }
        if (load(copy) != c) {
            say("FAIL copy %ld != counter %ld\n", load(copy), c);
            return 1;
        }
        store(copy, c + 1);
        store(counter, c + 1);
        if (side == 0 && c % 20 == 0) say("step %ld (%ld)\n", c, (long)getpid());
        sc_sleep_ms(2);
    }
}

/* a page of a POSIX shared memory object that stays (fd closed); its name in name */
static volatile long *posix_page(char *name, size_t size)
{
    snprintf(name, size, "/stasis-shm-fork-%ld", (long)getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, PAGE) < 0) sc_fail("shm_open");
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) sc_fail("mmap shm object");
    close(fd);
    return p;
}

static int run_fork(long steps, int posix)
{
    char name[64] = "";
    volatile long *counter = posix ? posix_page(name, sizeof name)
                                   : mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED) sc_fail("mmap shared anonymous");
    volatile long *copy = deleted_file_page();
    pid_t child = fork();
    if (child < 0) sc_fail("fork");
    if (child == 0) _exit(ping_pong(1, "child", counter, copy, steps));
    say("shm %ld %ld\n", (long)getpid(), (long)child);
    int rc = ping_pong(0, "parent", counter, copy, steps), st;
    while (waitpid(child, &st, 0) < 0)
        if (errno != EINTR) sc_fail("waitpid");
    if (posix) shm_unlink(name);
    if (rc || !WIFEXITED(st) || WEXITSTATUS(st) != 0) sc_fail("child failed");
    say("OK %ld %ld\n", load(counter), load(copy));
    return 0;
}

static int run_twice(long steps)
{
    int fd = memfd_create("shm-fork", 0);
    if (fd < 0 || ftruncate(fd, 2 * PAGE) < 0) sc_fail("memfd");
    char *whole = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *second = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
    if (whole == MAP_FAILED || second == MAP_FAILED) sc_fail("mmap memfd");
    close(fd);
    volatile long *a = (volatile long *)(whole + PAGE), *b = (volatile long *)second;
    int seen = sc_restarts();
    for (long i = 1; i <= steps; i++) {
        if (sc_restarts() != seen) {
            seen = sc_restarts();
            printf("restarted %d\n", seen);
            fflush(stdout);
        }
        if (*b != 2 * (i - 1)) {
            say("FAIL second view has %ld, want %ld\n", *b, 2 * (i - 1));
            return 1;
        }
        *a = 2 * i - 1;
        if (*b != 2 * i - 1) {
            say("FAIL second view has %ld, want %ld\n", *b, 2 * i - 1);
            return 1;
        }
        *b = 2 * i;
        if (*a != 2 * i) {
            say("FAIL first view has %ld, want %ld\n", *a, 2 * i);
            return 1;
        }
        if (i % 10 == 0) say("step %ld %ld\n", i, *a);
        sc_sleep_ms(5);
    }
    say("OK %ld %ld\n", steps, *a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: shm_fork fork|posix|twice STEPS\n");
        return 2;
    }
    long steps = atol(argv[2]);
    if (!strcmp(argv[1], "fork")) return run_fork(steps, 0);
    if (!strcmp(argv[1], "posix")) return run_fork(steps, 1);
    if (!strcmp(argv[1], "twice")) return run_twice(steps);
    return 2;
}
