/* Scenario (c): files N OUTFILE INFILE [STEP_MS [SHAREDFILE]]. Appends "out %06d\n"
 * lines to OUTFILE (O_APPEND) and reads INFILE ("line %06d\n" records, 12 bytes)
 * sequentially from record 5, verifying each; at the end OUTFILE must hold exactly
 * lines 1..N. With SHAREDFILE, also keeps a counter in a MAP_SHARED mapping of it. */
#include "common.h"
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REC 12

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: files N OUTFILE INFILE [STEP_MS]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long step = argc > 4 ? atol(argv[4]) : 10;
    int out = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0600);
    int in = open(argv[3], O_RDONLY);
    if (out < 0 || in < 0) sc_fail("open");
    if (lseek(in, 5 * REC, SEEK_SET) != 5 * REC) sc_fail("lseek");
    volatile long *shared = NULL;
    if (argc > 5) {
        int sfd = open(argv[5], O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (sfd < 0 || ftruncate(sfd, 4096) < 0) sc_fail("shared file");
        shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
        close(sfd);
        if (shared == MAP_FAILED) sc_fail("mmap shared");
    }
    char buf[64], want[64];
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        if (read(in, buf, REC) != REC) sc_fail("read input");
        snprintf(want, sizeof want, "line %06ld\n", i + 4);
        if (memcmp(buf, want, REC)) sc_fail("input content");
        int len = snprintf(buf, sizeof buf, "out %06ld\n", i);
        if (write(out, buf, (size_t)len) != len) sc_fail("append");
        if (shared) {
            if (shared[0] != i - 1) sc_fail("shared mapping content");
            shared[0] = i;
        }
        printf("wrote %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    /* re-read what was written through the fd itself: the file may have moved */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", out);
    int rfd = open(self, O_RDONLY);
    close(out);
    if (shared) {
        if (shared[0] != n) sc_fail("shared mapping content");
        long v = 0;
        int sfd = open(argv[5], O_RDONLY); /* gone if restarted from another path */
        if (sfd >= 0 && (pread(sfd, &v, sizeof v, 0) != sizeof v || v != n)) sc_fail("shared file content");
        if (sfd >= 0) close(sfd);
    }
    FILE *f = rfd >= 0 ? fdopen(rfd, "r") : NULL;
    if (!f) sc_fail("reopen output");
    long expect = 1;
    while (fgets(buf, sizeof buf, f)) {
        snprintf(want, sizeof want, "out %06ld\n", expect);
        if (strcmp(buf, want)) {
            printf("FAIL output line %ld: %s", expect, buf);
            return 1;
        }
        expect++;
    }
    fclose(f);
    if (expect != n + 1) sc_fail("output line count");
    printf("OK files %ld\n", n);
    return 0;
}
