package org.stasis.samples.reconnect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;

/** What the tests do with raw descriptors besides what the plugin does. */
final class RawFds {
    interface C extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        long write(int fd, byte[] buffer, long count) throws LastErrorException;

        long read(int fd, byte[] buffer, long count) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    static final C C = com.sun.jna.Native.load("c", C.class);

    private RawFds() {
    }

    /**
     * Counts sockets only: the JVM opens and closes other descriptors (jars, class files) on its own
     * threads while a test runs, and a leak these tests look for is always a socket.
     *
     * @return how many sockets this process has open
     */
    static long openSockets() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(RawFds::isSocket).count();
        }
    }

    private static boolean isSocket(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString().startsWith("socket:");
        } catch (IOException closedMeanwhile) {
            return false;
        }
    }
}
