package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Transparency (issue #9, causes 2 and 5) through the command line: a daemon made by
 * the classic double fork outlives the launched program (launch returns that
 * program's status, status still shows the daemon), is checkpointed, killed and
 * restarted and counts on; a process that stopped itself is checkpointed at once and
 * stays stopped, after the checkpoint and after a restart, until SIGCONT; FIFOs that
 * only one side holds open, or whose name is gone, do not hang a checkpoint and come
 * back with their data.
 */
@Timeout(300)
class DaemonsAndStoppedIT {
    private static final Pattern COUNT = Pattern.compile("count (\\d+)");
    private static final Pattern TICK = Pattern.compile("tick (\\d+)");

    @TempDir
    Path temp;

    private static String scenario(String name) {
        return Computation.SCENARIOS.resolve(name).toString();
    }

    private static char state(long hostPid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(hostPid), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    private static void awaitState(long hostPid, char wanted) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (state(hostPid) != wanted) {
            if (System.nanoTime() > deadline) {
                fail("process " + hostPid + " is in state " + state(hostPid) + ", not " + wanted);
            }
            Thread.sleep(20);
        }
    }

    private static long hostPidOf(Computation computation, int pid) {
        String status = computation.status().out();
        var m = Pattern.compile("\"pid\" : " + pid + ",\\s*\"hostPid\" : (\\d+)").matcher(status);
        assertTrue(m.find(), "no process " + pid + " in the status: " + status);
        return Long.parseLong(m.group(1));
    }

    @Test
    void aDaemonOutlivesTheLaunchedProgramAndIsRestarted() throws Exception {
        Path output = temp.resolve("launch.txt");
        Path counts = temp.resolve("daemon.txt");
        try (Computation computation = new Computation(temp, "daemon")) {
            Process launched = computation.launch(output, scenario("daemon"), "double", "100000", counts.toString());
            assertTrue(launched.waitFor(20, TimeUnit.SECONDS), "launch did not return when the program exited");
            assertEquals(3, launched.exitValue(), "launch returns the launched program's status");
            String line = Computation.awaitLine(output, l -> l.startsWith("daemon "), Duration.ofSeconds(5));
            int daemon = Integer.parseInt(line.substring("daemon ".length()).strip());
            int at = Computation.awaitProgress(counts, 0, COUNT, 10);
            hostPidOf(computation, daemon);                  // status still shows it
            Path checkpoint = computation.checkpoint();
            computation.kill(launched);
            Thread.sleep(200);
            int before = Computation.lineCount(counts);
            Process restarted = computation.restart(checkpoint, temp.resolve("restart.txt"));
            computation.awaitRestored();
            at = Computation.awaitProgress(counts, before, COUNT, at + 1);
            Computation.awaitProgress(counts, before, COUNT, at + 20);
            assertTrue(Files.readString(counts).contains("restarted 1"), "the daemon did not notice the restart");
            hostPidOf(computation, daemon);                  // the same pid again
            computation.kill(restarted);
        }
    }

    @Test
    void aStoppedProcessIsCheckpointedAndRestartedStopped() throws Exception {
        Path output = temp.resolve("output.txt");
        // every image by a copy-on-write snapshot, but a process that stays stopped: its agent
        // stops with it at the release and could not collect a snapshot's image
        try (Computation computation = new Computation(temp, "stopped", Map.of("snapshot.min.mib", "0"))) {
            Process launched = computation.launch(output, scenario("daemon"), "selfstop", "60");
            Computation.awaitLine(output, l -> l.equals("stopping"), Duration.ofSeconds(30));
            long hostPid = hostPidOf(computation, 2);
            awaitState(hostPid, 'T');
            Path checkpoint = computation.checkpoint();
            awaitState(hostPid, 'T');
            Thread.sleep(300);
            assertEquals('T', state(hostPid), "it runs on after the checkpoint");
            assertFalse(Files.readString(output).contains("continued"), Files.readString(output));
            computation.kill(launched);
            Process restarted = computation.restart(checkpoint, temp.resolve("restart.txt"));
            computation.awaitRestored();
            long restoredPid = hostPidOf(computation, 2);
            awaitState(restoredPid, 'T');
            Thread.sleep(300);
            assertFalse(Files.readString(output).contains("continued"), "it ran after the restart:\n"
                    + Files.readString(output));
            new ProcessBuilder("kill", "-CONT", Long.toString(restoredPid)).start().waitFor();
            Computation.assertFinished(restarted, output, "OK 60");
            String text = Files.readString(output);
            assertTrue(text.contains("continued") && text.contains("restarted 1"), text);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reader", "writer", "unlinked"})
    void aFifoOfOneSideOrUnlinkedDoesNotHangTheCheckpoint(String mode) throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "fifo-" + mode)) {
            Process launched = computation.launch(output, "python3", scenario("py_fifo_oneside.py"), mode,
                    temp.toString(), "150");
            int at = Computation.awaitProgress(output, 0, TICK, 10);
            long start = System.nanoTime();
            Path checkpoint = computation.checkpoint();
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 10_000, "the checkpoint took " + millis + " ms");
            computation.kill(launched);
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(checkpoint, temp.resolve("restart.txt"));
            computation.awaitRestored();
            Computation.awaitProgress(output, before, TICK, at + 1);
            Computation.assertFinished(restarted, output, "OK " + mode);
        }
    }
}
