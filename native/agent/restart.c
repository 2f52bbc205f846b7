/* Restart entry of the restored agent. The restorer has mapped the saved memory,
 * restored process-wide state and set the main thread's fs base; it jumps here on
 * stasis_restart_stack with all signals blocked. We recreate every saved thread
 * (clone3, with its saved tid when allowed), each returning into its saved context,
 * then become the main thread ourselves. Raw syscalls only: libc state belongs to
 * the restored program and its threads are not running yet. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <asm/prctl.h>

#define RSEQ_SIG 0x53053053

char stasis_restart_stack[65536] __attribute__((aligned(64)));
const size_t stasis_restart_stack_size = sizeof stasis_restart_stack;
struct stasis_restart_args g_restart_args;

extern const long __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/* the restorer's report channel (its supervisor reads it), else stderr */
static int report_fd(void)
{
    return g_restart_args.version >= 2 && g_restart_args.report_fd >= 0 ? g_restart_args.report_fd : 2;
}

void stasis_restart_die(const char *msg)
{
    static char line[512];
    char *e = r_stpcpy(line, "stasis-agent: restart of process ");
    e = r_itoa(e, rsys0(SYS_getpid));
    e = r_stpcpy(e, ": ");
    size_t n = r_strlen(msg);
    if (n > 400) n = 400;
    r_memcpy(e, msg, n);
    e += n;
    *e++ = '\n';
    rsys3(SYS_write, report_fd(), line, (size_t)(e - line));
    rsys1(SYS_exit_group, 1);
    __builtin_unreachable();
}

void stasis_restart_ready(void)
{
    if (g_restart_args.version < 2 || g_restart_args.report_fd < 0) return;
    /* without namespaces this process was the supervisor's child, dying with it while
     * it was restored: the program had no such setting */
    if (!g_restart_args.use_set_tid) rsys2(SYS_prctl, PR_SET_PDEATHSIG, 0);
    char line[40], *e = r_stpcpy(line, "@ready ");
    e = r_itoa(e, rsys0(SYS_getpid));
    e = r_stpcpy(e, "\n");
    rsys3(SYS_write, g_restart_args.report_fd, line, (size_t)(e - line));
    rsys1(SYS_close, g_restart_args.report_fd);
    g_restart_args.report_fd = -1;
}

static void die(const char *msg) { stasis_restart_die(msg); }

/* The restorer kept the capabilities of our user namespace (needed for set_tid and
 * the exe link). A non-root program had none after its execve: drop them again
 * (per thread). */
static int g_drop_caps;
static void drop_caps(void)
{
    if (g_drop_caps) stasis_drop_caps();
}

/* per-thread kernel state that a new thread does not inherit */
static void restore_thread_state(struct stasis_thread *t)
{
    if (t->robust_head) rsys2(SYS_set_robust_list, t->robust_head, t->robust_len);
    if (t->name[0]) rsys2(SYS_prctl, PR_SET_NAME, t->name);
    stasis_ksig_thread_restore((int)(t - g_threads));
    if (&__rseq_size && &__rseq_offset && __rseq_size)
        rsys4(SYS_rseq, t->fsbase + (uint64_t)__rseq_offset, 32, 0, RSEQ_SIG);
}

void stasis_thread_child(struct stasis_thread *t)
{
    restore_thread_state(t);
    drop_caps();
    stasis_ctx_restore(&t->ctx, 1);
}

static void create_thread(struct stasis_thread *t, int use_set_tid)
{
    struct clone_args ca;
    r_memset(&ca, 0, sizeof ca);
    pid_t want = t->tid;
    ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
               CLONE_CHILD_CLEARTID;
    ca.child_tid = t->tid_addr;
    ca.tls = t->fsbase;
    if (g_tid_off >= 0 && !use_set_tid) {
        ca.flags |= CLONE_PARENT_SETTID; /* patch glibc's cached tid */
        ca.parent_tid = t->fsbase + (uint64_t)g_tid_off;
    }
    /* temporary stack just below the saved stack pointer, inside the thread's stack */
    uint64_t top = (t->ctx.rsp - 4096) & ~15ull;
    ca.stack = top - 16384;
    ca.stack_size = 16384;
    if (use_set_tid) {
        ca.set_tid = (uint64_t)(uintptr_t)&want;
        ca.set_tid_size = 1;
    }
    long r = stasis_clone3_thread(&ca, sizeof ca, t);
    if (r < 0) die(use_set_tid ? "clone3 with the saved tid failed" : "clone3 failed");
    t->tid = (int)r;
}

