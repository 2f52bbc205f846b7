package org.stasis.plugin.event;

import java.io.IOException;
import java.util.OptionalInt;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The system calls that create and inspect event objects in the coordinator's own
 * process, with errors turned into exceptions that name the call. Every descriptor it
 * creates is close-on-exec: the coordinator must not leak them into programs it starts.
 */
final class Kernel {
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    static final int EFD_SEMAPHORE = 1;
    static final int TFD_TIMER_ABSTIME = 1;
    static final int IN_NONBLOCK = O_NONBLOCK;

    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_PATH = 010000000;
    private static final long TFD_IOC_SET_TICKS = 0x40085400L;
    private static final long FIONREAD = 0x541BL;
    private static final int EAGAIN = 11;
    private static final int EPERM = 1;
    private static final int EACCES = 13;
    private static final int ENOSYS = 38;
    private static final int EINVAL = 22;
    private static final int ENOTTY = 25;
    private static final int ENOENT = 2;

    private final LibC libc;
    private final long kcmpNumber;

    Kernel() {
        this(Native.load("c", LibC.class), kcmpNumberOf(System.getProperty("os.arch")));
    }

    Kernel(LibC libc, long kcmpNumber) {
        this.libc = libc;
        this.kcmpNumber = kcmpNumber;
    }

    // kcmp has no C library wrapper; its number differs between the two syscall tables.
    private static long kcmpNumberOf(String arch) {
        return switch (arch) {
            case "amd64", "x86_64" -> 312;
            case "aarch64", "riscv64" -> 272;
            default -> -1;
        };
    }

    int eventfd(long count, boolean semaphore) throws IOException {
        int fd = check("eventfd", () -> libc.eventfd(0, O_CLOEXEC | (semaphore ? EFD_SEMAPHORE : 0)));
        if (count > 0) {
            // The creation call takes 32 bits only; a write adds the full 64-bit count.
            byte[] value = new byte[8];
            for (int i = 0; i < 8; i++) {
                value[i] = (byte) (count >>> (8 * i));
            }
            try {
                libc.write(fd, value, 8);
            } catch (LastErrorException e) {
                close(fd);
                throw failure("eventfd write", e);
            }
        }
        return fd;
    }

    int timerfd(int clock) throws IOException {
        return check("timerfd_create(clock " + clock + ")", () -> libc.timerfd_create(clock, O_CLOEXEC));
    }

    void setTimer(int fd, int flags, long valueNanos, long intervalNanos) throws IOException {
        long[] spec = {intervalNanos / 1_000_000_000L, intervalNanos % 1_000_000_000L,
                valueNanos / 1_000_000_000L, valueNanos % 1_000_000_000L};
        check("timerfd_settime", () -> libc.timerfd_settime(fd, flags, spec, null));
    }

