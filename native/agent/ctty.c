/* Controlling terminal of a restored session (doc/agent-protocol.md):
 *   CTTY <fd> <pgrp> -> "CTTY_SET <fd>": the process (a session leader without a
 *   controlling terminal) makes the terminal at <fd> its controlling terminal
 *   (TIOCSCTTY), then, if <pgrp> > 0, makes <pgrp> its foreground process group
 *   (TIOCSPGRP). Only the process itself can do this: the kernel ties a controlling
 *   terminal to the session leader that asks for it.
 * Served on the checkpoint thread: raw syscalls, static buffers. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <string.h>
#include <sys/ioctl.h>

static char g_ctty_reply[160];

/* "<decimal>" ending at a space or the end; -1 if malformed */
static long parse_dec(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9') return -1;
    uint64_t v = r_parse_dec(&s);
    if (v > 0x7fffffff || (*s && *s != ' ')) return -1;
    *p = *s ? s + 1 : s;
    return (long)v;
}

static void send_failure(const char *what, long err)
{
    const char *text = strerrordesc_np((int)-err);
    char *e = r_stpcpy(g_ctty_reply, what);
    r_stpcpy(e, text ? text : "unknown error");
    stasis_send_error(g_ctty_reply);
}

void stasis_do_ctty(const char *args)
{
    const char *p = args;
    long fd = parse_dec(&p);
    long pgrp = fd < 0 ? -1 : parse_dec(&p);
    if (pgrp < 0 || *p) {
        stasis_send_error("CTTY <fd> <pgrp>");
        return;
    }
    if (fd == g_agent_fd) {
        stasis_send_error("fd is the agent's own");
        return;
    }
    long r = rsys3(SYS_ioctl, fd, TIOCSCTTY, 0);
    if (r < 0) {
        send_failure("TIOCSCTTY: ", r);
        return;
    }
    int group = (int)pgrp;
    if (group > 0 && (r = rsys3(SYS_ioctl, fd, TIOCSPGRP, &group)) < 0) {
        send_failure("TIOCSPGRP: ", r);
        return;
    }
    char *e = r_stpcpy(g_ctty_reply, "CTTY_SET ");
    e = r_itoa(e, (int)fd);
    r_stpcpy(e, "\n");
    stasis_send(g_ctty_reply);
}
