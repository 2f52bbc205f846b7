package org.stasis.framework.inspect;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listing a checkpoint directory while checkpoints are pruned (keep N): a Python program's
 * restore() lists its sessions while its coordinator prunes old checkpoints. A
 * checkpoint deleted while it was being described made the whole listing fail
 * ("NoSuchFileException: .../manifest.json") and the program's restore with it
 * (PythonSessionsIT stalled at restore 26 of 40).
 */
class CheckpointListingTest {
    @TempDir
    Path root;

    @Test
    void checkpointsPrunedWhileTheyAreListedAreLeftOutAndNeverFailTheListing() throws Exception {
        Path store = Files.createDirectories(root.resolve("c1"));
        Files.createDirectory(store.resolve("kept-c1-1"));
        Files.writeString(store.resolve("kept-c1-1/manifest.json"), "{}");
        AtomicBoolean stop = new AtomicBoolean();
        Thread pruner = new Thread(() -> {
            // checkpoints with many files appear and are deleted again, as keep does
            for (long generation = 2; !stop.get(); generation++) {
                Path checkpoint = store.resolve("run-c1-" + generation);
                try {
                    Files.createDirectory(checkpoint);
                    for (int i = 0; i < 50; i++) {
                        Files.write(checkpoint.resolve("image-" + i + ".img"), new byte[4096]);
                    }
                    Files.writeString(checkpoint.resolve("manifest.json"), "{}");
                    delete(checkpoint);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        pruner.start();
        try {
            long until = System.nanoTime() + 3_000_000_000L;
            int listings = 0;
            while (System.nanoTime() < until) {
                String listed = CheckpointListing.list(root, "", "", id -> Optional.empty(), true);
                assertTrue(listed.contains("kept-c1-1"), listed);
                listings++;
            }
            assertTrue(listings > 0);
        } finally {
            stop.set(true);
            pruner.join();
        }
    }

    private static void delete(Path directory) throws IOException {
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
