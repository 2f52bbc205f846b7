/* stasis-client coordinators: the names of this user's coordinators that answer on
 * their control socket, one a line, after removing what dead ones left behind in the
 * runtime directory (a socket nobody listens on; a restart plan of a pid that no
 * longer runs as this user). bin/stasis asks each name for its details. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "msg.h"
#include "opts.h"
#include "proc.h"
#include "rundir.h"

static const char HELP[] = "usage: stasis-client coordinators\n"
                           "\n"
                           "Prints the names of the coordinators of this user that answer on their control\n"
                           "socket, one a line. Removes what dead ones left in the runtime directory: a\n"
                           "socket nobody listens on, a restart plan of a coordinator pid that is gone.\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 0: someone listens; 1: refused (nobody does); -1: unknown (busy, no access). */
static int probe(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (rc == 0) return 0;
    return e == ECONNREFUSED ? 1 : -1;
}

/* Remove path if it is still the file (inode) that was found stale. */
static void remove_same(const char *path, const struct stat *seen)
{
    struct stat now;
    if (lstat(path, &now) == 0 && now.st_ino == seen->st_ino && now.st_dev == seen->st_dev) (void)unlink(path);
}

/* NAME.sock / NAME.agent.sock: prints a live coordinator's NAME, removes a dead socket. */
static void visit_socket(const char *path, const char *entry, const struct stat *st)
{
    if (!S_ISSOCK(st->st_mode)) return;
    int state = probe(path);
    if (state == 1 && probe(path) == 1) {
        remove_same(path, st);
        return;
    }
    if (ends_with(entry, ".agent.sock")) return;
    printf("%.*s\n", (int)(strlen(entry) - strlen(".sock")), entry);
}

/* ID-PID-NANOS.plan: the coordinator's pid is the next to last field. */
static void visit_plan(const char *path, const char *entry, const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) return;
    const char *end = entry + strlen(entry) - strlen(".plan");
    const char *dash = NULL, *before = NULL;
    for (const char *p = entry; p < end; p++) {
        if (*p == '-') {
            before = dash;
            dash = p;
        }
    }
    if (!before) return;
    char *stop;
    long pid = strtol(before + 1, &stop, 10);
    if (stop != dash || pid <= 0) return;
    if (kill((pid_t)pid, 0) == 0 && proc_alive((pid_t)pid)) return; /* runs as this user */
    remove_same(path, st);
}

int cmd_coordinators(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (opt_is_help(argv[i])) return msg_help(HELP);
        return opt_unexpected(argv[0], argv[i]);
    }
    char dir[4096];
    if (rundir_file_path(".", "", dir, sizeof dir) < 0) return EXIT_FAIL;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? EXIT_OK
                               : (msg_err("cannot read the runtime directory %s: %s", dir, strerror(errno)), EXIT_FAIL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4096 + 256];
        struct stat st;
        int sock = ends_with(e->d_name, ".sock"), plan = ends_with(e->d_name, ".plan");
        if (!sock && !plan) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0 || st.st_uid != getuid()) continue;
        if (sock) visit_socket(path, e->d_name, &st);
        else visit_plan(path, e->d_name, &st);
    }
    closedir(d);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
