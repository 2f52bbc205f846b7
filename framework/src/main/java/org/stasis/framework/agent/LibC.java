package org.stasis.framework.agent;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The few libc calls the JDK lacks: Unix sockets whose peer's pid we can learn
 * (SO_PEERCRED, translated by the kernel into our pid namespace).
 */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int AF_UNIX = 1;
    int SOCK_STREAM = 1;
    int SOCK_CLOEXEC = 02000000;
    int SOL_SOCKET = 1;
    int SO_PEERCRED = 17;
    int POLLIN = 1;
    int POLLERR = 0x8;
    int POLLHUP = 0x10;
    int POLLRDHUP = 0x2000;

    int socket(int domain, int type, int protocol) throws LastErrorException;

    int bind(int fd, byte[] address, int length) throws LastErrorException;

    int listen(int fd, int backlog) throws LastErrorException;

    int accept4(int fd, Pointer address, Pointer length, int flags) throws LastErrorException;

    int getsockopt(int fd, int level, int name, int[] value, IntByReference length) throws LastErrorException;

    long read(int fd, byte[] buffer, long count) throws LastErrorException;

    long write(int fd, byte[] buffer, long count) throws LastErrorException;

    int poll(int[] fds, int count, int timeoutMillis) throws LastErrorException;

    int shutdown(int fd, int how) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int SOL_SOCKET_RIGHTS = 1;   // SCM_RIGHTS
    int MSG_CMSG_CLOEXEC = 0x40000000;
    int MSG_NOSIGNAL = 0x4000;

    long SYS_KCMP = 312;   // x86-64
    int KCMP_FILE = 0;

    long syscall(long number, int pid1, int pid2, int type, long idx1, long idx2) throws LastErrorException;

    int socketpair(int domain, int type, int protocol, int[] fds) throws LastErrorException;

    long sendmsg(int fd, Pointer message, int flags) throws LastErrorException;

    long recvmsg(int fd, Pointer message, int flags) throws LastErrorException;

    int O_RDWR = 2;
    int O_NOCTTY = 0400;
    int O_NONBLOCK = 04000;
    int O_CLOEXEC = 02000000;

    int open(String path, int flags) throws LastErrorException;

    int tcgetattr(int fd, byte[] termios) throws LastErrorException;
}
