/* The checkpoint thread: serves the requests of doc/agent-protocol.md. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/prctl.h>

static int g_suspended;
static int g_restored_at_suspend;
static char g_line[8192];
static char g_out[8704]; /* HELLO: an escaped exe path of up to 8190 bytes */

void stasis_send_hello(void)
{
    static char exe[4096];
    long n = rsys3(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    char *e = r_stpcpy(g_out, "HELLO version=1 agent=" STASIS_AGENT_VERSION " pid=");
    e = r_itoa(e, rsys0(SYS_getpid));
    e = r_stpcpy(e, " ppid=");
    e = r_itoa(e, rsys0(SYS_getppid));
    e = r_stpcpy(e, " pgid=");
    e = r_itoa(e, rsys1(SYS_getpgid, 0));
    e = r_stpcpy(e, " sid=");
    e = r_itoa(e, rsys1(SYS_getsid, 0));
    if (g_join_fork) e = r_stpcpy(e, " join=fork");
    e = r_stpcpy(e, " restored=");
    e = r_itoa(e, g_restored);
    e = r_stpcpy(e, " state=");
    e = r_stpcpy(e, g_suspended ? "suspended" : "running");
    e = r_stpcpy(e, " agent-fd=");
    e = r_itoa(e, g_agent_fd);
    e = r_stpcpy(e, " hold=");
    for (int shift = 60; shift >= 0; shift -= 4) *e++ = "0123456789abcdef"[(g_hold_cookie >> shift) & 15];
    if (g_computation[0]) {
        e = r_stpcpy(e, " comp=");
        e = r_stpcpy(e, g_computation);
    }
    e = r_stpcpy(e, " exe=");
    e = r_stpcpy_escaped(e, exe);
    r_stpcpy(e, "\n");
    stasis_send(g_out);
}

static void do_suspend(void)
{
    const char *err = 0;
    if (g_suspended) {
        stasis_send("SUSPENDED already\n");
        return;
    }
    stasis_prefetch_stop(); /* the next image is another file */
    stasis_snapshot_abandon();
    stasis_hooks_before(); /* program hooks, while its threads still run */
    if (stasis_fork_gate_close() < 0) {
        stasis_send_error("timeout: a fork() did not finish");
        return;
    }
    stasis_ksig_begin();
    if (stasis_suspend_all(&err) < 0) {
        stasis_fork_gate_open();
        stasis_send_error(err);
        return;
    }
    g_suspended = 1;
    g_restored_at_suspend = g_restored;
    char *e = r_stpcpy(g_out, "SUSPENDED threads=");
    e = r_itoa(e, g_nthreads);
    r_stpcpy(e, "\n");
    stasis_send(g_out);
}

/* wake a thread waiting in stasis_checkpoint() (request.c) */
static void note_resume(void)
{
    g_last_restarted = g_restored != g_restored_at_suspend;
    __atomic_add_fetch(&g_resume_count, 1, __ATOMIC_SEQ_CST);
    rsys3(SYS_futex, &g_resume_count, FUTEX_WAKE_PRIVATE, INT_MAX);
}

/* "RESUME 0 <id> pending": released while the checkpoint is made durable; the
 * coordinator says PUBLISHED or UNPUBLISHED when it knows */
static int g_publish_pending;

static int resume_is_pending(const char *line)
{
    size_t n = r_strlen(line), k = sizeof " pending" - 1;
    return n > k && r_streq(line + n - k, " pending");
}

/* DECLINED <seq>: the checkpoint a thread asked for with "seq=<seq>" failed before
 * any process was suspended; wake it, unless a RESUME came since (that one woke it). */
static void do_declined(const char *seq)
{
    long n = 0;
    for (; *seq >= '0' && *seq <= '9'; seq++) n = n * 10 + (*seq - '0');
    if (!g_suspended && n == __atomic_load_n(&g_resume_count, __ATOMIC_SEQ_CST)) {
        stasis_hooks_set_id("RESUME 0");
        note_resume();
    }
    stasis_send("OK\n");
}

/* Lets the suspended program run on: the one way out of a suspension (released by the
 * coordinator, restarted with nobody to talk to, or abandoned by a coordinator that
 * went away). `id` is what the program's after-checkpoint hooks see ("RESUME <id>"). */
static void release_program(const char *id, int restarted)
{
    if (restarted) stasis_ssh_restarted(); /* a followed ssh ends here (sshfollow.c) */
    g_suspended = 0;
    stasis_hooks_set_id(id);
    stasis_hooks_after(restarted);                                            /* runs once released */
    int early = __atomic_exchange_n(&g_wake_at_release, 0, __ATOMIC_SEQ_CST); /* stasis_checkpoint_nowait() */
    if (resume_is_pending(id) && !early) g_publish_pending = 1;
    else note_resume();
    stasis_resume_all();
    stasis_fork_gate_open();
    if (restarted) stasis_prefetch_arm(); /* the program runs: page in the rest meanwhile */
}

/* PUBLISHED / UNPUBLISHED after a "pending" RESUME: now a thread waiting in
 * stasis_checkpoint() may go on; an unpublished checkpoint leaves it no id. */
static void end_pending(int published)
{
    if (!published) stasis_hooks_set_id("RESUME 0");
    if (g_publish_pending) {
        g_publish_pending = 0;
        note_resume();
    }
}

/* after a restart the checkpoint thread comes back here: reconnect, say HELLO */
static void after_restart(void)
{
    stasis_incr_after_restart();
    stasis_snapshot_forget(); /* a child of the process that was checkpointed */
    stasis_conn_forget(0);    /* the image's connection (restart.c restarted the relay) */
    stasis_conn_reset(0);     /* queued fd numbers are from before the image */
    if (g_restart_args.agent_socket[0]) {
        r_stpcpy(g_sock_path, g_restart_args.agent_socket);
        int want = g_threads[g_nthreads - 1].saved_fd;
        g_sock = stasis_connect(g_restart_args.agent_socket, want > 2 ? want : -1);
        if (g_sock < 0) { /* all or nothing: the coordinator must release us */
            static char msg[200];
            char *e = r_stpcpy(msg, "cannot reconnect to the coordinator at ");
            r_stpcpy(e, g_restart_args.agent_socket);
            stasis_restart_die(msg);
        }
    }
    if (g_sock < 0) { /* nobody to talk to: run on */
        stasis_restart_ready();
        release_program("RESUME 1", 1);
        return;
    }
    stasis_send_hello(); /* through the relay: the restored fd table is exactly the saved one */
    stasis_restart_ready();
}

static void send_written(const char *word, const char *why, uint64_t bytes, uint32_t areas, const char *path)
{
    char *e = r_stpcpy(g_out, word);
    if (why) {
        e = r_stpcpy(e, " ");
        e = r_stpcpy(e, why);
    }
    e = r_stpcpy(e, " ");
    e = r_utoa(e, bytes);
    e = r_stpcpy(e, " ");
    e = r_utoa(e, areas);
    e = r_stpcpy(e, " ");
    e = r_stpcpy(e, path);
    r_stpcpy(e, "\n");
    stasis_send(g_out);
}

/* WRITE <dir>, or SNAPSHOT <dir>: the image written in the pause, or by a snapshot
 * child while the program runs on (snapshot.c) */
static void do_write(const char *dir, int snapshot)
{
    static char path[4096];
    uint64_t bytes = 0;
    uint32_t areas = 0;
    const char *err = 0, *why = 0;
    if (!g_suspended) {
        stasis_send_error("not suspended");
        return;
    }
    /* relative to the program's working directory it would land anywhere */
    if (dir[0] != '/') {
        stasis_send_error(snapshot ? "SNAPSHOT needs an absolute directory" : "WRITE needs an absolute directory");
        return;
    }
    stasis_snapshot_abandon(); /* one never collected: its checkpoint was given up */
    struct stasis_thread *me = &g_threads[g_nthreads - 1];
    me->saved_fd = g_agent_fd; /* fallback: reconnect at the same program fd */
    /* a snapshot child stores this frame too: it runs below it (child_main), never here */
    if (stasis_ctx_save(&me->ctx) != 0) {
        stasis_compress_set(0, 0); /* saved as it was during the WRITE */
        after_restart();
        return;
    }
    int rc = snapshot ? stasis_snapshot_start(dir, path, sizeof path, &bytes, &areas, &why, &err)
                      : stasis_write_image(dir, &bytes, &areas, path, sizeof path, &err);
    stasis_compress_set(0, 0); /* COMPRESS holds for one WRITE (like PARENT) */
    if (rc < 0) {
        stasis_incr_done(0);
        stasis_send_error(err);
        return;
    }
    /* a snapshot: the tracking starts from the memory the child stores (the pause's);
     * if the child fails, the next image is full (its parent is not this one) */
    stasis_incr_done(1);
    if (rc == 1) {
        char *e = r_stpcpy(g_out, "SNAPSHOTTING ");
        e = r_stpcpy(e, path);
        r_stpcpy(e, "\n");
        stasis_send(g_out);
    } else send_written(snapshot ? "PAUSED" : "WRITTEN", why, bytes, areas, path);
}

/* COLLECT: waits for the snapshot child's image */
static void do_collect(void)
{
    static char path[4096];
    uint64_t bytes = 0;
    uint32_t areas = 0;
    const char *err = 0;
    if (stasis_snapshot_collect(&bytes, &areas, path, &err) < 0) stasis_send_error(err);
    else send_written("WRITTEN", 0, bytes, areas, path);
}

/* PARENT <checkpoint-dir>|-: the next WRITE stores only what changed since this
 * process's image there, if it can (doc/agent-protocol.md) */
static void do_parent(const char *dir)
{
    if (!g_suspended) {
        stasis_send_error("not suspended");
        return;
    }
    const char *why = stasis_incr_parent(dir);
    if (!why) {
        stasis_send("PARENT incremental\n");
        return;
    }
    char *e = r_stpcpy(g_out, "PARENT full ");
    e = r_stpcpy(e, why);
    r_stpcpy(e, "\n");
    stasis_send(g_out);
}

/* COMPRESS zstd LEVEL | COMPRESS none: how the next WRITE stores page data */
static void do_compress(const char *how)
{
    if (r_streq(how, "none")) {
        stasis_compress_set(0, 0);
        stasis_send("COMPRESS none\n");
        return;
    }
    if (!r_startswith(how, "zstd ")) {
        stasis_send_error("COMPRESS takes none or zstd LEVEL");
        return;
    }
    const char *p = how + 5;
    int neg = *p == '-';
    if (neg) p++;
    if (*p < '0' || *p > '9') {
        stasis_send_error("COMPRESS zstd needs a level");
        return;
    }
    uint64_t v = r_parse_dec(&p);
    if (*p || v > 22) {
        stasis_send_error("COMPRESS zstd: the level is -22..22");
        return;
    }
    stasis_compress_set(1, neg ? -(int)v : (int)v);
    stasis_send("COMPRESS zstd\n");
}

/* STOP: the next RESUME leaves the process stopped, as it was at checkpoint time */
static int g_stop_on_resume;

static void do_stop(void)
{
    if (!g_suspended) {
        stasis_send_error("not suspended");
        return;
    }
    g_stop_on_resume = 1;
    stasis_send("STOPPING\n");
}

static void do_resume(const char *line)
{
    if (!g_suspended) {
        stasis_send("RESUMED\n");
        return;
    }
    /* no checkpoint id: the checkpoint was aborted, its image is not wanted */
    if (r_strlen(line) <= sizeof "RESUME 0" - 1) stasis_snapshot_abandon();
    int stop = g_stop_on_resume;
    g_stop_on_resume = 0;
    /* answer first: a released program may exit at once, and the relay that carries
     * the answer dies with it */
    stasis_send("RESUMED\n");
    if (stop) {
        /* a group stop while every user thread is still held: they stop before
         * running a single instruction of the program, and this thread stops on its
         * way out of kill(); all of it runs on at the next SIGCONT */
        rsys2(SYS_kill, rsys0(SYS_getpid), SIGSTOP);
    }
    release_program(line, g_restored != g_restored_at_suspend);
}

/* prefetch (prefetch.c) until a request waits or it is done */
static void prefetch_until_request(void)
{
    while (stasis_prefetch_pending() && !stasis_conn_buffered() && stasis_conn_wait(0) == 0) stasis_prefetch_step();
}

static void serve(void)
{
    while (g_sock >= 0) {
        prefetch_until_request();
        if (stasis_read_line(g_line, sizeof g_line) < 0) {
            /* coordinator gone: never leave the program frozen */
            if (g_suspended) release_program("RESUME 0", g_restored != g_restored_at_suspend); /* aborted: no id */
            end_pending(0); /* whether it was published is unknown: not for us */
            stasis_snapshot_abandon();
            stasis_conn_close();
            return;
        }
        if (r_streq(g_line, "PING")) stasis_send("PONG\n");
        else if (r_streq(g_line, "HELLO")) stasis_send_hello();
        else if (r_streq(g_line, "SUSPEND")) do_suspend();
        else if (r_startswith(g_line, "WRITE ") && g_line[6]) do_write(g_line + 6, 0);
        else if (r_startswith(g_line, "SNAPSHOT ") && g_line[9]) do_write(g_line + 9, 1);
        else if (r_streq(g_line, "COLLECT")) do_collect();
        else if (r_startswith(g_line, "PARENT ") && g_line[7]) do_parent(g_line + 7);
        else if (r_startswith(g_line, "COMPRESS ") && g_line[9]) do_compress(g_line + 9);
        else if (r_startswith(g_line, "RESUME")) do_resume(g_line);
        else if (r_streq(g_line, "STOP")) do_stop();
        else if (r_startswith(g_line, "DECLINED ")) do_declined(g_line + 9);
        else if (r_streq(g_line, "PUBLISHED") || r_streq(g_line, "UNPUBLISHED")) {
            end_pending(g_line[0] == 'P');
            stasis_send("OK\n");
        } else if (r_startswith(g_line, "COMPUTATION ")) {
            if (stasis_computation_set(g_line + 12) < 0) stasis_send_error("bad computation id");
            else stasis_send("OK\n");
        } else if (r_streq(g_line, "FDS")) stasis_report_fds();
        else if (r_startswith(g_line, "DRAIN ")) stasis_do_drain(g_line + 6);
        else if (r_streq(g_line, "ZOMBIES")) stasis_report_zombies();
        else if (r_startswith(g_line, "FILL ")) stasis_do_fill(g_line + 5);
        else if (r_startswith(g_line, "GIVE ")) stasis_do_give(g_line + 5);
        else if (r_startswith(g_line, "TAKE ")) stasis_do_take(g_line + 5);
        else if (r_startswith(g_line, "EPOLL_ADD ")) stasis_do_epoll_add(g_line + 10);
        else if (r_startswith(g_line, "CTTY ")) stasis_do_ctty(g_line + 5);
        else if (r_startswith(g_line, "LOCK ")) stasis_do_lock(g_line + 5);
        else stasis_send_error("unknown request");
        stasis_conn_drop_fds(); /* answered: descriptors it did not use are closed */
    }
}

void *stasis_ckpt_thread(void *arg)
{
    (void)arg;
    rsys2(SYS_prctl, PR_SET_NAME, "stasis-ckpt");
    serve();
    return NULL;
}
