package org.stasis.framework.util;

import java.util.Collection;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** Closing descriptors of the coordinator's own process that the JDK does not know of. */
public final class Descriptors {
    /** close(2): the JDK closes only the descriptors it opened itself. */
    private interface Close extends Library {
        int close(int fd) throws LastErrorException;
    }

    private static final Close LIBC = Native.load("c", Close.class);

    private Descriptors() {
    }

    /** @param fds descriptors to close; ones already closed are skipped */
    public static void closeAll(Collection<Integer> fds) {
        for (int fd : fds) {
            try {
                LIBC.close(fd);
            } catch (LastErrorException e) {
                // Already closed: nothing to free.
            }
        }
    }
}
