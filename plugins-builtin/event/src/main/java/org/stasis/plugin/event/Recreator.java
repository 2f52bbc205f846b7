package org.stasis.plugin.event;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The restart side: creates an event object in the coordinator's process from its
 * saved state, ready to be passed to the restored processes. Epoll instances come back
 * empty; their registrations need the processes' own descriptors and are made in
 * {@code resume}.
 */
final class Recreator {
    private static final int IN_ATTRIB = 0x4;

    private final Kernel kernel;
    private final Consumer<String> log;
    private final UnaryOperator<String> rewrite;

    /**
     * @param kernel system calls
     * @param log where to report what could not be restored exactly
     * @param rewrite the restart plan's path rewrites, for inotify watches
     */
    Recreator(Kernel kernel, Consumer<String> log, UnaryOperator<String> rewrite) {
        this.kernel = kernel;
        this.log = log;
        this.rewrite = rewrite;
    }

    /**
     * @param state the saved state
     * @param flags the program's flags for the object (its O_NONBLOCK is applied)
     * @param name how to name the object in messages, e.g. "fd 5 of process 12"
     * @return a descriptor of the new object in the coordinator's process
     */
    int create(EventState state, int flags, String name) throws IOException {
        int fd = switch (state.kind()) {
            case EVENTFD -> eventfd((EventfdState) state);
            case TIMERFD -> kernel.timerfd(((TimerState) state).clock());
            case SIGNALFD -> kernel.signalfd(((SignalState) state).mask());
            case INOTIFY -> kernel.inotify();
            case EPOLL -> kernel.epoll();
        };
        try {
            if (state instanceof TimerState timer) {
                arm(fd, timer, name);
            } else if (state instanceof InotifyState inotify) {
                watch(fd, inotify, name);
            }
            kernel.matchNonBlocking(fd, flags);
            return fd;
        } catch (IOException | RuntimeException e) {
            kernel.close(fd);
            throw e;
        }
    }

    private int eventfd(EventfdState state) throws IOException {
        return kernel.eventfd(state.count(), state.semaphore());
    }

    private void arm(int fd, TimerState timer, String name) throws IOException {
        TimerState.Setting setting = timer.restartSetting(TimerState.now());
        kernel.setTimer(fd, setting.flags(), setting.valueNanos(), setting.intervalNanos());
        if (setting.ticks() > 0 && !kernel.setTicks(fd, setting.ticks())) {
            // Without TFD_IOC_SET_TICKS the best is one expiration right away.
            kernel.setTimer(fd, 0, 1, setting.intervalNanos());
            log.accept("timerfd " + name + ": the kernel cannot restore expiration counts; the program reads 1"
                    + " expiration at once instead of " + setting.ticks());
        }
    }

    /*
     * The kernel hands out watch descriptors in increasing order and does not reuse
     * freed ones soon, so adding the watches in order gives each its old number as long
     * as the gaps are filled: a gap (a watch the program removed, or one whose path is
     * unknown) is a watch on a private directory, removed at once. Their removal
     * queues IN_IGNORED events, which are read away before the program sees them.
     */
    private void watch(int fd, InotifyState state, String name) throws IOException {
        Path spare = null;
        try {
            int next = 1;
            for (InotifyState.Watch watch : state.watches()) {
                while (next < watch.wd()) {
                    spare = spare != null ? spare : Files.createTempDirectory("stasis-inotify-");
                    next = placeholder(fd, spare) + 1;
                }
                int wd = add(fd, watch, name);
                if (wd < 0) {
                    spare = spare != null ? spare : Files.createTempDirectory("stasis-inotify-");
                    wd = placeholder(fd, spare);
                }
                if (wd != watch.wd()) {
                    log.accept("inotify " + name + ": watch " + watch.wd() + " (" + watch.path() + ") came back as "
                            + wd + "; the program will not recognize its events");
                }
                next = Math.max(next, wd + 1);
            }
            if (spare != null) {
                kernel.discardPending(fd);
            }
        } finally {
            if (spare != null) {
                Files.deleteIfExists(spare);
            }
        }
    }

    // The watch's descriptor, or -1 if it cannot be made.
    private int add(int fd, InotifyState.Watch watch, String name) {
        if (!watch.resolved()) {
            log.accept("inotify " + name + ": watch " + watch.wd() + " had no known path at checkpoint time;"
                    + " it is not restored");
            return -1;
        }
        String path = rewrite.apply(watch.path());
        try {
            return kernel.addWatch(fd, path, watch.mask());
        } catch (IOException e) {
            log.accept("inotify " + name + ": watch " + watch.wd() + " on " + path + " is not restored: " + e.getMessage());
            return -1;
        }
    }

    private int placeholder(int fd, Path spare) throws IOException {
        int wd = kernel.addWatch(fd, spare.toString(), IN_ATTRIB);
        kernel.removeWatch(fd, wd);
        return wd;
    }
}
