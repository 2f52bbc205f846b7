package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import com.sun.jna.LastErrorException;
import com.sun.jna.ptr.IntByReference;

/**
 * A listening Unix stream socket that reports each peer's pid and uid as the kernel
 * sees them from here (SO_PEERCRED) — which the JDK's Unix sockets do not offer.
 */
final class UnixServer implements AutoCloseable {
    private static final int SUN_PATH_MAX = 108;

    private final int fd;
    private final Path path;
    private volatile boolean closed;

    /**
     * @param path where to listen; a stale file there is replaced
     * @throws IOException if the socket cannot be created
     */
    UnixServer(Path path) throws IOException {
        this.path = path;
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_MAX) {
            throw new IOException("socket path too long (" + name.length + " bytes, at most 107): " + path
                    + "; set STASIS_RUNTIME_DIR to a shorter directory");
        }
        byte[] address = new byte[2 + name.length + 1];
        address[0] = (byte) LibC.AF_UNIX;
        System.arraycopy(name, 0, address, 2, name.length);
        Files.deleteIfExists(path);
        try {
            fd = LibC.INSTANCE.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
            LibC.INSTANCE.bind(fd, address, address.length);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            LibC.INSTANCE.listen(fd, 64);
        } catch (LastErrorException e) {
            throw new IOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * @return the next connection
     * @throws IOException once the server is closed
     */
    UnixConnection accept() throws IOException {
        while (true) {
            if (closed) {
                throw new IOException("closed");
            }
            int client;
            try {
                client = LibC.INSTANCE.accept4(fd, null, null, LibC.SOCK_CLOEXEC);
            } catch (LastErrorException e) {
                if (closed) {
                    throw new IOException("closed", e);
                }
                continue;
            }
            int[] credentials = new int[3];
            try {
                LibC.INSTANCE.getsockopt(client, LibC.SOL_SOCKET, LibC.SO_PEERCRED, credentials,
                        new IntByReference(12));
            } catch (LastErrorException e) {
                LibC.INSTANCE.close(client);
                continue;
            }
            return new UnixConnection(client, credentials[0], credentials[1]);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            LibC.INSTANCE.shutdown(fd, 2);
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            // Closing is best effort.
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // A stale socket file is replaced on the next start.
        }
    }
}
