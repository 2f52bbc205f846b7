#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "io.h"
#include "msg.h"
#include "opts.h"
#include "remote.h"

static const char HELP[] = "usage: stasis exec [--name N] [--connect HOST:PORT [--token-file F]] 'COMMAND LINE'\n"
                           "       stasis exec [--name N] [--connect ...] -f FILE  (FILE '-' reads standard input)\n"
                           "\n"
                           "Run a Gogo command line or script in coordinator N (default 'default').\n"
                           "--connect reaches a coordinator started with --listen HOST:PORT over TCP, with the\n"
                           "token from F (default: <runtime dir>/N.token).\n"
                           "Its output goes to stdout/stderr as it arrives; the exit status is the command's.\n";

typedef struct exec_opts {
    const char *name;
    const char *file;
    const char *line;
} exec_opts;

struct out_ctx {
    int broken[3];
};

/* O -> stdout, E -> stderr. A closed stdout (e.g. "| head") is not an error:
 * the command keeps running in the coordinator, so we keep draining its reply. */
static void out_sink(void *p, char type, const char *data, size_t n)
{
    struct out_ctx *c = p;
    int fd = type == 'O' ? 1 : 2;
    if (!c->broken[fd] && io_write_all(fd, data, n) < 0) c->broken[fd] = 1;
}

void report_reply_error(const char *name, int rc, const char *request)
{
    if (rc == FRAMES_PROTOCOL)
        msg_err("malformed reply from coordinator '%s' to %s; are stasis-client and the "
                "coordinator from the same installation?",
                name, request);
    else
        msg_err("lost connection to coordinator '%s' before it finished %s; "
                "check whether it is still running (stasis ping) and see its log",
                name, request);
}

int exec_text(const char *name, const char *text, size_t len)
{
    int fd = conn_open(name, 0);
    if (fd < 0) return EXIT_FAIL;
    char head[40];
    snprintf(head, sizeof head, "EXEC %zu\n", len);
    /* Even if sending fails (peer closed), read what the coordinator said. */
    (void)conn_send(fd, head, text, len);
    struct out_ctx ctx = {{0, 0, 0}};
    frame_reader r;
    frames_init(&r, fd, out_sink, &ctx);
    int st = frames_run(&r);
    close(fd);
    if (st >= 0) return st;
    if (st == FRAMES_LOST && r.received == 0 && remote_explain_silent_close(name)) return EXIT_FAIL;
    report_reply_error(name, st, "the command");
    return EXIT_FAIL;
}

static int parse(int argc, char **argv, exec_opts *o)
{
    const char *cmd = argv[0];
    int after_dd = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int t = OPT_NO;
        if (!after_dd) {
            if (strcmp(a, "--") == 0) {
                after_dd = 1;
                continue;
            }
            if (opt_is_help(a)) return msg_help(HELP) ? EXIT_FAIL : PARSE_HELP;
            if ((t = opt_take(cmd, "--name", argc, argv, &i, &o->name)) == OPT_NO &&
                (t = opt_take(cmd, "--file", argc, argv, &i, &o->file)) == OPT_NO &&
                (t = remote_take_option(cmd, argc, argv, &i)) == OPT_NO)
                t = opt_take(cmd, "-f", argc, argv, &i, &o->file);
            if (t == OPT_BAD) return EXIT_USAGE;
            if (t == OPT_TAKEN) continue;
            if (a[0] == '-' && a[1] != '\0') return opt_unexpected(cmd, a);
        }
        if (o->line)
            return msg_usage(cmd, "give the command line as one quoted argument "
                                  "(or use 'stasis call COMMAND ARGS...')");
        o->line = a;
    }
    if (o->file && o->line) return msg_usage(cmd, "give either a command line or -f FILE, not both");
    if (!o->file && !o->line) return msg_usage(cmd, "missing command line");
    return opt_check_name(cmd, o->name) ? EXIT_USAGE : 0;
}

static int read_script(const char *file, char **text, size_t *len)
{
    int from_stdin = strcmp(file, "-") == 0;
    int fd = from_stdin ? 0 : open(file, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : io_read_all(fd, text, len);
    if (rc < 0) msg_err("cannot read script %s: %s", from_stdin ? "from standard input" : file, strerror(errno));
    if (fd >= 0 && !from_stdin) close(fd);
    return rc;
}

int cmd_exec(int argc, char **argv)
{
    exec_opts o = {.name = "default"};
    int rc = parse(argc, argv, &o);
    if (rc) return rc == PARSE_HELP ? EXIT_OK : rc;
    if (!o.file) return exec_text(o.name, o.line, strlen(o.line));
    char *text;
    size_t len;
    if (read_script(o.file, &text, &len) < 0) return EXIT_FAIL;
    rc = exec_text(o.name, text, len);
    free(text);
    return rc;
}