    /**
     * @return false if the kernel cannot set a timer's expiration count (it needs
     *         CONFIG_CHECKPOINT_RESTORE)
     */
    boolean setTicks(int fd, long ticks) throws IOException {
        try {
            libc.ioctl(fd, TFD_IOC_SET_TICKS, new long[] {ticks});
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENOTTY || e.getErrorCode() == EINVAL) {
                return false;
            }
            throw failure("TFD_IOC_SET_TICKS", e);
        }
    }

    int signalfd(long mask) throws IOException {
        return check("signalfd", () -> libc.signalfd(-1, new long[] {mask}, O_CLOEXEC));
    }

    int inotify() throws IOException {
        return check("inotify_init1", () -> libc.inotify_init1(O_CLOEXEC | IN_NONBLOCK));
    }

    int addWatch(int fd, String path, int mask) throws IOException {
        return check("inotify_add_watch(" + path + ")", () -> libc.inotify_add_watch(fd, path, mask));
    }

    void removeWatch(int fd, int wd) throws IOException {
        check("inotify_rm_watch", () -> libc.inotify_rm_watch(fd, wd));
    }

    int epoll() throws IOException {
        return check("epoll_create1", () -> libc.epoll_create1(O_CLOEXEC));
    }

    /** @return the bytes waiting to be read, as FIONREAD tells */
    int pendingBytes(int fd) throws IOException {
        int[] count = new int[1];
        check("FIONREAD", () -> libc.ioctl(fd, FIONREAD, count));
        return count[0];
    }

    /** Reads and drops whatever a non-blocking descriptor has to read. */
    void discardPending(int fd) throws IOException {
        byte[] buffer = new byte[65536];
        try {
            while (libc.read(fd, buffer, buffer.length) > 0) {
                // Dropped on purpose.
            }
        } catch (LastErrorException e) {
            if (e.getErrorCode() != EAGAIN) {
                throw failure("read", e);
            }
        }
    }

    int statusFlags(int fd) throws IOException {
        return check("fcntl(F_GETFL)", () -> libc.fcntl(fd, F_GETFL, 0));
    }

    void statusFlags(int fd, int flags) throws IOException {
        check("fcntl(F_SETFL)", () -> libc.fcntl(fd, F_SETFL, flags));
    }

    /** Gives an open file description the program's O_NONBLOCK setting. */
    void matchNonBlocking(int fd, int programFlags) throws IOException {
        int flags = statusFlags(fd);
        int wanted = (flags & ~O_NONBLOCK) | (programFlags & O_NONBLOCK);
        if (wanted != flags) {
            statusFlags(fd, wanted);
        }
    }

    /**
     * kcmp(2) between two resources of the coordinator's own process.
     *
     * @return 0 if they are the same, 1 or 2 if not; empty if the kernel or a
     *         seccomp filter does not allow kcmp
     */
    OptionalInt kcmp(int type, long first, long second) throws IOException {
        if (kcmpNumber < 0) {
            return OptionalInt.empty();
        }
        long self = ProcessHandle.current().pid();
        try {
            return OptionalInt.of((int) libc.syscall(kcmpNumber, self, self, type, first, second));
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == ENOENT) {
                // KCMP_EPOLL_TFD: the epoll instance has no such registration, so it is not this file.
                return OptionalInt.of(1);
            }
            if (errno == ENOSYS || errno == EPERM || errno == EACCES) {
                return OptionalInt.empty();
            }
            throw failure("kcmp", e);
        }
    }

    int openDirectory(String path) throws IOException {
        return check("open(" + path + ")", () -> libc.open(path, O_DIRECTORY | O_CLOEXEC));
    }

    /**
     * open_by_handle_at(2) with O_PATH.
     *
     * @return the descriptor, or empty if the coordinator may not (it needs
     *         CAP_DAC_READ_SEARCH) or the file is gone
     */
    OptionalInt openByHandle(int mountFd, int type, byte[] handle) throws IOException {
        Memory memory = new Memory(8 + Math.max(1, handle.length));
        memory.setInt(0, handle.length);
        memory.setInt(4, type);
        memory.write(8, handle, 0, handle.length);
        try {
            return OptionalInt.of(libc.open_by_handle_at(mountFd, memory, O_PATH | O_CLOEXEC));
        } catch (LastErrorException e) {
            return OptionalInt.empty();
        }
    }

    /** @return the address of native memory, for system calls that take a pointer as a number */
    static long address(Pointer pointer) {
        return Pointer.nativeValue(pointer);
    }

    void close(int fd) {
        try {
            libc.close(fd);
        } catch (LastErrorException e) {
            // Nothing useful to do about a failed close of a descriptor we own.
        }
    }

    /** A system call that returns a descriptor or a count. */
    @FunctionalInterface
    private interface Call {
        int run() throws LastErrorException;
    }

    private static int check(String what, Call call) throws IOException {
        try {
            return call.run();
        } catch (LastErrorException e) {
            throw failure(what, e);
        }
    }

    private static IOException failure(String what, LastErrorException e) {
        return new IOException(what + " failed: " + e.getMessage());
    }
}
