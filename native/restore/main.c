/* stasis-restore PLAN_FILE: recreate one checkpointed process (doc/restart-plan.md). */
#include "fdtable.h"
#include "front.h"
#include "imgcheck.h"
#include "chain.h"
#include "compact.h"
#include "inflate.h"
#include "memory.h"
#include "nsinit.h"
#include "plan.h"
#include "tree.h"
#include "pipes.h"
#include "shm.h"
#include "supervise.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "stasis/restart.h"
#include <unistd.h>

static void restore_rlimits(const struct stasis_img_proc *p)
{
    for (int r = 0; r < STASIS_IMG_NRLIMIT && r < RLIM_NLIMITS; r++) {
        struct rlimit cur, want = {p->rlim[r].cur, p->rlim[r].max};
        if (getrlimit(r, &cur) < 0) continue;
        if (cur.rlim_cur == want.rlim_cur && cur.rlim_max == want.rlim_max) continue;
        if (setrlimit(r, &want) < 0) { /* cannot raise a hard limit: keep ours */
            if (want.rlim_cur > cur.rlim_max) want.rlim_cur = cur.rlim_max;
            want.rlim_max = cur.rlim_max;
            setrlimit(r, &want);
        }
    }
}

/* The program's working directory had been deleted: it gets a deleted one again, so
 * that getcwd and relative names fail as they did. Made at the same path when that
 * is free (then /proc/self/cwd reads the same), else as a private temporary one. */
static int enter_deleted_dir(const char *path)
{
    char tmp[] = "/tmp/stasis-deleted-cwd-XXXXXX";
    const char *dir = path;
    if (mkdir(path, 0700) < 0) {
        if (!mkdtemp(tmp)) {
            fprintf(stderr,
                    "stasis-restore: cannot make a directory to stand for the deleted working directory %s: %s\n", path,
                    strerror(errno));
            return -1;
        }
        dir = tmp;
    }
    int rc = chdir(dir);
    rmdir(dir);
    if (rc < 0) fprintf(stderr, "stasis-restore: cannot enter %s: %s\n", dir, strerror(errno));
    return rc;
}

static int restore_process_state(void)
{
    const struct stasis_img_proc *p = &g_img.hdr->proc;
    /* a saved working directory under a redirected path is entered where it is served from */
    const char *cwd = g_plan.cwd[0] ? g_plan.cwd : plan_redirect_path(p->cwd);
    if (!g_plan.cwd[0] && (p->kflags & STASIS_PROC_CWD_DELETED)) {
        if (enter_deleted_dir(p->cwd) < 0) return -1;
    } else if (cwd[0] && chdir(cwd) < 0) {
        fprintf(stderr, "stasis-restore: cannot change to directory %s: %s\n", cwd, strerror(errno));
        return -1;
    }
    umask((mode_t)p->umask);
    restore_rlimits(p);
    for (int w = 0; w < 3; w++) {
        struct itimerval it = {{p->itimer[w].interval_sec, p->itimer[w].interval_usec},
                               {p->itimer[w].value_sec, p->itimer[w].value_usec}};
        if ((it.it_value.tv_sec || it.it_value.tv_usec) && setitimer(w, &it, NULL) < 0)
            fprintf(stderr, "stasis-restore: warning: cannot restore interval timer %d\n", w);
    }
    if (personality(p->personality) < 0)
        fprintf(stderr, "stasis-restore: warning: cannot restore personality %#x\n", p->personality);
    return 0;
}

/* glibc registered an rseq area in our TLS (brk heap), which phase 2 unmaps: the
 * kernel would then kill us with SIGSEGV on the next preemption. Unregister it. */
extern const ptrdiff_t __rseq_offset;
extern const unsigned int __rseq_size;
static void unregister_rseq(void)
{
    if (__rseq_size)
        syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, 32, 1 /* UNREGISTER */, 0x53053053);
}

/* the fd table is built above the planned numbers (every planned fd twice for a
 * moment): room up to the hard limit; the saved limits come back with the rlimits */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void expect_processes(void)
{
    int pids[g_nprocs > 0 ? g_nprocs : 1];
    for (int i = 0; i < g_nprocs; i++) pids[i] = g_procs[i].pid;
    supervise_expect(pids, g_nprocs);
}

/* the restored agent pages in what stays mapped from this image (agent/prefetch.c) */
static void prefetch_args(int image_fd, struct stasis_restart_args *args)
{
    struct stat st;
    if (fstat(image_fd, &st) < 0) return;
    args->image_ino = (uint64_t)st.st_ino;
    args->image_dev_major = major(st.st_dev);
    args->image_dev_minor = minor(st.st_dev);
    args->prefetch = 1;
}

/* stasis-restore --check IMAGE...: every rule the restorer applies to an image before
 * it touches anything, and every page's checksum (`stasis verify` runs it); exit 1
 * with one line at the first violation, 0 and nothing printed if every image passes */
