/* Work shared out to worker processes, one per usable CPU (verify.c, inflate.c). */
#ifndef STASIS_WORKERS_H
#define STASIS_WORKERS_H
#include <stdint.h>

#define WORKERS_MAX 16

/* the CPUs this process may run on, 1..WORKERS_MAX */
int workers_usable(void);
/* forks min(n, items) workers, each running work(arg) (taking items in turn from shared
 * memory) and exiting with its result; waits for all of them. Returns how many started
 * (0: none could, errno says why); *failed is set when one did not exit with 0 (a
 * worker killed by a signal, e.g. SIGBUS when the file it maps shrank, counts). */
int workers_run(int n, uint64_t items, int (*work)(void *), void *arg, int *failed);
/* the same with threads of this process, for work that writes this process's private
 * memory (inflate.c): returns how many started (0: none, errno says why) */
int workers_run_threads(int n, uint64_t items, int (*work)(void *), void *arg);
#endif
