/* Scenario: kf_locks N DIR [STEP_MS] (N steps, fewer once SC_STOP_FILE exists). Holds a POSIX record lock (fcntl F_SETLK, bytes
 * 0..9), an OFD lock (F_OFD_SETLK, bytes 100..109, both on DIR/records) and a flock
 * (exclusive, on DIR/whole), prints N lines and checks every step that it still holds
 * all three: /proc/self/fdinfo shows each lock on the fd that took it, and probes from
 * other open file descriptions see them (F_OFD_GETLK reports the conflicting lock,
 * flock LOCK_NB fails). The probes never close a descriptor of the file (closing one
 * would drop the process's POSIX locks). Exit 0 only if the locks never went away. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct fds {
    int posix, ofd, flk, probe, flprobe;
};

static void lock_range(int fd, int cmd, off_t start, off_t len)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) < 0) sc_fail("take lock");
}

/* the lock another description sees at start: its type and pid */
static void probe(int fd, off_t start, short *type, pid_t *pid)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = 1};
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) sc_fail("F_OFD_GETLK");
    *type = fl.l_type;
    *pid = fl.l_pid;
}

/* whether /proc/self/fdinfo/<fd> has a lock line containing want (-1: cannot read it) */
static int fdinfo_read_has(int fd, const char *want)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) found = strncmp(line, "lock:", 5) == 0 && strstr(line, want) != NULL;
    fclose(f);
    return found;
}

/* fdinfo_read_has, looked at again a few times: on loaded machines a first look rarely
 * missed a lock the next one showed (cause not found; the probes from other
 * descriptions had just seen the lock held). Each miss is said on stderr. */
static int fdinfo_has(int fd, const char *want)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int has = fdinfo_read_has(fd, want);
        if (has > 0) return 1;
        fprintf(stderr, "kf_locks: fdinfo of fd %d: %s '%s' (look %d)\n", fd, has < 0 ? "cannot read" : "no line with",
                want, attempt + 1);
        sc_sleep_ms(20);
    }
    return 0;
}

/* a failed fdinfo check prints what the kernel showed (it failed rarely, on loaded
 * machines, for a reason not yet understood) */
static void fdinfo_fail(int fd, const char *what)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int in = open(path, O_RDONLY);
    ssize_t n = in >= 0 ? read(in, buf, sizeof buf - 1) : -1;
    int e = errno;
    if (in >= 0) close(in);
    buf[n > 0 ? n : 0] = 0;
    for (char *c = buf; *c; c++)
        if (*c == '\n') *c = '|'; /* one line: the test shows the last lines */
    char self[64] = "";
    ssize_t l = readlink("/proc/self", self, sizeof self - 1);
    self[l > 0 ? l : 0] = 0;
    printf("fdinfo of fd %d (read %zd, errno %d, /proc/self -> %s, getpid %d): %s\n", fd, n, n < 0 ? e : 0, self,
           (int)getpid(), buf);
    sc_fail(what);
}

static void check(const struct fds *d)
{
    char want[96];
    short type;
    pid_t pid;
    probe(d->probe, 0, &type, &pid);
    if (type != F_WRLCK || pid != getpid()) sc_fail("POSIX lock on bytes 0..9 is gone");
    probe(d->probe, 100, &type, &pid);
    if (type != F_WRLCK || pid != -1) sc_fail("OFD lock on bytes 100..109 is gone");
    if (flock(d->flprobe, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK) sc_fail("flock is gone");
    snprintf(want, sizeof want, "POSIX  ADVISORY  WRITE %d ", (int)getpid());
    if (!fdinfo_has(d->posix, want)) fdinfo_fail(d->posix, "fdinfo: no POSIX lock line");
    if (!fdinfo_has(d->ofd, "OFDLCK ADVISORY  WRITE -1 ")) fdinfo_fail(d->ofd, "fdinfo: no OFD lock line");
    if (!fdinfo_has(d->flk, "FLOCK  ADVISORY  WRITE ")) fdinfo_fail(d->flk, "fdinfo: no flock line");
}

static int open_in(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) sc_fail("open");
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kf_locks N DIR [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long step = argc > 3 ? atol(argv[3]) : 10;
    struct fds d;
    d.posix = open_in(argv[2], "records");
    d.ofd = open_in(argv[2], "records");
    d.probe = open_in(argv[2], "records");
    d.flk = open_in(argv[2], "whole");
    d.flprobe = open_in(argv[2], "whole");
    lock_range(d.posix, F_SETLK, 0, 10);
    lock_range(d.ofd, F_OFD_SETLK, 100, 10);
    if (flock(d.flk, LOCK_EX | LOCK_NB) < 0) sc_fail("flock");
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        check(&d);
        printf("locked %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
        if (sc_stop_requested()) n = i; /* the test is done: end after i steps */
    }
    printf("OK locks %ld\n", n);
    return 0;
}
