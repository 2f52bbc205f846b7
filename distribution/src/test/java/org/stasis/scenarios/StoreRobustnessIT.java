package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * A store that never loses a good checkpoint: a full disk, a coordinator killed in the
 * middle of a checkpoint, a program killed in the middle of one. Every time, earlier
 * checkpoints stay intact, {@code latest} names a complete one, and nothing of the
 * failed attempt is left behind.
 */
@Timeout(300)
class StoreRobustnessIT {
    @TempDir
    Path temp;

    private static List<String> entries(Path directory) throws Exception {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static void awaitStagedImage(Path checkpoints) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (Stream<Path> files = Files.walk(checkpoints)) {
                if (files.anyMatch(p -> p.toString().contains("/.staging-") && p.toString().endsWith(".img"))) {
                    return;
                }
            } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException e) {
                // A staging directory vanished while walking: look again.
            }
            Thread.sleep(1);
        }
        throw new AssertionError("no checkpoint started writing");
    }

    @Test
    void aFullDiskFailsTheCheckpointCleanlyAndTheProgramGoesOn() throws Exception {
        Path small = Files.createDirectory(temp.resolve("small"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=12m,mode=700", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        assumeTrue(mount.waitFor() == 0, "needs root to mount a small tmpfs");
        Path output = temp.resolve("output.txt");
        try {
            try (Computation computation = new Computation(temp, "full")) {
                assertEquals(0, computation.exec("stasis:ckptdir " + small.resolve("ckpt")).status());
                computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "3000", "20");
                Computation.awaitLine(output, l -> l.equals("count 5"), Duration.ofSeconds(30));
                Path first = computation.checkpoint();

                // a full one: an incremental one would fit in what is left
                StasisCli.Result full = computation.run("checkpoint", "--full");
                assertEquals(1, full.status(), full.toString());
                assertTrue(full.err().startsWith("stasis: checkpoint full-c1-2 aborted:"), full.toString());
                assertTrue(full.err().strip().lines().count() == 1, full.toString());

                assertEquals(List.of(first.getFileName().toString(), "latest"), entries(small.resolve("ckpt/c1")));
                assertEquals(first.toRealPath(), small.resolve("ckpt/latest").toRealPath());
                assertTrue(computation.exec("stasis:verify " + first).out().contains("is intact"));
                int lines = Computation.lineCount(output);
                Computation.awaitLine(output, lines, l -> l.startsWith("count "), Duration.ofSeconds(10));
                assertTrue(computation.status().out().contains("\"hostPid\""), "the program did not go on");
            }
        } finally {
            new ProcessBuilder("umount", "-l", small.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aCoordinatorKilledMidCheckpointLeavesTheProgramRunningAndTheStoreIntact() throws Exception {
        Path output = temp.resolve("output.txt");
        long program = -1;
        try (Computation computation = new Computation(temp, "crash")) {
            computation.launch(output, "python3", Computation.SCENARIOS.resolve("python_memory.py").toString(), "600",
                    "100000", "0.05");
            Computation.awaitLine(output, l -> l.startsWith("progress 3 "), Duration.ofSeconds(60));
            Path first = computation.checkpoint();
            program = Long.parseLong(computation.status().out().replaceAll("(?s).*\"hostPid\" : (\\d+).*", "$1"));

            CompletableFuture<StasisCli.Result> second = CompletableFuture.supplyAsync(() -> computation.run("checkpoint"));
            awaitStagedImage(computation.checkpoints());
            ProcessHandle.of(computation.coordinatorPid()).orElseThrow().destroyForcibly();

            StasisCli.Result lost = second.get(60, TimeUnit.SECONDS);
            assertEquals(1, lost.status(), lost.toString());
            assertEquals(first.toRealPath(), computation.checkpoints().resolve("latest").toRealPath());
            // The program is neither killed nor frozen: it carries on unmanaged.
            int lines = Computation.lineCount(output);
            Computation.awaitLine(output, lines, l -> l.startsWith("progress "), Duration.ofSeconds(20));
            // A new coordinator of the same name finds the first checkpoint intact.
            StasisCli cli = new StasisCli(temp.resolve("run"));
            assertEquals(0, cli.run("coordinator", "--daemon", "--name", "crash").status());
            StasisCli.Result listed = cli.run("list", "--name", "crash", "--ckpt-dir",
                    computation.checkpoints().toString());
            assertTrue(listed.out().lines().anyMatch(l -> l.startsWith(first.getFileName() + " ") && l.endsWith(" ok")),
                    listed.toString());
        } finally {
            // The program outlived its coordinator on purpose; end it by pid.
            ProcessHandle.of(program).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aProgramKilledMidCheckpointPublishesNothing() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "victim")) {
            Process running = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("python_memory.py").toString(), "600", "100000", "0.05");
            Computation.awaitLine(output, l -> l.startsWith("progress 3 "), Duration.ofSeconds(60));
            Path first = computation.checkpoint();
            long hostPid = Long.parseLong(computation.status().out().replaceAll("(?s).*\"hostPid\" : (\\d+).*", "$1"));

            CompletableFuture<StasisCli.Result> second = CompletableFuture.supplyAsync(() -> computation.run("checkpoint"));
            awaitStagedImage(computation.checkpoints());
            ProcessHandle.of(hostPid).orElseThrow().destroyForcibly();

            StasisCli.Result failed = second.get(60, TimeUnit.SECONDS);
            assertEquals(1, failed.status(), failed.toString());
            assertTrue(failed.err().contains("aborted"), failed.toString());
            assertTrue(running.waitFor(30, TimeUnit.SECONDS));
            assertEquals(List.of("latest", first.getFileName().toString()), entries(computation.checkpoints().resolve("c1")));
            assertTrue(computation.exec("stasis:verify " + first).out().contains("is intact"));
        }
    }
}
