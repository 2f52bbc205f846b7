package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real programs checkpointed, killed and restarted through the command line, three
 * generations deep, and once restarted while the original still runs. Each program
 * checks its own memory and kernel state and exits 0 only if nothing was lost.
 */
@Timeout(300)
class CheckpointRestartIT {

    @TempDir
    Path temp;

    /** Launch, then twice: checkpoint, kill, restart, see it go on; it must then finish on its own. */
    private void threeGenerations(String okPrefix, Pattern progress, String... command) throws Exception {
        threeGenerations(List.of(), okPrefix, progress, command);
    }

    private void threeGenerations(List<String> options, String okPrefix, Pattern progress, String... command)
            throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "scenario")) {
            Process running = computation.launchWith(output, options, command);
            Computation.awaitProgress(output, 0, progress, 3);
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                int resumedAt = Computation.awaitProgress(output, before, progress, 0);
                Computation.awaitProgress(output, before, progress, resumedAt + 3);
            }
            Computation.assertFinished(running, output, okPrefix);
        }
    }

    @Test
    void singleThreadedCounterSurvivesThreeGenerations() throws Exception {
        threeGenerations("OK counter 150 pid ", Pattern.compile("count (\\d+)"),
                Computation.SCENARIOS.resolve("counter").toString(), "150", "40");
        assertTrue(Files.readString(temp.resolve("output.txt")).contains("OK counter 150 pid 2"),
                "the restarted counter did not keep its pid");
    }

    @Test
    void eightThreadsKeepTheirCountersAndInvariants() throws Exception {
        threeGenerations("OK threads 8 x ", Pattern.compile("progress (\\d+)"),
                Computation.SCENARIOS.resolve("threads").toString(), "400", "10000");
    }

    @Test
    void pythonKeeps200MibAndTwoCountingThreads() throws Exception {
        threeGenerations("OK python 200 MiB", Pattern.compile("progress (\\d+) \\d+ \\d+"),
                "python3", Computation.SCENARIOS.resolve("python_memory.py").toString(), "200", "40", "0.1");
    }

    @Test
    void aFileDeletedWhileOpenComesBackDeletedWithItsContent() throws Exception {
        threeGenerations("OK deleted file 120", Pattern.compile("step (\\d+)"), "python3",
                Computation.SCENARIOS.resolve("deleted_file.py").toString(), "120",
                temp.resolve("scratch.dat").toString(), "0.05");
        assertTrue(!Files.exists(temp.resolve("scratch.dat")), "the deleted file came back by name");
    }

    @Test
    void aPythonParentAndItsSubprocessKeepTheirPipeStream() throws Exception {
        threeGenerations("OK subprocess 400", Pattern.compile("step (\\d+)"), "python3",
                Computation.SCENARIOS.resolve("py_subprocess.py").toString(), "400", "0.02");
    }

    /**
     * stdout and stderr of {@code prog > log 2>&1}, shared with a forked child: one open
     * file description, one offset. Restored as separate opens, the writers would
     * overwrite each other's lines; the program checks the log line by line. The log is
     * the program's state (it reads it back), so it is saved with the checkpoint: not
     * saved, the lines written after the checkpoint stay and the restart continues after them.
     */
    @Test
    void descriptorsSharingOneOpenFileKeepOneOffset() throws Exception {
        threeGenerations(List.of("--save-files", "auto"), "OK shared-log 6000", Pattern.compile("progress (\\d+)"), "python3",
                Computation.SCENARIOS.resolve("py_shared_log.py").toString(), temp.resolve("shared.log").toString(),
                "6000");
    }

    @Test
    void filesAreReopenedAtTheirOffsets() throws Exception {
        Path input = temp.resolve("input.txt");
        Files.writeString(input, IntStream.range(0, 200).mapToObj(i -> String.format("line %06d%n", i))
                .collect(Collectors.joining()));
        Path appended = temp.resolve("appended.txt");
        Path output = temp.resolve("output.txt");
        Pattern progress = Pattern.compile("wrote (\\d+)");
        try (Computation computation = new Computation(temp, "files")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("files").toString(), "120",
                    appended.toString(), input.toString(), "40");
            Computation.awaitProgress(output, 0, progress, 3);
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                computation.kill(running);
                // Files are not part of a checkpoint: put the output back as it was then.
                truncateToCheckpoint(appended, checkpoint);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                int resumedAt = Computation.awaitProgress(output, before, progress, 0);
                Computation.awaitProgress(output, before, progress, resumedAt + 3);
            }
            Computation.assertFinished(running, output, "OK files 120");
        }
    }

    // The file plugin recorded each open file as "<flags> <offset> <size> <mtime> <path>".
    private static void truncateToCheckpoint(Path file, Path checkpoint) throws Exception {
        String manifest = Files.readString(checkpoint.resolve("manifest.json"));
        Matcher m = Pattern.compile("\"open\\.\\d+\\.\\d+\" : \"\\d+ \\d+ (\\d+) -?\\d+ " + Pattern.quote(file.toString())
                + "\"").matcher(manifest);
        assertTrue(m.find(), "the file plugin did not record " + file + ":\n" + manifest);
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(Long.parseLong(m.group(1)));
        }
    }

    @Test
    void aRestartWhileTheOriginalRunsClashesWithNothing() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "twins")) {
            Process original = computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "100",
                    "40");
            Computation.awaitProgress(output, 0, Pattern.compile("count (\\d+)"), 5);
            Path checkpoint = computation.checkpoint();
            Process twin = computation.restart(checkpoint, output);
            Computation.assertFinished(original, output, "OK counter 100 pid 2");
            Computation.assertFinished(twin, output, "OK counter 100 pid 2");
            assertEquals(2, Files.readAllLines(output).stream().filter(l -> l.equals("OK counter 100 pid 2")).count(),
                    Files.readString(output));
        }
    }

    @Test
    void theShellLaunchesAndRestartsInTheBackground() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "headless")) {
            var launched = computation.exec("stasis:launch --out " + output + " "
                    + Computation.SCENARIOS.resolve("counter") + " 80 40");
            assertEquals(0, launched.status(), launched.toString());
            assertTrue(launched.out().contains("as pid 2"), launched.toString());
            Computation.awaitProgress(output, 0, Pattern.compile("count (\\d+)"), 5);
            Path checkpoint = computation.checkpoint();
            assertEquals(0, computation.exec("stasis:kill").status());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!computation.status().out().contains("\"processes\" : [ ]") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            int before = Computation.lineCount(output);
            var restarted = computation.exec("stasis:restart --out " + output + " " + checkpoint);
            assertEquals(0, restarted.status(), restarted.toString());
            Computation.awaitLine(output, before, l -> l.equals("OK counter 80 pid 2"), Duration.ofSeconds(60));
        }
    }

    @Test
    void aProgramCheckpointsItselfAndLearnsHowItContinues() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "self")) {
            Process original = computation.launch(output, Computation.SCENARIOS.resolve("selfckpt").toString(), "40",
                    "10", "20");
            Computation.assertFinished(original, output, "OK selfckpt 40 resumed pid 2");
            Path checkpoint = Path.of(computation.status().out().replaceAll("(?s).*\"directory\" : \"([^\"]+)\".*", "$1"));
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(checkpoint, output);
            Computation.assertFinished(restarted, output, "OK selfckpt 40 restarted pid 2");
            assertEquals("checkpoint restarted", Files.readAllLines(output).get(before));
        }
    }

    @Test
    void aCheckpointMovedToAnotherPlaceStillRestarts() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "moved")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "100",
                    "30");
            Computation.awaitProgress(output, 0, Pattern.compile("count (\\d+)"), 5);
            Path checkpoint = computation.checkpoint();
            computation.kill(running);
            Path elsewhere = Files.createDirectories(temp.resolve("archive/2026")).resolve("kept");
            Files.move(checkpoint, elsewhere);
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(elsewhere, output);
            Computation.assertFinished(restarted, output, "OK counter 100 pid 2");
            assertTrue(Computation.lineCount(output) > before);
        }
    }
}
