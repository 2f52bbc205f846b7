package org.stasis.api;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The context of {@code preCheckpoint}, {@code drain} and {@code write}. During
 * {@code preCheckpoint} the processes still run: {@link #openFds} and
 * {@link #terminalSettings} are empty and the methods of {@link #processes()} fail.
 * The records are writable in all three events.
 */
@ProviderType
public interface CheckpointContext extends EventContext {
    /**
     * The plugin's records: small key/value data stored in the checkpoint's manifest
     * and handed back at restart through {@link RestartContext#records()}. Put large
     * data in {@link #pluginDirectory()} instead.
     *
     * @return the plugin's writable records
     */
    PluginRecords records();

    /**
     * The open file descriptors of a process of the computation, as its agent reported
     * them once the threads were stopped. Always empty during {@code preCheckpoint}
     * (the processes still run and may open and close descriptors).
     *
     * @param pid a process id inside the computation ({@link ProcessInfo#pid()})
     * @return the descriptors, by ascending number
     */
    List<OpenFd> openFds(int pid);

    /**
     * Reads the settings of a terminal a process has open (the C library's
     * {@code struct termios} as {@code tcgetattr(3)} fills it), to hand back to
     * {@link ProcessPlan#terminalSettings(int, byte[])} at restart.
     *
     * @param pid a process id inside the computation
     * @param fd a descriptor of that process that refers to a terminal
     * @return the raw settings, or empty if the descriptor is not a terminal (always
     *         empty during {@code preCheckpoint})
     */
    Optional<byte[]> terminalSettings(int pid, int fd);

    /**
     * @return access to the suspended processes (empty-handed during
     *         {@code preCheckpoint}, when they still run: its methods then fail
     *         with an {@code IOException} that says so)
     * @since 1.1
     */
    ProcessAccess processes();

    /**
     * A checkpoint option the user set for the computation ({@code stasis launch},
     * {@code checkpoint} or {@code restart --save-files MODE} sets {@code save-files};
     * {@code stasis option NAME VALUE} sets any). The core records the options in the
     * checkpoint's manifest and the computation keeps them across a restart. Plugins
     * define what their options mean and must accept an absent one.
     *
     * @param name the option's name, e.g. {@code save-files}
     * @return its value, or empty if the user did not set it
     * @since 1.3
     */
    default Optional<String> option(String name) {
        return Optional.empty();
    }
}
