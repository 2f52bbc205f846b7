package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Copy-on-write snapshots through the coordinator (issue #15, the pause): a thread rewrites
 * its buffer without pause while a snapshot process writes the image, and each restart
 * finds the buffer as it was at one instant (the scenario checks every word against its
 * own progress); a restored process is snapshotted again. Processes below
 * {@code snapshot.min.mib} are written in the pause.
 */
@Timeout(300)
class CopyOnWriteSnapshotIT {
    private static final String BY_SNAPSHOT = "(by a snapshot while the program ran)";

    @TempDir
    Path temp;

    private static String cowgen() {
        return Computation.SCENARIOS.resolve("cowgen").toString();
    }

    @Test
    void imagesWrittenWhileTheProgramRewritesItsMemoryRestoreOneInstant() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "cow", Map.of("snapshot.min.mib", "0"))) {
            Process running = computation.launch(output, cowgen(), "gen", "256");
            Computation.awaitLine(output, l -> l.startsWith("pass"), Duration.ofSeconds(60));
            for (int restarts = 1; restarts <= 2; restarts++) {
                Path checkpoint = fullCheckpoint(computation);
                List<String> written = imagesWritten(computation, checkpoint);
                assertEquals(1, written.size(), written.toString());
                assertTrue(written.get(0).contains(BY_SNAPSHOT), written.toString());
                int lines = Computation.lineCount(output);
                Computation.awaitLine(output, lines, l -> l.startsWith("pass"), Duration.ofSeconds(60));
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                String check = Computation.awaitLine(output, before,
                        l -> l.startsWith("CHECK") || l.startsWith("FAIL"), Duration.ofSeconds(60));
                assertTrue(check.startsWith("CHECK " + restarts + " "), check);
            }
            computation.kill(running);
        }
    }

    @Test
    void aSmallProcessIsWrittenInThePause() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "small")) {
            Process running = computation.launch(output, cowgen(), "gen", "16");
            Computation.awaitLine(output, l -> l.startsWith("pass"), Duration.ofSeconds(60));
            List<String> written = imagesWritten(computation, fullCheckpoint(computation));
            assertEquals(1, written.size(), written.toString());
            assertTrue(!written.get(0).contains(BY_SNAPSHOT), written.toString());
            computation.kill(running);
        }
    }

    private static Path fullCheckpoint(Computation computation) {
        StasisCli.Result result = computation.run("checkpoint", "--full");
        assertEquals(0, result.status(), result.toString());
        Path checkpoint = Path.of(result.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertTrue(Files.isRegularFile(checkpoint.resolve("manifest.json")), result.toString());
        return checkpoint;
    }

    // The checkpoint's core:write-process entries of `stasis events`.
    private static List<String> imagesWritten(Computation computation, Path checkpoint) {
        String id = checkpoint.getFileName().toString();
        return Arrays.stream(computation.run("events", "-n", "400").out().split("\n"))
                .filter(l -> l.contains(id) && l.contains("core:write-process")).toList();
    }
}
