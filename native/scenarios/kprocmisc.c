/* Scenario: per-process kernel state survives checkpoints. kprocmisc ITEM N [STEP_MS]
 * ITEM prctl:   PR_SET_PDEATHSIG (main thread SIGUSR2, a worker thread SIGUSR1: it is
 *               per thread) and PR_SET_CHILD_SUBREAPER, read back every step;
 * ITEM madvise: areas with MADV_DONTFORK, MADV_WIPEONFORK, MADV_HUGEPAGE,
 *               MADV_NOHUGEPAGE and MADV_DONTDUMP keep their VmFlags (smaps) and data;
 *               a forked child does not see the dontfork area and sees the wipeonfork
 *               one zeroed;
 * ITEM cmdline: /proc/self/cmdline and /proc/self/environ stay what they were (argv[1]
 *               is rewritten in place at start, like setproctitle does);
 * ITEM cwd:     the working directory is deleted: getcwd fails with ENOENT, creating a
 *               file there too, /proc/self/cwd names the same "(deleted)" directory.
 * Prints "step i", "restarted", "OK". SC_STOP_FILE (common.h) ends the steps early. */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
static const char *g_item;

/* ---- prctl ---- */
static volatile int g_worker_sig;
static void *pd_worker(void *arg)
{
    (void)arg;
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1) < 0) sc_fail("PR_SET_PDEATHSIG (worker)");
    for (;;) {
        int s = -1;
        prctl(PR_GET_PDEATHSIG, &s);
        __atomic_store_n(&g_worker_sig, s, __ATOMIC_SEQ_CST);
        sc_sleep_ms(10);
    }
    return NULL;
}

static void prctl_setup(void)
{
    if (prctl(PR_SET_PDEATHSIG, SIGUSR2) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) sc_fail("prctl set");
    pthread_t t;
    pthread_create(&t, NULL, pd_worker, NULL);
    while (!__atomic_load_n(&g_worker_sig, __ATOMIC_SEQ_CST)) sc_sleep_ms(1);
}

static void prctl_check(void)
{
    int s = -1, r = -1;
    prctl(PR_GET_PDEATHSIG, &s);
    prctl(PR_GET_CHILD_SUBREAPER, &r);
    sc_sleep_ms(30); /* the worker reads its own again */
    int w = __atomic_load_n(&g_worker_sig, __ATOMIC_SEQ_CST);
    if (s != SIGUSR2 || w != SIGUSR1 || r != 1) {
        printf("pdeathsig main %d worker %d subreaper %d\n", s, w, r);
        sc_fail("prctl state");
    }
}

/* ---- madvise ---- */
static const struct {
    int advice;
    const char *flag;
} g_adv[] = {
        {MADV_DONTFORK, "dc"},   {MADV_WIPEONFORK, "wf"}, {MADV_HUGEPAGE, "hg"},
        {MADV_NOHUGEPAGE, "nh"}, {MADV_DONTDUMP, "dd"},
};
#define NADV 5
static unsigned char *g_area[NADV];

static int has_flag(uintptr_t addr, const char *flag)
{
    char line[1024];
    int in = 0, found = -1;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) sc_fail("open smaps");
    while (fgets(line, sizeof line, f) && found < 0) {
        uintptr_t s, e;
        if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) in = addr >= s && addr < e;
        else if (in && !strncmp(line, "VmFlags:", 8)) {
            char want[8];
            snprintf(want, sizeof want, " %s", flag);
            found = strstr(line + 8, want) != NULL;
        }
    }
    fclose(f);
    return found == 1;
}

static void madvise_setup(void)
{
    for (int i = 0; i < NADV; i++) {
        size_t len = i == 2 ? (4u << 20) : 4 * PG;
        g_area[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g_area[i] == MAP_FAILED) sc_fail("mmap");
        if (madvise(g_area[i], len, g_adv[i].advice) < 0) sc_fail("madvise");
        for (size_t o = 0; o < 4 * PG; o += 64) g_area[i][o] = (unsigned char)(i * 37 + o / 64 + 1);
    }
}

static void madvise_check(int step)
{
    for (int i = 0; i < NADV; i++) {
        if (!has_flag((uintptr_t)g_area[i], g_adv[i].flag)) {
            printf("area %d lost %s\n", i, g_adv[i].flag);
            sc_fail("VmFlags");
        }
        for (size_t o = 0; o < 4 * PG; o += 64)
            if (g_area[i][o] != (unsigned char)(i * 37 + o / 64 + 1)) {
                printf("area %d\n", i);
                sc_fail("area data");
            }
    }
    if (step % 5) return;
    pid_t c = (pid_t)syscall(SYS_fork); /* raw: the child does not join the computation */
    if (c == 0) {
        int bad = has_flag((uintptr_t)g_area[0], "") || g_area[1][0] != 0; /* dontfork: gone; wipeonfork: zero */
        _exit(bad);
    }
    int st;
    if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
        sc_fail("fork semantics (dontfork/wipeonfork)");
}

