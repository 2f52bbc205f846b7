/* Scenario: kf_memfd N [STEP_MS] (N steps, fewer once SC_STOP_FILE exists: common.h). Holds memory files (memfd_create) and checks every
 * step that they are still memory files with their name, size, content and seals:
 *   A = "kf-data" (sealable, sealed against shrinking and growing, 8192 bytes), B = dup
 *   of A (one open file description: one offset), C = A reopened read-only through
 *   /proc/self/fd (its own description and offset); D = "kf plain" made without
 *   MFD_ALLOW_SEALING (so it reports F_SEAL_SEAL). Each step writes the step number
 *   through A, reads it back through C, advances the shared offset of A/B by one
 *   byte. Exit 0 only if everything stayed right. */
#include "common.h"
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 8192

struct fds {
    int a, b, c, d;
};

static void expect_target(int fd, const char *want)
{
    char path[64], got[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, got, sizeof got - 1);
    if (n < 0) sc_fail("readlink");
    got[n] = 0;
    if (strcmp(got, want)) {
        printf("FAIL fd %d is %s, not %s\n", fd, got, want);
        exit(1);
    }
}

static void check(const struct fds *f, long step)
{
    expect_target(f->a, "/memfd:kf-data (deleted)");
    expect_target(f->c, "/memfd:kf-data (deleted)");
    expect_target(f->d, "/memfd:kf plain (deleted)");
    if (fcntl(f->a, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW)) sc_fail("seals of kf-data");
    if (fcntl(f->d, F_GET_SEALS) != F_SEAL_SEAL) sc_fail("seals of kf plain");
    struct stat st;
    if (fstat(f->a, &st) < 0 || st.st_size != SIZE) sc_fail("size of kf-data");
    if (ftruncate(f->a, SIZE / 2) == 0 || errno != EPERM) sc_fail("kf-data can shrink: seal lost");
    if ((fcntl(f->c, F_GETFL) & O_ACCMODE) != O_RDONLY) sc_fail("C is not read-only");
    long v = 0;
    if (pread(f->c, &v, sizeof v, 4096) != sizeof v || v != step - 1) sc_fail("content of kf-data");
    if (pwrite(f->a, &step, sizeof step, 4096) != sizeof step) sc_fail("write kf-data");
    if (pread(f->c, &v, sizeof v, 4096) != sizeof v || v != step) sc_fail("C does not see A's write");
    if (lseek(f->a, 0, SEEK_CUR) != step - 1 || lseek(f->b, 0, SEEK_CUR) != step - 1) sc_fail("offset of A/B");
    if (lseek(f->c, 0, SEEK_CUR) != 5) sc_fail("offset of C");
    char c;
    if (read(f->a, &c, 1) != 1 || c != (char)('a' + (step - 1) % 26)) sc_fail("byte read through A");
    char name[64];
    if (pread(f->d, name, 9, 0) != 9 || memcmp(name, "plain one", 9)) sc_fail("content of kf plain");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: kf_memfd N [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long step = argc > 2 ? atol(argv[2]) : 10;
    struct fds f;
    f.a = memfd_create("kf-data", MFD_ALLOW_SEALING);
    f.d = memfd_create("kf plain", 0);
    if (f.a < 0 || f.d < 0 || ftruncate(f.a, SIZE) < 0) sc_fail("memfd_create");
    char letters[SIZE / 2];
    for (int i = 0; i < SIZE / 2; i++) letters[i] = (char)('a' + i % 26);
    if (pwrite(f.a, letters, sizeof letters, 0) != sizeof letters) sc_fail("fill");
    if (pwrite(f.d, "plain one", 9, 0) != 9) sc_fail("fill plain");
    if (fcntl(f.a, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) sc_fail("seal");
    f.b = dup(f.a);
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", f.a);
    f.c = open(self, O_RDONLY);
    if (f.b < 0 || f.c < 0 || lseek(f.c, 5, SEEK_SET) != 5) sc_fail("dup/reopen");
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        check(&f, i);
        printf("memfd %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
        if (sc_stop_requested()) n = i; /* the test is done: end after i steps */
    }
    printf("OK memfd %ld\n", n);
    return 0;
}