static int check_images(int n, char **images)
{
    for (int i = 0; i < n; i++) {
        if (image_check_only(images[i]) < 0 || image_verify_data(images[i]) < 0) return 1;
        if (chain_open(images[i], 1, 0) < 0) return 1;
        chain_close();
        if (g_img.fd >= 0) close(g_img.fd);
        munmap((void *)(uintptr_t)STASIS_RESTORER_SCRATCH, STASIS_RESTORER_SCRATCH_END - STASIS_RESTORER_SCRATCH);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--check")) return check_images(argc - 2, argv + 2);
    if (argc == 4 && !strcmp(argv[1], "--compact")) return compact_image(argv[2], argv[3]);
    int no_verify = 0, no_prefetch = 0;
    for (; argc > 2 && argv[1][0] == '-'; argv++, argc--) {
        if (!strcmp(argv[1], "--no-verify")) no_verify = 1;          /* the user accepts damaged pages */
        else if (!strcmp(argv[1], "--no-prefetch")) no_prefetch = 1; /* pages come in on first touch only */
        else break;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr,
                "usage: stasis-restore [--no-verify] [--no-prefetch] PLAN_FILE | stasis-restore --check IMAGE... | "
                "stasis-restore --compact IMAGE OUT\n");
        return 2;
    }
    front_init();             /* before any namespace: where `stasis` is */
    supervise_start(argv[1]); /* returns in the process that restores */
    if (plan_load(argv[1]) < 0) return 1;
    if (no_verify) g_plan.verify = 0;
    expect_processes();
    raise_fd_limit();
    if (pipes_create() < 0) return 1;
    plan_select(0); /* pipe ends are known now */
    int tree = g_nprocs > 1 || tree_has_zombies();
    int64_t mono[2], boot[2];
    if (tree) {
        if (!g_plan.namespaces) {
            fprintf(stderr, "stasis-restore: %s: a plan with several processes (or zombies) needs 'namespaces on'\n",
                    argv[1]);
            return 1;
        }
        if (tree_check_images(mono, boot) < 0) return 1;
    } else {
        g_inflate_anon = 1;
        if (image_load(g_plan.image) < 0) return 1;
        ns_forget(g_img.zbuf, g_img.zbuf_len);
        if (g_plan.verify && image_verify_data(g_plan.image) < 0) return 1;
        if (chain_open(g_plan.image, g_plan.verify, 1) < 0) return 1;
        if (shm_take_image(0) < 0) return 1;
        memcpy(mono, g_img.hdr->proc.monotonic, sizeof mono);
        memcpy(boot, g_img.hdr->proc.boottime, sizeof boot);
    }
    struct stasis_restart_args args;
    memset(&args, 0, sizeof args);
    args.version = 4;
    args.redirects = (uint64_t)(uintptr_t)g_redirects;
    args.redirects_len = (uint32_t)g_redirects_len;
    args.restorer_start = restorer_image_start();
    args.restorer_end = restorer_image_end();
    args.scratch_start = STASIS_RESTORER_SCRATCH;
    args.scratch_end = STASIS_RESTORER_SCRATCH_END;
    strcpy(args.agent_socket, g_plan.agent_socket);
    if (g_plan.namespaces) {
        if (ns_enter() < 0) {
            fprintf(stderr, "stasis-restore: cannot create namespaces (%s); use 'namespaces off'\n", strerror(errno));
            return 1;
        }
        g_ns_report_fd = g_report_fd; /* the supervisor's replace channel (front.h) */
        if (ns_time_not_before(mono, boot) < 0)
            fprintf(stderr, "stasis-restore: warning: no time namespace (%s): CLOCK_MONOTONIC goes back\n",
                    strerror(errno));
        if (tree) {
            plan_select(ns_spawn_tree(tree_build, "stasis-restore")); /* in each restored process */
            g_inflate_anon = 1;
            if (image_load(g_plan.image) < 0 || chain_open(g_plan.image, 0, 1) < 0) _exit(1);
        } else {
            ns_spawn(g_img.hdr->pid, "stasis-restore"); /* returns in the process with the saved pid */
        }
        args.use_set_tid = 1;
    }
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    int nshm;
    int *shm = shm_fds(&nshm);
    int more[nshm + CHAIN_MAX + 1]; /* the shared memory objects, then the parent images */
    memcpy(more, shm, (size_t)nshm * sizeof *more);
    memcpy(more + nshm, g_chain.fd, (size_t)g_chain.n * sizeof *more);
    int fd = fdtable_install(g_img.fd, more, nshm + g_chain.n, &g_report_fd); /* stderr follows g_report_fd */
    if (fd < 0) _exit(1);
    memcpy(shm, more, (size_t)nshm * sizeof *more);
    memcpy(g_chain.fd, more + nshm, (size_t)g_chain.n * sizeof *more);
    args.report_fd = g_report_fd;
    int copy = g_plan.memory_copy || g_img_inflated; /* never a view of a decompressed image (a memfd) */
    if (!no_prefetch && !copy) prefetch_args(fd, &args);
    if (restore_process_state() < 0) _exit(1);
    if (memory_open_shared_files(fd + 1) < 0) _exit(1);
    unregister_rseq();
    memory_restore_and_jump(fd, &args, copy);
}
