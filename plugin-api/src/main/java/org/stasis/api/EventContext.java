package org.stasis.api;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What every lifecycle event tells a plugin. Contexts are valid only during the
 * callback they are passed to.
 */
@ProviderType
public interface EventContext {
    /** @return the event being dispatched */
    LifecycleEvent event();

    /** @return the computation being checkpointed or restarted */
    Computation computation();

    /** @return the checkpoint's id, e.g. {@code default-3} */
    String checkpointId();

    /** @return the checkpoint's generation, counting from 1 */
    long generation();

    /**
     * The plugin's own directory inside the checkpoint ({@code plugins/<id>/}),
     * created on first call. Files written here during a checkpoint are published
     * with it; during a restart the directory is read-only.
     *
     * @return the directory
     */
    Path pluginDirectory();

    /**
     * Adds a line to the coordinator's event log under the plugin's id, for the user
     * to read with {@code stasis:events}.
     *
     * @param message what happened
     */
    void log(String message);
}
