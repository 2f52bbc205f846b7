package org.stasis.plugin.socket;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The socket options a program sets and expects back after a restart. Values are
 * kept as a few numbers: one int, or the fields of {@code struct linger} /
 * {@code struct timeval}.
 */
enum SocketOption {
    REUSEADDR(Net.SOL_SOCKET, 2, Shape.INT, Applies.ANY),
    REUSEPORT(Net.SOL_SOCKET, 15, Shape.INT, Applies.IP),
    KEEPALIVE(Net.SOL_SOCKET, 9, Shape.INT, Applies.TCP),
    BROADCAST(Net.SOL_SOCKET, 6, Shape.INT, Applies.UDP),
    OOBINLINE(Net.SOL_SOCKET, 10, Shape.INT, Applies.TCP),
    RCVLOWAT(Net.SOL_SOCKET, 18, Shape.INT, Applies.ANY),
    PASSCRED(Net.SOL_SOCKET, 16, Shape.INT, Applies.UNIX),
    RCVBUF(Net.SOL_SOCKET, Net.SO_RCVBUF, Shape.BUFFER, Applies.ANY),
    SNDBUF(Net.SOL_SOCKET, Net.SO_SNDBUF, Shape.BUFFER, Applies.ANY),
    LINGER(Net.SOL_SOCKET, Net.SO_LINGER, Shape.LINGER, Applies.ANY),
    RCVTIMEO(Net.SOL_SOCKET, 20, Shape.TIMEVAL, Applies.ANY),
    SNDTIMEO(Net.SOL_SOCKET, 21, Shape.TIMEVAL, Applies.ANY),
    NODELAY(Net.IPPROTO_TCP, 1, Shape.INT, Applies.TCP),
    CORK(Net.IPPROTO_TCP, 3, Shape.INT, Applies.TCP),
    KEEPIDLE(Net.IPPROTO_TCP, 4, Shape.INT, Applies.TCP),
    KEEPINTVL(Net.IPPROTO_TCP, 5, Shape.INT, Applies.TCP),
    KEEPCNT(Net.IPPROTO_TCP, 6, Shape.INT, Applies.TCP),
    USER_TIMEOUT(Net.IPPROTO_TCP, 18, Shape.INT, Applies.TCP),
    V6ONLY(Net.IPPROTO_IPV6, 26, Shape.INT, Applies.IPV6);

    /** How the value is laid out in memory. */
    enum Shape {
        INT(4),
        /** SO_RCVBUF/SO_SNDBUF: the kernel reports twice what was asked, so set half. */
        BUFFER(4),
        LINGER(8),
        TIMEVAL(16);

        final int size;

        Shape(int size) {
            this.size = size;
        }
    }

    /** Which sockets have the option. */
    enum Applies {
        ANY, IP, IPV6, TCP, UDP, UNIX;

        boolean to(int family, int type) {
            boolean ip = family == Net.AF_INET || family == Net.AF_INET6;
            return switch (this) {
                case ANY -> true;
                case IP -> ip;
                case IPV6 -> family == Net.AF_INET6;
                case TCP -> ip && type == Net.SOCK_STREAM;
                case UDP -> ip && type == Net.SOCK_DGRAM;
                case UNIX -> family == Net.AF_UNIX;
            };
        }
    }

    final int level;
    final int name;
    final Shape shape;
    final Applies applies;

    SocketOption(int level, int name, Shape shape, Applies applies) {
        this.level = level;
        this.name = name;
        this.shape = shape;
        this.applies = applies;
    }

    /** @return whether sockets of this family and type have the option */
    boolean appliesTo(int family, int type) {
        return applies.to(family, type);
    }

    /** Options that must be in place before bind (they decide whether bind succeeds). */
    boolean beforeBind() {
        return this == REUSEADDR || this == REUSEPORT || this == V6ONLY;
    }

    /** @return the option's value as the kernel reports it, as numbers */
    long[] read(Sockets sockets, int fd) throws SyscallException {
        ByteBuffer b = ByteBuffer.wrap(sockets.option(fd, level, name, shape.size)).order(ByteOrder.nativeOrder());
        return switch (shape) {
            case INT, BUFFER -> new long[] {b.remaining() >= 4 ? b.getInt() : 0};
            case LINGER -> new long[] {b.getInt(), b.getInt()};
            case TIMEVAL -> new long[] {b.getLong(), b.getLong()};
        };
    }

    /** Sets the option to a value {@link #read} returned. */
    void write(Sockets sockets, int fd, long[] value) throws SyscallException {
        ByteBuffer b = ByteBuffer.allocate(shape.size).order(ByteOrder.nativeOrder());
        switch (shape) {
            case INT -> b.putInt((int) value[0]);
            case BUFFER -> b.putInt((int) (value[0] / 2));
            case LINGER -> b.putInt((int) value[0]).putInt((int) value[1]);
            case TIMEVAL -> b.putLong(value[0]).putLong(value[1]);
        }
        sockets.setOption(fd, level, name, b.array());
    }

    /** @return the record form of a value: numbers separated by commas */
    static String encode(long[] value) {
        return Arrays.stream(value).mapToObj(Long::toString).collect(Collectors.joining(","));
    }

    /** @return the value of a record written by {@link #encode} */
    static long[] decode(String text) {
        return Arrays.stream(text.split(",")).mapToLong(Long::parseLong).toArray();
    }

    /** @return the option's name in records, e.g. {@code nodelay} */
    String key() {
        return name().toLowerCase().replace('_', '-');
    }

    /** @return the option with that record name */
    static SocketOption ofKey(String key) {
        return valueOf(key.toUpperCase().replace('-', '_'));
    }
}
