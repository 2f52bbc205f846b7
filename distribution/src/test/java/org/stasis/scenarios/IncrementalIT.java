package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.stasis.cli.StasisCli;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental checkpoints through the real command line (issue #15, item 3): after the
 * first, a checkpoint stores only the pages written since the previous one and names it
 * as its {@code base}; a chain of three restarts (the program checks every page);
 * {@code keep} never deletes a checkpoint a kept one still needs, and deletes the chain
 * once nothing needs it; {@code --full} starts a new chain; a damaged parent makes the
 * restart refuse with one line; {@code stasis compact} writes a copy that restarts
 * without its parent.
 */
@Timeout(400)
class IncrementalIT {
    private static final Pattern STEP = Pattern.compile("step (\\d+) restarted \\d+");

    @TempDir
    Path temp;

    @Test
    void chainsRestartKeepTheirParentsAndRefuseABrokenOne() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "incremental")) {
            assertEquals(0, computation.run("keep", "2").status());
            Process program = computation.launch(output, Computation.SCENARIOS.resolve("incr_pages").toString(), "64",
                    "100000", "20");
            Path c1 = checkpointAfterSteps(computation, output, 3, false);
            Path c2 = checkpointAfterSteps(computation, output, 3, false);
            Path c3 = checkpointAfterSteps(computation, output, 3, false);
            assertTrue(Files.isDirectory(c1), "keep 2 deleted the parent of a kept checkpoint");
            assertEquals(null, CheckpointFiles.base(c1));
            assertEquals(name(c1), CheckpointFiles.base(c2));
            assertEquals(name(c2), CheckpointFiles.base(c3));
            assertTrue(imageBytes(c2) * 10 < imageBytes(c1), "incremental " + imageBytes(c2) + " full " + imageBytes(c1));
            computation.kill(program);

            // the chain of three restarts; the program checks every page each step
            Process restarted = computation.restart(c3, output);
            Computation.awaitLine(output, l -> l.matches("step \\d+ restarted 1"), Duration.ofSeconds(120));
            Path c4 = checkpointAfterSteps(computation, output, 2, false);
            assertEquals(name(c3), CheckpointFiles.base(c4));
            Path c5 = checkpointAfterSteps(computation, output, 2, true);
            assertEquals(null, CheckpointFiles.base(c5));
            for (Path old : List.of(c1, c2, c3)) {
                assertTrue(Files.isDirectory(old), old + " deleted although " + name(c4) + " needs it");
            }
            Path c6 = checkpointAfterSteps(computation, output, 2, false);
            assertEquals(name(c5), CheckpointFiles.base(c6));
            for (Path old : List.of(c1, c2, c3, c4)) {
                assertFalse(Files.exists(old), old + " kept although no kept checkpoint needs it");
            }
            computation.kill(restarted);

            // a damaged parent: one line, nothing started
            Path parentImage = CheckpointFiles.image(c5);
            ImageDamage.flipMiddleOfPageData(parentImage);
            Path refusedOutput = temp.resolve("refused.txt");
            Process refused = computation.restart(c6, refusedOutput);
            assertTrue(refused.waitFor(120, TimeUnit.SECONDS), "the refused restart did not end");
            String said = Files.readString(refusedOutput);
            assertEquals(1, refused.exitValue(), said);
            List<String> lines = said.strip().lines().toList();
            assertEquals(1, lines.size(), said);
            assertTrue(lines.get(0).startsWith("stasis: image " + name(c5) + "/" + parentImage.getFileName()
                    + " (a parent of " + CheckpointFiles.image(c6).getFileName() + "): page data of area"), said);
            StasisCli.Result verified = computation.run("verify", c6.toString());
            assertEquals(1, verified.status(), verified.toString());
            assertTrue(verified.err().contains("(a parent of " + CheckpointFiles.image(c6).getFileName() + "): page data of area"),
                    verified.toString());
            ImageDamage.flipMiddleOfPageData(parentImage);
            StasisCli.Result intact = computation.run("verify", c6.toString());
            assertEquals(0, intact.status(), intact.toString());

            // compact: a copy that restarts without its parent
            StasisCli.Result compacted = computation.run("compact", c6.toString());
            assertEquals(0, compacted.status(), compacted.toString());
            Path copy = Path.of(compacted.out().strip());
            assertEquals(c6.resolveSibling(name(c6) + ".compact"), copy);
            assertEquals(null, CheckpointFiles.base(copy));
            assertTrue(imageBytes(copy) > 64L << 20, "the copy holds " + imageBytes(copy) + " bytes");
            Files.move(c5, temp.resolve("c5-moved"));
            Process again = computation.restart(copy, output);
            Computation.awaitLine(output, l -> l.matches("step \\d+ restarted 2"), Duration.ofSeconds(120));
            computation.kill(again);
            assertFalse(Files.readString(output).contains("FAIL"), Files.readString(output));
        }
    }

    private static Path checkpointAfterSteps(Computation computation, Path output, int steps, boolean full)
            throws Exception {
        int skip = Computation.lineCount(output);
        for (int i = 0; i < steps; i++) {
            Computation.awaitLine(output, skip + i, l -> STEP.matcher(l).matches(), Duration.ofSeconds(60));
        }
        StasisCli.Result result = full ? computation.run("checkpoint", "--full") : computation.run("checkpoint");
        assertEquals(0, result.status(), result.toString());
        List<String> lines = result.out().strip().lines().toList();
        return Path.of(lines.get(lines.size() - 1));
    }

    private static String name(Path checkpoint) {
        return checkpoint.getFileName().toString();
    }


    private static long imageBytes(Path checkpoint) throws Exception {
        return Files.size(CheckpointFiles.image(checkpoint));
    }
}
