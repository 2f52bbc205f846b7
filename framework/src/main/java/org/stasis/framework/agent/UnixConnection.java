package org.stasis.framework.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import com.sun.jna.LastErrorException;
import org.stasis.framework.util.Descriptors;

/**
 * One accepted Unix stream connection, line oriented, with the peer's credentials.
 */
final class UnixConnection implements AutoCloseable {
    private static final int EINTR = 4;

    private final int fd;
    private final int peerPid;
    private final int peerUid;
    private final byte[] buffer = new byte[8192];
    private final java.util.ArrayDeque<Integer> descriptors = new java.util.ArrayDeque<>();
    private int start;
    private int end;
    private volatile boolean closed;

    UnixConnection(int fd, int peerPid, int peerUid) {
        this.fd = fd;
        this.peerPid = peerPid;
        this.peerUid = peerUid;
    }

    /** @return the peer's pid as seen from the coordinator */
    int peerPid() {
        return peerPid;
    }

    /** @return the peer's uid */
    int peerUid() {
        return peerUid;
    }

    /**
     * @param line a line to send, without its newline
     * @throws IOException if the peer is gone
     */
    synchronized void writeLine(String line) throws IOException {
        writeLine(line, -1);
    }

    /**
     * @param line a line to send, without its newline
     * @param passed a descriptor to pass with the line's first bytes, or -1
     * @throws IOException if the peer is gone
     */
    synchronized void writeLine(String line, int passed) throws IOException {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        int offset = 0;
        while (offset == 0 && passed >= 0) {
            try {
                offset += (int) ScmRights.send(fd, bytes, passed);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new IOException("agent connection: " + e.getMessage(), e);
                }
            }
        }
        while (offset < bytes.length) {
            byte[] rest = offset == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, offset, bytes.length);
            try {
                long n = LibC.INSTANCE.write(fd, rest, rest.length);
                offset += (int) n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new IOException("agent connection: " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * @return whether the peer has closed its end (a process that exec'd or exited since
     *         it connected); data it sent before may still wait to be read
     */
    boolean peerClosed() {
        // struct pollfd on little-endian x86-64: the second int is events | revents << 16
        int[] pollfd = { fd, LibC.POLLRDHUP };
        try {
            int ready = LibC.INSTANCE.poll(pollfd, 1, 0);
            int revents = pollfd[1] >>> 16;
            return ready > 0 && (revents & (LibC.POLLRDHUP | LibC.POLLHUP | LibC.POLLERR)) != 0;
        } catch (LastErrorException e) {
            return false;
        }
    }

    /**
     * @param timeout how long to wait for the line; zero waits forever
     * @return the next line without its newline
     * @throws IOException if the peer closed the connection or did not answer in time
     */
    String readLine(Duration timeout) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long deadline = timeout.isZero() ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        while (true) {
            while (start < end) {
                byte b = buffer[start++];
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
            }
            fill(deadline);
        }
    }

    private void fill(long deadline) throws IOException {
        while (true) {
            if (closed) {
                throw new IOException("agent connection closed");
            }
            long left = deadline == Long.MAX_VALUE ? 1000 : (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new InterruptedIOException("the agent did not answer in time");
            }
            // struct pollfd { int fd; short events; short revents; } on little-endian x86-64
            int[] pollfd = { fd, LibC.POLLIN };
            int ready;
            try {
                ready = LibC.INSTANCE.poll(pollfd, 1, (int) Math.min(left, 1000));
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EINTR) {
                    continue;
                }
                throw new IOException("agent connection: " + e.getMessage(), e);
            }
            if (ready == 0) {
                continue;
            }
            long n;
            try {
                ScmRights.Received received = ScmRights.receive(fd, buffer);
                synchronized (this) {
                    descriptors.addAll(received.fds());
                }
                n = received.count();
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EINTR) {
                    continue;
                }
                throw new IOException("agent connection: " + e.getMessage(), e);
            }
            if (n <= 0) {
                throw new IOException("the agent closed its connection (the process exited)");
            }
            start = 0;
            end = (int) n;
            return;
        }
    }

    /** @return the oldest descriptor the peer passed and nobody took yet, or -1 */
    synchronized int nextDescriptor() {
        Integer next = descriptors.poll();
        return next == null ? -1 : next;
    }

    /** Closes the descriptors the peer passed that nobody took (they would leak). */
    synchronized void discardDescriptors() {
        Descriptors.closeAll(descriptors);
        descriptors.clear();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            discardDescriptors();
            try {
                LibC.INSTANCE.shutdown(fd, 2);
                LibC.INSTANCE.close(fd);
            } catch (LastErrorException e) {
                // Already gone.
            }
        }
    }
}
