package org.stasis.plugin.event;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Pointer;

/**
 * The C library calls the plugin makes. Variadic C functions (fcntl, ioctl, open,
 * syscall) are declared with their integer arguments spelled out, which the 64-bit
 * Linux calling conventions pass exactly like fixed ones.
 */
interface LibC extends Library {
    int eventfd(int initialValue, int flags) throws LastErrorException;

    int timerfd_create(int clock, int flags) throws LastErrorException;

    int timerfd_settime(int fd, int flags, long[] newValue, Pointer oldValue) throws LastErrorException;

    int signalfd(int fd, long[] mask, int flags) throws LastErrorException;

    int inotify_init1(int flags) throws LastErrorException;

    int inotify_add_watch(int fd, String path, int mask) throws LastErrorException;

    int inotify_rm_watch(int fd, int wd) throws LastErrorException;

    int epoll_create1(int flags) throws LastErrorException;

    int ioctl(int fd, long request, long[] argument) throws LastErrorException;

    int ioctl(int fd, long request, int[] argument) throws LastErrorException;

    int fcntl(int fd, int command, int argument) throws LastErrorException;

    long read(int fd, byte[] buffer, long count) throws LastErrorException;

    long write(int fd, byte[] buffer, long count) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    int open_by_handle_at(int mountFd, Pointer handle, int flags) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    long syscall(long number, long a, long b, long c, long d, long e) throws LastErrorException;
}
