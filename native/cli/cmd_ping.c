#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "io.h"
#include "msg.h"
#include "opts.h"
#include "remote.h"
#include "timeutil.h"

#define PING_TIMEOUT_DEFAULT 5.0

static const char HELP[] = "usage: stasis ping [--name N] [-q] [--timeout SECONDS]\n"
                           "\n"
                           "Exit 0 if coordinator N (default 'default') is running and ready, 1 otherwise.\n"
                           "-q prints nothing about the coordinator's state. --timeout bounds the wait for\n"
                           "its answer (default 5).\n";

typedef struct ping_ctx {
    const char *name;
    int quiet;
    double timeout;
    int64_t deadline;
    int said; /* the coordinator explained itself on stderr */
} ping_ctx;

static void ping_sink(void *p, char type, const char *data, size_t n)
{
    ping_ctx *c = p;
    if (c->quiet) return;
    if (type == 'E') c->said = 1;
    (void)io_write_all(type == 'O' ? 1 : 2, data, n);
}

static int ping_idle(void *p) { return time_now_ms() >= ((ping_ctx *)p)->deadline; }

static int parse(int argc, char **argv, ping_ctx *c)
{
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int t;
        if (opt_is_help(a)) return msg_help(HELP) ? EXIT_FAIL : PARSE_HELP;
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c->quiet = 1;
            continue;
        }
        t = opt_take(cmd, "--name", argc, argv, &i, &c->name);
        if (t == OPT_NO) t = remote_take_option(cmd, argc, argv, &i);
        if (t == OPT_NO) {
            t = opt_take(cmd, "--timeout", argc, argv, &i, &v);
            if (t == OPT_TAKEN && opt_parse_seconds(cmd, "--timeout", v, &c->timeout)) return EXIT_USAGE;
        }
        if (t == OPT_BAD) return EXIT_USAGE;
        if (t == OPT_NO) return opt_unexpected(cmd, a);
    }
    return opt_check_name(cmd, c->name) ? EXIT_USAGE : 0;
}

static void report(const ping_ctx *c, int st)
{
    if (st == FRAMES_ABORTED)
        msg_err("coordinator '%s' did not answer within %g s (still starting?); "
                "try again shortly",
                c->name, c->timeout);
    else if (st < 0) report_reply_error(c->name, st, "PING");
    else if (!c->said)
        msg_err("coordinator '%s' is running but not ready (PING status %d); "
                "try again shortly or see its log",
                c->name, st);
}

int cmd_ping(int argc, char **argv)
{
    ping_ctx c = {.name = "default", .timeout = PING_TIMEOUT_DEFAULT};
    int rc = parse(argc, argv, &c);
    if (rc) return rc == PARSE_HELP ? EXIT_OK : rc;
    int fd = conn_open(c.name, c.quiet);
    if (fd < 0) return EXIT_FAIL;
    c.deadline = time_now_ms() + (int64_t)(c.timeout * 1000);
    frame_reader r;
    frames_init(&r, fd, ping_sink, &c);
    r.idle = ping_idle;
    r.idle_ctx = &c;
    r.idle_ms = 20;
    (void)conn_send(fd, "PING\n", NULL, 0);
    int st = frames_run(&r);
    close(fd);
    if (st == 0) return EXIT_OK;
    if (c.quiet) return EXIT_FAIL;
    if (st == FRAMES_LOST && r.received == 0 && remote_explain_silent_close(c.name)) return EXIT_FAIL;
    report(&c, st);
    return EXIT_FAIL;
}
