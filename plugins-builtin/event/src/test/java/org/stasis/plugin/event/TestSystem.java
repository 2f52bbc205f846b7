package org.stasis.plugin.event;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

import org.stasis.api.testkit.Descriptors;

/**
 * Real kernel objects in the test JVM: the plugin's own {@link Kernel} plus the calls
 * a program would make (epoll_ctl, dup, close), through the test kit's
 * {@link Descriptors}, which closes them all at the end.
 */
final class TestSystem implements AutoCloseable {
    static final int EPOLLIN = 0x1;
    static final int EPOLLONESHOT = 1 << 30;
    static final int EPOLLET = 1 << 31;
    static final int IN_MODIFY = 0x2;
    static final int IN_CREATE = 0x100;
    static final int IN_DELETE = 0x200;
    static final int IN_ONESHOT = 0x80000000;

    final Kernel kernel = new Kernel();
    final Descriptors fds = new Descriptors();

    /** Remembers a descriptor to close at the end of the test. */
    int track(int fd) {
        return fds.track(fd);
    }

    /** A duplicate at a high number, so that numbers the test closes are not reused under it. */
    int dup(int fd) {
        try {
            return fds.dup(fd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void close(int fd) {
        fds.close(fd);
    }

    void epollAdd(int epfd, int fd, int events, long data) throws IOException {
        Descriptors.epollAdd(epfd, fd, events, data);
    }

    static List<String> fdinfo(int fd) throws IOException {
        return Descriptors.fdInfo(fd);
    }

    static String target(int fd) throws IOException {
        return Descriptors.target(fd);
    }

    @Override
    public void close() {
        fds.close();
    }
}
