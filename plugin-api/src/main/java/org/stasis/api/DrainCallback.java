package org.stasis.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the {@code drain} event. Called once every thread of the computation is stopped. Empty kernel buffers the plugin owns (data in flight in sockets, pipes, terminals) into user space so that the memory image holds it; refill it in {@link ResumeCallback}.
 *
 * <p>Register an implementation as an OSGi service (a Declarative Services component
 * annotated with {@link StasisPlugin}). Throwing aborts the operation and names the plugin.
 */
@ConsumerType
@FunctionalInterface
public interface DrainCallback {
    /**
     * Handles the event.
     *
     * @param context what the core knows about this event
     * @throws Exception to abort; the message is shown to the user with the plugin id
     */
    void drain(CheckpointContext context) throws Exception;
}