/* ---- cmdline / environ ---- */
static char g_cmd0[4096], g_env0[65536];
static size_t g_cmd0_len, g_env0_len;

static size_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) sc_fail("open /proc/self/...");
    size_t n = 0;
    ssize_t r;
    while (n < cap && (r = read(fd, buf + n, cap - n)) > 0) n += (size_t)r;
    close(fd);
    return n;
}

static void cmdline_setup(char **argv)
{
    if (argv[1]) memset(argv[1], 'X', strlen(argv[1])); /* rewritten in place */
    g_cmd0_len = slurp("/proc/self/cmdline", g_cmd0, sizeof g_cmd0);
    g_env0_len = slurp("/proc/self/environ", g_env0, sizeof g_env0);
    if (!memmem(g_cmd0, g_cmd0_len, "XXXX", 4) || !g_env0_len) sc_fail("cmdline/environ setup");
}

static void cmdline_check(void)
{
    static char now[65536];
    size_t n = slurp("/proc/self/cmdline", now, sizeof now);
    if (n != g_cmd0_len || memcmp(now, g_cmd0, n)) {
        for (size_t i = 0; i < n; i++)
            if (!now[i]) now[i] = '|';
        for (size_t i = 0; i < g_cmd0_len; i++)
            if (!g_cmd0[i]) g_cmd0[i] = '|';
        printf("cmdline %zu %.*s, was %zu %.*s\n", n, (int)n, now, g_cmd0_len, (int)g_cmd0_len, g_cmd0);
        sc_fail("/proc/self/cmdline changed");
    }
    n = slurp("/proc/self/environ", now, sizeof now);
    if (n != g_env0_len || memcmp(now, g_env0, n)) {
        printf("environ %zu bytes, was %zu\n", n, g_env0_len);
        sc_fail("/proc/self/environ changed");
    }
}

/* ---- deleted cwd ---- */
static char g_cwd_link[4096];

static void cwd_setup(void)
{
    char dir[] = "/tmp/stasis-kcwd-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0 || rmdir(dir) < 0) sc_fail("deleted cwd setup");
    ssize_t n = readlink("/proc/self/cwd", g_cwd_link, sizeof g_cwd_link - 1);
    if (n <= 0) sc_fail("readlink cwd");
    g_cwd_link[n] = 0;
}

static void cwd_check(void)
{
    char buf[4096];
    errno = 0;
    if (getcwd(buf, sizeof buf) || errno != ENOENT) sc_fail("getcwd does not fail with ENOENT");
    int fd = open("new-file", O_CREAT | O_WRONLY, 0600);
    if (fd >= 0 || errno != ENOENT) sc_fail("a file could be created in the deleted directory");
    ssize_t n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    if (strcmp(buf, g_cwd_link)) {
        printf("cwd %s, was %s\n", buf, g_cwd_link);
        sc_fail("/proc/self/cwd");
    }
}

static void check(int step)
{
    if (!strcmp(g_item, "prctl")) prctl_check();
    else if (!strcmp(g_item, "madvise")) madvise_check(step);
    else if (!strcmp(g_item, "cmdline")) cmdline_check();
    else cwd_check();
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kprocmisc prctl|madvise|cmdline|cwd N [STEP_MS]\n");
        return 2;
    }
    g_item = strdup(argv[1]);
    int n = atoi(argv[2]);
    long step = argc > 3 ? atol(argv[3]) : 100;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(g_item, "prctl")) prctl_setup();
    else if (!strcmp(g_item, "madvise")) madvise_setup();
    else if (!strcmp(g_item, "cmdline")) cmdline_setup(argv);
    else if (!strcmp(g_item, "cwd")) cwd_setup();
    else sc_fail("unknown item");
    int restarts = 0;
    for (int i = 1; i <= n; i++) {
        sc_sleep_ms(step);
        check(i);
        if (sc_restarts() != restarts) {
            restarts = sc_restarts();
            printf("restarted %d\n", restarts);
        }
        printf("step %d\n", i);
        if (sc_stop_requested()) break;
    }
    printf("OK %s restarts %d\n", g_item, restarts);
    return 0;
}
