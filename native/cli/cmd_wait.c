#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "msg.h"
#include "opts.h"
#include "remote.h"
#include "proc.h"
#include "timeutil.h"

#define WAIT_TIMEOUT_DEFAULT 30.0
#define POLL_MS              20
/* Between attempts to connect to a coordinator that is starting: a refused connect costs two
 * system calls, and every millisecond slept after it opens is a millisecond of start-up. */
#define RETRY_MS 5

static const char HELP[] = "usage: stasis wait-ready [--name N] [--timeout SECONDS] [--pid PID]\n"
                           "\n"
                           "Wait until coordinator N (default 'default') answers PING as ready (exit 0).\n"
                           "Exit 1 after --timeout seconds (default 30), or as soon as process PID (the\n"
                           "coordinator being started) has exited.\n";

enum { WAITING, TIMED_OUT, EXITED };

typedef struct wait_ctx {
    const char *name;
    double timeout;
    pid_t pid;
    int64_t deadline;
    int state;
    int reached; /* connected at least once */
} wait_ctx;

static void discard_sink(void *p, char type, const char *data, size_t n) { (void)p, (void)type, (void)data, (void)n; }

/* Also the frame reader's idle callback: nonzero when waiting is over. */
static int wait_over(void *p)
{
    wait_ctx *c = p;
    if (c->pid > 0 && !proc_alive(c->pid)) c->state = EXITED;
    else if (time_now_ms() >= c->deadline) c->state = TIMED_OUT;
    return c->state != WAITING;
}

static int parse(int argc, char **argv, wait_ctx *c)
{
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (opt_is_help(a)) return msg_help(HELP) ? EXIT_FAIL : PARSE_HELP;
        int t = opt_take(cmd, "--name", argc, argv, &i, &c->name);
        if (t == OPT_NO) t = remote_take_option(cmd, argc, argv, &i);
        if (t == OPT_NO && (t = opt_take(cmd, "--timeout", argc, argv, &i, &v)) == OPT_TAKEN &&
            opt_parse_seconds(cmd, "--timeout", v, &c->timeout))
            return EXIT_USAGE;
        if (t == OPT_NO && (t = opt_take(cmd, "--pid", argc, argv, &i, &v)) == OPT_TAKEN &&
            opt_parse_pid(cmd, v, &c->pid))
            return EXIT_USAGE;
        if (t == OPT_BAD) return EXIT_USAGE;
        if (t == OPT_NO) return opt_unexpected(cmd, a);
    }
    return opt_check_name(cmd, c->name) ? EXIT_USAGE : 0;
}

/* One PING on a fresh connection: the X status, or a FRAMES_* code. */
static int ping_once(wait_ctx *c, int fd)
{
    frame_reader r;
    frames_init(&r, fd, discard_sink, NULL);
    r.idle = wait_over;
    r.idle_ctx = c;
    r.idle_ms = POLL_MS;
    if (conn_send(fd, "PING\n", NULL, 0) < 0) return FRAMES_LOST;
    return frames_run(&r);
}

static void report(const wait_ctx *c)
{
    if (c->state == EXITED)
        msg_err("coordinator '%s' (pid %d) exited before it became ready; see its log for why", c->name, (int)c->pid);
    else if (c->reached)
        msg_err("coordinator '%s' is running but did not become ready within %g s; "
                "see its log, or wait longer with --timeout",
                c->name, c->timeout);
    else
        msg_err("no coordinator '%s' came up within %g s; see its log, or wait longer "
                "with --timeout",
                c->name, c->timeout);
}

int cmd_wait_ready(int argc, char **argv)
{
    wait_ctx c = {.name = "default", .timeout = WAIT_TIMEOUT_DEFAULT, .state = WAITING};
    int rc = parse(argc, argv, &c);
    if (rc) return rc == PARSE_HELP ? EXIT_OK : rc;
    c.deadline = time_now_ms() + (int64_t)(c.timeout * 1000);
    for (;;) {
        int fd = conn_open(c.name, 1);
        if (fd == CONN_ERROR) return EXIT_FAIL;
        if (fd >= 0) {
            c.reached = 1;
            int st = ping_once(&c, fd);
            close(fd);
            if (st == 0) return EXIT_OK;
            if (st == FRAMES_PROTOCOL) {
                report_reply_error(c.name, st, "PING");
                return EXIT_FAIL;
            }
            if (st == FRAMES_ABORTED) break;
        }
        if (wait_over(&c)) break;
        int64_t left = c.deadline - time_now_ms();
        time_sleep_ms(left < RETRY_MS ? left : RETRY_MS);
    }
    report(&c);
    return EXIT_FAIL;
}
