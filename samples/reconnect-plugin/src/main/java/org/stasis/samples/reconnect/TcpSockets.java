package org.stasis.samples.reconnect;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * TCP sockets seen through descriptor numbers of the coordinator's own process: the
 * duplicates {@code ProcessAccess.duplicate} hands out at checkpoint, and the new
 * connections this plugin makes at restart.
 */
final class TcpSockets {
    private final LibC libc;

    /** Loads the C library through JNA. */
    TcpSockets() {
        this.libc = Native.load("c", LibC.class);
    }

    /**
     * What a descriptor is connected to, if it is a connected TCP socket over IPv4 or
     * IPv6. Only reads: the program's socket is left as it was.
     *
     * @param fd a descriptor of this process
     * @return the connection, or empty for any other socket (Unix, UDP, listening,
     *         reset by its peer)
     * @throws IOException if the descriptor cannot be inspected at all
     */
    Optional<TcpConnection> describe(int fd) throws IOException {
        int domain = option(fd, LibC.SOL_SOCKET, LibC.SO_DOMAIN);
        if ((domain != LibC.AF_INET && domain != LibC.AF_INET6)
                || option(fd, LibC.SOL_SOCKET, LibC.SO_TYPE) != LibC.SOCK_STREAM
                || option(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL) != LibC.IPPROTO_TCP) {
            return Optional.empty();
        }
        byte[] address = new byte[128];   // struct sockaddr_storage
        int[] length = { address.length };
        try {
            libc.getpeername(fd, address, length);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENOTCONN) {
                return Optional.empty();
            }
            throw failure("getpeername", e);
        }
        return Optional.of(new TcpConnection(domain, SocketAddresses.decode(address, length[0]),
                option(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY) != 0,
                option(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE) != 0));
    }

    /**
     * Opens a new connection like the saved one: same family, peer and options.
     *
     * @param connection the saved connection
     * @param timeout how long to wait for the peer to accept
     * @return the connected socket, non-blocking and close-on-exec in this process
     * @throws IOException if the peer refuses or does not answer in time (nothing is
     *         left open then)
     */
    int connect(TcpConnection connection, Duration timeout) throws IOException {
        int fd;
        try {
            // Non-blocking so that an unreachable host costs the timeout, not minutes of SYN retries.
            fd = libc.socket(connection.domain(), LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC,
                    LibC.IPPROTO_TCP);
        } catch (LastErrorException e) {
            throw failure("socket", e);
        }
        try {
            setOption(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, connection.noDelay());
            setOption(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, connection.keepAlive());
            byte[] address = SocketAddresses.encode(connection.domain(), connection.peer());
            try {
                libc.connect(fd, address, address.length);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.EINPROGRESS) {
                    throw failure("connect", e);
                }
                awaitConnected(fd, timeout);
            }
            return fd;
        } catch (IOException | RuntimeException e) {
            libc.close(fd);
            throw e;
        }
    }

    private void awaitConnected(int fd, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        LibC.PollFd poll = new LibC.PollFd();
        poll.fd = fd;
        poll.events = LibC.POLLOUT;
        while (true) {
            int left = (int) Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
            try {
                if (libc.poll(poll, 1, left) == 0) {
                    throw new IOException("no answer within " + timeout.toMillis() + " ms");
                }
                break;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.EINTR) {
                    throw failure("poll", e);
                }
            }
        }
        int error = option(fd, LibC.SOL_SOCKET, LibC.SO_ERROR);
        if (error != 0) {
            throw new IOException(libc.strerror(error));
        }
    }

    private int option(int fd, int level, int name) throws IOException {
        int[] value = { 0 };
        int[] length = { 4 };
        try {
            libc.getsockopt(fd, level, name, value, length);
        } catch (LastErrorException e) {
            throw failure("getsockopt", e);
        }
        return value[0];
    }

    private void setOption(int fd, int level, int name, boolean on) throws IOException {
        try {
            libc.setsockopt(fd, level, name, new int[] { on ? 1 : 0 }, 4);
        } catch (LastErrorException e) {
            throw failure("setsockopt", e);
        }
    }

    private IOException failure(String call, LastErrorException e) {
        return new IOException(call + ": " + libc.strerror(e.getErrorCode()));
    }
}
