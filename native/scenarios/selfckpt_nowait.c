/* Scenario: stasis_checkpoint_nowait() from inside the program. selfckpt_nowait N K [STEP_MS]
 * counts to N; at step K asks for a checkpoint without waiting for its publication and
 * prints what the call returned ("resumed", "restarted"), the checkpoint's id then
 * ("id none" if none), and at the end the id again (NULL once it was unpublished). */
#include "common.h"
#include <stdint.h>
#include <unistd.h>

typedef const char *(*last_id_fn)(void);

static const char *last_id(void)
{
    last_id_fn fn = (last_id_fn)dlsym(RTLD_DEFAULT, "stasis_last_checkpoint_id");
    const char *id = fn ? fn() : NULL;
    return id ? id : "none";
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50, k = argc > 2 ? atol(argv[2]) : 10;
    long step = argc > 3 ? atol(argv[3]) : 10;
    int (*ckpt)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "stasis_checkpoint_nowait");
    uint64_t sum = 0;
    const char *result = "none";
    for (long i = 1; i <= n; i++) {
        sum += (uint64_t)i;
        if (i == k) {
            int r = ckpt ? ckpt() : -1;
            result = r == 1 ? "resumed" : r == 2 ? "restarted" : "failed";
            printf("checkpoint %s\n", result);
            printf("id %s\n", last_id());
        }
        if (sum != (uint64_t)i * (uint64_t)(i + 1) / 2) sc_fail("sum");
        printf("count %ld\n", i);
        fflush(stdout);
        sc_sleep_ms(step);
    }
    printf("final id %s\n", last_id());
    printf("OK selfckpt_nowait %ld %s pid %d\n", n, result, (int)getpid());
    return 0;
}
