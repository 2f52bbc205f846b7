package org.stasis.framework.commands;

import org.stasis.framework.control.CommandFailedException;
import java.util.Set;

import org.stasis.framework.core.Computations;

/**
 * Which computation a command acts on: the one named with {@code --computation}, or
 * the only one running. With several running and none named the command is a usage
 * error (exit 2) whose one line lists the ids.
 */
final class ComputationChoice {
    private ComputationChoice() {
    }

    /**
     * @param computations the coordinator's computations
     * @param requested the id the user gave, empty if none
     * @param command the command, for the hint
     * @return the id, or empty if none runs and none was named
     * @throws IllegalArgumentException with several running and none named
     * @throws CommandFailedException if the named one does not run
     */
    static java.util.Optional<String> of(Computations computations, String requested, String command) {
        return of(computations, requested, command, id -> false);
    }

    /**
     * Like {@link #of(Computations, String, String)}, not counting the computations
     * {@code aside} tells (parts of another computation when none is named).
     *
     * @param computations the coordinator's computations
     * @param requested the id the user gave, empty if none
     * @param command the command, for the hint
     * @param aside computations that are no choice of their own when none is named
     * @return the id, or empty if none runs and none was named
     */
    static java.util.Optional<String> of(Computations computations, String requested, String command,
            java.util.function.Predicate<String> aside) {
        Set<String> running = computations.running();
        if (requested.isEmpty()) {
            running = new java.util.TreeSet<>(running);
            running.removeIf(aside);
        }
        if (!requested.isEmpty()) {
            if (!running.contains(requested)) {
                throw new CommandFailedException("no computation '" + requested + "' runs here"
                        + (running.isEmpty() ? "" : "; running: " + String.join(", ", running))
                        + "; see: stasis status", null);
            }
            return java.util.Optional.of(requested);
        }
        if (running.size() > 1) {
            throw new IllegalArgumentException("several computations run (" + String.join(", ", running)
                    + "); name one: stasis " + command + " --computation ID");
        }
        return running.stream().findFirst();
    }
}
