package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stasis verify}, {@code list --ckpt-dir} and {@code info} read checkpoints on
 * disk with no coordinator at all (after a crash, on another machine, in a cron job):
 * a real checkpoint, its coordinator shut down, the checkpoint directory moved
 * elsewhere; a damaged image, a missing path and a directory that is no checkpoint
 * each give one line and a failing status.
 */
@Timeout(300)
class OfflineToolsIT {
    private static final String NAME = "offline";
    private static final Path COUNTER = Path.of(System.getProperty("stasis.repo", ".."), "native", "target",
            "scenarios", "counter").toAbsolutePath().normalize();

    @TempDir
    Path temp;

    @Test
    void verifyListAndInfoWorkWithoutACoordinator() throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        StasisCli cli = new StasisCli(runtime);
        Path checkpoint = checkpointOfACounter(cli, temp.resolve("ckpt"));
        assertEquals(1, cli.run("ping", "-q", "--name", NAME).status(), "the coordinator is still running");

        // Elsewhere, as on another machine: the directory moved, nothing running.
        Path moved = Files.move(temp.resolve("ckpt"), temp.resolve("elsewhere"));
        Path copy = moved.resolve(temp.resolve("ckpt").relativize(checkpoint));
        String id = copy.getFileName().toString();

        StasisCli.Result listed = cli.run("list", "--ckpt-dir", moved.toString());
        assertEquals(0, listed.status(), listed.toString());
        assertTrue(listed.out().lines().anyMatch(l -> l.startsWith(id + " ") && l.endsWith(" ok")), listed.toString());
        StasisCli.Result listedJson = cli.run("list", "--json", "--ckpt-dir", moved.toString());
        assertTrue(listedJson.out().contains("\"id\" : \"" + id + "\""), listedJson.toString());

        StasisCli.Result verified = cli.run("verify", copy.toString());
        assertEquals(0, verified.status(), verified.toString());
        assertTrue(verified.out().startsWith("checkpoint " + id + " is intact: 1 process"), verified.toString());
        StasisCli.Result verdict = cli.run("verify", "--json", copy.toString());
        assertTrue(verdict.out().contains("\"ok\" : true"), verdict.toString());

        StasisCli.Result info = cli.run("info", copy.toString());
        assertEquals(0, info.status(), info.toString());
        for (String expected : List.of("checkpoint   " + id, "generation   1", "parent       -", "PID", "image-",
                "PLUGIN", "file", "pid")) {
            assertTrue(info.out().contains(expected), "no '" + expected + "' in " + info);
        }
        assertTrue(info.out().contains(COUNTER.toString()), info.toString());
        StasisCli.Result infoJson = cli.run("info", "--json", moved.resolve("c1/latest").toString());
        assertEquals(0, infoJson.status(), infoJson.toString());
        for (String expected : List.of("\"id\" : \"" + id + "\"", "\"processes\" : [", "\"plugins\" : {",
                "\"parent\" : null", "\"records\" : ", "\"threads\" : 2")) {
            assertTrue(infoJson.out().contains(expected), "no '" + expected + "' in " + infoJson);
        }

