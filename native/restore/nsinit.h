/* User+pid+mount namespaces with a minimal init (pid 1), shared by stasis-launch
 * and stasis-restore. */
#ifndef STASIS_NSINIT_H
#define STASIS_NSINIT_H
#include <stdint.h>
#include <sys/types.h>

/* Enter new user+pid+mount namespaces (own uid/gid mapped to itself).
 * Returns 0, or -1 with errno set (namespaces unavailable). */
int ns_enter(void);

/* After ns_enter: processes forked from now on live in a new time namespace where
 * CLOCK_MONOTONIC/BOOTTIME never read less than the given values (a restart after a
 * reboot must not move them backwards). Returns 0, or -1 (no time namespaces). */
int ns_time_not_before(const int64_t monotonic[2], const int64_t boottime[2]);

/* After ns_enter: fork the init (pid 1), which mounts a fresh /proc and creates
 * the program process with pid want_pid (clone3 set_tid; 0 = next free pid).
 * Returns only in that program process (returns 0). The caller and init never
 * return: they forward SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 down to the
 * program while it lives. The caller exits with the program's status (128+signal if
 * it was killed) as soon as the program ends, which init reports through a pipe;
 * init lives on, reaping every process of the namespace (orphans are reparented to
 * it), until the last one has ended, so daemons outlive the program. Until then init
 * dies with the caller (PR_SET_PDEATHSIG); afterwards it lets go of the caller and
 * of its stdin/stdout/stderr. */
int ns_spawn(pid_t want_pid, const char *who);
/* memory that only the restored process needs (a decompressed image, inflate.c): the
 * sides that stay behind in ns_spawn unmap it, so that its pages are the restored
 * process's alone rather than shared copy-on-write with them */
void ns_forget(void *addr, uint64_t len);
/* Like ns_spawn for several processes: init calls build(&main_child), which creates
 * the processes (ns_clone_pid) and returns their index in each of them (>= 0), or
 * -1 in init with *main_child set to the process whose exit status the caller
 * reports. Returns that index in each created process. */
int ns_spawn_tree(int (*build)(pid_t *main_child), const char *who);
/* Where ns_spawn_tree says "@pidns <inode>\n" (the new pid namespace, once its init
 * exists) for the front's replace channel (front.h); -1 (default): nowhere. */
extern int g_ns_report_fd;
/* clone3 with set_tid = want (0: next free pid), SIGCHLD on exit; fork semantics.
 * Returns 0 in the child, its pid in the parent, -1 with errno on failure. */
pid_t ns_clone_pid(pid_t want);
#endif
