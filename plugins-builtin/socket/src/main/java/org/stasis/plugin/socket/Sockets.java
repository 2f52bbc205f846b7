package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * The socket system calls as the plugin uses them: errors become
 * {@link SyscallException}s that say which call failed, "would block" is a return
 * value, and descriptors the plugin creates are close-on-exec.
 */
final class Sockets {
    /** What {@link #receive} and {@link #send} return when the call would block. */
    static final int WOULD_BLOCK = -1;

    private static final int MAX_ADDRESS = 128;

    private final LibC c;

    Sockets(LibC c) {
        this.c = c;
    }

    /** @return the calls bound to the process's C library */
    static Sockets load() {
        return new Sockets(Native.load("c", LibC.class));
    }

    private static SyscallException fail(String call, LastErrorException e) {
        String reason = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^\\[\\d+\\]\\s*", "");
        return new SyscallException(call + ": " + reason + " (errno " + e.getErrorCode() + ")", e.getErrorCode(), e);
    }

    int socket(int family, int type, int protocol) throws SyscallException {
        try {
            return c.socket(family, type | Net.SOCK_CLOEXEC, protocol);
        } catch (LastErrorException e) {
            throw fail("socket(" + Net.familyName(family) + ", " + Net.typeName(type) + ")", e);
        }
    }

    /** @return the two ends of a new connected Unix socket pair */
    int[] pair(int type) throws SyscallException {
        int[] ends = new int[2];
        try {
            c.socketpair(Net.AF_UNIX, type | Net.SOCK_CLOEXEC, 0, ends);
            return ends;
        } catch (LastErrorException e) {
            throw fail("socketpair(" + Net.typeName(type) + ")", e);
        }
    }

    void bind(int fd, Address address) throws SyscallException {
        try {
            c.bind(fd, address.raw(), address.length());
        } catch (LastErrorException e) {
            throw fail("bind(" + address + ")", e);
        }
    }

    void listen(int fd, int backlog) throws SyscallException {
        try {
            c.listen(fd, backlog);
        } catch (LastErrorException e) {
            throw fail("listen", e);
        }
    }

