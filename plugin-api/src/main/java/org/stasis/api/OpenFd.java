package org.stasis.api;

/**
 * An open file descriptor of a process, as its agent reported it once the threads
 * were stopped.
 *
 * @param fd the descriptor number
 * @param target what it refers to: an absolute path, a path followed by
 *        {@code " (deleted)"}, or a kernel object such as {@code pipe:[1234]},
 *        {@code socket:[5678]} or {@code anon_inode:[eventfd]}
 * @param flags the open(2) flags (access mode, O_APPEND, O_NONBLOCK, ...)
 * @param offset the file offset
 */
public record OpenFd(int fd, String target, int flags, long offset) {
    private static final String DELETED = " (deleted)";

    /** What kind of object a descriptor refers to. */
    public enum Kind {
        /** A file or directory reachable by path. */
        PATH,
        /** A file that was deleted while open; only the descriptor keeps it alive. */
        DELETED_FILE,
        /**
         * A terminal: /dev/pts/N, /dev/ttyN, /dev/tty, /dev/console, or the master side
         * of a pseudo-terminal (/dev/ptmx, /dev/pts/ptmx).
         */
        TERMINAL,
        /** Another device under /dev. */
        DEVICE,
        /** A pipe or FIFO. */
        PIPE,
        /** A socket. */
        SOCKET,
        /** An anonymous inode: epoll, eventfd, timerfd, signalfd, inotify, ... */
        ANONYMOUS
    }

    /** @return the kind of object the descriptor refers to */
    public Kind kind() {
        if (target.startsWith("pipe:")) {
            return Kind.PIPE;
        }
        if (target.startsWith("socket:")) {
            return Kind.SOCKET;
        }
        if (target.startsWith("anon_inode:") || !target.startsWith("/")) {
            return Kind.ANONYMOUS;
        }
        if (target.endsWith(DELETED)) {
            return Kind.DELETED_FILE;
        }
        if (target.startsWith("/dev/pts/") || target.matches("/dev/tty[0-9]*|/dev/console|/dev/ptmx")) {
            return Kind.TERMINAL;
        }
        if (target.startsWith("/dev/")) {
            return Kind.DEVICE;
        }
        return Kind.PATH;
    }

    /**
     * @return whether this is the master side of a pseudo-terminal (/dev/ptmx, /dev/pts/ptmx)
     * @since 1.2
     */
    public boolean isPtyMaster() {
        return target.equals("/dev/ptmx") || target.equals("/dev/pts/ptmx");
    }

    /** @return the path without a {@code " (deleted)"} suffix */
    public String path() {
        return target.endsWith(DELETED) ? target.substring(0, target.length() - DELETED.length()) : target;
    }
}
