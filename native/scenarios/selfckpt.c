/* Scenario: checkpoint requested from inside the program. selfckpt N K [STEP_MS]
 * counts to N; at step K calls the agent's stasis_checkpoint() and prints what it
 * returned ("resumed" in the original, "restarted" in a restored copy), then the
 * checkpoint's id ("id none" if it was aborted). */
#include "common.h"
#include <stdint.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50, k = argc > 2 ? atol(argv[2]) : 10;
    long step = argc > 3 ? atol(argv[3]) : 10;
    int (*ckpt)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "stasis_checkpoint");
    uint64_t sum = 0;
    const char *result = "none";
    for (long i = 1; i <= n; i++) {
        sum += (uint64_t)i;
        if (i == k) {
            int r = ckpt ? ckpt() : -1;
            result = r == 1 ? "resumed" : r == 2 ? "restarted" : "failed";
            printf("checkpoint %s\n", result);
            const char *(*last_id)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "stasis_last_checkpoint_id");
            const char *id = last_id ? last_id() : NULL;
            printf("id %s\n", id ? id : "none");
        }
        if (sum != (uint64_t)i * (uint64_t)(i + 1) / 2) sc_fail("sum");
        printf("count %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    printf("OK selfckpt %ld %s pid %d\n", n, result, (int)getpid());
    return 0;
}
