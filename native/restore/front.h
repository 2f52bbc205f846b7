/* The front: the process the user started (stasis-launch, or the supervisor of
 * stasis-restore). It stays in the user's namespaces, outside the computation's, and
 * holds the user's terminal and exit status. A program inside the computation
 * (stasis.restore() in Python) asks it to replace the computation by a checkpoint:
 * the front stops and kills every process of the computation, then becomes
 * `stasis restart` of that checkpoint, so the restored computation starts at the
 * level of the original (no nested namespaces) on the same terminal.
 *
 * Channel: an abstract Unix socket "stasis-front-<inode of the computation's pid
 * namespace>", the same user only; one request line
 * "REPLACE <coordinator-name> <checkpoint-directory>\n", answered "OK\n" (the front
 * then kills the caller) or "ERR <why>\n". */
#ifndef STASIS_FRONT_H
#define STASIS_FRONT_H

#include <sys/types.h>

/* remembers where `stasis` is (the directory of this executable); call before any
 * namespace or /proc change */
void front_init(void);

/* the listening channel for pid namespace `ino`; -1 if it cannot be made */
int front_listen(unsigned long ino);

/* serves one connection on the listening channel: returns if the request was not a
 * valid replace (after answering ERR); on a valid one it kills `child` and every
 * process under it and execs `stasis restart`; never returns then */
void front_serve(int listen_fd, pid_t child);

/* where `stasis kill` marks a computation it kills, from the agent socket
 * <runtime>/<name>.agent.sock: the front then says so as the program ends */
void front_kill_marker(const char *agent_socket);

/* if `stasis kill` marked pid namespace `ino` (front_kill_marker), removes the mark
 * and says so on stderr */
void front_say_if_killed(unsigned long ino);

/* stasis-launch's front: forwards signals to `child`, serves the channel once the
 * child said its namespace on `ns_fd`, and exits with the child's status */
__attribute__((noreturn)) void front_run(pid_t child, int ns_fd);

#endif
