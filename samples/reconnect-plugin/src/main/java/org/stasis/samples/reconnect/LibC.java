package org.stasis.samples.reconnect;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Structure;

/**
 * The socket calls the JDK does not offer on a bare descriptor number. Constants are
 * those of Linux; JNA turns a failing call's errno into {@link LastErrorException}.
 */
interface LibC extends Library {
    int AF_INET = 2;
    int AF_INET6 = 10;
    int SOCK_STREAM = 1;
    int SOCK_NONBLOCK = 04000;
    int SOCK_CLOEXEC = 02000000;
    int IPPROTO_TCP = 6;
    int TCP_NODELAY = 1;

    int SOL_SOCKET = 1;
    int SO_TYPE = 3;
    int SO_ERROR = 4;
    int SO_KEEPALIVE = 9;
    int SO_PROTOCOL = 38;
    int SO_DOMAIN = 39;

    int EINTR = 4;
    int ENOTCONN = 107;
    int EINPROGRESS = 115;
    short POLLOUT = 4;

    /** struct pollfd. */
    @Structure.FieldOrder({ "fd", "events", "revents" })
    class PollFd extends Structure {
        public int fd;
        public short events;
        public short revents;
    }

    int socket(int domain, int type, int protocol) throws LastErrorException;

    int connect(int fd, byte[] address, int length) throws LastErrorException;

    int getpeername(int fd, byte[] address, int[] length) throws LastErrorException;

    int getsockopt(int fd, int level, int name, int[] value, int[] length) throws LastErrorException;

    int setsockopt(int fd, int level, int name, int[] value, int length) throws LastErrorException;

    int poll(PollFd fds, int count, int timeoutMillis) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    String strerror(int error);
}
