package org.stasis.itest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** File helpers for the Pax Exam tests, used outside the framework. */
final class PaxExamFiles {
    private static final Path PAX_HOME = Path.of(System.getProperty("user.home"), ".pax");

    private PaxExamFiles() {
    }

    /**
     * Deletes a directory when this JVM exits, and Pax Exam's configuration directory
     * {@code ~/.pax/exam}, which Pax Exam creates (and leaves, empty) whatever the working
     * directory, if it is still empty then; {@code ~/.pax} too if nothing else is in it.
     *
     * @param directory what to delete
     */
    static void deleteAtExit(Path directory) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                deleteRecursively(directory);
            } catch (IOException e) {
                System.err.println("could not delete " + directory + ": " + e);
            }
            for (Path empty : List.of(PAX_HOME.resolve("exam"), PAX_HOME)) {
                try {
                    Files.deleteIfExists(empty); // refuses a directory that is not empty
                } catch (IOException e) {
                    // in use by someone else: leave it
                }
            }
        }, "stasis-itest-cleanup"));
    }

    /**
     * Deletes a directory and everything in it; a missing one is fine.
     *
     * @param directory what to delete
     * @throws IOException if something cannot be deleted
     */
    static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(directory)) {
            paths = walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList());
        }
        for (Path path : paths) {
            Files.deleteIfExists(path);
        }
    }
}
