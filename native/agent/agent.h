/* Internal declarations of the in-process agent (libstasis-agent.so). */
#ifndef STASIS_AGENT_H
#define STASIS_AGENT_H
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include "stasis/image.h"
#include "stasis/restart.h"
#include "stasis/rawio.h"

#define STASIS_AGENT_VERSION "0.1"
#define STASIS_SUSPEND_SIG   62 /* SIGRTMAX-2: the agent's suspend signal */

/* callee-saved context (see ctx.S) */
struct stasis_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

enum { TS_FREE = 0, TS_SIGNALLED, TS_PARKED, TS_GONE, TS_PARKING };

struct stasis_thread {
    int tid;
    int state;    /* TS_* */
    int is_ckpt;  /* the checkpoint thread itself */
    int saved_fd; /* checkpoint thread: the agent fd number to reconnect at */
    int nudged;   /* it blocked the suspend signal and was nudged (nudge.c) */
    uint64_t fsbase;
    uint64_t robust_head, robust_len;
    uint64_t tid_addr; /* clear_child_tid (set_tid_address) */
    char name[16];
    struct stasis_ctx ctx;
};

/* ctx.S */
int stasis_ctx_save(struct stasis_ctx *c) __attribute__((returns_twice));
void stasis_ctx_restore(const struct stasis_ctx *c, int val) __attribute__((noreturn));
long stasis_clone3_thread(void *clone_args, size_t size, struct stasis_thread *t);

/* state shared between files (agent.c) */
extern int g_sock;           /* coordinator connection (conn.c), -1 = off */
extern int g_agent_fd;       /* the connection as a program fd (fallback only), else -1 */
extern int g_agent_fallback; /* 1: keep the connection in the program's table */
extern int g_tid_off;        /* offset of the cached tid in glibc's struct pthread, -1 unknown */
extern int g_restored;       /* restored generation count (0 = original) */
extern struct stasis_restart_args g_restart_args;

/* suspend.c */
extern struct stasis_thread g_threads[STASIS_IMG_MAX_THREADS];
extern int g_nthreads;
int stasis_install_handler(void);
/* the cookie of the coordinator's hold signals for stopped processes (suspend.c) */
extern uint64_t g_hold_cookie;
void stasis_hold_init(void);
int stasis_suspend_all(const char **err);
void stasis_resume_all(void);
void stasis_fill_self_slot(struct stasis_thread *t);
void stasis_park_signalled(siginfo_t *si, void *uc);
/* nudge.c: 1 nudged, 0 not needed, -1 it blocks every usable signal */
int stasis_nudge(int pid, int tid);
void stasis_nudge_end(void);

/* sysrestart.c: restart the syscalls a suspend interrupted (see the file) */
struct stasis_sysplan {
    long nr;
    int reg;
    int rec;
    uint64_t value;
};
void stasis_sysrestart_probe(int idx, int tid);
void stasis_sysrestart_prepare(void *uc, int idx, struct stasis_sysplan *plan);
void stasis_sysrestart_apply(void *uc, const struct stasis_sysplan *plan);
/* timing.c: interposers of timed libc calls record the call and its start time */
struct stasis_call {
    long nr, nr2;
    int64_t start_ns;
};
extern __thread struct stasis_call stasis_call_rec;
void stasis_call_begin(struct stasis_call *saved, long nr, long nr2);
void stasis_call_end(const struct stasis_call *saved);

/* image.c (stasis_find_self: at startup, locate the agent's own data) */
void stasis_find_self(void);
int stasis_write_image(const char *dir, uint64_t *bytes, uint32_t *areas, char *path_out, size_t path_cap,
                       const char **err);
/* image.c: register and write-protect every trackable area (incr.c); after_write: the
 * areas of the image just written, but those whose scan protected them again */
int stasis_image_track(int after_write);
/* image.c: the image in two steps, prepared in the pause, its pages stored in the pause
 * or by a snapshot child (snapshot.c) */
