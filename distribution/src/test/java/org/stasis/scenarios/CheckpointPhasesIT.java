package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Where a checkpoint's time goes (issue #15, item 5), through {@code stasis events --json}:
 * every core step of the checkpoint is there with its duration, the fsync apart from the
 * publish, one {@code core:write-process} entry per process saying when its image was
 * written, and the file plugin's refusal checks in the drain phase (in the write phase
 * they waited for the agents, busy writing their images). Then a restart with
 * {@code --no-prefetch} and one with the background prefetch both bring it back.
 */
@Timeout(300)
class CheckpointPhasesIT {
    private static final String PROGRAM = String.join("\n",
            "import os, sys, time",
            "for _ in range(2):",
            "    if os.fork() == 0:",
            "        break",
            "data = bytearray(os.urandom(8 << 20))",
            "n = 0",
            "while True:",
            "    n += 1",
            "    print('progress', os.getpid(), n, flush=True)",
            "    time.sleep(0.05)",
            "");

    @TempDir
    Path temp;

    @Test
    void eventsTimeEveryPhaseAndEveryProcessImage() throws Exception {
        Path program = Files.writeString(temp.resolve("three.py"), PROGRAM);
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "phases")) {
            Process running = computation.launch(output, "python3", program.toString());
            awaitProgressOfThree(output, 0);
            Path checkpoint = computation.checkpoint();
            String id = checkpoint.getFileName().toString();

            StasisCli.Result events = computation.run("events", "--json", "-n", "400");
            assertEquals(0, events.status(), events.toString());
            List<String> mine = Arrays.stream(events.out().split("}")).filter(e -> has(e, "operation", id)).toList();
            for (String step : List.of("core:suspend", "core:write", "core:release", "core:fsync", "core:publish")) {
                assertEquals(1, mine.stream().filter(e -> has(e, "step", step)).count(), step + " in " + mine);
            }
            List<String> images = mine.stream().filter(e -> has(e, "step", "core:write-process")).toList();
            assertEquals(3, images.size(), images.toString());
            images.forEach(e -> assertTrue(Pattern.compile("process \\d+: \\d+ bytes, from \\+\\d+ ms to \\+\\d+ ms")
                    .matcher(e).find(), e));
            assertTrue(mine.stream().anyMatch(e -> has(e, "actor", "file") && has(e, "step", "drain")),
                    "the file plugin's checks are not in the drain phase: " + mine);

            for (String prefetch : List.of("--no-prefetch", "")) {
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = prefetch.isEmpty() ? computation.restart(checkpoint, output)
                        : computation.startCli(output, "restart", prefetch, checkpoint.toString());
                awaitProgressOfThree(output, before);
            }
            computation.kill(running);
        }
    }

    private static boolean has(String entry, String field, String value) {
        return Pattern.compile("\"" + field + "\"\\s*:\\s*\"" + Pattern.quote(value) + "\"").matcher(entry).find();
    }

    // a line may be read while it is still being written: its pid counts once a space follows it
    private static final Pattern PROGRESS = Pattern.compile("progress (\\d+) \\d");

    // every one of the three processes printed a line after the first `skip` lines
    private static void awaitProgressOfThree(Path output, int skip) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(output) && Files.readAllLines(output).stream().skip(skip)
                    .map(PROGRESS::matcher).filter(java.util.regex.Matcher::lookingAt).map(m -> m.group(1)).distinct()
                    .count() >= 3) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("three processes did not all make progress: " + Files.readString(output));
    }
}
