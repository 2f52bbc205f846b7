package org.stasis.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the {@code write} event. Called while the core writes the memory images. Write the plugin's records with {@link CheckpointContext#records()} and its blobs into {@link CheckpointContext#pluginDirectory()}; both become part of the published checkpoint.
 *
 * <p>Register an implementation as an OSGi service (a Declarative Services component
 * annotated with {@link StasisPlugin}). Throwing aborts the operation and names the plugin.
 */
@ConsumerType
@FunctionalInterface
public interface WriteCallback {
    /**
     * Handles the event.
     *
     * @param context what the core knows about this event
     * @throws Exception to abort; the message is shown to the user with the plugin id
     */
    void write(CheckpointContext context) throws Exception;
}