int stasis_image_prepare(const char *dir, char *path, size_t cap, const char **err);
int stasis_image_dump(uint64_t *bytes, uint32_t *areas, const char **err);
void stasis_image_release(void);
void stasis_image_keep_failed(void);
uint64_t stasis_image_shared_bytes(void);
void stasis_image_copy_shared(char *buf);
int stasis_image_place_shared(char *buf);
int stasis_image_all_mapped(void);
int stasis_image_result(const char *path, int ok, uint64_t *bytes, uint32_t *areas, char *err, size_t cap);
/* snapshot.c: 1 a child writes the image (COLLECT), 0 written in the pause (why), -1 failed */
int stasis_snapshot_start(const char *dir, char *path, size_t cap, uint64_t *bytes, uint32_t *areas, const char **why,
                          const char **err);
int stasis_snapshot_collect(uint64_t *bytes, uint32_t *areas, char *path, const char **err);
void stasis_snapshot_abandon(void);
void stasis_snapshot_forget(void);
/* compress.c: compressed images (the COMPRESS request; the WRITE's staging and frames) */
void stasis_compress_set(int on, int level);
int stasis_compress_on(int *level);
int stasis_zbuf_open(const char **err);
void stasis_zbuf_close(void);
char *stasis_zbuf_raw(void);
struct stasis_img_frame *stasis_zbuf_frames(uint32_t n);
/* a finished frame, in order: its bytes padded to a page, compressed length, CRC32C */
typedef int (*stasis_zemit)(void *ctx, const void *out, long padded, uint32_t comp_len, uint32_t crc, uint32_t raw_len,
                            uint32_t area);
/* the staging slot (stasis_zbuf_raw) holds raw_len bytes of area, whose CRC32C is raw_crc:
 * compress it (helpers) */
