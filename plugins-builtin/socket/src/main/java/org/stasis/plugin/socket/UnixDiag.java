package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * What the kernel tells about Unix sockets through netlink sock_diag
 * ({@code NETLINK_SOCK_DIAG}, {@code unix_diag_req}): above all each socket's peer,
 * by inode, which no other interface gives (/proc/net/unix has no peer column). One
 * dump covers every Unix socket of the coordinator's network namespace.
 */
final class UnixDiag {
    /**
     * One Unix socket as sock_diag reports it.
     *
     * @param inode its inode
     * @param type SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
     * @param state the kernel state (TCP_LISTEN, TCP_ESTABLISHED, TCP_CLOSE)
     * @param peer the peer's inode (0 if not connected, or if the peer is gone)
     * @param waiting for a listener: the inodes of clients not accepted yet
     * @param backlog for a listener: its listen backlog
     * @param shutdown the shutdown bits
     */
    record Entry(long inode, int type, int state, long peer, long[] waiting, int backlog, int shutdown) {
        Entry {
            waiting = waiting.clone();
        }

        @Override
        public long[] waiting() {
            return waiting.clone();
        }
    }

    private static final int NETLINK_SOCK_DIAG = 4;
    private static final int SOCK_DIAG_BY_FAMILY = 20;
    private static final int NLM_F_REQUEST = 1;
    private static final int NLM_F_DUMP = 0x300;
    private static final int NLMSG_ERROR = 2;
    private static final int NLMSG_DONE = 3;
    private static final int UDIAG_SHOW_PEER = 0x4;
    private static final int UDIAG_SHOW_ICONS = 0x8;
    private static final int UDIAG_SHOW_RQLEN = 0x10;
    private static final int UNIX_DIAG_PEER = 2;
    private static final int UNIX_DIAG_ICONS = 3;
    private static final int UNIX_DIAG_RQLEN = 4;
    private static final int UNIX_DIAG_SHUTDOWN = 6;
    private static final int HEADER = 16;
    private static final int MESSAGE = 16;
    private static final int TIMEOUT_MILLIS = 5000;

    private final Sockets sockets;

    UnixDiag(Sockets sockets) {
        this.sockets = sockets;
    }

    /**
     * @return every Unix socket of the network namespace, by inode
     * @throws IOException if the kernel refuses (e.g. no sock_diag support)
     */
    Map<Long, Entry> dump() throws IOException {
        int fd = sockets.socket(Net.AF_NETLINK, Net.SOCK_DGRAM, NETLINK_SOCK_DIAG);
        try {
            int sequence = (int) (System.nanoTime() & 0x7fffffff);
            byte[] request = request(sequence);
            if (sockets.send(fd, request, 0, request.length, null) != request.length) {
                throw new IOException("sock_diag: the request was not sent whole");
            }
            Map<Long, Entry> entries = new HashMap<>();
            byte[] buffer = new byte[1 << 16];
            while (true) {
                int n = sockets.receive(fd, buffer, 0, null, null);
                if (n == Sockets.WOULD_BLOCK) {
                    int[] ready = sockets.poll(new int[] {fd}, new int[] {Net.POLLIN}, TIMEOUT_MILLIS);
                    if (ready[0] == 0) {
                        throw new IOException("sock_diag: the kernel did not answer within " + TIMEOUT_MILLIS + " ms");
                    }
                    continue;
                }
                if (parse(ByteBuffer.wrap(buffer, 0, n).order(ByteOrder.nativeOrder()), sequence, entries)) {
                    return entries;
                }
            }
        } finally {
            sockets.close(fd);
        }
    }

    /** @return a dump request for every Unix socket, with peers, pending clients, queue lengths */
    static byte[] request(int sequence) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + 24).order(ByteOrder.nativeOrder());
        b.putInt(HEADER + 24).putShort((short) SOCK_DIAG_BY_FAMILY).putShort((short) (NLM_F_REQUEST | NLM_F_DUMP))
                .putInt(sequence).putInt(0);
        b.put((byte) Net.AF_UNIX).put((byte) 0).putShort((short) 0);
        b.putInt(-1); // every state
        b.putInt(0); // every inode
        b.putInt(UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN);
        b.putInt(-1).putInt(-1); // no cookie
        return b.array();
    }

    /**
     * Parses one datagram of the dump.
     *
     * @return whether the dump is complete
     * @throws IOException if the kernel answered with an error
     */
    static boolean parse(ByteBuffer data, int sequence, Map<Long, Entry> into) throws IOException {
        while (data.remaining() >= HEADER) {
            int start = data.position();
            int length = data.getInt();
            int type = data.getShort() & 0xffff;
            data.getShort();
            int seq = data.getInt();
            data.getInt();
            if (length < HEADER || start + length > data.limit()) {
                throw new IOException("sock_diag: malformed answer");
            }
            if (seq == sequence) {
                if (type == NLMSG_DONE) {
                    return true;
                }
                if (type == NLMSG_ERROR) {
                    int errno = -data.getInt();
                    throw new SyscallException("sock_diag: the kernel refused the Unix socket dump (errno " + errno + ")",
                            errno, null);
                }
                if (type == SOCK_DIAG_BY_FAMILY && length >= HEADER + MESSAGE) {
                    Entry entry = entry(data.duplicate().order(ByteOrder.nativeOrder()).position(start + HEADER)
                            .limit(start + length));
                    into.put(entry.inode(), entry);
                }
            }
            data.position(Math.min(data.limit(), start + align(length)));
        }
        return false;
    }

    private static Entry entry(ByteBuffer message) {
        message.get(); // family
        int type = message.get() & 0xff;
        int state = message.get() & 0xff;
        message.get();
        long inode = message.getInt() & 0xffffffffL;
        message.getLong(); // cookie
        long peer = 0;
        long[] waiting = new long[0];
        int backlog = 0;
        int shutdown = 0;
        while (message.remaining() >= 4) {
            int at = message.position();
            int length = message.getShort() & 0xffff;
            int kind = message.getShort() & 0x3fff;
            if (length < 4 || at + length > message.limit()) {
                break;
            }
            ByteBuffer value = message.duplicate().order(ByteOrder.nativeOrder()).position(at + 4).limit(at + length);
            switch (kind) {
                case UNIX_DIAG_PEER -> peer = value.getInt() & 0xffffffffL;
                case UNIX_DIAG_ICONS -> {
                    waiting = new long[value.remaining() / 4];
                    for (int i = 0; i < waiting.length; i++) {
                        waiting[i] = value.getInt() & 0xffffffffL;
                    }
                }
                case UNIX_DIAG_RQLEN -> {
                    value.getInt();
                    backlog = value.getInt(); // a listener's write queue length is its backlog
                }
                case UNIX_DIAG_SHUTDOWN -> shutdown = value.get() & 0xff;
                default -> {
                    // Names, memory figures and the owner are not needed.
                }
            }
            message.position(Math.min(message.limit(), at + align(length)));
        }
        return new Entry(inode, type, state, peer, waiting, state == Net.TCP_LISTEN ? backlog : 0, shutdown);
    }

    private static int align(int length) {
        return (length + 3) & ~3;
    }
}
