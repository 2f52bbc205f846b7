package org.stasis.plugin.socket;

import java.io.IOException;
import java.time.Duration;

/**
 * Sends saved data back into sockets so that it lands, in order, in the receiving
 * end's queue. Nobody reads while this runs (the processes are suspended), so it gives
 * up when the queues stay full for a while instead of waiting forever.
 */
final class Filler {
    private static final int CHUNK = 1 << 16;
    private static final int POLL_MILLIS = 20;

    private final Sockets sockets;
    private final Duration patience;
    private final Limits limits;

    /**
     * @param sockets the system calls
     * @param patience how long the queues may stay full before the rest is given up
     * @param limits how far socket buffers may be enlarged
     */
    Filler(Sockets sockets, Duration patience, Limits limits) {
        this.sockets = sockets;
        this.patience = patience;
        this.limits = limits;
    }

    /**
     * Sends a stream's saved bytes. A new connection has small buffers and nobody
     * reads yet, so when they fill up, the sender's and the receiver's buffers are
     * enlarged (as far as the kernel lets a program) and sending goes on.
     *
     * @param fd the sending end
     * @param data what to send
     * @param receiver the receiving end if the plugin holds it, else -1
     * @return how many bytes could not be sent (0 when all went)
     */
    long stream(int fd, byte[] data, int receiver) throws IOException {
        long left = sendFrom(fd, data, 0);
        if (left > 0) {
            boolean grown = grow(fd, SocketOption.SNDBUF, left);
            if (receiver >= 0) {
                grown |= grow(receiver, SocketOption.RCVBUF, left);
            }
            if (grown) {
                left = sendFrom(fd, data, (int) (data.length - left));
            }
        }
        return left;
    }

    private boolean grow(int fd, SocketOption option, long more) throws IOException {
        long now = option.read(sockets, fd)[0];
        long wanted = Math.min(limits.granted(option), now + 2 * more);
        if (wanted <= now) {
            return false;
        }
        option.write(sockets, fd, new long[] {wanted});
        return true;
    }

    private long sendFrom(int fd, byte[] data, int from) throws IOException {
        int offset = from;
        long stalledSince = System.nanoTime();
        while (offset < data.length) {
            int n = sockets.send(fd, data, offset, Math.min(CHUNK, data.length - offset), null);
            if (n > 0) {
                offset += n;
                stalledSince = System.nanoTime();
            } else if (!waitWritable(fd, stalledSince)) {
                break;
            }
        }
        return data.length - offset;
    }

    /**
     * @param fd the sending socket
     * @param data one message
     * @param to where to send it, or null for the connected peer
     * @return whether it was sent
     */
    boolean message(int fd, byte[] data, Address to) throws IOException {
        long stalledSince = System.nanoTime();
        while (true) {
            if (sockets.send(fd, data, 0, data.length, to) >= 0) {
                return true;
            }
            if (!waitWritable(fd, stalledSince)) {
                return false;
            }
        }
    }

    /**
     * Waits until everything sent through a TCP socket has been taken by its peer.
     *
     * @return whether it was
     */
    boolean flushed(int fd) throws IOException {
        long since = System.nanoTime();
        while (sockets.outQueue(fd) > 0) {
            if (System.nanoTime() - since > patience.toNanos()) {
                return false;
            }
            sockets.poll(new int[] {fd}, new int[] {Net.POLLIN}, POLL_MILLIS);
        }
        return true;
    }

    // A datagram's receiver queue does not always wake the sender: poll briefly and retry.
    private boolean waitWritable(int fd, long stalledSince) throws IOException {
        if (System.nanoTime() - stalledSince > patience.toNanos()) {
            return false;
        }
        sockets.poll(new int[] {fd}, new int[] {Net.POLLOUT}, POLL_MILLIS);
        return true;
    }
}
