package org.stasis.api;

/**
 * A process of the computation as the core sees it at the time of an event.
 *
 * @param pid the process id inside the computation (what the program's getpid() says)
 * @param hostPid the same process seen from the coordinator (differs when the
 *        computation runs in its own pid namespace); use it for /proc lookups
 * @param parentPid the parent's pid inside the computation, 0 for the root process
 * @param command the program's command line, for display
 */
public record ProcessInfo(int pid, int hostPid, int parentPid, String command) {
}
