package org.stasis.plugin.event;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Real kernel objects in the test JVM: the plugin's own {@link Kernel} plus the calls
 * a program would make (epoll_ctl, dup, close), and the bookkeeping to close them all.
 */
final class TestSystem implements AutoCloseable {
    static final int EPOLLIN = 0x1;
    static final int EPOLLONESHOT = 1 << 30;
    static final int EPOLLET = 1 << 31;
    static final int IN_MODIFY = 0x2;
    static final int IN_CREATE = 0x100;
    static final int IN_DELETE = 0x200;
    static final int IN_ONESHOT = 0x80000000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int F_DUPFD_CLOEXEC = 1030;

    interface Calls extends Library {
        int epoll_ctl(int epfd, int op, int fd, byte[] event) throws LastErrorException;

        int fcntl(int fd, int command, int argument) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    final Kernel kernel = new Kernel();
    private final Calls calls = Native.load("c", Calls.class);
    private final List<Integer> opened = new ArrayList<>();

    /** Remembers a descriptor to close at the end of the test. */
    int track(int fd) {
        opened.add(fd);
        return fd;
    }

    /** A duplicate at a high number, so that numbers the test closes are not reused under it. */
    int dup(int fd) {
        return track(calls.fcntl(fd, F_DUPFD_CLOEXEC, 600));
    }

    void close(int fd) {
        opened.remove(Integer.valueOf(fd));
        calls.close(fd);
    }

    void epollAdd(int epfd, int fd, int events, long data) {
        // struct epoll_event is packed on x86-64 only.
        boolean packed = System.getProperty("os.arch").equals("amd64");
        ByteBuffer event = ByteBuffer.allocate(packed ? 12 : 16).order(ByteOrder.nativeOrder());
        event.putInt(0, events).putLong(packed ? 4 : 8, data);
        calls.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, event.array());
    }

    static List<String> fdinfo(int fd) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd));
    }

    static String target(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    @Override
    public void close() {
        for (int fd : opened) {
            calls.close(fd);
        }
        opened.clear();
    }
}
