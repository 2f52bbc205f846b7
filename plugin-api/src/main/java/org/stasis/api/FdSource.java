package org.stasis.api;

import java.nio.file.Path;

/**
 * Where a restored file descriptor comes from.
 */
public sealed interface FdSource {
    /**
     * Reopen a file by path.
     *
     * @param path the file (after path rewrites)
     * @param flags the open(2) flags the program had, e.g. O_WRONLY|O_APPEND
     * @param offset the file offset to seek to
     */
    record OpenFile(Path path, int flags, long offset) implements FdSource {
    }

    /**
     * Open a saved copy of a file the program had deleted while it was open, then
     * unlink the copy so the program again holds a deleted file.
     *
     * @param copy the saved copy
     * @param flags the open(2) flags
     * @param offset the file offset
     */
    record UnlinkedCopy(Path copy, int flags, long offset) implements FdSource {
    }

    /**
     * Use a descriptor of the {@code stasis restart} command itself, e.g. its
     * terminal or the pipe it writes to.
     *
     * @param callerFd the descriptor number in the caller
     */
    record Inherited(int callerFd) implements FdSource {
    }

    /**
     * A descriptor that a plugin made in the coordinator's own process (a socket, an
     * eventfd, ...), handed to the restored process over its agent connection once
     * the restorer has recreated it, before any plugin's {@code resume}. The core
     * takes the descriptor over: it closes it once the restart is over, whether it
     * succeeded or not, so the plugin must not close it. Installing one descriptor in
     * several processes or at several numbers shares one open file description, as
     * after fork.
     *
     * @param descriptor a descriptor number in the coordinator's process
     * @param flags the flags the program had (as {@link OpenFd#flags()}): O_CLOEXEC is
     *        applied to this fd, O_NONBLOCK to the open file description
     * @since 1.1
     */
    record Passed(int descriptor, int flags) implements FdSource {
    }
}
