package org.stasis.api;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Contributes warnings to {@code stasis status} (and {@code status --json}): what is
 * wrong with a running computation now that the user should know before the next
 * checkpoint, such as a resource of the computation that has gone (the next checkpoint
 * would be refused). Not an event of a checkpoint or a restart: the core calls it
 * whenever the status is asked for, with the processes running, so it must be quick
 * (read /proc, no process access) and must not change anything.
 *
 * <p>Register an implementation as an OSGi service, like the lifecycle callbacks (a
 * Declarative Services component annotated with {@link StasisPlugin}). The core shows
 * each line prefixed with the plugin's id; a callback that throws is shown as a warning
 * that names the plugin, and the status is still printed.
 *
 * @since 1.6
 */
@ConsumerType
@FunctionalInterface
public interface StatusCallback {
    /**
     * @param computation the computation whose status is asked for (its processes run)
     * @return one line per problem: what is wrong and what to do; empty when all is well
     * @throws Exception if the plugin cannot tell (shown as a warning naming the plugin)
     */
    List<String> warnings(Computation computation) throws Exception;
}
