package org.stasis.api;

import java.io.IOException;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The core's hands inside the processes of a computation, for plugins that save and
 * restore kernel objects (sockets, event fds, ...) the way the built-in ones do. Valid
 * while the processes are suspended: during {@code drain}, {@code write} and
 * {@code resume} (after a checkpoint and after a restart).
 *
 * <p>The usual pattern: at checkpoint, {@link #duplicate} a process's descriptor and
 * inspect it in the coordinator with ordinary system calls (getsockname, getsockopt,
 * recv, ...); at restart, create the object in the coordinator and hand it to the
 * restored process with {@link FdSource.Passed}; after a restart, finish in the
 * process what cannot be done from outside (e.g. {@link #epollAdd}).
 *
 * @since 1.1
 */
@ProviderType
public interface ProcessAccess {
    /**
     * Duplicates a process's descriptor into the coordinator's own process (the agent
     * sends it over its connection with {@code SCM_RIGHTS}); both refer to the same
     * open file description, so what the coordinator reads, writes or sets on it, the
     * process sees. The core closes the duplicate when the operation ends (after
     * {@code resume}); do not close it yourself. Asking again for the same descriptor
     * of the same process returns the same number.
     *
     * @param pid a process id inside the computation
     * @param fd a descriptor of that process
     * @return a descriptor number in the coordinator's process
     * @throws IOException if the process is gone or has no such descriptor
     */
    int duplicate(int pid, int fd) throws IOException;

    /**
     * The kernel's own description of a descriptor: the lines of
     * {@code /proc/<pid>/fdinfo/<fd>} ({@code pos:}, {@code flags:}, and per kind e.g.
     * {@code eventfd-count:}, {@code tfd:} lines of an epoll instance, timer settings
     * of a timerfd, {@code sigmask:} of a signalfd, {@code inotify wd:} lines).
     *
     * @param pid a process id inside the computation
     * @param fd a descriptor of that process
     * @return the lines, in the kernel's order
     * @throws IOException if the process or descriptor is gone
     */
    List<String> fdInfo(int pid, int fd) throws IOException;

    /**
     * Registers a descriptor with an epoll instance inside a process, as the program
     * would with {@code epoll_ctl(epfd, EPOLL_CTL_ADD, fd, {events, data})}: epoll
     * registrations are keyed by the process's own descriptor numbers, so they can
     * only be recreated in the process. Meant for {@code resume} after a restart,
     * once every plugin's descriptors are installed.
     *
     * @param pid a process id inside the computation
     * @param epfd the epoll descriptor in that process
     * @param fd the descriptor to watch, in that process
     * @param events the event mask (EPOLLIN, EPOLLET, ...)
     * @param data the 64-bit user data the program gets back from epoll_wait
     * @throws IOException if the process refuses (the error names the reason)
     */
    void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException;

    /**
     * Whether two descriptors refer to one open file description (one open(2), shared
     * by dup or fork: one file offset, one set of status flags), as {@code kcmp(2)}
     * tells. Plugins use it to restore such descriptors as one again, e.g. stdout and
     * stderr of {@code prog > log 2>&1}.
     *
     * @param pidA a process id inside the computation
     * @param fdA a descriptor of that process
     * @param pidB a process id inside the computation (may be the same)
     * @param fdB a descriptor of that process
     * @return true if both are the same open file description
     * @throws IOException if a process or descriptor is gone
     * @since 1.1
     */
    boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException;

    /**
     * Installs a descriptor of the coordinator in a process at a given number, replacing
     * what was there (as {@code dup3} would): for {@code resume} after a checkpoint, when
     * a plugin had to replace a kernel object the program holds with an equivalent one
     * (e.g. the socket plugin rebuilds a client connection it took out of a listener's
     * accept queue to save the bytes in it). Replace a shared object at every descriptor
     * of every process that holds it. The coordinator's descriptor stays open: close it
     * yourself. The default refuses (a core that cannot do it).
     *
     * @param pid a process id inside the computation
     * @param fd the descriptor number in that process
     * @param descriptor a descriptor in the coordinator's process
     * @param flags {@code O_CLOEXEC} for the new descriptor, {@code O_NONBLOCK} for its open file description
     * @throws IOException if the process refuses
     * @since 1.2
     */
    default void install(int pid, int fd, int descriptor, int flags) throws IOException {
        throw new IOException("this core cannot install descriptors in running processes");
    }

    /**
     * Makes a terminal the controlling terminal of a process, as the program would
     * with {@code ioctl(fd, TIOCSCTTY, 0)}, and sets its foreground process group
     * ({@code TIOCSPGRP}). Only the process itself can do this (the kernel ties a
     * controlling terminal to the session leader that asks for it), so the agent does
     * it inside the process. Meant for {@code resume} after a restart, once the
     * terminal's descriptor is installed in a restored session leader: {@code /dev/tty}
     * then opens that terminal again, and job control signals reach the foreground
     * group. Other members of the session do not get it back: the kernel gives a
     * controlling terminal only to the leader and to children it forks afterwards.
     *
     * @param pid a session leader without a controlling terminal, inside the computation
     * @param fd a descriptor of that process on the terminal
     * @param foregroundGroup the foreground process group (a pid inside the computation),
     *        or 0 to leave the leader's own group in the foreground
     * @throws IOException if the process refuses (the error names the reason), or this
     *         core cannot do it
     * @since 1.2
     */
    default void controllingTerminal(int pid, int fd, int foregroundGroup) throws IOException {
        throw new IOException("this core cannot set a controlling terminal");
    }
}
