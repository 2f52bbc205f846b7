package org.stasis.framework.agent;

import java.util.Collection;

import com.sun.jna.LastErrorException;

/** Closing descriptors of the coordinator's own process that the JDK does not know of. */
public final class Descriptors {
    private Descriptors() {
    }

    /** @param fds descriptors to close; ones already closed are skipped */
    public static void closeAll(Collection<Integer> fds) {
        for (int fd : fds) {
            try {
                LibC.INSTANCE.close(fd);
            } catch (LastErrorException e) {
                // Already closed: nothing to free.
            }
        }
    }
}
