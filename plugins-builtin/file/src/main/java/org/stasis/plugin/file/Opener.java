package org.stasis.plugin.file;

import java.io.IOException;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Opens a file in the coordinator's own process, to hand one open file description
 * to several restored descriptors ({@link org.stasis.api.FdSource.Passed}).
 */
final class Opener {
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_NOCTTY = 0400;
    private static final int O_TRUNC = 01000;
    private static final int O_CLOEXEC = 02000000;
    private static final int ESPIPE = 29;

    /** The two libc calls the JDK does not offer with a plain descriptor. */
    interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final LibC libc = Native.load("c", LibC.class);

    /**
     * @param path the file
     * @param flags the program's flags; creating and truncating ones are dropped, as the
     *        restorer does (the file exists, and its contents must stay)
     * @param offset where the description's offset was
     * @return the descriptor (close-on-exec in the coordinator)
     * @throws IOException if the file cannot be opened
     */
    int open(String path, int flags, long offset) throws IOException {
        int fd;
        try {
            fd = libc.open(path, (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot reopen " + path + ": " + e.getMessage(), e);
        }
        try {
            libc.lseek(fd, offset, 0);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != ESPIPE) {
                libc.close(fd);
                throw new IOException("cannot seek " + path + " to " + offset + ": " + e.getMessage(), e);
            }
        }
        return fd;
    }
}
