/* Pipes between the processes of a plan (fd <n> pipe <id> r|w <flags>): each pipe is
 * created once, before any process is created, so that every process of the tree
 * inherits both ends and installs its own at the saved numbers (fdtable.c); the
 * bytes that were in flight at checkpoint time (pipe <id> <data-path>) are written
 * into it first, in order. Ends not used by a process are closed by its fd table. */
#include "pipes.h"
#include "plan.h"
#include "safeopen.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_FD 200 /* above the fds a plan usually names: parked, close-on-exec */

struct made {
    long long id;
    int end[2];
};
static struct made *g_made;
static int g_nmade, g_capmade;

static struct made *find(long long id)
{
    for (int i = 0; i < g_nmade; i++)
        if (g_made[i].id == id) return &g_made[i];
    return NULL;
}

static int refill(struct made *m, const char *path)
{
    const char *why;
    int fd = open_beneath(path, &why); /* a blob of the checkpoint: no symlinks, no FIFOs */
    if (fd < 0) {
        fprintf(stderr, "stasis-restore: pipe data %s: %s\n", path, why);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > fcntl(m->end[1], F_GETPIPE_SZ) &&
        fcntl(m->end[1], F_SETPIPE_SZ, (int)st.st_size) < 0) {
        fprintf(stderr, "stasis-restore: pipe data %s: %lld bytes do not fit into a pipe\n", path,
                (long long)st.st_size);
        close(fd);
        return -1;
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, "stasis-restore: pipe data %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(m->end[1], buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                fprintf(stderr, "stasis-restore: pipe data %s: cannot refill\n", path);
                close(fd);
                return -1;
            }
            done += w;
        }
    }
    close(fd);
    return 0;
}

/* O_DIRECT on a write end makes each write one packet for the reader: set after the
 * refill, which writes the drained bytes as a stream */
static int packet_mode(void)
{
    for (int p = 0; p < g_nprocs; p++) {
        for (int i = 0; i < g_procs[p].nfds; i++) {
            struct plan_fd *f = &g_procs[p].fds[i];
            if (f->kind != FD_PIPE || !f->pipe_write || !(f->flags & O_DIRECT)) continue;
            int fl = fcntl(f->src, F_GETFL);
            if (fl < 0 || fcntl(f->src, F_SETFL, fl | O_DIRECT) < 0) {
                perror("stasis-restore: packet mode (O_DIRECT) of a pipe");
                return -1;
            }
        }
    }
    return 0;
}

int pipes_create(void)
{
    for (int p = 0; p < g_nprocs; p++) {
        for (int i = 0; i < g_procs[p].nfds; i++) {
            struct plan_fd *f = &g_procs[p].fds[i];
            if (f->kind != FD_PIPE) continue;
            struct made *m = find(f->pipe_id);
            if (!m) {
                if (plan_grow(&g_made, &g_capmade, g_nmade + 1, sizeof *g_made) < 0) {
                    fprintf(stderr, "stasis-restore: out of memory\n");
                    return -1;
                }
                int e[2];
                if (pipe2(e, O_CLOEXEC) < 0) {
                    perror("stasis-restore: pipe");
                    return -1;
                }
                m = &g_made[g_nmade++];
                m->id = f->pipe_id;
                for (int k = 0; k < 2; k++) {
                    m->end[k] = fcntl(e[k], F_DUPFD_CLOEXEC, FIRST_FD);
                    close(e[k]);
                    if (m->end[k] < 0) {
                        perror("stasis-restore: pipe fd");
                        return -1;
                    }
                }
            }
            int end = m->end[f->pipe_write ? 1 : 0];
            if (f->flags & O_NONBLOCK) fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK);
            f->src = end;
        }
    }
    for (int d = 0; d < g_npipe_data; d++) {
        struct made *m = find(g_pipe_data[d].id);
        if (!m) continue; /* nobody holds that pipe any more */
        if (refill(m, g_pipe_data[d].path) < 0) return -1;
    }
    return packet_mode();
}
