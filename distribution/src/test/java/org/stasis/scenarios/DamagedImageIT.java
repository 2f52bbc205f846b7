package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint whose page data was damaged on disk (bytes flipped in the middle of a
 * real image) is refused by {@code stasis restart}: one line naming the image and the
 * memory area, exit 1, nothing started. {@code --no-verify} restarts it all the same
 * (the program then runs on damaged memory).
 */
@Timeout(300)
class DamagedImageIT {
    @TempDir
    Path temp;

    @Test
    void restartRefusesDamagedPageDataAndNoVerifyStartsIt() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "damaged")) {
            Process program = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("python_memory.py").toString(), "64", "100000", "0.05");
            Computation.awaitLine(output, l -> l.startsWith("progress 3 "), Duration.ofSeconds(60));
            Path checkpoint = computation.checkpoint();
            computation.kill(program);
            Path image = damageMiddleOfPageData(checkpoint);

            Path refusedOutput = temp.resolve("refused.txt");
            Process refused = computation.restart(checkpoint, refusedOutput);
            assertTrue(refused.waitFor(120, TimeUnit.SECONDS), "the refused restart did not end");
            String said = Files.readString(refusedOutput);
            assertEquals(1, refused.exitValue(), said);
            List<String> lines = said.strip().lines().toList();
            assertEquals(1, lines.size(), said);
            assertTrue(lines.get(0).matches("stasis: image " + image.getFileName() + ": page data of area \\d+ "
                    + "\\(0x[0-9a-f]+-0x[0-9a-f]+\\) is corrupt \\(checksum mismatch\\)"), said);
            assertTrue(!computation.status().out().contains("\"pid\""), computation.status().toString());

            // The restored program writes where it wrote before: the launch's output file.
            int before = Computation.lineCount(output);
            Process started = computation.startCli(temp.resolve("started.txt"), "restart", "--no-verify",
                    checkpoint.toString());
            awaitRunning(output, before);
            computation.kill(started);
        }
    }

    // A line of the program after the first `skip`: progress, or its report that its data changed.
    private static void awaitRunning(Path output, int skip) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.readAllLines(output).stream().skip(skip)
                    .anyMatch(l -> l.startsWith("progress ") || l.equals("FAIL data changed"))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the restart with --no-verify did not run: " + Files.readString(output));
    }

    /** Flips 4 bytes in the middle of the page data of the checkpoint's first image; returns that image. */
    private static Path damageMiddleOfPageData(Path checkpoint) throws Exception {
        Path image;
        try (Stream<Path> files = Files.list(checkpoint)) {
            image = files.filter(p -> p.getFileName().toString().endsWith(".img")).findFirst().orElseThrow();
        }
        ImageDamage.flipMiddleOfPageData(image);
        return image;
    }
}
