/* File locks taken again inside the process after a restart (doc/agent-protocol.md):
 *   LOCK <fd> posix|ofd|flock r|w <start> <length> -> "LOCKED"
 * POSIX record locks belong to the process (and die with any close of the file), so
 * only the process itself can take them back; OFD locks and flocks belong to the open
 * file description, and taking them here is as good as anywhere. Never waits: a lock
 * someone else holds now is an error the coordinator reports. Raw syscalls only. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>

static char g_lock_reply[160];

/* "<decimal>" ending at a space or the end; -1 if malformed */
static int64_t parse_num(const char **p)
{
    const char *s = *p;
    if (*s < '0' || *s > '9') return -1;
    uint64_t v = r_parse_dec(&s);
    if (v > INT64_MAX || (*s && *s != ' ')) return -1;
    *p = *s ? s + 1 : s;
    return (int64_t)v;
}

/* the index in words[n] of the word at *p, -1 if it is none of them */
static int parse_word(const char **p, const char *const *words, int n)
{
    for (int i = 0; i < n; i++) {
        size_t n = r_strlen(words[i]);
        if (r_startswith(*p, words[i]) && ((*p)[n] == ' ' || (*p)[n] == 0)) {
            *p += (*p)[n] ? n + 1 : n;
            return i;
        }
    }
    return -1;
}

static long take_record_lock(int fd, int ofd, int write, int64_t start, int64_t len)
{
    struct flock fl;
    r_memset(&fl, 0, sizeof fl);
    fl.l_type = write ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return rsys3(SYS_fcntl, fd, ofd ? F_OFD_SETLK : F_SETLK, &fl);
}

static void send_lock_errno(long err)
{
    const char *text = err == -EAGAIN || err == -EACCES || err == -EWOULDBLOCK ? "the lock is held by someone else"
                                                                               : strerrordesc_np((int)-err);
    char *e = r_stpcpy(g_lock_reply, "cannot lock: ");
    r_stpcpy(e, text ? text : "unknown error");
    stasis_send_error(g_lock_reply);
}

void stasis_do_lock(const char *args)
{
    const char *p = args;
    int64_t fd = parse_num(&p);
    static const char *const kinds[3] = {"posix", "ofd", "flock"};
    static const char *const modes[2] = {"r", "w"};
    int kind = fd < 0 ? -1 : parse_word(&p, kinds, 3);
    int write = kind < 0 ? -1 : parse_word(&p, modes, 2);
    int64_t start = write < 0 ? -1 : parse_num(&p);
    int64_t len = start < 0 ? -1 : parse_num(&p);
    if (len < 0 || *p || fd > 0x7fffffff) {
        stasis_send_error("LOCK <fd> posix|ofd|flock r|w <start> <length>");
        return;
    }
    if (fd == g_agent_fd) {
        stasis_send_error("fd is the agent's own");
        return;
    }
    long r = kind == 2 ? rsys2(SYS_flock, fd, (write ? LOCK_EX : LOCK_SH) | LOCK_NB)
                       : take_record_lock((int)fd, kind == 1, write, start, len);
    if (r < 0) {
        send_lock_errno(r);
        return;
    }
    stasis_send("LOCKED\n");
}
