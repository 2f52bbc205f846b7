package org.stasis.plugin.event;

import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;

import com.sun.jna.Memory;

/**
 * Tells whether two descriptors in the coordinator refer to the same kernel object.
 * /proc cannot: every epoll, eventfd, timerfd, signalfd and inotify instance shows the
 * one shared anonymous inode. kcmp(2) compares the objects themselves; where a seccomp
 * filter or the kernel refuses it, the open file description's status flags serve as
 * a probe (they belong to the description, not to the descriptor).
 */
final class Identity {
    private static final int KCMP_FILE = 0;
    private static final int KCMP_EPOLL_TFD = 7;

    private final Kernel kernel;

    Identity(Kernel kernel) {
        this.kernel = kernel;
    }

    /**
     * @param first a descriptor of the coordinator
     * @param second another one
     * @return whether both refer to the same open file description
     */
    boolean sameFile(int first, int second) throws IOException {
        OptionalInt order = kernel.kcmp(KCMP_FILE, first, second);
        if (order.isPresent()) {
            return order.getAsInt() == 0;
        }
        return sameByFlagProbe(first, second);
    }

    // The processes are suspended, so flipping O_NONBLOCK for a moment goes unseen.
    private boolean sameByFlagProbe(int first, int second) throws IOException {
        int flags = kernel.statusFlags(first);
        if (kernel.statusFlags(second) != flags) {
            return false;
        }
        kernel.statusFlags(first, flags ^ Kernel.O_NONBLOCK);
        try {
            return kernel.statusFlags(second) != flags;
        } finally {
            kernel.statusFlags(first, flags);
        }
    }

    /**
     * Whether a file is the one an epoll instance has registered under a number.
     *
     * @param file a descriptor of the coordinator for the candidate file
     * @param epoll a descriptor of the coordinator for the epoll instance
     * @param registeredFd the number the registration was made with
     * @param occurrence which registration with that number (0 for the first)
     * @return the answer, or empty if kcmp is not available
     */
    Optional<Boolean> registered(int file, int epoll, int registeredFd, int occurrence) throws IOException {
        try (Memory slot = new Memory(12)) {
            slot.setInt(0, epoll);
            slot.setInt(4, registeredFd);
            slot.setInt(8, occurrence);
            OptionalInt order = kernel.kcmp(KCMP_EPOLL_TFD, file, Kernel.address(slot));
            return order.isPresent() ? Optional.of(order.getAsInt() == 0) : Optional.empty();
        }
    }
}
