/* wait-gone: wait until a coordinator has exited, i.e. let go of its name: its
 * <run>/<name>.lock is gone or locked by nobody (the coordinator holds an fcntl lock
 * on it as long as it runs and removes it, with its socket and cache, before it exits),
 * and the process that held it has ended. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "msg.h"
#include "opts.h"
#include "proc.h"
#include "rundir.h"
#include "timeutil.h"

#define GONE_TIMEOUT_DEFAULT 30.0
#define POLL_MS              10

static const char HELP[] = "usage: stasis wait-gone [--name N] [--timeout SECONDS]\n"
                           "\n"
                           "Wait until coordinator N (default 'default') has exited and its name is free\n"
                           "(exit 0; at once if none runs). Exit 1 after --timeout seconds (default 30).\n";

static int parse(int argc, char **argv, const char **name, double *timeout)
{
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (opt_is_help(argv[i])) return msg_help(HELP) ? EXIT_FAIL : PARSE_HELP;
        int t = opt_take(cmd, "--name", argc, argv, &i, name);
        if (t == OPT_NO && (t = opt_take(cmd, "--timeout", argc, argv, &i, &v)) == OPT_TAKEN &&
            opt_parse_seconds(cmd, "--timeout", v, timeout))
            return EXIT_USAGE;
        if (t == OPT_BAD) return EXIT_USAGE;
        if (t == OPT_NO) return opt_unexpected(cmd, argv[i]);
    }
    return opt_check_name(cmd, *name) ? EXIT_USAGE : 0;
}

/* 1: some process holds the lock on path (*holder: its pid); 0: nobody (or no file);
 * -1: error, errno set. */
static int held(const char *path, pid_t *holder)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int rc = fcntl(fd, F_GETLK, &fl);
    int err = errno;
    close(fd);
    if (rc < 0) {
        errno = err;
        return -1;
    }
    if (fl.l_type == F_UNLCK) return 0;
    *holder = fl.l_pid;
    return 1;
}

int cmd_wait_gone(int argc, char **argv)
{
    const char *name = "default";
    double timeout = GONE_TIMEOUT_DEFAULT;
    int rc = parse(argc, argv, &name, &timeout);
    if (rc) return rc == PARSE_HELP ? EXIT_OK : rc;
    char path[PATH_MAX];
    if (rundir_file_path(name, ".lock", path, sizeof path) < 0) return EXIT_FAIL;
    int64_t deadline = time_now_ms() + (int64_t)(timeout * 1000);
    pid_t holder = 0;
    for (;;) {
        int h = held(path, &holder);
        /* It lets go of the lock as it exits: its last moments end too. */
        if (h == 0 && (holder <= 0 || !proc_alive(holder))) return EXIT_OK;
        if (h < 0) {
            msg_err("cannot tell whether coordinator '%s' still runs: %s: %s", name, path, strerror(errno));
            return EXIT_FAIL;
        }
        int64_t left = deadline - time_now_ms();
        if (left <= 0) break;
        time_sleep_ms(left < POLL_MS ? left : POLL_MS);
    }
    msg_err("coordinator '%s' is still stopping after %g s; see its log, or wait longer with --timeout", name, timeout);
    return EXIT_FAIL;
}
