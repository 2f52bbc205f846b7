package org.stasis.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives the {@code resume} event. Called just before the computation's threads run again: after a published checkpoint, after an aborted one, and after a restart (see {@link ResumeContext#outcome()}). Refill what {@link DrainCallback} drained. An exception here is logged and does not undo anything.
 *
 * <p>Register an implementation as an OSGi service (a Declarative Services component
 * annotated with {@link StasisPlugin}). A failure here is logged with the plugin's id;
 * it cannot abort anything because the checkpoint is already decided.
 */
@ConsumerType
@FunctionalInterface
public interface ResumeCallback {
    /**
     * Handles the event.
     *
     * @param context what the core knows about this event
     * @throws Exception to report a failure; it is logged and the other plugins still resume
     */
    void resume(ResumeContext context) throws Exception;
}
