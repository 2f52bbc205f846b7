/* Scenario: kf_refuse MODE N [STEP_MS] (N steps, fewer once SC_STOP_FILE exists). Holds one kernel object that a restart cannot
 * bring back yet, so that a checkpoint must be refused naming it (and the program goes
 * on unharmed), then runs N steps and cleans up. MODE:
 *   pidfd    a pidfd of itself (pidfd_open)
 *   mqueue   a POSIX message queue /kf-refuse-<pid>-<ns> (mq_open), one message in it
 *   sysvshm  a System V shared memory segment attached (shmat; removed, still attached)
 *   sysvmsg  a System V message queue it sent a message to
 *   memfdmap a memory file it holds open and also maps shared (one object, two ways in)
 * Prints "step <i>"; "OK refuse <mode>" at the end if the object was intact throughout. */
#include "common.h"
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

static char g_mq[64];
static int g_msqid = -1;
static volatile int *g_shm;
static int g_fd = -1;
static volatile long *g_map;

static void setup(const char *mode)
{
    if (!strcmp(mode, "pidfd")) {
        g_fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    } else if (!strcmp(mode, "mqueue")) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now); /* pids repeat in pid namespaces: names must not */
        snprintf(g_mq, sizeof g_mq, "/kf-refuse-%d-%ld", (int)getpid(), (long)now.tv_nsec);
        struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 16};
        g_fd = mq_open(g_mq, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
        if (g_fd >= 0 && mq_send(g_fd, "hello", 5, 3) < 0) sc_fail("mq_send");
    } else if (!strcmp(mode, "sysvshm")) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        g_shm = id < 0 ? NULL : shmat(id, NULL, 0);
        if (id < 0 || g_shm == (void *)-1 || shmctl(id, IPC_RMID, NULL) < 0) sc_fail("shm");
        g_fd = 0;
    } else if (!strcmp(mode, "sysvmsg")) {
        struct {
            long type;
            char text[8];
        } m = {1, "hello"};
        g_msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (g_msqid < 0 || msgsnd(g_msqid, &m, sizeof m.text, 0) < 0) sc_fail("msg");
        g_fd = 0;
    } else if (!strcmp(mode, "memfdmap")) {
        g_fd = memfd_create("kf-mapped", 0);
        if (g_fd < 0 || ftruncate(g_fd, 4096) < 0) sc_fail("memfd");
        g_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g_fd, 0);
        if (g_map == MAP_FAILED) sc_fail("mmap");
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        exit(2);
    }
    if (g_fd < 0) sc_fail(mode);
}

static void check(long i)
{
    if (g_shm) {
        if (g_shm[0] != i - 1) sc_fail("shm content");
        g_shm[0] = (int)i;
    }
    if (g_map) {
        long v = 0;
        if (pread(g_fd, &v, sizeof v, 0) != sizeof v || v != i - 1 || g_map[0] != i - 1) sc_fail("memfd views differ");
        g_map[0] = i;
    }
    if (g_mq[0]) {
        struct mq_attr a;
        if (mq_getattr(g_fd, &a) < 0 || a.mq_curmsgs != 1) sc_fail("mqueue");
    }
    if (g_msqid >= 0) {
        struct msqid_ds ds;
        if (msgctl(g_msqid, IPC_STAT, &ds) < 0 || ds.msg_qnum != 1) sc_fail("msg queue");
    }
}

static void cleanup(void)
{
    if (g_mq[0]) mq_unlink(g_mq);
    if (g_msqid >= 0) msgctl(g_msqid, IPC_RMID, NULL);
    if (g_shm) shmdt((const void *)g_shm);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kf_refuse MODE N [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[2]);
    long step = argc > 3 ? atol(argv[3]) : 10;
    setup(argv[1]);
    atexit(cleanup);
    for (long i = 1; i <= n; i++) {
        check(i);
        printf("step %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
        if (sc_stop_requested()) n = i; /* the test is done: end after i steps */
    }
    printf("OK refuse %s\n", argv[1]);
    return 0;
}
