package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * A real checkpoint whose memory image was mutated with every checksum recomputed
 * (doc/image-format.md), so that only the semantic rules can catch it: {@code stasis
 * verify} and {@code stasis restart} refuse it with the same one line (the rules live
 * once, in the restorer: native/restore/imgcheck.c), nothing runs.
 */
@Timeout(300)
class HostileImagesIT {
    private static final int HEADER = 8880;
    private static final int PROC = 1192;

    @TempDir
    Path temp;

    @Test
    void verifyAndRestartRefuseAMutatedImageWithTheSameLine() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "hostile")) {
            Process program = computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "100000",
                    "20");
            Computation.awaitLine(output, l -> l.equals("count 3"), Duration.ofSeconds(30));
            Path checkpoint = computation.checkpoint();
            computation.kill(program);
            Path image = Files.list(checkpoint).filter(p -> p.toString().endsWith(".img")).findFirst().orElseThrow();
            byte[] intact = Files.readAllBytes(image);
            assertTrue(computation.run("verify", checkpoint.toString()).out().contains("is intact"));

            Map<String, Consumer<ByteBuffer>> mutations = new LinkedHashMap<>();
            mutations.put("entry point 0 is not in an executable saved area", b -> b.putLong(PROC, 0));
            mutations.put("bad special area count 1000", b -> b.putInt(PROC + 32, 1000));
            mutations.put("area 1 overlaps area 0", b -> b.putLong(area(b, 1), b.getLong(area(b, 0))));
            mutations.put("area 0 has unknown kind 9", b -> b.putInt(area(b, 0) + 40, 9));
            for (Map.Entry<String, Consumer<ByteBuffer>> m : mutations.entrySet()) {
                ByteBuffer b = ByteBuffer.wrap(intact.clone()).order(ByteOrder.LITTLE_ENDIAN);
                m.getValue().accept(b);
                Files.write(image, withChecksums(b));
                String line = "stasis: image " + image.getFileName() + ": " + m.getKey();

                StasisCli.Result verify = computation.run("verify", checkpoint.toString());
                assertEquals(1, verify.status(), verify.toString());
                assertEquals(List.of(line), verify.err().strip().lines().toList(), verify.toString());

                Path restartOutput = temp.resolve("restart-" + m.getKey().hashCode() + ".txt");
                Process restart = computation.restart(checkpoint, restartOutput);
                assertTrue(restart.waitFor(60, TimeUnit.SECONDS), "the refused restart did not end");
                assertEquals(1, restart.exitValue(), Files.readString(restartOutput));
                assertTrue(Files.readString(restartOutput).lines().anyMatch(line::equals),
                        Files.readString(restartOutput));
                assertTrue(!computation.status().out().contains("\"pid\""), computation.status().toString());
                assertTrue(Files.readString(restartOutput).lines().noneMatch(l -> l.matches("count \\d+")),
                        "the refused checkpoint ran: " + Files.readString(restartOutput));
            }
        }
    }

    private static int area(ByteBuffer b, int index) {
        return (int) b.getLong(136) + 64 * index;
    }

    private static byte[] withChecksums(ByteBuffer b) {
        int tableOffset = (int) b.getLong(136);
        int tableSize = (int) b.getLong(144);
        b.putInt(8872, (int) crc(b.array(), tableOffset, tableSize));
        b.putInt(8876, 0);
        b.putInt(8876, (int) crc(b.array(), 0, HEADER));
        return b.array();
    }

    private static long crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return crc.getValue();
    }
}
