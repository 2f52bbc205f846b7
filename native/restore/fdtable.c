/* fd table: inherited fds are first parked above every planned number, files are
 * opened (FIFOs without blocking), everything lands at its planned number, all
 * other fds are closed. */
#include "fdtable.h"
#include "plan.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static int *g_tmp; /* the planned fds, parked above every planned number */
static int g_captmp;

static int fail(const struct plan_fd *f, const char *what)
{
    fprintf(stderr, "stasis-restore: fd %d: %s%s%s: %s\n", f->fd, what, f->path[0] ? " " : "", f->path,
            strerror(errno));
    return -1;
}

/* Opening a FIFO read-only blocks until a writer exists (write-only: until a
 * reader). A keeper opened O_RDWR|O_NONBLOCK is both, for the time of the real
 * open; the FIFO then behaves as it would for the program (EOF/EPIPE once no
 * other end is left). -1 = not a FIFO (or it cannot be opened: the real open says
 * why). */
static int fifo_keeper(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISFIFO(st.st_mode)) return -1;
    return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

static int open_planned(const struct plan_fd *f)
{
    int flags = f->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
    int keeper = fifo_keeper(f->path);
    int fd = open(f->path, flags | O_CLOEXEC);
    if (keeper >= 0) {
        int e = errno;
        close(keeper);
        errno = e;
    }
    if (fd < 0) return fail(f, "cannot open");
    if (f->kind == FD_UNLINKED && unlink(f->path) < 0) {
        close(fd);
        return fail(f, "cannot unlink");
    }
    if (f->offset && lseek(fd, f->offset, SEEK_SET) < 0 && errno != ESPIPE) {
        close(fd);
        return fail(f, "cannot seek");
    }
    return fd;
}

/* A descriptor that was a terminal at checkpoint time may not be one now (restarted
 * with its output in a file, or from a script): the program runs on as it would with
 * such a descriptor, the user is warned. Any other failure stops the restart. */
static int set_termios(void)
{
    for (int i = 0; i < g_plan.ntermios; i++) {
        struct plan_termios *t = &g_plan.termios[i];
        struct termios tio;
        if (t->len != (int)sizeof tio) {
            fprintf(stderr, "stasis-restore: process %d: termios line for fd %d has %d bytes, want %zu\n", g_plan.pid,
                    t->fd, t->len, sizeof tio);
            return -1;
        }
        memcpy(&tio, t->bytes, sizeof tio);
        if (tcsetattr(t->fd, TCSANOW, &tio) == 0) continue;
        if (errno == ENOTTY) {
            fprintf(stderr,
                    "stasis-restore: warning: process %d: fd %d was a terminal at checkpoint time and is not "
                    "one now; its terminal settings are not restored\n",
                    g_plan.pid, t->fd);
            continue;
        }
        fprintf(stderr, "stasis-restore: process %d: cannot restore the terminal settings of fd %d: %s\n", g_plan.pid,
                t->fd, strerror(errno));
        return -1;
    }
    return 0;
}

/* close every fd above fd except the ascending keep[] (-1 entries ignored) */
static void close_above(int fd, const int *keep, int nkeep)
{
    unsigned from = (unsigned)fd + 1;
    for (int i = 0; i < nkeep; i++) {
        if (keep[i] < 0) continue;
        if ((unsigned)keep[i] > from) close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0u, 0);
}

int fdtable_install(int keep_fd, int *more, int nmore, int *report)
{
    if (plan_grow(&g_tmp, &g_captmp, g_plan.nfds, sizeof *g_tmp) < 0) {
        fprintf(stderr, "stasis-restore: out of memory\n");
        return -1;
    }
    int high = 100;
    for (int i = 0; i < g_plan.nfds; i++) {
        if (g_plan.fds[i].fd >= high) high = g_plan.fds[i].fd + 1;
        if ((g_plan.fds[i].kind == FD_INHERIT || g_plan.fds[i].kind == FD_PIPE) && g_plan.fds[i].src >= high)
            high = g_plan.fds[i].src + 1;
    }
    if (keep_fd >= 0) {
        int k = fcntl(keep_fd, F_DUPFD_CLOEXEC, high);
        if (k < 0) {
            perror("stasis-restore: dup image fd");
            return -1;
        }
        close(keep_fd);
        keep_fd = k;
        high = k + 1;
    }
    if (*report >= 0) { /* messages go there: move it first */
        int k = fcntl(*report, F_DUPFD_CLOEXEC, high);
        if (k < 0) {
            perror("stasis-restore: dup report fd");
            return -1;
        }
        close(*report);
        *report = k;
        high = k + 1;
    }
    for (int i = 0; i < nmore; i++) { /* ascending, right above keep_fd */
        if (more[i] < 0) continue;
        int k = fcntl(more[i], F_DUPFD_CLOEXEC, high);
        if (k < 0) {
            perror("stasis-restore: dup restorer fd");
            return -1;
        }
        close(more[i]);
        more[i] = k;
        high = k + 1;
    }
    for (int i = 0; i < g_plan.nfds; i++) {
        const struct plan_fd *f = &g_plan.fds[i];
        int passed = f->kind == FD_INHERIT || f->kind == FD_PIPE;
        int t = passed ? fcntl(f->src, F_DUPFD_CLOEXEC, high) : open_planned(f);
        if (t < 0) return passed ? fail(f, "inherited fd not open") : -1;
        if (t < high) {
            int u = fcntl(t, F_DUPFD_CLOEXEC, high);
            close(t);
            if (u < 0) return fail(f, "dup");
            t = u;
        }
        g_tmp[i] = t;
        high = t + 1;
    }
    /* close everything below the parked fds, then place them */
    int lowest_parked = keep_fd >= 0 ? keep_fd : high;
    for (int i = 0; i < g_plan.nfds; i++)
        if (g_tmp[i] < lowest_parked) lowest_parked = g_tmp[i];
    for (int i = 0; i < nmore; i++)
        if (more[i] >= 0 && more[i] < lowest_parked) lowest_parked = more[i];
    if (*report >= 0 && *report < lowest_parked) lowest_parked = *report;
    if (lowest_parked > 0) close_range(0, (unsigned)lowest_parked - 1, 0);
    for (int i = 0; i < g_plan.nfds; i++) {
        const struct plan_fd *f = &g_plan.fds[i];
        int cloexec = f->kind != FD_INHERIT && (f->flags & O_CLOEXEC);
        if (dup3(g_tmp[i], f->fd, cloexec ? O_CLOEXEC : 0) < 0) return fail(f, "dup3");
    }
    for (int i = 0; i < g_plan.nfds; i++) close(g_tmp[i]);
    if (keep_fd >= 0 && *report > keep_fd) { /* the report fd sits right above keep_fd */
        if (*report > keep_fd + 1) close_range((unsigned)keep_fd + 1, (unsigned)*report - 1, 0);
        close_above(*report, more, nmore);
    } else if (keep_fd >= 0) close_above(keep_fd, more, nmore);
    return set_termios() < 0 ? -1 : keep_fd;
}
