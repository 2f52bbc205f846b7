/* Copy-on-write snapshots (SNAPSHOT and COLLECT, doc/agent-protocol.md): in the pause
 * the image is prepared (areas, process state) and a child is cloned from the
 * checkpoint thread, without CLONE_VM, that stores the pages from its copy of the
 * memory while the program runs on. The child makes raw system calls only (it is a
 * copy of a thread of a multithreaded process), never touches the coordinator's
 * connection, and says how it ended by its exit status and the image file itself
 * (nothing shared with the parent is mapped: it would be in the image). Its exit signal
 * is 0: the program gets no SIGCHLD and its wait() never sees it; the agent reaps it
 * with __WALL.
 * Written in the pause instead (the answer says why): incremental images (the dirty
 * page scan and its re-arming act on the parent's page tables, and they are small),
 * areas a fork does not copy as they are (MADV_DONTFORK: missing in the child; known
 * MADV_WIPEONFORK: zero there), shared memory above SHARED_COPY_MAX (not copy-on-write:
 * smaller shared areas are copied in the pause and stored from the copy), a failed
 * fork. A MADV_WIPEONFORK given by a raw system call (the agent sees only madvise
 * calls) is stored as zeros: memory its program declared as lost in any fork. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define SHARED_COPY_MAX (64ull << 20)
enum { CHILD_OK = 0, CHILD_FAILED = 1, CHILD_NO_PLACE = 2 };

static int g_child; /* the snapshot child writing the image, 0 none */
static char g_child_path[4096];
static char *g_shared;
static uint64_t g_shared_len;

/* the child: tells the parent whether it sees every area, then stores the pages. Its
 * own frame, below the checkpoint thread's do_snapshot one (whose context the image
 * holds). */
__attribute__((noinline, noreturn)) static void child_main(int status_fd)
{
    rsys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL); /* no writer outlives the process */
    char ok = stasis_image_all_mapped() ? 'Y' : 'N';
    rsys3(SYS_write, status_fd, &ok, 1);
    rsys1(SYS_close, status_fd);
    int code = CHILD_OK;
    uint64_t bytes;
    uint32_t areas;
    const char *err;
    if (ok != 'Y') code = CHILD_OK; /* the parent writes the image */
    else if (g_shared_len && stasis_image_place_shared(g_shared) < 0) code = CHILD_NO_PLACE;
    else {
        stasis_image_keep_failed();
        if (stasis_image_dump(&bytes, &areas, &err) < 0) code = CHILD_FAILED;
    }
    for (;;) rsys1(SYS_exit_group, code);
}

static void reap(int pid, int *status)
{
    long r;
    do r = rsys4(SYS_wait4, pid, status, __WALL, 0);
    while (r == -EINTR);
}

static const char *pause_reason(void)
{
    if (stasis_incr_active()) return "incremental";
    if (stasis_kmisc_fork_unsafe()) return "madvise";
    g_shared_len = stasis_image_shared_bytes();
    if (g_shared_len > SHARED_COPY_MAX) return "shared";
    return 0;
}

/* 1: the child writes; 0: it cannot (why) */
static int fork_child(const char *path, const char **why)
{
    g_shared = 0;
    if (g_shared_len) {
        long m = rsys6(SYS_mmap, 0, g_shared_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m < 0) {
            *why = "memory";
            return 0;
        }
        g_shared = (char *)m;
        stasis_image_copy_shared(g_shared);
    }
    int p[2];
    long pid = rsys2(SYS_pipe2, p, O_CLOEXEC);
    if (pid == 0) {
        /* the child starts with every signal blocked: one sent to the program's process
         * group (a terminal's ^C or ^Z) must neither run the program's handler in the
         * copy nor stop or kill the writer */
        uint64_t all = ~0ull, old = 0;
        rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
        pid = rsys5(SYS_clone, 0, 0, 0, 0, 0); /* exit signal 0, a copy of everything */
        if (pid == 0) child_main(p[1]);
        rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, sizeof old);
        rsys1(SYS_close, p[1]);
        char c = 0;
        long n = -EINTR;
        while (pid > 0 && n == -EINTR) n = rsys3(SYS_read, p[0], &c, 1);
        rsys1(SYS_close, p[0]);
        if (pid > 0 && c != 'Y') {
            int st;
            reap((int)pid, &st);
            pid = n == 1 ? 0 : -1;
        }
    }
    if (g_shared) rsys2(SYS_munmap, g_shared, g_shared_len); /* the child has its copy */
    g_shared = 0;
    if (pid <= 0) {
        *why = pid == 0 ? "dontfork" : "fork-failed";
        return 0;
    }
    g_child = (int)pid;
    r_stpcpy(g_child_path, path);
    stasis_image_release();
    return 1;
}

int stasis_snapshot_start(const char *dir, char *path, size_t cap, uint64_t *bytes, uint32_t *areas, const char **why,
                          const char **err)
{
    stasis_snapshot_abandon();
    if (stasis_image_prepare(dir, path, cap, err) < 0) return -1;
    *why = pause_reason();
    if (!*why && fork_child(path, why)) return 1;
    return stasis_image_dump(bytes, areas, err) < 0 ? -1 : 0;
}

int stasis_snapshot_collect(uint64_t *bytes, uint32_t *areas, char *path, const char **err)
{
    static char msg[400];
    if (!g_child) {
        *err = "no snapshot is being written";
        return -1;
    }
    int st = 0, pid = g_child;
    g_child = 0;
    reap(pid, &st);
    r_stpcpy(path, g_child_path);
    if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_OK) {
        if (stasis_image_result(path, 1, bytes, areas, 0, 0) == 0) return 0;
        *err = "the snapshot's image cannot be read";
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_FAILED) {
        char *e = r_stpcpy(msg, "snapshot: ");
        if (stasis_image_result(path, 0, 0, 0, e, sizeof msg - 10) < 0) r_stpcpy(e, "image write failed");
        *err = msg;
    } else if (WIFEXITED(st)) {
        *err = "snapshot: cannot map the copies of the shared areas";
    } else {
        char *e = r_stpcpy(msg, "the snapshot process died of signal ");
        r_itoa(e, WTERMSIG(st));
        *err = msg;
    }
    rsys1(SYS_unlink, path);
    return -1;
}

void stasis_snapshot_abandon(void)
{
    if (!g_child) return;
    int st;
    rsys2(SYS_kill, g_child, SIGKILL);
    reap(g_child, &st);
    rsys1(SYS_unlink, g_child_path);
    g_child = 0;
}

void stasis_snapshot_forget(void) { g_child = 0; }
