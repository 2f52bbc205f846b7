package org.stasis.plugin.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Empties one direction of a TCP connection between two sockets of the computation.
 * Bytes may still sit in the sender's queue or on the way, so the receiver's queue
 * alone does not tell what is in flight: a random cookie is sent through the
 * sender's end, behind everything the program sent, and the receiver's end is read
 * until the cookie comes out. What came before it is the data in flight; nothing is
 * left in the kernel. It must be sent again (through the sender's end) to resume.
 */
final class CookieDrain {
    static final int COOKIE = 16;
    private static final int CHUNK = 1 << 16;
    private static final int POLL_MILLIS = 100;

    private final Sockets sockets;
    private final RandomGenerator random;
    private final Duration timeout;

    CookieDrain(Sockets sockets, RandomGenerator random, Duration timeout) {
        this.sockets = sockets;
        this.random = random;
        this.timeout = timeout;
    }

    /**
     * @param sender a descriptor of the sending end
     * @param receiver a descriptor of the receiving end
     * @param into receives the data in flight, also when this fails (it must be put back)
     * @param what the connection, for messages
     * @throws IOException if the cookie does not arrive in time or the connection breaks
     */
    void drain(int sender, int receiver, ByteArrayOutputStream into, String what) throws IOException {
        byte[] cookie = new byte[COOKIE];
        random.nextBytes(cookie);
        Buffer data = new Buffer();
        int sent = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] chunk = new byte[CHUNK];
        boolean done = false;
        try {
            while (true) {
                if (sent < cookie.length) {
                    sent += Math.max(0, sendCookie(sender, cookie, sent, what));
                }
                int n = sockets.receive(receiver, chunk, 0, null, null);
                if (n > 0) {
                    data.append(chunk, n);
                    if (data.endsWith(cookie)) {
                        data.drop(cookie.length);
                        done = true;
                        return;
                    }
                    continue;
                }
                if (n == 0) {
                    throw new IOException(what + ": the connection ended before the drain cookie came through");
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException(what + ": the drain cookie did not come through within "
                            + timeout.toSeconds() + " s (" + data.length + " bytes read); is the receiving end stalled?");
                }
                sockets.poll(new int[] {sender, receiver}, new int[] {sent < cookie.length ? Net.POLLOUT : 0, Net.POLLIN},
                        (int) Math.min(POLL_MILLIS, Math.max(1, left / 1_000_000)));
            }
        } finally {
            if (!done) {
                takeTheRest(receiver, chunk, data);
            }
            into.write(data.bytes, 0, data.length);
        }
    }

    private int sendCookie(int sender, byte[] cookie, int sent, String what) throws IOException {
        try {
            return sockets.send(sender, cookie, sent, cookie.length - sent, null);
        } catch (SyscallException e) {
            throw new IOException(what + ": the drain cookie cannot be sent: " + e.getMessage(), e);
        }
    }

    // After a failure all that is readable is taken too, so that what is put back keeps its order as far as it can.
    private void takeTheRest(int receiver, byte[] chunk, Buffer data) {
        try {
            int n;
            while ((n = sockets.receive(receiver, chunk, 0, null, null)) > 0) {
                data.append(chunk, n);
            }
        } catch (IOException e) {
            // What was read so far is still handed back.
        }
    }

    /** A growable byte array that can lose its tail. */
    static final class Buffer {
        byte[] bytes = new byte[CHUNK];
        int length;

        void append(byte[] chunk, int n) {
            if (length + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + n));
            }
            System.arraycopy(chunk, 0, bytes, length, n);
            length += n;
        }

        boolean endsWith(byte[] tail) {
            return length >= tail.length
                    && Arrays.equals(bytes, length - tail.length, length, tail, 0, tail.length);
        }

        void drop(int n) {
            length -= n;
        }
    }
}
