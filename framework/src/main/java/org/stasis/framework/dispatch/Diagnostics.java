package org.stasis.framework.dispatch;

import java.io.PrintStream;
import java.time.Instant;

/**
 * The one path for the coordinator's own warnings and notices (an agent refused, a
 * process that did not resume, a failed interval checkpoint, ...): each line goes to
 * the event log, where {@code stasis events} shows it, and to the coordinator's log
 * (its standard error, which the launcher appends to {@code <name>.log}). Users and
 * tests read them in one place; nothing in the framework prints warnings by itself.
 * The launcher's messages before the coordinator runs (Main, FelixRuntime) are not
 * diagnostics: they go to the terminal of {@code stasis start}.
 */
public final class Diagnostics {
    /** The operation column of entries that belong to no checkpoint or restart. */
    public static final String COORDINATOR = "coordinator";

    private final EventLog log;
    private final PrintStream coordinatorLog;

    /**
     * @param log the event log {@code stasis events} reads
     * @param coordinatorLog the coordinator's log stream (its standard error)
     */
    public Diagnostics(EventLog log, PrintStream coordinatorLog) {
        this.log = log;
        this.coordinatorLog = coordinatorLog;
    }

    /** @return diagnostics that go nowhere, for tests and tools that have no coordinator */
    public static Diagnostics discarding() {
        return new Diagnostics(new EventLog(1), new PrintStream(PrintStream.nullOutputStream()));
    }

    /**
     * Something the user must know and may have to act on.
     *
     * @param operation the checkpoint id or operation it belongs to, or {@link #COORDINATOR}
     * @param step what the coordinator was doing, e.g. {@code agent} or {@code interval}
     * @param message one line: what went wrong and what to do
     */
    public void warning(String operation, String step, String message) {
        add(operation, step, "warning", message);
        coordinatorLog.println("stasis: warning: " + message);
    }

    /**
     * A notice worth keeping: something happened that the user did not ask for directly.
     *
     * @param operation the checkpoint id or operation it belongs to, or {@link #COORDINATOR}
     * @param step what the coordinator was doing
     * @param message one line
     */
    public void info(String operation, String step, String message) {
        add(operation, step, "info", message);
        coordinatorLog.println("stasis: " + message);
    }

    /** @return the event log the entries go to */
    public EventLog log() {
        return log;
    }

    private void add(String operation, String step, String status, String message) {
        log.add(new EventLogEntry(Instant.now(), operation, "core:" + step, "core", 0, status, message));
    }
}
