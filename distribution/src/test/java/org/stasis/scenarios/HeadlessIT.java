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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/** Unattended operation: interval checkpoints, retention, listing and verifying the store. */
@Timeout(300)
class HeadlessIT {
    @TempDir
    Path temp;

    private static List<Long> generations(String listJson) {
        Matcher m = Pattern.compile("\"generation\" : (\\d+)").matcher(listJson);
        List<Long> found = new java.util.ArrayList<>();
        while (m.find()) {
            found.add(Long.parseLong(m.group(1)));
        }
        return found;
    }

    @Test
    void intervalCheckpointsKeepOnlyTheNewestAndEachOneRestarts() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "interval")) {
            assertEquals(0, computation.exec("stasis:keep 2").status());
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "2000",
                    "20");
            Computation.awaitLine(output, l -> l.equals("count 5"), Duration.ofSeconds(30));
            StasisCli.Result on = computation.exec("stasis:interval 1");
            assertEquals("checkpoint every 1 s", on.out().strip(), on.toString());
            assertTrue(computation.status().out().contains("\"intervalSeconds\" : 1"), computation.status().toString());

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<Long> kept = List.of();
            while (System.nanoTime() < deadline) {
                kept = generations(computation.exec("stasis:list --json").out());
                if (!kept.isEmpty() && kept.get(kept.size() - 1) >= 4) {
                    break;
                }
                Thread.sleep(200);
            }
            assertTrue(kept.get(kept.size() - 1) >= 4, "fewer than 4 interval checkpoints: " + kept);
            assertEquals(0, computation.exec("stasis:interval 0").status());
            String listing = settledListing(computation);
            kept = assertKeepsTheNewest(computation, listing, 2);
            assertTrue(!listing.contains("damaged"), listing);
            String text = computation.exec("stasis:list").out();
            assertTrue(text.contains("interval-c1-" + kept.get(kept.size() - 1)) && text.contains(" ok"), text);

            Path newest = Path.of(listing.replaceAll("(?s).*\"directory\" : \"([^\"]+interval-c1-" + kept.get(kept.size() - 1)
                    + ")\".*", "$1"));
            StasisCli.Result verified = computation.exec("stasis:verify " + newest);
            assertTrue(verified.out().contains("is intact"), verified.toString());
            computation.kill(running);
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(newest, output);
            Computation.awaitLine(output, before, l -> l.startsWith("count "), Duration.ofSeconds(30));
            restarted.destroy();
        }
    }

    @Test
    void listShowsADamagedCheckpointAsSuch() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "damage")) {
            Process running = computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "2000",
                    "20");
            Computation.awaitLine(output, l -> l.equals("count 3"), Duration.ofSeconds(30));
            Path good = computation.checkpoint();
            Path bad = computation.checkpoint();
            computation.kill(running);
            Path image = Files.list(bad).filter(p -> p.toString().endsWith(".img")).findFirst().orElseThrow();
            try (var channel = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(Files.size(image) / 2);
            }
            String listing = computation.exec("stasis:list").out();
            List<String> lines = listing.lines().collect(Collectors.toList());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(good.getFileName() + " ") && l.endsWith(" ok")), listing);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(bad.getFileName() + " ") && l.contains("damaged")
                    && l.contains("truncated")), listing);

            StasisCli.Result refused = computation.exec("stasis:verify " + bad);
            assertEquals(1, refused.status(), refused.toString());
            assertTrue(refused.err().contains("truncated"), refused.toString());
        }
    }

    /** The soak: an interval checkpointer (every 2 s) left running for twenty checkpoints of a Python program. */
    @Test
    void anIntervalCheckpointerRunsForTwentyCheckpoints() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "soak")) {
            assertEquals(0, computation.exec("stasis:keep 3").status());
            Process running = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("python_memory.py").toString(), "50", "100000", "0.05");
            Computation.awaitLine(output, l -> l.startsWith("progress 3 "), Duration.ofSeconds(60));
            assertEquals(0, computation.exec("stasis:interval 2").status());
            // twenty interval checkpoints of a program that keeps changing its memory
            String listing = computation.exec("stasis:list --json").out();
            List<Long> kept = generations(listing);
            for (long until = System.nanoTime() + Duration.ofSeconds(240).toNanos();
                    (kept.isEmpty() || kept.get(kept.size() - 1) < 20) && System.nanoTime() < until;
                    kept = generations(listing)) {
                Thread.sleep(500);
                listing = computation.exec("stasis:list --json").out();
            }
            assertTrue(!kept.isEmpty() && kept.get(kept.size() - 1) >= 20, "fewer than 20 interval checkpoints: " + kept);
            assertEquals(0, computation.exec("stasis:interval 0").status());
            listing = settledListing(computation);
            kept = assertKeepsTheNewest(computation, listing, 3);
            assertTrue(!listing.contains("damaged"), listing);
            String events = computation.exec("stasis:events -n 2000").out();
            assertTrue(!events.contains("failed") && !events.contains("timeout"), events);
            assertTrue(running.isAlive(), "the program died under interval checkpoints:\n" + Files.readString(output));

            Path newest = Path.of(listing.replaceAll("(?s).*\"directory\" : \"([^\"]+soak-c1-" + kept.get(kept.size() - 1) + ")\".*", "$1"));
            assertTrue(computation.exec("stasis:verify " + newest).out().contains("is intact"));
            computation.kill(running);
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(newest, output);
            Computation.awaitLine(output, before, l -> l.startsWith("progress "), Duration.ofSeconds(30));
            restarted.destroy();
        }
    }

    /** The listing once retention has settled after the last checkpoint: it stops changing. */
    private static String settledListing(Computation computation) throws InterruptedException {
        String listing = computation.exec("stasis:list --json").out();
        for (long until = System.nanoTime() + Duration.ofSeconds(30).toNanos(); System.nanoTime() < until; ) {
            Thread.sleep(300);
            String again = computation.exec("stasis:list --json").out();
            if (again.equals(listing)) {
                break;
            }
            listing = again;
        }
        return listing;
    }

    /**
     * keep K keeps the newest K checkpoints and, as interval checkpoints are incremental,
     * the older ones they are built on (a chain is at most 16 long), saying so in the events.
     */
    private static List<Long> assertKeepsTheNewest(Computation computation, String listing, int k) {
        List<Long> kept = generations(listing);
        assertTrue(kept.size() >= k && kept.size() <= k + 16, listing);
        for (int i = kept.size() - k + 1; i < kept.size(); i++) {
            assertEquals(kept.get(i - 1) + 1, kept.get(i), listing);
        }
        if (kept.size() > k) {
            String events = computation.exec("stasis:events -n 2000").out();
            assertTrue(events.contains("is incremental over it"), events);
        }
        return kept;
    }
}
