package org.stasis.plugin.pty;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;

/**
 * The C library calls the pty plugin makes. The variadic ones (open, ioctl, fcntl)
 * are declared with their arguments spelled out, which the 64-bit Linux calling
 * conventions pass like fixed ones.
 */
interface LibC extends Library {
    int open(String path, int flags, int mode) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    long read(int fd, byte[] buffer, long length) throws LastErrorException;

    long write(int fd, byte[] buffer, long length) throws LastErrorException;

    int ioctl(int fd, long request, int[] value) throws LastErrorException;

    int ioctl(int fd, long request, byte[] value) throws LastErrorException;

    int ioctl(int fd, long request, long value) throws LastErrorException;

    int fcntl(int fd, int command, int argument) throws LastErrorException;

    int tcgetattr(int fd, byte[] termios) throws LastErrorException;

    int tcsetattr(int fd, int when, byte[] termios) throws LastErrorException;

    int poll(int[] fds, int count, int timeoutMillis) throws LastErrorException;
}
