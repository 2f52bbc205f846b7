package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Compressed checkpoints through the real command line (issue #15, {@code --compress zstd}):
 * a Python program holding compressible text and random bytes is checkpointed plain and
 * compressed; the compressed image is smaller, {@code info} says so, later checkpoints
 * follow the setting (an incremental one over the compressed full one); the chain restarts
 * and the program checks its own memory; a damaged frame of the compressed parent is
 * refused with one line naming the image and the area, by restart and by verify; a bad
 * value is a usage error.
 */
@Timeout(400)
class CompressIT {
    private static final int TEXT_MIB = 96;
    private static final int RANDOM_MIB = 32;

    @TempDir
    Path temp;

    @Test
    void compressedChainRestartsAndADamagedFrameIsRefused() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "compress")) {
            Process program = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("compress_memory.py").toString(), String.valueOf(TEXT_MIB),
                    String.valueOf(RANDOM_MIB), "100000", "0.05");
            Computation.awaitLine(output, l -> l.equals("progress 3"), Duration.ofSeconds(120));
            Path plain = checkpoint(computation, "checkpoint");
            Path full = checkpoint(computation, "checkpoint", "--compress", "zstd", "--full");
            assertEquals(2, version(CheckpointFiles.image(plain)));
            assertEquals(3, version(CheckpointFiles.image(full)));
            long plainBytes = Files.size(CheckpointFiles.image(plain));
            long fullBytes = Files.size(CheckpointFiles.image(full));
            assertTrue(fullBytes * 4 < plainBytes * 3, "compressed " + fullBytes + " bytes, plain " + plainBytes);
            StasisCli.Result info = computation.run("info", "--json", full.toString());
            assertEquals(0, info.status(), info.toString());
            assertTrue(info.out().contains("\"method\" : \"zstd\""), info.out());
            assertTrue(info.out().contains("\"compress\" : \"zstd\""), info.out()); // the recorded option

            // the setting holds for later checkpoints: incremental over the compressed one, compressed too
            Computation.awaitLine(output, Computation.lineCount(output), l -> l.startsWith("progress "),
                    Duration.ofSeconds(60));
            Path incremental = checkpoint(computation, "checkpoint");
            assertEquals(full.getFileName().toString(), CheckpointFiles.base(incremental));
            assertEquals(3, version(CheckpointFiles.image(incremental)));
            computation.kill(program);

            // the chain restarts; the program checks its text and random bytes every 10 steps
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(incremental, output);
            for (int i = 0; i < 12; i++) {
                Computation.awaitLine(output, before + i, l -> l.startsWith("progress ") || l.startsWith("FAIL"),
                        Duration.ofSeconds(120));
            }
            computation.kill(restarted);
            assertFalse(Files.readString(output).contains("FAIL"), Files.readString(output));

            // a damaged frame of the compressed parent: one line, nothing started
            int area = ImageDamage.flipMiddleOfAFrame(CheckpointFiles.image(full));
            Path refusedOutput = temp.resolve("refused.txt");
            Process refused = computation.restart(incremental, refusedOutput);
            assertTrue(refused.waitFor(120, TimeUnit.SECONDS), "the refused restart did not end");
            String said = Files.readString(refusedOutput);
            assertEquals(1, refused.exitValue(), said);
            List<String> lines = said.strip().lines().toList();
            assertEquals(1, lines.size(), said);
            assertTrue(Pattern.matches("stasis: image " + full.getFileName() + "/" + CheckpointFiles.image(full).getFileName()
                    + " \\(a parent of " + CheckpointFiles.image(incremental).getFileName() + "\\): page data of area " + area
                    + " \\(0x[0-9a-f]+-0x[0-9a-f]+\\) is corrupt \\(compressed frame \\d+: checksum mismatch\\)",
                    lines.get(0)), said);
            StasisCli.Result verified = computation.run("verify", incremental.toString());
            assertEquals(1, verified.status(), verified.toString());
            assertTrue(verified.err().contains("page data of area " + area), verified.toString());
            ImageDamage.flipMiddleOfAFrame(CheckpointFiles.image(full));
            StasisCli.Result intact = computation.run("verify", incremental.toString());
            assertEquals(0, intact.status(), intact.toString());

            StasisCli.Result bad = computation.run("checkpoint", "--compress", "gzip");
            assertEquals(2, bad.status(), bad.toString());
            assertEquals("stasis: --compress takes none, zstd or zstd:LEVEL (LEVEL -9..19, default 1), not 'gzip'",
                    bad.err().strip());
        }
    }

    private static Path checkpoint(Computation computation, String... args) {
        StasisCli.Result result = computation.run(args);
        assertEquals(0, result.status(), result.toString());
        List<String> lines = result.out().strip().lines().toList();
        return Path.of(lines.get(lines.size() - 1));
    }

    private static int version(Path image) throws Exception {
        try (FileChannel channel = FileChannel.open(image)) {
            ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            return header.getInt(8);
        }
    }

}
