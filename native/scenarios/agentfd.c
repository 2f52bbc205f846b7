/* Scenario: the agent must not show in the program's descriptors (issue #9, cause 9).
 *   agentfd listfd N    lists /proc/self/fd every step: FAIL on a fd it did not open
 *   agentfd closeall N  closes every fd from 3 to 1024 every step (close loop, raw
 *                       close_range, closefrom, in turn), then reopens its own file
 *   agentfd rlimit N    lowers RLIMIT_NOFILE to 32 (soft and hard) and checks every
 *                       step that all 29 numbers 3..31 can be opened
 * Each prints "count i" per step (and "restarted G" when the agent says so), keeps
 * a file it owns open with a known offset, exits 0 with "OK" after N steps. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXFD 1024

static char g_mine[MAXFD]; /* fds this program opened (or inherited: 0, 1, 2) */
static int g_file = -1;    /* its own file (its executable), offset = steps done */
static long g_steps;

static void own(int fd, int yes)
{
    if (fd >= 0 && fd < MAXFD) g_mine[fd] = (char)yes;
}

static void open_own_file(void)
{
    g_file = open("/proc/self/exe", O_RDONLY);
    if (g_file < 0) sc_fail("open /proc/self/exe");
    own(g_file, 1);
}

/* every entry of /proc/self/fd must be 0-2, the program's own, or the listing's dir */
static void check_listing(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) sc_fail("opendir /proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d) || (fd < MAXFD && g_mine[fd])) continue;
        char link[64], target[256] = "?";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        printf("FAIL fd %d (%s) is in /proc/self/fd but was never opened\n", fd, target);
        fflush(stdout);
        exit(1);
    }
    closedir(d);
}

static void close_everything(long step)
{
    switch (step % 3) {
    case 0:
        for (int fd = 3; fd <= MAXFD; fd++) syscall(SYS_close, fd);
        break;
    case 1: syscall(SYS_close_range, 3u, ~0u, 0); break;
    default: closefrom(3); break;
    }
    memset(g_mine + 3, 0, MAXFD - 3);
    open_own_file();
    if (lseek(g_file, step, SEEK_SET) != step) sc_fail("lseek");
}

static void lower_limit(void)
{
    struct rlimit rl = {32, 32};
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) sc_fail("setrlimit");
}

/* all of 3..31 must be free for the program (the limit is 32) */
static void check_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 32 || rl.rlim_max != 32) sc_fail("RLIMIT_NOFILE is not 32");
    int fds[32], n = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) break;
        fds[n++] = fd;
        if (n == 32) break;
    }
    for (int i = 0; i < n; i++) close(fds[i]);
    if (n != 32 - 3 - 1) { /* 0, 1, 2 and our own file are open */
        printf("FAIL could open %d fds under RLIMIT_NOFILE 32, want 28\n", n);
        fflush(stdout);
        exit(1);
    }
}

static void check_file(void)
{
    if (lseek(g_file, 0, SEEK_CUR) != g_steps) sc_fail("offset of the program's own file");
    char c;
    if (read(g_file, &c, 1) != 1) sc_fail("read of the program's own file");
    g_steps++;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: agentfd listfd|closeall|rlimit N\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    own(0, 1);
    own(1, 1);
    own(2, 1);
    if (!strcmp(mode, "rlimit")) lower_limit();
    open_own_file();
    int gen = 0;
    for (long i = 1; i <= n; i++) {
        if (!strcmp(mode, "listfd")) check_listing();
        else if (!strcmp(mode, "closeall")) close_everything(g_steps);
        else if (!strcmp(mode, "rlimit")) check_limit();
        else {
            fprintf(stderr, "agentfd: unknown mode %s\n", mode);
            return 2;
        }
        check_file();
        int g = sc_restarts();
        if (g != gen) {
            printf("restarted %d\n", g);
            gen = g;
        }
        printf("count %ld\n", i);
        sc_sleep_ms(10);
    }
    if (!strcmp(mode, "listfd")) check_listing();
    printf("OK agentfd %s %ld\n", mode, n);
    return 0;
}
