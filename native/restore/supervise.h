/* The restart's supervisor: all-or-nothing and errors that reach the user
 * (doc/restart-plan.md, "Errors and all-or-nothing"). */
#ifndef STASIS_SUPERVISE_H
#define STASIS_SUPERVISE_H

/* The report channel's write end in every restoring process (close-on-exec, never
 * one of the program's fds; -1: none). Every line written to it is one report:
 * "@proc <pid>", "@ready <pid>", a warning ("...: warning: ...") or an error. */
extern int g_report_fd;

/* Forks the supervisor before anything else happens: the caller returns in the child,
 * which carries out the restart with stderr (the FILE) writing into the report
 * channel. The supervisor (the parent, the process the user started) prints every
 * report on its stderr, tells the coordinator (the plan's agent-socket) about
 * failures, and exits 1 at the first error after killing the whole restart (its child:
 * the pid namespace goes with it). Once every process of the plan reported ready (and
 * the coordinator released them), it exits with the program's status. */
void supervise_start(const char *plan_file);

/* in the child, once the plan is parsed: tell the supervisor which processes to expect */
void supervise_expect(const int *pids, int n);

#endif
