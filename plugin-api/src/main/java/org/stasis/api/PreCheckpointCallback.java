package org.stasis.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the {@code preCheckpoint} event. Called before the computation's threads are stopped. Prepare what the checkpoint needs while the program still runs, for example copy configuration files into {@link CheckpointContext#pluginDirectory()}.
 *
 * <p>Register an implementation as an OSGi service (a Declarative Services component
 * annotated with {@link StasisPlugin}). Throwing aborts the operation and names the plugin.
 */
@ConsumerType
@FunctionalInterface
public interface PreCheckpointCallback {
    /**
     * Handles the event.
     *
     * @param context what the core knows about this event
     * @throws Exception to abort; the message is shown to the user with the plugin id
     */
    void preCheckpoint(CheckpointContext context) throws Exception;
}
