package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart brings back every process or none, and says why through the command line
 * and the event log; a checkpoint holds every process of the computation or is not
 * published (issue #9, causes 3 and 4).
 */
@Timeout(300)
class RestartAllOrNothingIT {
    private static final Pattern COUNT = Pattern.compile("count (\\d+)");

    @TempDir
    Path temp;

    /**
     * Four processes; the last one maps a file shared, which is deleted after the
     * checkpoint: that process cannot be restored. The restart ends at once with exit 1
     * and the restorer's line on its output, the event log has it, and none of the four
     * runs on.
     */
    @Test
    void aProcessThatCannotBeRestoredFailsTheWholeRestart() throws Exception {
        Path output = temp.resolve("output.txt");
        Path shared = temp.resolve("shared.dat");
        String marker = shared.toString();
        try (Computation computation = new Computation(temp, "allornothing")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("manyproc").toString(), "procs",
                    "4", "100000", marker);
            Computation.awaitProgress(output, 0, COUNT, 3);
            awaitProcesses(computation, 4);
            Path checkpoint = computation.checkpoint();
            computation.kill(running);
            Files.delete(shared);

            Path restartOutput = temp.resolve("restart.txt");
            Process restart = computation.restart(checkpoint, restartOutput);
            // well before the coordinator's own 120 s limit: the failure is reported, not waited out
            assertTrue(restart.waitFor(60, TimeUnit.SECONDS), "the failing restart did not end:\n" + read(restartOutput));
            assertEquals(1, restart.exitValue(), read(restartOutput));
            String line = "cannot reopen " + marker + " (mapped shared): No such file or directory";
            assertTrue(read(restartOutput).contains("stasis-restore: " + line), read(restartOutput));

            String events = computation.run("events", "-n", "50").out();
            assertTrue(events.contains(line), "the event log does not have the restorer's error:\n" + events);
            for (long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    computation.status().out().contains("\"pid\"") && System.nanoTime() < until; ) {
                Thread.sleep(100);
            }
            assertTrue(!computation.status().out().contains("\"pid\""),
                    "the coordinator still lists processes: " + computation.status());
            List<Long> left = ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(List::of)
                    .map(a -> a.contains(marker)).orElse(false)).map(ProcessHandle::pid).toList();
            left.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            assertTrue(left.isEmpty(), "processes of the failed restart still run: " + left);
        }
    }

    /**
     * A program with a SIGEV_THREAD POSIX timer (glibc's helper thread blocks every
     * signal but its own): the checkpoint suspends every thread (no timeout) and holds
     * the process; it restarts.
     */
    @Test
    void aSigevThreadTimerProgramIsCheckpointedAndRestarted() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "ptimer")) {
            // long enough not to end on its own before it is killed, even on a busy machine
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("ptimer").toString(), "1000",
                    "20");
            Computation.awaitProgress(output, 0, COUNT, 3);
            Path checkpoint = computation.checkpoint();
            String events = computation.run("events", "-n", "50").out();
            assertTrue(!events.contains("timeout"), "a thread was not suspended:\n" + events);
            String manifest = Files.readString(checkpoint.resolve("manifest.json"));
            assertTrue(manifest.contains("image-2"), "the checkpoint holds no image of the program:\n" + manifest);
            computation.kill(running);
            int before = Computation.lineCount(output);
            running = computation.restart(checkpoint, output);
            computation.awaitRestored();
            int at = Computation.awaitProgress(output, before, COUNT, 0);
            Computation.awaitProgress(output, before, COUNT, at + 3);
            Computation.assertFinished(running, output, "OK ptimer 1000");
        }
    }

    private static void awaitProcesses(Computation computation, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (computation.processCount() < count) {
            assertTrue(System.nanoTime() < deadline, "the processes did not join: " + computation.status());
            Thread.sleep(100);
        }
    }

    private static String read(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readString(file) : "(no output)";
    }
}
