/* Scenario: more pending signals than the agent saves. ksigflood N [STEP_MS]
 * 300 instances of SIGRTMIN+6 (values 0..299) are queued to the process while it blocks
 * that signal; a checkpoint must refuse (the test checks its one-line error) and the
 * program must still hold every instance exactly once. Prints "step i", "OK". */
#include "common.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define NQ 300

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 30;
    long step = argc > 2 ? atol(argv[2]) : 100;
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 6);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int v = 0; v < NQ; v++)
        if (sigqueue(getpid(), SIGRTMIN + 6, (union sigval){.sival_int = v}) < 0) sc_fail("sigqueue");
    for (int i = 1; i <= n; i++) {
        sc_sleep_ms(step);
        printf("step %d\n", i);
    }
    static char seen[NQ];
    struct timespec zero = {0, 0};
    siginfo_t si;
    int got = 0;
    while (sigtimedwait(&set, &si, &zero) == SIGRTMIN + 6) {
        int v = si.si_value.sival_int;
        if (v < 0 || v >= NQ || seen[v]) {
            printf("value %d\n", v);
            sc_fail("a signal came twice or changed");
        }
        seen[v] = 1;
        got++;
    }
    if (got != NQ) {
        printf("got %d of %d\n", got, NQ);
        sc_fail("signals lost");
    }
    printf("OK %d signals\n", got);
    return 0;
}