/* point /proc/self/exe back at the program (needs CAP_CHECKPOINT_RESTORE in our
 * user namespace: only with namespaces; best effort) */
static void restore_exe_link(void)
{
    if (!g_exe[0]) return;
    long fd = rsys3(SYS_open, g_exe, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return;
    const struct stasis_img_mm *m = &g_hdr.proc.mm;
    struct prctl_mm_map map;
    r_memset(&map, 0, sizeof map);
    map.start_code = m->start_code;
    map.end_code = m->end_code;
    map.start_data = m->start_data;
    map.end_data = m->end_data;
    map.start_brk = m->start_brk;
    map.brk = m->brk;
    map.start_stack = m->start_stack;
    map.arg_start = m->arg_start;
    map.arg_end = m->arg_end;
    map.env_start = m->env_start;
    map.env_end = m->env_end;
    map.exe_fd = (uint32_t)fd;
    rsys5(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0);
    rsys1(SYS_close, fd);
}

/* the image's relay (relay.c) is not a program thread: a new one, with the saved
 * tid when tids are kept (a free tid now may be the pid of a process of the tree
 * that is not recreated yet); the checkpoint thread reconnects through it */
static void start_relay(int use_set_tid)
{
    int saved = g_relay_tid;
    stasis_relay_forget();
    if (saved <= 0) return; /* fallback: no relay */
    if (stasis_relay_start(use_set_tid ? saved : 0, g_drop_caps, -1) < 0 && use_set_tid)
        stasis_relay_start(0, g_drop_caps, -1);
}

void stasis_restart_entry(const struct stasis_restart_args *a)
{
    r_memcpy(&g_restart_args, a, sizeof g_restart_args);
    /* every signal blocked, glibc's internal ones (32, 33) too, which the restorer's
     * sigfillset left out: restored timers and re-queued signals wait until each
     * thread's own mask comes back with its signal frame */
    uint64_t all = ~0ull;
    rsys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, KSIGSET_SIZE);
    int use_set_tid = (int)g_restart_args.use_set_tid;
    if (g_restart_args.version >= 3 && g_restart_args.redirects_len &&
        stasis_redirect_parse((const char *)(uintptr_t)g_restart_args.redirects, g_restart_args.redirects_len) < 0)
        die("the plan's redirects do not fit (at most 32, paths under 4096 bytes)");
    if (g_restart_args.restorer_end > g_restart_args.restorer_start)
        rsys2(SYS_munmap, g_restart_args.restorer_start, g_restart_args.restorer_end - g_restart_args.restorer_start);
    if (g_restart_args.scratch_end > g_restart_args.scratch_start)
        rsys2(SYS_munmap, g_restart_args.scratch_start, g_restart_args.scratch_end - g_restart_args.scratch_start);
    if (use_set_tid) restore_exe_link();
    g_drop_caps = use_set_tid && rsys0(SYS_getuid) != 0;
    g_restored++;
    start_relay(use_set_tid);
    struct stasis_thread *main_t = &g_threads[0];
    for (int i = 1; i < g_nthreads; i++) create_thread(&g_threads[i], use_set_tid);
    main_t->tid = (int)r_gettid();
    rsys2(SYS_arch_prctl, ARCH_SET_FS, main_t->fsbase);
    if (main_t->tid_addr) rsys1(SYS_set_tid_address, main_t->tid_addr);
    if (g_tid_off >= 0 && !use_set_tid)
        *(volatile int *)(uintptr_t)(main_t->fsbase + (uint64_t)g_tid_off) = main_t->tid;
    stasis_timers_restore(); /* after the threads: timers may signal one */
    stasis_kmisc_restore();
    restore_thread_state(main_t);
    drop_caps();
    stasis_ctx_restore(&main_t->ctx, 1);
}
