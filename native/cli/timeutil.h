/* Monotonic time in milliseconds, and sleeping. */
#ifndef STASIS_CLI_TIMEUTIL_H
#define STASIS_CLI_TIMEUTIL_H

#include <stdint.h>

int64_t time_now_ms(void);

/* Sleep ms milliseconds (resumed after signals). */
void time_sleep_ms(int64_t ms);

#endif
