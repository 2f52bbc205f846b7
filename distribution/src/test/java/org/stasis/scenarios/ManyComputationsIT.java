package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Two programs launched on one coordinator are two computations (issue #10, item 1):
 * each is checkpointed on its own into its own directory, killed on its own, and
 * restarted while the other runs too; each then checks its own state. A manifest that
 * lists one pid twice (two computations mixed) is refused by {@code verify}.
 */
@Timeout(300)
class ManyComputationsIT {
    private static final Pattern COUNT = Pattern.compile("count (\\d+)");
    private static final Pattern PROGRESS = Pattern.compile("progress (\\d+) \\d+ \\d+");

    @TempDir
    Path temp;

    @Test
    void twoLaunchesAreTwoComputationsCheckpointedKilledAndRestartedApart() throws Exception {
        Path counterOut = temp.resolve("counter.txt");
        Path pythonOut = temp.resolve("python.txt");
        try (Computation coordinator = new Computation(temp, "many")) {
            Process counter = coordinator.launch(counterOut, Computation.SCENARIOS.resolve("counter").toString(),
                    "600", "40");
            Computation.awaitProgress(counterOut, 0, COUNT, 3);
            Process python = coordinator.launch(pythonOut, "python3",
                    Computation.SCENARIOS.resolve("python_memory.py").toString(), "16", "300", "0.1");
            Computation.awaitProgress(pythonOut, 0, PROGRESS, 3);

            List<String> ids = awaitComputations(coordinator, 2);
            String counterId = computationOf(coordinator, "counter");
            String pythonId = computationOf(coordinator, "python");
            assertNotEquals(counterId, pythonId, ids.toString());

            StasisCli.Result ambiguous = coordinator.run("checkpoint");
            assertEquals(2, ambiguous.status(), ambiguous.toString());
            assertTrue(ambiguous.err().contains(counterId) && ambiguous.err().contains(pythonId), ambiguous.toString());
            assertEquals(1, ambiguous.err().strip().lines().count(), ambiguous.toString());
            assertEquals(2, coordinator.run("kill").status(), "kill without an id while two run");

            Path counterCkpt = checkpoint(coordinator, counterId);
            Path pythonCkpt = checkpoint(coordinator, pythonId);
            assertEquals(coordinator.checkpoints().resolve(counterId), counterCkpt.getParent());
            assertEquals(coordinator.checkpoints().resolve(pythonId), pythonCkpt.getParent());
            assertOneProcessOf(counterCkpt, counterId, "counter");
            assertOneProcessOf(pythonCkpt, pythonId, "python_memory.py");
            for (Path checkpoint : List.of(counterCkpt, pythonCkpt)) {
                StasisCli.Result verified = coordinator.run("verify", checkpoint.toString());
                assertEquals(0, verified.status(), verified.toString());
            }
            StasisCli.Result listed = coordinator.run("list");
            assertTrue(listed.out().contains(counterId) && listed.out().contains(pythonId), listed.toString());

            kill(coordinator, counterId, counter);
            assertEquals(List.of(pythonId), awaitComputations(coordinator, 1));
            kill(coordinator, "", python);          // the only one left: no id needed
            awaitComputations(coordinator, 0);

            int counterBefore = Computation.lineCount(counterOut);
            int pythonBefore = Computation.lineCount(pythonOut);
            Process counterAgain = coordinator.restart(counterCkpt, counterOut);
            Process pythonAgain = coordinator.restart(pythonCkpt, pythonOut);
            int counterAt = Computation.awaitProgress(counterOut, counterBefore, COUNT, 0);
            int pythonAt = Computation.awaitProgress(pythonOut, pythonBefore, PROGRESS, 0);
            assertEquals(new TreeSet<>(List.of(counterId, pythonId)), new TreeSet<>(awaitComputations(coordinator, 2)),
                    "a restarted computation continues under its own id");
            Computation.awaitProgress(counterOut, counterBefore, COUNT, counterAt + 3);
            Computation.awaitProgress(pythonOut, pythonBefore, PROGRESS, pythonAt + 3);
            Path second = checkpoint(coordinator, counterId);
            assertEquals(counterCkpt.getParent(), second.getParent(), "the continued computation's next checkpoint");
            Computation.assertFinished(counterAgain, counterOut, "OK counter 600 pid 2");
            Computation.assertFinished(pythonAgain, pythonOut, "OK python 16 MiB");
        }
    }

    @Test
    void verifyRefusesAManifestThatListsOnePidTwice() throws Exception {
        Path output = temp.resolve("counter.txt");
        try (Computation coordinator = new Computation(temp, "twice")) {
            Process counter = coordinator.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "400",
                    "40");
            Computation.awaitProgress(output, 0, COUNT, 3);
            Path checkpoint = coordinator.checkpoint();
            coordinator.kill(counter);
            Path mixed = Files.createDirectory(temp.resolve("mixed"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            try (Stream<Path> files = Files.list(checkpoint)) {
                for (Path file : files.toList()) {
                    Files.copy(file, mixed.resolve(file.getFileName()));
                }
            }
            String manifest = Files.readString(mixed.resolve("manifest.json"));
            // What two computations mixed into one looked like: process "pid 2" twice, one image file.
            Files.writeString(mixed.resolve("manifest.json"),
                    duplicateFirstElement(duplicateFirstElement(manifest, "images"), "processes"));
            StasisCli.Result verified = coordinator.run("verify", mixed.toString());
            assertEquals(1, verified.status(), verified.toString());
            assertTrue(verified.err().contains("lists process 2") && verified.err().contains("twice"),
                    verified.toString());
            StasisCli.Result intact = coordinator.run("verify", checkpoint.toString());
            assertEquals(0, intact.status(), intact.toString());
        }
    }

    private static Path checkpoint(Computation coordinator, String id) {
        StasisCli.Result result = coordinator.run("checkpoint", "--computation", id);
        assertEquals(0, result.status(), result.toString());
        List<String> lines = result.out().strip().lines().toList();
        Path directory = Path.of(lines.get(lines.size() - 1));
        assertTrue(Files.isRegularFile(directory.resolve("manifest.json")), result.toString());
        return directory;
    }

    private static void kill(Computation coordinator, String id, Process foreground) throws InterruptedException {
        StasisCli.Result result = id.isEmpty() ? coordinator.run("kill") : coordinator.run("kill", "--computation", id);
        assertEquals(0, result.status(), result.toString());
        assertTrue(foreground.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the killed computation did not end");
    }

    private static void assertOneProcessOf(Path checkpoint, String id, String command) throws Exception {
        String manifest = Files.readString(checkpoint.resolve("manifest.json"));
        assertTrue(manifest.matches("(?s).*\"computationId\"\\s*:\\s*\"" + Pattern.quote(id) + "\".*"), manifest);
        assertTrue(manifest.matches("(?s).*\"command\"\\s*:\\s*\"[^\"]*" + Pattern.quote(command) + ".*"), manifest);
        try (Stream<Path> files = Files.list(checkpoint)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().endsWith(".img")).count(),
                    "images in " + checkpoint);
        }
    }

    // The computation ids that status lists, once there are this many.
    private static List<String> awaitComputations(Computation coordinator, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String first = null;
        while (true) {
            String status = coordinator.status().out();
            List<String> ids = ids(status);
            if (ids.size() == count) {
                return ids;
            }
            first = first == null ? status : first;
            if (System.nanoTime() > deadline) {
                fail("expected " + count + " computations: " + first + "\nlast: " + status);
            }
            Thread.sleep(100);
        }
    }

    private static List<String> ids(String status) {
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*\"(c\\d+)\"").matcher(status);
        List<String> ids = new java.util.ArrayList<>();
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }

    // The id of the computation whose command mentions this word (status --json).
    private static String computationOf(Computation coordinator, String word) {
        String status = coordinator.status().out();
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\",\\s*\"command\"\\s*:\\s*\"([^\"]*)\"").matcher(status);
        while (m.find()) {
            if (m.group(2).contains(word)) {
                return m.group(1);
            }
        }
        fail("no computation runs " + word + ": " + status);
        return null;
    }

    // The JSON array under "key" with its first element twice.
    private static String duplicateFirstElement(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[\\s*").matcher(json);
        assertTrue(m.find(), "no " + key + " in " + json);
        int start = m.end();
        int end = endOfElement(json, start);
        String element = json.substring(start, end);
        return json.substring(0, end) + "," + element + json.substring(end);
    }

    private static int endOfElement(String json, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            }
        }
        throw new AssertionError("unterminated element in " + json);
    }
}
