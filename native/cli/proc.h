/* Is a process still running? */
#ifndef STASIS_CLI_PROC_H
#define STASIS_CLI_PROC_H

#include <sys/types.h>

/* 1 if pid runs, 0 if it is gone or a zombie (an exited child not yet reaped by
 * its parent, e.g. the JVM started in the background by bin/stasis). */
int proc_alive(pid_t pid);

#endif
