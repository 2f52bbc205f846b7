package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Process trees through the command line: a program forks a child (its own process
 * group) that forks a grandchild, and leaves a zombie; numbered records flow
 * continuously root → child → grandchild through two pipes (data is in flight at every
 * checkpoint). The tree is checkpointed, killed and restarted as one computation three
 * times. Every process checks that its pid, parent and process group are the saved
 * ones; the grandchild checks every record arrives exactly once and in order; after
 * the last restart the root signals the child, which ends the stream, reaps the
 * grandchild and exits; the root reaps the child.
 */
@Timeout(300)
class ProcessTreeIT {
    private static final Pattern TICK = Pattern.compile("tick (\\d+)");

    @TempDir
    Path temp;

    @Test
    void threeLevelTreeSurvivesThreeGenerations() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "tree")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("forktree").toString(),
                    "tree", "400");
            int at = Computation.awaitProgress(output, 0, TICK, 10);
            long inFlight = 0;
            for (int generation = 1; generation <= 3; generation++) {
                Path checkpoint = computation.checkpoint();
                try (var files = Files.list(checkpoint)) {
                    inFlight += files.filter(f -> f.getFileName().toString().startsWith("pipe-"))
                            .mapToLong(f -> f.toFile().length()).sum();
                }
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                at = Computation.awaitProgress(output, before, TICK, at + 1);
                at = Computation.awaitProgress(output, before, TICK, at + 10);
            }
            Computation.assertFinished(running, output, "OK tree");
            assertTrue(inFlight > 0, "no checkpoint found data in flight in the pipes");
            String text = Files.readString(output);
            for (String who : new String[] {"root", "A", "B"}) {
                assertTrue(text.contains("restarted " + who + " 3"), who + " did not notice the third restart:\n" + text);
            }
            assertTrue(text.contains("A reaped B"), text);
            String ok = text.lines().filter(l -> l.startsWith("OK tree ")).findFirst().orElseThrow();
            String sent = ok.substring("OK tree ".length()).strip();
            assertTrue(text.contains("B got " + sent + "\n"),
                    "records through the pipes were lost or repeated (sent " + sent + "):\n" + text);
        }
    }

    /** The resume path: the running tree checkpointed 50 times in a row loses and repeats nothing. */
    @Test
    void aRunningTreeCheckpointedFiftyTimesInARowLosesNothing() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "fifty")) {
            assertEquals(0, computation.exec("stasis:keep 2").status());
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("forktree").toString(),
                    "tree", "600");
            int at = Computation.awaitProgress(output, 0, TICK, 10);
            for (int round = 1; round <= 50; round++) {
                computation.checkpoint();
            }
            // Still streaming after fifty suspensions, then it finishes and checks every record.
            Computation.awaitProgress(output, 0, TICK, at + 5);
            Computation.assertFinished(running, output, "OK tree");
        }
    }

    /** A Python parent and its subprocess child, checkpointed 50 times in a row while streaming. */
    @Test
    void aPythonPipelineCheckpointedFiftyTimesInARowLosesNothing() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "pyfifty")) {
            assertEquals(0, computation.exec("stasis:keep 2").status());
            Process running = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("py_subprocess.py").toString(), "1500", "0.005");
            Computation.awaitProgress(output, 0, Pattern.compile("step (\\d+)"), 10);
            for (int round = 1; round <= 50; round++) {
                computation.checkpoint();
            }
            Computation.assertFinished(running, output, "OK subprocess 1500");
        }
    }

    /**
     * A parent reads numbered records its child writes into a named pipe (FIFO) it keeps
     * full: resumed ten times, then restarted twice. The FIFO is reopened by path at
     * restart and its data in flight comes back in order.
     */
    @Test
    void recordsThroughANamedPipeSurviveResumesAndRestarts() throws Exception {
        Path output = temp.resolve("output.txt");
        Pattern progress = Pattern.compile("progress (\\d+)");
        try (Computation computation = new Computation(temp, "fifo")) {
            Process running = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("py_fifo.py").toString(), temp.toString(), "300000");
            int at = Computation.awaitProgress(output, 0, progress, 5000);
            for (int round = 1; round <= 10; round++) {
                computation.checkpoint();
            }
            long inFlight = 0;
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                try (var files = Files.list(checkpoint)) {
                    inFlight += files.filter(f -> f.getFileName().toString().startsWith("fifo-"))
                            .mapToLong(f -> f.toFile().length()).sum();
                }
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                at = Computation.awaitProgress(output, before, progress, at + 1000);
            }
            Computation.assertFinished(running, output, "OK 300000");
            assertTrue(inFlight > 0, "no checkpoint found data in flight in the FIFO");
        }
    }

    /**
     * A parent and its child ping-pong a counter through shared anonymous memory and a
     * deleted file mapped shared (how Python's multiprocessing locks work): after each
     * restart they must still share both, or neither moves again. {@code posix}: the
     * counter is in a POSIX shared memory object that stays in /dev/shm (as Open MPI's
     * shared memory transport keeps its segments), which the processes change after the
     * checkpoint: the restart must bring back the checkpoint's contents, not the file's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"fork", "posix"})
    void memorySharedBetweenProcessesStaysSharedAfterRestarts(String mode) throws Exception {
        Path output = temp.resolve("output.txt");
        Pattern step = Pattern.compile("step (\\d+) \\(\\d+\\)");
        try (Computation computation = new Computation(temp, "shm")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("shm_fork").toString(),
                    mode, "3000");
            int at = Computation.awaitProgress(output, 0, step, 100);
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                at = Computation.awaitProgress(output, before, step, at + 100);
            }
            Computation.assertFinished(running, output, "OK 3000 3000");
        }
    }
    /**
     * {@code stasis kill} ends every process before any of them can notice another one
     * die: sixteen children block on a pipe whose write end only their parent holds, and
     * print a FAIL line if they read its end. Killed one by one, the parent first, they
     * did (and scenario programs elsewhere reported such failures after a kill).
     */
    @Test
    void killingTheComputationLetsNoProcessSeeAnotherDie() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "killwatch")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("killwatch").toString(), "16");
            Computation.awaitLine(output, l -> l.equals("watching 16"), Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (computation.processCount() < 17) {
                assertTrue(System.nanoTime() < deadline, "not all 17 processes joined: " + computation.status());
                Thread.sleep(100);
            }
            computation.kill(running);
            Thread.sleep(500);
            String text = Files.readString(output);
            assertTrue(text.lines().noneMatch(l -> l.startsWith("FAIL")), "a process saw another die:\n" + text);
        }
    }
}