    /** Connects, waiting for the connection (the peers the plugin connects to answer at once). */
    void connect(int fd, Address address) throws SyscallException {
        while (true) {
            try {
                c.connect(fd, address.raw(), address.length());
                return;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Net.EINTR) {
                    throw fail("connect(" + address + ")", e);
                }
            }
        }
    }

    int accept(int fd) throws SyscallException {
        while (true) {
            try {
                return c.accept4(fd, null, null, Net.SOCK_CLOEXEC);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Net.EINTR) {
                    throw fail("accept", e);
                }
            }
        }
    }

    /** @return the socket's own address ({@link Address#NONE} if it has none) */
    Address localAddress(int fd) throws SyscallException {
        byte[] buffer = new byte[MAX_ADDRESS];
        int[] length = {buffer.length};
        try {
            c.getsockname(fd, buffer, length);
        } catch (LastErrorException e) {
            throw fail("getsockname", e);
        }
        return new Address(Arrays.copyOf(buffer, Math.min(length[0], buffer.length)));
    }

    /** @return the address of the peer, or {@link Address#NONE} if not connected */
    Address peerAddress(int fd) throws SyscallException {
        byte[] buffer = new byte[MAX_ADDRESS];
        int[] length = {buffer.length};
        try {
            c.getpeername(fd, buffer, length);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Net.ENOTCONN) {
                return Address.NONE;
            }
            throw fail("getpeername", e);
        }
        return new Address(Arrays.copyOf(buffer, Math.min(length[0], buffer.length)));
    }

    /** @return the raw value of a socket option, as long as the kernel filled it */
    byte[] option(int fd, int level, int name, int size) throws SyscallException {
        byte[] value = new byte[size];
        int[] length = {size};
        try {
            c.getsockopt(fd, level, name, value, length);
        } catch (LastErrorException e) {
            throw fail("getsockopt(" + level + ", " + name + ")", e);
        }
        return Arrays.copyOf(value, Math.min(length[0], size));
    }

    int intOption(int fd, int level, int name) throws SyscallException {
        byte[] value = option(fd, level, name, 4);
        return value.length < 4 ? 0 : ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
    }

    void setOption(int fd, int level, int name, byte[] value) throws SyscallException {
        try {
            c.setsockopt(fd, level, name, value, value.length);
        } catch (LastErrorException e) {
            throw fail("setsockopt(" + level + ", " + name + ")", e);
        }
    }

    void setIntOption(int fd, int level, int name, int value) throws SyscallException {
        setOption(fd, level, name, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
    }

    /**
     * @param address receives the sender's address if not null (its length in {@code address[0]}'s holder)
     * @return the bytes received (for datagrams with MSG_TRUNC: the datagram's full length),
     *         0 at end of stream, or {@link #WOULD_BLOCK}
     */
    int receive(int fd, byte[] buffer, int flags, byte[] address, int[] addressLength) throws SyscallException {
        while (true) {
            try {
                return (int) c.recvfrom(fd, buffer, buffer.length, flags | Net.MSG_DONTWAIT, address, addressLength);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Net.EAGAIN) {
                    return WOULD_BLOCK;
                }
                if (e.getErrorCode() != Net.EINTR) {
                    throw fail("recv", e);
                }
            }
        }
    }

    /**
     * Sends without blocking.
     *
     * @param to where to send a datagram, or null to send to the connected peer
     * @return the bytes sent, or {@link #WOULD_BLOCK}
     */
    int send(int fd, byte[] data, int offset, int length, Address to) throws SyscallException {
        byte[] chunk = offset == 0 && length == data.length ? data : Arrays.copyOfRange(data, offset, offset + length);
        while (true) {
            try {
                int flags = Net.MSG_DONTWAIT | Net.MSG_NOSIGNAL;
                return to == null
                        ? (int) c.sendto(fd, chunk, chunk.length, flags, null, 0)
                        : (int) c.sendto(fd, chunk, chunk.length, flags, to.raw(), to.length());
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Net.EAGAIN) {
                    return WOULD_BLOCK;
                }
                if (e.getErrorCode() != Net.EINTR) {
                    throw fail("send" + (to == null ? "" : "to(" + to + ")"), e);
                }
            }
        }
    }

    /** @return the bytes waiting to be read (for a datagram socket: the first datagram's size) */
    int inQueue(int fd) throws SyscallException {
        return ioctl(fd, Net.SIOCINQ, "SIOCINQ");
    }

    /** @return the bytes sent but not yet taken by the peer (TCP: not yet acknowledged) */
    int outQueue(int fd) throws SyscallException {
        return ioctl(fd, Net.SIOCOUTQ, "SIOCOUTQ");
    }

    private int ioctl(int fd, long request, String name) throws SyscallException {
        int[] value = new int[1];
        try {
            c.ioctl(fd, request, value);
        } catch (LastErrorException e) {
            throw fail("ioctl(" + name + ")", e);
        }
        return value[0];
    }

    /**
     * Waits until any of the descriptors is ready.
     *
     * @param fds descriptors
     * @param events the events wanted, per descriptor (0 to skip it)
     * @param millis how long to wait at most
     * @return the events that happened, per descriptor
     */
    int[] poll(int[] fds, int[] events, int millis) throws SyscallException {
        int[] table = new int[fds.length * 2];
        for (int i = 0; i < fds.length; i++) {
            table[2 * i] = events[i] == 0 ? -1 : fds[i];
            table[2 * i + 1] = events[i] & 0xffff;
        }
        try {
            c.poll(table, fds.length, millis);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Net.EINTR) {
                throw fail("poll", e);
            }
        }
        int[] happened = new int[fds.length];
        for (int i = 0; i < fds.length; i++) {
            happened[i] = table[2 * i + 1] >>> 16;
        }
        return happened;
    }

    void shutdown(int fd, int how) throws SyscallException {
        try {
            c.shutdown(fd, how);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Net.ENOTCONN) {
                throw fail("shutdown", e);
            }
        }
    }

    int fcntl(int fd, int command, int argument) throws SyscallException {
        try {
            return c.fcntl(fd, command, argument);
        } catch (LastErrorException e) {
            throw fail("fcntl", e);
        }
    }

    int dup(int fd) throws SyscallException {
        try {
            return c.dup(fd);
        } catch (LastErrorException e) {
            throw fail("dup", e);
        }
    }

    /** Closes a descriptor the plugin made, ignoring errors (nothing useful can follow one). */
    void close(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // The descriptor is released whatever close reports.
        }
    }
}
