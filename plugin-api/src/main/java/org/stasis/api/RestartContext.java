package org.stasis.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The context of {@code restart}: what the checkpoint holds for the plugin, and the
 * plan that the core carries out once every plugin has contributed to it.
 */
@ProviderType
public interface RestartContext extends EventContext {
    /**
     * @return the records the plugin stored at checkpoint time, read-only: {@code put}
     *         throws {@link UnsupportedOperationException}
     */
    PluginRecords records();

    /** @return the restart plan to contribute to */
    RestartPlan plan();

    /**
     * Warns the user who runs {@code stasis restart}: the line is printed on that
     * terminal (prefixed {@code stasis: warning:}) before the program runs again, and
     * added to the event log as a warning. For what the user must know and act on,
     * such as a file that changed since the checkpoint; not for progress.
     *
     * @param message one line: what is wrong and what to do
     * @since 1.3
     */
    default void warn(String message) {
        log(message);
    }
}
