/* Scenario: kf_symlink N DIR [STEP_MS] (N steps, fewer once SC_STOP_FILE exists). Holds O_PATH descriptors: S on the symlink
 * DIR/link itself (O_PATH|O_NOFOLLOW), T on what it points to (O_PATH), and D on DIR
 * (O_PATH|O_DIRECTORY), and checks every step that S is still the link (fstatat
 * AT_EMPTY_PATH says symlink, readlinkat(S, "") gives its target), T the target file
 * and D the directory (openat(D, "target") works). Exit 0 only if all stayed right. */
#include "common.h"
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fds {
    int s, t, d;
};

static void check(const struct fds *f)
{
    struct stat st;
    if (fstatat(f->s, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
        sc_fail("S is no longer the symlink itself");
    char buf[64];
    ssize_t n = readlinkat(f->s, "", buf, sizeof buf);
    if (n != 6 || memcmp(buf, "target", 6)) sc_fail("readlinkat(S) does not give the link's target");
    if ((fcntl(f->s, F_GETFL) & (O_PATH | O_NOFOLLOW)) != (O_PATH | O_NOFOLLOW)) sc_fail("flags of S");
    if (fstat(f->t, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 5) sc_fail("T is not the target file");
    if ((fcntl(f->t, F_GETFL) & O_PATH) != O_PATH) sc_fail("flags of T");
    int fd = openat(f->d, "target", O_RDONLY);
    if (fd < 0 || read(fd, buf, 5) != 5 || memcmp(buf, "hello", 5)) sc_fail("D does not lead to the directory");
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kf_symlink N DIR [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long step = argc > 3 ? atol(argv[3]) : 10;
    char path[4096];
    snprintf(path, sizeof path, "%s/target", argv[2]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, "hello", 5) != 5) sc_fail("create target");
    close(fd);
    snprintf(path, sizeof path, "%s/link", argv[2]);
    unlink(path);
    if (symlink("target", path) < 0) sc_fail("symlink");
    struct fds f;
    f.s = open(path, O_PATH | O_NOFOLLOW);
    f.t = open(path, O_PATH);
    f.d = open(argv[2], O_PATH | O_DIRECTORY);
    if (f.s < 0 || f.t < 0 || f.d < 0) sc_fail("open O_PATH");
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        check(&f);
        printf("paths %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
        if (sc_stop_requested()) n = i; /* the test is done: end after i steps */
    }
    printf("OK symlink %ld\n", n);
    return 0;
}
