package org.stasis.plugin.socket;

/**
 * Linux socket constants (x86-64 and arm64 share these values).
 */
final class Net {
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int AF_NETLINK = 16;

    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_SEQPACKET = 5;
    static final int SOCK_NONBLOCK = 04000;
    static final int SOCK_CLOEXEC = 02000000;

    static final int IPPROTO_TCP = 6;
    static final int IPPROTO_UDP = 17;
    static final int IPPROTO_IPV6 = 41;
    static final int SOL_SOCKET = 1;

    static final int SO_TYPE = 3;
    static final int SO_PROTOCOL = 38;
    static final int SO_DOMAIN = 39;
    static final int SO_ACCEPTCONN = 30;
    static final int SO_REUSEADDR = 2;
    static final int SO_LINGER = 13;
    static final int SO_RCVBUF = 8;
    static final int SO_SNDBUF = 7;
    static final int SO_PEEK_OFF = 42;
    static final int TCP_INFO = 11;

    static final int MSG_PEEK = 2;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;

    static final int SHUT_RD = 0;
    static final int SHUT_WR = 1;
    /** sk_shutdown bit: nothing more will be read (the peer shut its write side). */
    static final int RCV_SHUTDOWN = 1;
    /** sk_shutdown bit: this end shut its write side. */
    static final int SEND_SHUTDOWN = 2;

    static final long SIOCINQ = 0x541B;
    static final long SIOCOUTQ = 0x5411;

    static final int POLLIN = 1;
    static final int POLLOUT = 4;

    static final int SOMAXCONN = 4096;

    static final int EINTR = 4;
    static final int ENOENT = 2;
    static final int EAGAIN = 11;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;
    static final int ECONNREFUSED = 111;
    static final int ENOTCONN = 107;
    static final int EINPROGRESS = 115;

    /** Kernel socket states (TCP's, which Unix sockets reuse). */
    static final int TCP_ESTABLISHED = 1;
    static final int TCP_SYN_SENT = 2;
    static final int TCP_FIN_WAIT1 = 4;
    static final int TCP_FIN_WAIT2 = 5;
    static final int TCP_TIME_WAIT = 6;
    static final int TCP_CLOSE = 7;
    static final int TCP_CLOSE_WAIT = 8;
    static final int TCP_LAST_ACK = 9;
    static final int TCP_LISTEN = 10;
    static final int TCP_CLOSING = 11;

    private Net() {
    }

    /** @return a readable name of a family, for messages */
    static String familyName(int family) {
        return switch (family) {
            case AF_UNIX -> "unix";
            case AF_INET -> "ipv4";
            case AF_INET6 -> "ipv6";
            default -> "family " + family;
        };
    }

    /** @return a readable name of a socket type, for messages */
    static String typeName(int type) {
        return switch (type) {
            case SOCK_STREAM -> "stream";
            case SOCK_DGRAM -> "datagram";
            case SOCK_SEQPACKET -> "seqpacket";
            default -> "type " + type;
        };
    }
}
