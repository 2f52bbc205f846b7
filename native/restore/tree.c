/* Restoring a process tree (a plan with several process lines; doc/restart-plan.md).
 *
 * Every image is validated before anything starts. Inside the new pid namespace,
 * init creates the processes whose parent is not in the plan; each process creates
 * its own children (so that parent links are the saved ones), in plan order, with
 * clone3 set_tid = the saved pid. A new process first takes its saved session
 * (setsid) or process group (setpgid), then creates its children one after the other,
 * each one's whole subtree being complete before the next sibling starts (a group
 * leader exists before the members that join it), and reports "ready" to its parent
 * through a pipe. Then each process restores itself from its own image. */
#include "tree.h"
#include "imgcheck.h"
#include "chain.h"
#include "nsinit.h"
#include "plan.h"
#include "shm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void image_unload(void)
{
    chain_close();
    if (g_img.fd > 0) close(g_img.fd);
    /* header and tables live in the scratch range: release all of it */
    munmap((void *)(uintptr_t)0x10000000000ull, 0x100000000ull);
    memset(&g_img, 0, sizeof g_img);
}

static void later(int64_t have[2], const int64_t v[2])
{
    if (v[0] > have[0] || (v[0] == have[0] && v[1] > have[1])) {
        have[0] = v[0];
        have[1] = v[1];
    }
}

int tree_check_images(int64_t monotonic[2], int64_t boottime[2])
{
    monotonic[0] = monotonic[1] = boottime[0] = boottime[1] = 0;
    for (int i = 0; i < g_nprocs; i++) {
        const char *image = g_procs[i].image;
        if (image_load(image) < 0) return -1;
        if (g_plan.verify && image_verify_data(image) < 0) return -1;
        if (chain_open(image, g_plan.verify, 0) < 0) return -1;
        if (g_img.hdr->pid != g_procs[i].pid) {
            fprintf(stderr, "stasis-restore: %s: image of pid %d, plan says %d\n", image, (int)g_img.hdr->pid,
                    g_procs[i].pid);
            return -1;
        }
        if (shm_take_image(i) < 0) return -1;
        later(monotonic, g_img.hdr->proc.monotonic);
        later(boottime, g_img.hdr->proc.boottime);
        image_unload();
    }
    for (int i = 0; i < g_nprocs; i++) {
        const struct plan_proc *p = &g_procs[i];
        /* a cycle of parent links would leave processes uncreated */
        int hops = 0;
        for (int j = i; j >= 0 && hops <= g_nprocs; hops++) j = g_procs[j].has_tree ? plan_index(g_procs[j].ppid) : -1;
        if (hops > g_nprocs) {
            fprintf(stderr, "stasis-restore: process %d: its parent links form a cycle\n", p->pid);
            return -1;
        }
    }
    return 0;
}

static int parent_index(int i) { return g_procs[i].has_tree ? plan_index(g_procs[i].ppid) : -1; }

/* in the new process i: its saved session or process group */
static void join_group(int i)
{
    const struct plan_proc *p = &g_procs[i];
    if (!p->has_tree) return;
    if (p->sid == p->pid) {
        if (setsid() < 0) fprintf(stderr, "stasis-restore: warning: process %d: setsid: %s\n", p->pid, strerror(errno));
    } else if (p->pgid == p->pid) {
        if (setpgid(0, 0) < 0)
            fprintf(stderr, "stasis-restore: warning: process %d: setpgid: %s\n", p->pid, strerror(errno));
    } else if (p->pgid > 0 && plan_index(p->pgid) >= 0 && getpgid(0) != p->pgid) {
        if (setpgid(0, p->pgid) < 0)
            fprintf(stderr, "stasis-restore: warning: process %d: cannot join process group %d: %s\n", p->pid, p->pgid,
                    strerror(errno));
    }
}

int tree_has_zombies(void)
{
    for (int i = 0; i < g_nprocs; i++)
        if (g_procs[i].nzombies) return 1;
    return 0;
}

/* in process i: its exited, unreaped children, with their pids and wait statuses */
static void make_zombies(int i)
{
    const struct plan_proc *p = &g_procs[i];
    for (int k = 0; k < p->nzombies; k++) {
        pid_t z = ns_clone_pid(p->zombie_pid[k]);
        if (z < 0) {
            fprintf(stderr, "stasis-restore: warning: process %d: cannot recreate exited child %d: %s\n", p->pid,
                    p->zombie_pid[k], strerror(errno));
            continue;
        }
        if (z == 0) {
            int st = p->zombie_status[k];
            if (WIFSIGNALED(st)) {
                struct rlimit none = {0, 0};
                setrlimit(RLIMIT_CORE, &none);
                signal(WTERMSIG(st), SIG_DFL);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                kill(getpid(), WTERMSIG(st));
            }
            _exit(WEXITSTATUS(st));
        }
        siginfo_t si; /* wait until it is a zombie; leave it unreaped */
        while (waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
    }
}

int tree_build(pid_t *main_child)
{
    int self = -1, ready = -1;
    *main_child = 0;
again:
    for (int i = 0; i < g_nprocs; i++) {
        if (parent_index(i) != self) continue;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
            perror("stasis-restore: pipe");
            _exit(1);
        }
        pid_t c = ns_clone_pid(g_procs[i].pid);
        if (c < 0) {
            fprintf(stderr, "stasis-restore: cannot create process with pid %d: %s\n", g_procs[i].pid, strerror(errno));
            _exit(1);
        }
        if (c == 0) {
            close(p[0]);
            if (ready >= 0) close(ready);
            ready = p[1];
            self = i;
            join_group(i);
            goto again; /* now create this process's own children */
        }
        close(p[1]);
        char b;
        ssize_t n;
        do n = read(p[0], &b, 1);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        if (n != 1) {
            fprintf(stderr, "stasis-restore: process %d was not recreated\n", g_procs[i].pid);
            _exit(1);
        }
        if (self < 0 && *main_child == 0) *main_child = c;
    }
    if (self < 0) return -1;
    make_zombies(self);
    if (write(ready, "r", 1) != 1) _exit(1);
    close(ready);
    return self;
}
