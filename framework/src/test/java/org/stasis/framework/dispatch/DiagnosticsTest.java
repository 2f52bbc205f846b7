package org.stasis.framework.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

class DiagnosticsTest {
    private final EventLog log = new EventLog(10);
    private final ByteArrayOutputStream coordinatorLog = new ByteArrayOutputStream();
    private final Diagnostics diagnostics = new Diagnostics(log,
            new PrintStream(coordinatorLog, true, StandardCharsets.UTF_8));

    @Test
    void aWarningReachesTheEventLogAndTheCoordinatorLog() {
        diagnostics.warning("app-3", "release", "process 42 did not resume: gone");

        EventLogEntry entry = log.recent(10).get(0);
        assertEquals(List.of("app-3", "core:release", "core", "warning", "process 42 did not resume: gone"),
                List.of(entry.operation(), entry.step(), entry.actor(), entry.status(), entry.message()));
        assertEquals("stasis: warning: process 42 did not resume: gone\n", coordinatorLog.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aNoticeIsInfoInTheEventLogAndPlainInTheCoordinatorLog() {
        diagnostics.info(Diagnostics.COORDINATOR, "listen", "control over TCP on 127.0.0.1:4000");

        EventLogEntry entry = log.recent(10).get(0);
        assertEquals(List.of("coordinator", "core:listen", "info"), List.of(entry.operation(), entry.step(),
                entry.status()));
        assertEquals("stasis: control over TCP on 127.0.0.1:4000\n", coordinatorLog.toString(StandardCharsets.UTF_8));
    }
}
