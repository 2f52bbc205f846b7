package org.stasis.plugin.socket;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Pointer;

/**
 * The C library calls the socket plugin makes. Addresses travel as raw
 * {@code struct sockaddr} bytes so that every family goes through the same calls.
 * The variadic ones (ioctl, fcntl) are declared with their integer arguments
 * spelled out, which the 64-bit Linux calling conventions pass like fixed ones.
 */
interface LibC extends Library {
    int socket(int domain, int type, int protocol) throws LastErrorException;

    int socketpair(int domain, int type, int protocol, int[] pair) throws LastErrorException;

    int bind(int fd, byte[] address, int length) throws LastErrorException;

    int listen(int fd, int backlog) throws LastErrorException;

    int connect(int fd, byte[] address, int length) throws LastErrorException;

    int accept4(int fd, Pointer address, Pointer length, int flags) throws LastErrorException;

    int getsockname(int fd, byte[] address, int[] length) throws LastErrorException;

    int getpeername(int fd, byte[] address, int[] length) throws LastErrorException;

    int getsockopt(int fd, int level, int name, byte[] value, int[] length) throws LastErrorException;

    int setsockopt(int fd, int level, int name, byte[] value, int length) throws LastErrorException;

    long recvfrom(int fd, byte[] buffer, long length, int flags, byte[] address, int[] addressLength)
            throws LastErrorException;

    long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength)
            throws LastErrorException;

    long recvmsg(int fd, Pointer message, int flags) throws LastErrorException;

    int shutdown(int fd, int how) throws LastErrorException;

    int ioctl(int fd, long request, int[] value) throws LastErrorException;

    int fcntl(int fd, int command, int argument) throws LastErrorException;

    int poll(int[] fds, int count, int timeoutMillis) throws LastErrorException;

    int dup(int fd) throws LastErrorException;

    int close(int fd) throws LastErrorException;
}
