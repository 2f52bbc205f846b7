/* In-process checkpoint request: int stasis_checkpoint(void), for the program (and
 * the Python module). A user thread opens a second connection to the coordinator,
 * sends "REQUEST checkpoint pid=<pid> seq=<n>", expects "ACCEPTED", then waits until the
 * checkpoint thread has served the RESUME that ends that checkpoint, or DECLINED <n>
 * when the coordinator could not take it at all (no id then: the caller hears it was
 * aborted). The calling
 * thread is suspended like every other one meanwhile; after a restart it wakes up in
 * the restored process. Returns 1 resumed, 2 restarted, -1 no agent or refused.
 * stasis_checkpoint_nowait() is the same but goes on as soon as the program is released
 * ("RESUME 0 <id> pending": the images are written), before the checkpoint is durable:
 * stasis_last_checkpoint_id() then names it, and turns NULL if it ends UNPUBLISHED. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/un.h>

char g_sock_path[108];  /* coordinator socket (env, or plan after restart) */
char g_computation[64]; /* computation id: from the launch, kept by fork and restart */

/* takes id as the computation's id if it is short and plain ([A-Za-z0-9._-]); 0, else -1 */
int stasis_computation_set(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '-';
        if (!ok || n + 1 >= sizeof g_computation) return -1;
    }
    if (n == 0) return -1;
    r_stpcpy(g_computation, id);
    return 0;
}
volatile int g_resume_count;    /* bumped by every RESUME (serve.c) */
volatile int g_last_restarted;  /* that RESUME ended a restart */
volatile int g_wake_at_release; /* the requester goes on at a pending RESUME (serve.c) */

static int request_connection(void)
{
    struct sockaddr_un sa;
    r_memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    r_stpcpy(sa.sun_path, g_sock_path);
    long fd = rsys3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (rsys3(SYS_connect, fd, &sa, sizeof sa) < 0) {
        rsys1(SYS_close, fd);
        return -1;
    }
    return (int)fd;
}

/* first reply line equals want? */
static int expect_line(int fd, const char *want)
{
    char buf[128];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        long n = rsys3(SYS_read, fd, buf + len, 1);
        if (n == -EINTR) continue;
        if (n <= 0) return 0;
        if (buf[len] == '\n') break;
        len++;
    }
    buf[len] = 0;
    return r_streq(buf, want);
}

static int request_checkpoint(int nowait)
{
    if (g_sock < 0 || !g_sock_path[0]) return -1;
    int gen = __atomic_load_n(&g_resume_count, __ATOMIC_SEQ_CST);
    int fd = request_connection();
    if (fd < 0) return -1;
    __atomic_store_n(&g_wake_at_release, nowait, __ATOMIC_SEQ_CST);
    char line[96], *e = r_stpcpy(line, "REQUEST checkpoint pid=");
    e = r_itoa(e, rsys0(SYS_getpid));
    e = r_stpcpy(e, " seq="); /* DECLINED <seq> wakes us if the checkpoint never came */
    e = r_itoa(e, gen);
    r_stpcpy(e, "\n");
    int ok = r_write_all(fd, line, r_strlen(line)) == 0 && expect_line(fd, "ACCEPTED");
    rsys1(SYS_close, fd);
    if (!ok) {
        __atomic_store_n(&g_wake_at_release, 0, __ATOMIC_SEQ_CST);
        return -1;
    }
    for (;;) {
        int now = __atomic_load_n(&g_resume_count, __ATOMIC_SEQ_CST);
        if (now != gen) break;
        rsys4(SYS_futex, &g_resume_count, FUTEX_WAIT_PRIVATE, now, NULL);
    }
    stasis_hooks_wait_after(); /* the after hooks run before the caller goes on */
    return g_last_restarted ? 2 : 1;
}

__attribute__((visibility("default"))) int stasis_checkpoint(void) { return request_checkpoint(0); }

__attribute__((visibility("default"))) int stasis_checkpoint_nowait(void) { return request_checkpoint(1); }
