package org.stasis.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the {@code restart} event. Called when a checkpoint is restarted, before any process exists again, in reverse ranking order. Recreate the plugin's resources and add them to {@link RestartContext#plan()}.
 *
 * <p>Register an implementation as an OSGi service (a Declarative Services component
 * annotated with {@link StasisPlugin}). Throwing aborts the operation and names the plugin.
 */
@ConsumerType
@FunctionalInterface
public interface RestartCallback {
    /**
     * Handles the event.
     *
     * @param context what the core knows about this event
     * @throws Exception to abort; the message is shown to the user with the plugin id
     */
    void restart(RestartContext context) throws Exception;
}
