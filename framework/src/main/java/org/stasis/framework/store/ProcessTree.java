package org.stasis.framework.store;

import java.util.List;

/**
 * Where a process sat in the computation's process tree when it was suspended; pids
 * as seen inside the computation (0 = outside its pid namespace, e.g. the parent of
 * the launched program or a session that began outside the computation).
 *
 * @param pid the process
 * @param parentPid its parent
 * @param processGroup its process group
 * @param session its session
 * @param exitedChildren its children that had exited but were not reaped yet
 *        (zombies: they have no image; a restart recreates them as zombies)
 */
public record ProcessTree(int pid, int parentPid, int processGroup, int session, List<ExitedChild> exitedChildren) {

    /**
     * @param pid the process
     * @param parentPid its parent
     * @param processGroup its process group
     * @param session its session
     */
    public ProcessTree(int pid, int parentPid, int processGroup, int session) {
        this(pid, parentPid, processGroup, session, List.of());
    }

    /** Never null (older manifests have none). */
    public ProcessTree {
        exitedChildren = exitedChildren == null ? List.of() : List.copyOf(exitedChildren);
    }

    /**
     * An exited, unreaped child.
     *
     * @param pid its pid
     * @param waitStatus the status {@code waitpid} will report for it
     */
    public record ExitedChild(int pid, int waitStatus) {
    }
}
