package org.stasis.plugin.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads what waits in a socket's receive queue without taking it (MSG_PEEK), so the
 * program finds it there again after a checkpoint and nothing has to be refilled.
 * Message sockets are walked message by message with the socket's peek offset
 * (SO_PEEK_OFF), which is put back to what it was afterwards.
 */
final class Peeker {
    private static final int CHUNK = 1 << 16;
    private static final int MAX_ADDRESS = 128;
    private static final int MAX_MESSAGES = 1 << 20;

    private final Sockets sockets;
    private final InFlight inFlight;

    Peeker(Sockets sockets) {
        this(sockets, InFlight.load());
    }

    Peeker(Sockets sockets, InFlight inFlight) {
        this.sockets = sockets;
        this.inFlight = inFlight;
    }

    /**
     * @param fd a descriptor of the socket
     * @param socket its description
     * @return what waits in its receive queue
     * @throws IOException if the kernel cannot peek at this socket
     */
    Queued peek(int fd, SocketDescription socket) throws IOException {
        if (socket.isTcp()) {
            return Queued.ofBytes(peekTcp(fd));
        }
        int previous = sockets.intOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF);
        try {
            Queued queued = socket.isStream() ? Queued.ofBytes(peekStream(fd)) : Queued.ofMessages(peekMessages(fd, socket));
            // After the data: the kernel marks a peeked empty datagram, and a second walk skips it.
            long descriptors = queued.isEmpty() ? 0 : descriptorsInFlight(fd);
            if (descriptors > 0) {
                throw new IOException(socket.describe() + " has " + descriptors + " descriptor(s) in flight"
                        + " (SCM_RIGHTS) in its queue, which a restart cannot bring back: the checkpoint is refused;"
                        + " checkpoint again once the program has received them");
            }
            return queued;
        } finally {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF, previous);
        }
    }

    // Walks the queue with room for control messages: any SCM_RIGHTS shows up as descriptors.
    private long descriptorsInFlight(int fd) throws IOException {
        long found = 0;
        long offset = 0;
        for (int i = 0; i < MAX_MESSAGES; i++) {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF, (int) offset);
            long[] peeked = inFlight.descriptorsAt(fd, CHUNK);
            found += peeked[1];
            if (peeked[0] <= 0 || found > 0) {
                break;
            }
            offset += peeked[0];
        }
        return found;
    }

    // One MSG_PEEK returns all of a TCP queue (older kernels have no peek offset for TCP).
    private byte[] peekTcp(int fd) throws IOException {
        int waiting = sockets.inQueue(fd);
        if (waiting <= 0) {
            return new byte[0];
        }
        byte[] buffer = new byte[waiting + 1];
        while (true) {
            int n = sockets.receive(fd, buffer, Net.MSG_PEEK, null, null);
            if (n <= 0) {
                return new byte[0];
            }
            if (n < buffer.length) {
                return Arrays.copyOf(buffer, n);
            }
            buffer = new byte[buffer.length * 2];
        }
    }

    private byte[] peekStream(int fd) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        byte[] buffer = new byte[CHUNK];
        while (true) {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF, data.size());
            int n = sockets.receive(fd, buffer, Net.MSG_PEEK, null, null);
            if (n <= 0) {
                return data.toByteArray();
            }
            data.write(buffer, 0, n);
        }
    }

    private List<Queued.Message> peekMessages(int fd, SocketDescription socket) throws IOException {
        List<Queued.Message> messages = new ArrayList<>();
        byte[] buffer = new byte[CHUNK];
        int offset = 0;
        boolean ended = (socket.shutdown() & Net.RCV_SHUTDOWN) != 0;
        while (messages.size() < MAX_MESSAGES) {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF, offset);
            byte[] from = new byte[MAX_ADDRESS];
            int[] fromLength = {from.length};
            int n = sockets.receive(fd, buffer, Net.MSG_PEEK | Net.MSG_TRUNC, from, fromLength);
            if (n == Sockets.WOULD_BLOCK || n == 0 && ended) {
                break;
            }
            if (n > buffer.length) {
                buffer = new byte[n]; // the message was cut: read it again whole
                continue;
            }
            Address sender = new Address(Arrays.copyOf(from, Math.min(fromLength[0], from.length)));
            messages.add(new Queued.Message(sender, Arrays.copyOf(buffer, n)));
            offset += n;
        }
        return messages;
    }
}
