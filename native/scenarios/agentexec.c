/* Scenario: children exec'd with a cleared environment stay in the computation
 * (issue #9, cause 9).  agentexec parent STEPS
 * The parent forks two children: A runs `env -i agentexec child A STEPS` (execlp),
 * B is started with execle(agentexec, "child", "B", STEPS, envp = { "MINIMAL=1" }).
 * Each child checks that its environment is exactly what its parent passed (the
 * agent's variables do not show in environ or getenv), then counts STEPS steps,
 * verifying its running sum, printing "X count i" and "X restarted G" when the
 * agent says it was restarted; it exits 0 if nothing was lost. The parent ticks
 * until both exit, reaps them and prints "OK" if both ended well. */
#include "common.h"
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int env_is(const char *const want[])
{
    size_t n = 0;
    for (char **e = environ; *e; e++, n++)
        if (!want[n] || strcmp(*e, want[n])) return 0;
    return want[n] == NULL;
}

static int run_child(const char *who, long steps)
{
    static const char *const none[] = {NULL}, *const minimal[] = {"MINIMAL=1", NULL};
    const char *const *want = !strcmp(who, "A") ? none : minimal;
    if (!env_is(want) || getenv("LD_PRELOAD") || getenv("STASIS_AGENT_SOCKET")) {
        printf("FAIL %s environment is not what its parent passed (first: %s)\n", who, environ[0] ? environ[0] : "-");
        return 1;
    }
    printf("%s env ok\n", who);
    long sum = 0;
    int gen = 0;
    for (long i = 1; i <= steps; i++) {
        sum += i;
        if (sum != i * (i + 1) / 2) {
            printf("FAIL %s sum\n", who);
            return 1;
        }
        int g = sc_restarts();
        if (g != gen) {
            printf("%s restarted %d\n", who, g);
            gen = g;
        }
        printf("%s count %ld\n", who, i);
        sc_sleep_ms(20);
    }
    printf("%s done %ld restarts %d\n", who, sum, gen);
    return 0;
}

static pid_t start(const char *self, const char *who, const char *steps)
{
    pid_t c = fork();
    if (c < 0) sc_fail("fork");
    if (c > 0) return c;
    if (!strcmp(who, "A")) {
        execlp("env", "env", "-i", self, "child", "A", steps, (char *)NULL);
    } else {
        char *const envp[] = {"MINIMAL=1", NULL};
        execle(self, "agentexec", "child", "B", steps, (char *)NULL, envp);
    }
    _exit(127);
}

static int reap(pid_t c, const char *who)
{
    int st;
    while (waitpid(c, &st, 0) < 0)
        if (errno != EINTR) {
            printf("FAIL waitpid %s: %s\n", who, strerror(errno));
            return 1;
        }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("FAIL child %s status %#x\n", who, st);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && !strcmp(argv[1], "child")) return run_child(argv[2], atol(argv[3]));
    if (argc != 3 || strcmp(argv[1], "parent")) {
        fprintf(stderr, "usage: agentexec parent STEPS\n");
        return 2;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) sc_fail("readlink /proc/self/exe");
    self[n] = 0;
    pid_t a = start(self, "A", argv[2]), b = start(self, "B", argv[2]);
    printf("parent %d %d %d\n", (int)getpid(), (int)a, (int)b);
    int gen = 0;
    for (int i = 0; i < 5; i++) {
        int g = sc_restarts();
        if (g != gen) {
            printf("parent restarted %d\n", g);
            gen = g;
        }
        sc_sleep_ms(20);
    }
    int bad = reap(a, "A") + reap(b, "B");
    if (bad) return 1;
    printf("OK agentexec restarts %d\n", sc_restarts());
    return 0;
}
