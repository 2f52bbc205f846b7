package org.stasis.api.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Real descriptors of the test JVM, opened and closed with the C library's calls, and
 * closed together at the end of the test. A {@link FakeComputation} makes them the
 * descriptors of its processes.
 */
public final class Descriptors implements AutoCloseable {
    /** {@code O_CLOEXEC}. */
    public static final int O_CLOEXEC = 02000000;
    /** {@code O_NONBLOCK}. */
    public static final int O_NONBLOCK = 04000;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int KCMP_FILE = 0;
    /** Duplicates go this high, so that numbers a test closes and reopens are not taken. */
    private static final int HIGH = 600;

    interface C extends Library {
        int pipe2(int[] fds, int flags) throws LastErrorException;

        int open(String path, int flags, int mode) throws LastErrorException;

        int fcntl(int fd, int command, int argument) throws LastErrorException;

        int dup3(int old, int target, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int epoll_ctl(int epfd, int op, int fd, byte[] event) throws LastErrorException;

        long syscall(long number, Object... arguments) throws LastErrorException;
    }

    private static final C LIBC = Native.load("c", C.class);
    private final List<Integer> opened = new ArrayList<>();

    /**
     * Remembers a descriptor made elsewhere, to close it at the end of the test.
     *
     * @param fd a descriptor of the test JVM
     * @return {@code fd}
     */
    public synchronized int track(int fd) {
        opened.add(fd);
        return fd;
    }

    /**
     * Stops tracking a descriptor (something else closes it, e.g. the core after a
     * {@link org.stasis.api.FdSource.Passed}).
     *
     * @param fd the descriptor
     */
    public synchronized void forget(int fd) {
        opened.remove(Integer.valueOf(fd));
    }

    /**
     * @return {read end, write end} of a new pipe
     * @throws IOException if the kernel refuses
     */
    public int[] pipe() throws IOException {
        int[] ends = new int[2];
        call(() -> LIBC.pipe2(ends, 0), "pipe2");
        track(ends[0]);
        track(ends[1]);
        return ends;
    }

    /**
     * Opens a file as a program would with {@code open(path, flags, 0600)}.
     *
     * @param path the file
     * @param flags open(2) flags, e.g. {@code 01 | 0100} for O_WRONLY|O_CREAT
     * @return the descriptor
     * @throws IOException if the kernel refuses
     */
    public int open(Path path, int flags) throws IOException {
        return track(call(() -> LIBC.open(path.toString(), flags, 0600), "open " + path));
    }

    /**
     * @param fd a descriptor
     * @return a duplicate at a high number, with close-on-exec
     * @throws IOException if the kernel refuses
     */
    public int dup(int fd) throws IOException {
        return track(call(() -> LIBC.fcntl(fd, F_DUPFD_CLOEXEC, HIGH), "dup " + fd));
    }

    /**
     * Makes {@code target} refer to what {@code fd} refers to, as {@code dup3}.
     *
     * @param fd a descriptor
     * @param target the number to (re)use
     * @param flags {@link #O_CLOEXEC} or 0
     * @throws IOException if the kernel refuses
     */
    public void dup3(int fd, int target, int flags) throws IOException {
        call(() -> LIBC.dup3(fd, target, flags & O_CLOEXEC), "dup3 " + fd + " " + target);
    }

    /**
     * Closes a descriptor now.
     *
     * @param fd the descriptor
     */
    public void close(int fd) {
        forget(fd);
        try {
            LIBC.close(fd);
        } catch (LastErrorException e) {
            // already closed: nothing left to release
        }
    }

    /**
     * Registers {@code fd} with an epoll instance, as {@code epoll_ctl(EPOLL_CTL_ADD)}.
     *
     * @param epfd the epoll descriptor
     * @param fd the descriptor to watch
     * @param events the event mask
     * @param data the user data
     * @throws IOException if the kernel refuses
     */
    public static void epollAdd(int epfd, int fd, int events, long data) throws IOException {
        boolean packed = System.getProperty("os.arch").equals("amd64"); // struct epoll_event is packed on x86-64 only
        ByteBuffer event = ByteBuffer.allocate(packed ? 12 : 16).order(ByteOrder.nativeOrder());
        event.putInt(0, events).putLong(packed ? 4 : 8, data);
        call(() -> LIBC.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, event.array()), "epoll_ctl " + epfd + " " + fd);
    }

    /**
     * @param fdA a descriptor
     * @param fdB another
     * @return whether both refer to one open file description ({@code kcmp(2)}, KCMP_FILE)
     * @throws IOException if the kernel cannot tell
     */
    public static boolean sameOpenFile(int fdA, int fdB) throws IOException {
        long self = ProcessHandle.current().pid();
        long number = System.getProperty("os.arch").equals("amd64") ? 312 : 272;
        return call(() -> (int) LIBC.syscall(number, (int) self, (int) self, KCMP_FILE, (long) fdA, (long) fdB),
                "kcmp " + fdA + " " + fdB) == 0;
    }

    /**
     * @param fd a descriptor of the test JVM
     * @return the lines of {@code /proc/self/fdinfo/<fd>}
     * @throws IOException if there is no such descriptor
     */
    public static List<String> fdInfo(int fd) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd));
    }

    /**
     * @param fd a descriptor of the test JVM
     * @return what it refers to, as {@code /proc/self/fd/<fd>} says (a path, {@code pipe:[N]}, ...)
     * @throws IOException if there is no such descriptor
     */
    public static String target(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    /**
     * @param fd a descriptor of the test JVM
     * @param field an fdinfo field, e.g. {@code pos} or {@code flags}
     * @return its value, if the kernel lists it
     * @throws IOException if there is no such descriptor
     */
    public static Optional<String> fdInfoField(int fd, String field) throws IOException {
        return fdInfo(fd).stream().filter(line -> line.startsWith(field + ":"))
                .map(line -> line.substring(field.length() + 1).strip()).findFirst();
    }

    /** Closes every descriptor still tracked. */
    @Override
    public synchronized void close() {
        for (int fd : opened) {
            try {
                LIBC.close(fd);
            } catch (LastErrorException e) {
                // closed by the test already
            }
        }
        opened.clear();
    }

    private interface Call {
        int run() throws LastErrorException;
    }

    private static int call(Call call, String what) throws IOException {
        try {
            return call.run();
        } catch (LastErrorException e) {
            throw new IOException(what + ": errno " + e.getErrorCode(), e);
        }
    }
}
