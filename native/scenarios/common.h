/* Helpers shared by the C scenario programs. */
#ifndef STASIS_SCENARIO_COMMON_H
#define STASIS_SCENARIO_COMMON_H
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* sleep ms, ignoring EINTR (a restart may interrupt a sleep) */
static inline void sc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* restart generation reported by the agent (0 if not restarted or no agent) */
static inline int sc_restarts(void)
{
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "stasis_restart_count");
    return f ? f() : 0;
}

/* the test is done with the program: the file SC_STOP_FILE names exists. A program that
 * steps N times ends at its next step instead (N bounds a run without a test), so that
 * a test does not wait for steps it needs no more; its checks at the end are the same. */
static inline int sc_stop_requested(void)
{
    const char *f = getenv("SC_STOP_FILE");
    return f && *f && access(f, F_OK) == 0;
}

static inline void sc_fail(const char *what)
{
    printf("FAIL %s\n", what);
    fflush(stdout);
    exit(1);
}
#endif
