package org.stasis.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One process's part of a {@link RestartPlan}.
 */
@ProviderType
public interface ProcessPlan {
    /** @return the process id inside the computation */
    int pid();

    /**
     * Makes {@code fd} refer to {@code source} in the restored process, replacing any
     * earlier entry for the same number.
     *
     * @param fd the descriptor number the program uses
     * @param source where the descriptor comes from
     */
    void installFd(int fd, FdSource source);

    /** @return the fd table so far, by descriptor number */
    Map<Integer, FdSource> fds();

    /**
     * Applies terminal settings (a C library {@code struct termios}, as from
     * {@link CheckpointContext#terminalSettings(int, int)}) to descriptor {@code fd}
     * once the fd table is installed.
     *
     * @param fd a descriptor that will refer to a terminal
     * @param termios the settings
     */
    void terminalSettings(int fd, byte[] termios);

    /** @return the terminal settings to apply, by descriptor number */
    Map<Integer, byte[]> terminalSettings();

    /** @param directory the working directory to restore */
    void workingDirectory(Path directory);

    /** @return the working directory to restore, if a plugin set one */
    Optional<Path> workingDirectory();

    /**
     * Takes a file lock again inside the restored process, once its fd table (including
     * {@link FdSource.Passed} descriptors) is installed and before any of its threads
     * runs. A lock that cannot be taken (someone else holds it now) fails the restart
     * with a message that names it.
     *
     * @param lock the lock, on one of this process's descriptors
     * @since 1.2
     */
    default void lock(FileLock lock) {
        throw new UnsupportedOperationException("this restart plan cannot take file locks");
    }

    /**
     * @return the locks to take, in the order they were added
     * @since 1.2
     */
    default List<FileLock> locks() {
        return List.of();
    }
}
