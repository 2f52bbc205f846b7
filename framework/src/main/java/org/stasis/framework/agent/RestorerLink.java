package org.stasis.framework.agent;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * The coordinator's end of a restart's supervisor ({@code stasis-restore}, the process
 * the user started): it says {@code RESTORER pid=N plan=PATH} when it starts, then
 * {@code FAILED <line>} if any process of the restart could not be restored (it has
 * killed the whole restart and shown the line on its terminal); closing the connection
 * before the coordinator released the processes means it ended. The coordinator
 * answers {@code DONE} once it released every process, or {@code ABORT <why>} to have
 * the supervisor kill the restart and show why (doc/restart-plan.md).
 */
final class RestorerLink {
    private final UnixConnection connection;
    private final String plan;
    private final Runnable onFailure;
    private volatile String failure;
    private volatile boolean finished;

    private RestorerLink(UnixConnection connection, String plan, Runnable onFailure) {
        this.connection = connection;
        this.plan = plan;
        this.onFailure = onFailure;
    }

    /**
     * Starts listening to a supervisor.
     *
     * @param connection its connection
     * @param first its first line ({@code RESTORER ...})
     * @param onFailure called once if it reports a failure or ends before it is released
     * @return the link
     */
    static RestorerLink start(UnixConnection connection, String first, Runnable onFailure) {
        RestorerLink link = new RestorerLink(connection, planOf(first), onFailure);
        Thread reader = new Thread(link::listen, "stasis-restorer-" + connection.peerPid());
        reader.setDaemon(true);
        reader.start();
        return link;
    }

    /**
     * @param first a supervisor's first line ({@code RESTORER pid=N plan=PATH})
     * @return the plan file it carries out, empty if it named none
     */
    static String planOf(String first) {
        int at = first.indexOf(" plan=");
        return at < 0 ? "" : first.substring(at + 6);
    }

    /** @return the supervisor's pid (as this coordinator sees it) */
    long pid() {
        return connection.peerPid();
    }

    /** @return the plan file the supervisor carries out */
    String plan() {
        return plan;
    }

    private void listen() {
        String why;
        try {
            String line = connection.readLine(Duration.ZERO);
            why = line.startsWith("FAILED ") ? line.substring(7) : "the restorer said: " + line;
        } catch (IOException e) {
            why = "the restorer (pid " + connection.peerPid() + ") ended before every process was restored";
        }
        if (!finished) {
            failure = why;
            onFailure.run();
        }
        connection.close();
    }

    /** @return why the restart failed on the restorer's side, if it did */
    Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** Every process runs again: the supervisor only waits for the program now. */
    void released() {
        finish("DONE");
    }

    /**
     * Has the supervisor kill every process of the restart and show why.
     *
     * @param why one line
     */
    void abort(String why) {
        finish("ABORT " + why.replace('\n', ' '));
    }

    private void finish(String line) {
        if (finished) {
            return;
        }
        finished = true;
        try {
            connection.writeLine(line);
        } catch (IOException e) {
            // It is gone already: nothing of the restart is left to stop.
        }
        connection.close();
    }
}