        damagePageData(copy);
        StasisCli.Result damaged = cli.run("verify", copy.toString());
        assertEquals(1, damaged.status(), damaged.toString());
        List<String> lines = damaged.err().strip().lines().toList();
        assertEquals(1, lines.size(), damaged.toString());
        assertTrue(lines.get(0).matches("stasis: image image-\\d+\\.img: page data of area \\d+ "
                + "\\(0x[0-9a-f]+-0x[0-9a-f]+\\) is corrupt \\(checksum mismatch\\)"), damaged.toString());
        StasisCli.Result damagedJson = cli.run("verify", "--json", copy.toString());
        assertEquals(1, damagedJson.status(), damagedJson.toString());
        assertTrue(damagedJson.out().contains("\"ok\" : false"), damagedJson.toString());
    }

    @Test
    void aMissingPathOrNoCheckpointIsOneLineAndAFailure() throws Exception {
        StasisCli cli = new StasisCli(Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
        Path missing = temp.resolve("no-such-checkpoint");
        Path empty = Files.createDirectory(temp.resolve("not-a-checkpoint"));
        for (String command : List.of("verify", "info")) {
            StasisCli.Result none = cli.run(command, missing.toString());
            assertEquals(1, none.status(), none.toString());
            assertEquals("stasis: no checkpoint at " + missing + "; list them with: stasis list\n", none.err(),
                    none.toString());
            StasisCli.Result notOne = cli.run(command, empty.toString());
            assertEquals(1, notOne.status(), notOne.toString());
            assertEquals(1, notOne.err().lines().count(), notOne.toString());
            assertTrue(notOne.err().contains("is not a complete checkpoint (no manifest.json)"), notOne.toString());
            StasisCli.Result usage = cli.run(command);
            assertEquals(2, usage.status(), usage.toString());
            assertEquals(1, usage.err().lines().count(), usage.toString());
            StasisCli.Result help = cli.run(command, "--help");
            assertEquals(0, help.status(), help.toString());
            assertTrue(help.out().startsWith("Usage: stasis " + command), help.toString());
        }
        StasisCli.Result bogus = cli.run("list", "--ckpt-dir", empty.toString(), "--bogus");
        assertEquals(2, bogus.status(), bogus.toString());
        StasisCli.Result nothing = cli.run("list", "--ckpt-dir", empty.toString());
        assertEquals(0, nothing.status(), nothing.toString());
        assertEquals("no checkpoints in " + empty + "\n", nothing.out(), nothing.toString());
    }

    // A coordinator of its own checkpoints a counter once, then the counter is killed and the coordinator shut down.
    private static Path checkpointOfACounter(StasisCli cli, Path checkpoints) throws Exception {
        StasisCli.Result started = cli.run("coordinator", "--daemon", "--name", NAME, "--ckpt-dir", checkpoints.toString());
        assertEquals(0, started.status(), started.toString());
        Path output = checkpoints.resolveSibling("output.txt");
        Process program = cli.start(output, "launch", "--name", NAME, "--", COUNTER.toString(), "100000", "20");
        try {
            awaitCount(output);
            StasisCli.Result checkpoint = cli.run("checkpoint", "--name", NAME);
            assertEquals(0, checkpoint.status(), checkpoint.toString());
            List<String> lines = checkpoint.out().strip().lines().toList();
            StasisCli.Result killed = cli.run("kill", "--name", NAME);
            assertEquals(0, killed.status(), killed.toString());
            assertTrue(program.waitFor(30, TimeUnit.SECONDS), "the killed program did not end");
            return Path.of(lines.get(lines.size() - 1));
        } finally {
            program.destroyForcibly();
            cli.run("shutdown", "--name", NAME);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (cli.run("ping", "-q", "--name", NAME).status() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        }
    }

    private static void awaitCount(Path output) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(output) && Files.readAllLines(output).contains("count 3")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the counter did not count to 3: "
                + (Files.exists(output) ? Files.readString(output) : "(no output)"));
    }

    /** Flips 4 bytes in the middle of an image's page data (data_offset at 120, data_bytes at 128). */
    static void damagePageData(Path checkpoint) throws IOException {
        Path image;
        try (Stream<Path> files = Files.list(checkpoint)) {
            image = files.filter(p -> p.getFileName().toString().endsWith(".img")).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(136).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            long dataOffset = header.getLong(120);
            long dataBytes = header.getLong(128);
            long at = dataOffset + dataBytes / 2;
            ByteBuffer bytes = ByteBuffer.allocate(4);
            channel.read(bytes, at);
            for (int i = 0; i < 4; i++) {
                bytes.put(i, (byte) ~bytes.get(i));
            }
            channel.write(bytes.flip(), at);
        }
    }
}
