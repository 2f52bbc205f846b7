package org.stasis.framework.dispatch;

import java.time.Instant;

/**
 * One step of a checkpoint or restart: a plugin handling an event, a core phase, or
 * a message a plugin logged.
 *
 * @param time when the step ended
 * @param operation the checkpoint id or operation it belongs to
 * @param step the event or core phase, e.g. {@code drain} or {@code core:suspend}
 * @param actor the plugin id, or {@code core}
 * @param millis how long the step took
 * @param status {@code ok}, {@code failed}, {@code timeout} or {@code info}
 * @param message details, empty when there are none
 */
public record EventLogEntry(Instant time, String operation, String step, String actor, long millis, String status,
        String message) {
}