int stasis_zbuf_submit(uint32_t raw_len, uint32_t area, uint32_t raw_crc, stasis_zemit emit, void *ctx);
/* every submitted slot compressed and emitted */
int stasis_zbuf_finish(stasis_zemit emit, void *ctx);
/* incr.c: incremental images (dirty page tracking) */
extern uint64_t g_incr_base_id;
void stasis_incr_track(uint64_t start, uint64_t end);
int stasis_incr_active(void);
const char *stasis_incr_parent(const char *dir);
void stasis_incr_fill(struct stasis_img_header *h);
void stasis_incr_done(int ok);
void stasis_incr_after_restart(void);
void stasis_incr_forget(void);
/* procstate.c (g_hdr lives in image.c; g_exe = /proc/self/exe at checkpoint) */
extern struct stasis_img_header g_hdr;
extern char g_exe[4096];
int stasis_save_proc(struct stasis_img_header *h, const char **err);
/* ktimers.c: POSIX timers (and the agent's SIGEV_THREAD helper) */
int stasis_timers_save(const char **err);
void stasis_timers_restore(void);
/* ksignals.c: pending signals and pdeathsig, per thread (suspend handler hook) */
void stasis_ksig_begin(void);
int stasis_ksig_check(const char **err);
void stasis_ksig_thread_save(void);
void stasis_ksig_thread_restore(int index);
/* kmisc.c: madvise advice per area, child subreaper */
int stasis_kmisc_save(const char **err);
void stasis_kmisc_restore(void);
int stasis_kmisc_fork_unsafe(void); /* known MADV_DONTFORK or MADV_WIPEONFORK areas */
/* restart.c */
void stasis_restart_entry(const struct stasis_restart_args *a) __attribute__((noreturn));
extern char stasis_restart_stack[];
extern const size_t stasis_restart_stack_size;
void stasis_thread_child(struct stasis_thread *t) __attribute__((noreturn));
/* report a restart failure to the restorer's supervisor and exit (all-or-nothing) */
void stasis_restart_die(const char *msg) __attribute__((noreturn));
/* tell the supervisor this process is fully restored; release the report channel */
void stasis_restart_ready(void);
/* request.c */
extern char g_sock_path[108];
extern char g_computation[64]; /* the computation's id (STASIS_COMPUTATION), "" if none */
int stasis_computation_set(const char *id);
extern volatile int g_resume_count, g_last_restarted, g_wake_at_release;
/* hooks.c */
void stasis_hooks_set_id(const char *resume_line);
void stasis_hooks_before(void);
int stasis_hooks_after(int restarted);
void stasis_hooks_wait_after(void);
/* conn.c */
int stasis_connect(const char *path, int want_fd);
void stasis_conn_close(void);
int stasis_conn_forget(int close_fd);
int stasis_conn_wait(long ms);
void stasis_conn_hide(void);
int stasis_read_line(char *line, size_t cap);
void stasis_conn_reset(int close_them);
void stasis_conn_drop_fds(void);
int stasis_conn_take_fd(void);
int stasis_conn_holds(int fd);
int stasis_conn_evict(int fd);
void stasis_send(const char *s);
int stasis_send_fd(const char *s, int fd);
void stasis_send_error(const char *msg);
/* prefetch.c: after a lazy restart, page in the image's mappings between requests */
void stasis_prefetch_arm(void);
int stasis_prefetch_pending(void);
void stasis_prefetch_step(void);
void stasis_prefetch_stop(void);
void stasis_prefetch_forget(void);
/* conn.c: 1 if a request's bytes are read already (a poll would not see them) */
int stasis_conn_buffered(void);
/* serve.c */
void stasis_send_hello(void);
void *stasis_ckpt_thread(void *arg);
/* forkjoin.c (main.c: stasis_start_ckpt_thread) */
extern int g_join_fork;
void stasis_forkjoin_init(void);
int stasis_fork_gate_close(void);
void stasis_fork_gate_open(void);
int stasis_start_ckpt_thread(void);
int stasis_hooks_forget(void);
void stasis_hooks_restart(void);
/* pipes.c */
void stasis_do_drain(const char *args);
void stasis_do_fill(const char *args);
/* fdpass.c */
void stasis_do_give(const char *args);
void stasis_do_take(const char *args);
void stasis_do_epoll_add(const char *args);
void stasis_do_ctty(const char *args); /* ctty.c */
void stasis_do_lock(const char *args);
/* execwarn.c */
void stasis_execwarn_init(void);
void stasis_env_hide(void);
const char *stasis_agent_library(void); /* this library's path, as loaded */
/* sshfollow.c */
extern int g_followed_ssh;
size_t stasis_ssh_follow_size(const char *file, char *const argv[], char *const envp[]);
int stasis_ssh_follow(char *const argv[], char **out, char *buf, size_t cap);
void stasis_ssh_restarted(void);
/* zombies.c */
void stasis_report_zombies(void);
/* tidoff.c */
void stasis_find_tid_offset(void);
/* wrap.c */
void stasis_wrap_init(void);
/* redirect.c: path redirection (RestartPlan.redirect); pathwrap.c: the libc wrappers */
#define STASIS_REDIR_MAX  32
#define STASIS_REDIR_PATH 4096
extern int g_nredir; /* number of redirects; 0 = the wrappers pass through */
int stasis_redirect_add(const char *from, size_t flen, const char *to, size_t tlen);
int stasis_redirect_parse(const char *text, size_t len);
/* path, or buf (STASIS_REDIR_PATH bytes) holding where it is served from */
const char *stasis_redirect(const char *path, char *buf);
/* a path under a redirect's target back to its old name, in place: 1 done, 0 none, -1 too long */
int stasis_redirect_reverse(char *path, size_t cap);
size_t stasis_redirect_text(char *buf, size_t cap);
size_t stasis_redirect_text_size(void);
void stasis_pathwrap_init(void);
/* fds.c */
int stasis_report_fds(void);
/* relay.c */
extern volatile int g_relay_tid;
int stasis_relay_start(int tid, int drop_caps, int keep);
void stasis_drop_caps(void);
long stasis_relay_call(long nr, long a, long b, long c, long d, long e, long f);
void stasis_relay_stop(void);
void stasis_relay_forget(void);
long stasis_private_syscall3(long nr, long a, long b, long c);
int stasis_read_private(const char *path, char *buf, size_t cap, size_t *len);

#endif
