#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "msg.h"

static const char *env_nonempty(const char *var)
{
    const char *v = getenv(var);
    return (v && *v) ? v : NULL;
}

static int resolve_dir(char *out, size_t size)
{
    const char *dir = env_nonempty("STASIS_RUNTIME_DIR");
    const char *xdg = env_nonempty("XDG_RUNTIME_DIR");
    int n;
    if (dir) n = snprintf(out, size, "%s", dir);
    else if (xdg) n = snprintf(out, size, "%s/stasis", xdg);
    else n = snprintf(out, size, "/tmp/stasis-%u", (unsigned)getuid());
    if (n < 0 || (size_t)n >= size) {
        msg_err("runtime directory path is too long; set STASIS_RUNTIME_DIR to a shorter directory");
        return -1;
    }
    return 0;
}

static int check_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno == ENOENT) return 0;
        msg_err("cannot inspect runtime directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        msg_err("runtime directory %s is not a directory; remove it or set STASIS_RUNTIME_DIR", dir);
        return -1;
    }
    if (st.st_uid != getuid()) {
        msg_err("refusing runtime directory %s: it is owned by uid %u, not by you (uid %u); "
                "set STASIS_RUNTIME_DIR to a directory of your own",
                dir, (unsigned)st.st_uid, (unsigned)getuid());
        return -1;
    }
    if (st.st_mode & 077) {
        msg_err("refusing runtime directory %s: it is accessible by group/others (mode %03o); "
                "fix it with: chmod 700 %s",
                dir, (unsigned)(st.st_mode & 0777), dir);
        return -1;
    }
    return 0;
}

int rundir_file_path(const char *name, const char *suffix, char *out, size_t size)
{
    char dir[4096];
    if (resolve_dir(dir, sizeof dir) < 0 || check_dir(dir) < 0) return -1;
    int n = snprintf(out, size, "%s/%s%s", dir, name, suffix);
    if (n < 0 || (size_t)n >= size) {
        msg_err("path %s/%s%s is too long; set STASIS_RUNTIME_DIR to a shorter directory", dir, name, suffix);
        return -1;
    }
    return 0;
}

int rundir_socket_path(const char *name, char *out, size_t size)
{
    char dir[4096];
    struct sockaddr_un sa;
    if (resolve_dir(dir, sizeof dir) < 0 || check_dir(dir) < 0) return -1;
    int n = snprintf(out, size, "%s/%s.sock", dir, name);
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof sa.sun_path) {
        msg_err("socket path %s/%s.sock is too long (at most %zu bytes); "
                "set STASIS_RUNTIME_DIR to a shorter directory",
                dir, name, sizeof sa.sun_path - 1);
        return -1;
    }
    return 0;
}
