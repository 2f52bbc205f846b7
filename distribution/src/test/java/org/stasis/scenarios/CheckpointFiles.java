package org.stasis.scenarios;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What tests read from a checkpoint directory itself. */
final class CheckpointFiles {
    private static final Pattern BASE = Pattern.compile("\"base\" : \"([^\"]+)\"");

    private CheckpointFiles() {
    }

    /** @return the manifest's {@code base} (the checkpoint an incremental one builds on), or null */
    static String base(Path checkpoint) throws Exception {
        var m = BASE.matcher(Files.readString(checkpoint.resolve("manifest.json")));
        return m.find() ? m.group(1) : null;
    }

    /** @return a memory image of the checkpoint (the only one of a one-process computation) */
    static Path image(Path checkpoint) throws Exception {
        try (Stream<Path> files = Files.list(checkpoint)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".img")).findFirst().orElseThrow();
        }
    }
}
