package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Describes live sockets (the coordinator's duplicates of the program's) with
 * ordinary system calls: family, type, state, addresses, options. Options are kept
 * only where they differ from what a new socket of the same kind has, so that a
 * restart sets what the program set and nothing else (setting a buffer size, for
 * one, would switch off the kernel's automatic sizing).
 */
final class Describer {
    private static final int TCP_INFO_SIZE = 104;
    private static final int TCPI_SACKED = 28;

    /** Where the description of a Unix socket comes from (sock_diag, asked only if needed). */
    @FunctionalInterface
    interface UnixLookup {
        Optional<UnixDiag.Entry> find(long inode) throws IOException;
    }

    private final Sockets sockets;
    private final Map<String, Map<SocketOption, long[]>> defaults = new HashMap<>();
    private final Limits limits;

    /**
     * @param sockets the system calls
     * @param sysctl where the kernel's limits are ({@code /proc/sys/net/core})
     */
    Describer(Sockets sockets, Path sysctl) {
        this.sockets = sockets;
        this.limits = Limits.read(sysctl);
    }

    /**
     * @param inode the socket's inode
     * @param fd a descriptor of it in this process
     * @param unix what sock_diag says about Unix sockets
     * @param cwd the owning process's working directory, for relative Unix path names (null if unknown)
     * @return the description
     */
    SocketDescription describe(long inode, int fd, UnixLookup unix, Path cwd) throws IOException {
        int family = sockets.intOption(fd, Net.SOL_SOCKET, Net.SO_DOMAIN);
        int type = sockets.intOption(fd, Net.SOL_SOCKET, Net.SO_TYPE);
        int protocol = sockets.intOption(fd, Net.SOL_SOCKET, Net.SO_PROTOCOL);
        boolean listening = sockets.intOption(fd, Net.SOL_SOCKET, Net.SO_ACCEPTCONN) != 0;
        boolean known = family == Net.AF_UNIX || family == Net.AF_INET || family == Net.AF_INET6;
        Address local = known ? absolute(sockets.localAddress(fd), cwd) : Address.NONE;
        Address peer = known ? absolute(sockets.peerAddress(fd), cwd) : Address.NONE;
        int state;
        int shutdown = 0;
        int backlog = 0;
        long peerInode = 0;
        long[] waiting = new long[0];
        if (family == Net.AF_UNIX) {
            UnixDiag.Entry entry = unix.find(inode).orElseThrow(() -> new IOException(
                    "sock_diag does not know Unix socket socket:[" + inode + "]"));
            state = entry.state();
            shutdown = entry.shutdown();
            backlog = entry.backlog();
            peerInode = entry.peer();
            waiting = entry.waiting();
        } else if (type == Net.SOCK_STREAM && protocol == Net.IPPROTO_TCP) {
            ByteBuffer info = ByteBuffer.wrap(sockets.option(fd, Net.IPPROTO_TCP, Net.TCP_INFO, TCP_INFO_SIZE))
                    .order(ByteOrder.nativeOrder());
            state = info.get(0) & 0xff;
            shutdown = tcpShutdown(state) | (readShut(fd, state) ? Net.RCV_SHUTDOWN : 0);
            if (state == Net.TCP_LISTEN) {
                backlog = info.getInt(TCPI_SACKED); // a listener's tcpi_sacked is its backlog
            }
        } else {
            state = listening ? Net.TCP_LISTEN : peer.equals(Address.NONE) ? Net.TCP_CLOSE : Net.TCP_ESTABLISHED;
        }
        boolean tcpConnection = type == Net.SOCK_STREAM && family != Net.AF_UNIX && state != Net.TCP_LISTEN
                && state != Net.TCP_CLOSE;
        return new SocketDescription(inode, family, type, protocol, state, shutdown, backlog, local, peer, peerInode,
                waiting, options(fd, family, type, protocol, tcpConnection));
    }

    /** A TCP state says which way the connection was shut: by us (FIN sent) and/or by the peer (FIN received). */
    static int tcpShutdown(int state) {
        int bits = 0;
        if (List.of(Net.TCP_FIN_WAIT1, Net.TCP_FIN_WAIT2, Net.TCP_CLOSING, Net.TCP_LAST_ACK, Net.TCP_TIME_WAIT)
                .contains(state)) {
            bits |= Net.SEND_SHUTDOWN;
        }
        if (List.of(Net.TCP_CLOSE_WAIT, Net.TCP_LAST_ACK, Net.TCP_CLOSING, Net.TCP_TIME_WAIT).contains(state)) {
            bits |= Net.RCV_SHUTDOWN;
        }
        return bits;
    }

    /*
     * shutdown(SHUT_RD) on a TCP socket changes no TCP state and sends nothing: the
     * socket only reports end of stream once its queue is read. A peek behind the
     * queued bytes (SO_PEEK_OFF) says so without taking anything. Only asked where the
     * peer has not closed (else the end of stream is the peer's). A kernel without a
     * TCP peek offset can tell only for an empty queue.
     */
    private boolean readShut(int fd, int state) throws IOException {
        if (state != Net.TCP_ESTABLISHED && state != Net.TCP_FIN_WAIT1 && state != Net.TCP_FIN_WAIT2) {
            return false;
        }
        int queued = sockets.inQueue(fd);
        int previous = sockets.intOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF);
        try {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF, queued);
        } catch (SyscallException e) {
            if (queued > 0) {
                return false;
            }
        }
        try {
            return sockets.receive(fd, new byte[1], Net.MSG_PEEK, null, null) == 0;
        } finally {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_PEEK_OFF, previous);
        }
    }

    // Unix path names are reported as the program gave them; a restart binds from elsewhere.
    private static Address absolute(Address address, Path cwd) {
        if (!address.isPath() || address.path().startsWith("/") || cwd == null) {
            return address;
        }
        try {
            return Address.unixPath(cwd.resolve(address.path()).normalize().toString());
        } catch (IllegalArgumentException e) {
            return address;
        }
    }

    private Map<SocketOption, long[]> options(int fd, int family, int type, int protocol, boolean tcpConnection)
            throws IOException {
        Map<SocketOption, long[]> fresh = defaults(family, type, protocol);
        Map<SocketOption, long[]> set = new EnumMap<>(SocketOption.class);
        for (SocketOption option : SocketOption.values()) {
            if (!option.appliesTo(family, type) || !fresh.containsKey(option)) {
                continue;
            }
            long[] value;
            try {
                value = option.read(sockets, fd);
            } catch (SyscallException e) {
                continue;
            }
            if (!Arrays.equals(value, fresh.get(option)) && !autoSized(option, value[0], fresh.get(option)[0],
                    tcpConnection)) {
                set.put(option, value);
            }
        }
        return set;
    }

    /*
     * TCP sizes the buffers of a connection itself unless the program set them, and
     * nothing tells the two apart afterwards. Sizes beyond what a program may ask
     * for, and larger sizes on a connection (the kernel only grows them), are taken
     * for the kernel's: setting them at restart would switch its sizing off. A size a
     * program set on a listener is kept, and connections accepted from it inherit it.
     */
    private boolean autoSized(SocketOption option, long value, long fresh, boolean tcpConnection) {
        if (option != SocketOption.RCVBUF && option != SocketOption.SNDBUF) {
            return false;
        }
        return value > limits.granted(option) || tcpConnection && value > fresh;
    }

    /** @return the option values a new socket of this kind starts with */
    Map<SocketOption, long[]> defaults(int family, int type, int protocol) throws IOException {
        String key = family + "/" + type + "/" + protocol;
        Map<SocketOption, long[]> known = defaults.get(key);
        if (known != null) {
            return known;
        }
        Map<SocketOption, long[]> values = new EnumMap<>(SocketOption.class);
        int fd = sockets.socket(family, type, protocol);
        try {
            for (SocketOption option : SocketOption.values()) {
                if (option.appliesTo(family, type)) {
                    try {
                        values.put(option, option.read(sockets, fd));
                    } catch (SyscallException e) {
                        // The kernel lacks the option for this kind of socket: never saved.
                    }
                }
            }
        } finally {
            sockets.close(fd);
        }
        defaults.put(key, values);
        return values;
    }
}
