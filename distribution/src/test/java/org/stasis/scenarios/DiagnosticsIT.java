package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * The coordinator's own warnings reach both places a user reads: {@code stasis events}
 * and the coordinator log ({@code <runtime>/<name>.log}).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DiagnosticsIT {
    @TempDir
    Path temp;

    /** A failed interval checkpoint has no client to tell: events and the log say it. */
    @Test
    void aFailedIntervalCheckpointIsAWarningInEventsAndInTheCoordinatorLog() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "diagnostics")) {
            computation.launch(output, Computation.SCENARIOS.resolve("kf_refuse").toString(),
                    "mqueue", "3000", "40");
            Computation.awaitProgress(output, 0, Pattern.compile("step (\\d+)"), 3);
            assertEquals(0, computation.exec("stasis:interval 1").status());

            String line = "interval checkpoint of computation c1 failed";
            String events = "";
            for (long until = System.nanoTime() + Duration.ofSeconds(60).toNanos(); System.nanoTime() < until;) {
                events = computation.run("events").toString();
                if (events.contains(line)) {
                    break;
                }
                Thread.sleep(200);
            }
            assertEquals(0, computation.exec("stasis:interval 0").status());
            String warning = events.lines().filter(l -> l.contains(line)).findFirst().orElse("");
            assertTrue(warning.contains("warning") && warning.contains("POSIX message queue"),
                    "no warning in stasis events: " + events);
            String log = Files.readString(temp.resolve("run").resolve("diagnostics.log"));
            assertTrue(log.contains("stasis: warning: " + line), "not in the coordinator log: " + log);
            StasisCli.Result json = computation.run("events", "--json");
            assertTrue(json.out().contains("\"status\" : \"warning\""), json.toString());
        }
    }
}
