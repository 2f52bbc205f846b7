package org.stasis.framework.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A checkpoint's note: one line of text the user or the program gave it
 * ({@code stasis checkpoint --note}, {@code stasis note}, Python's
 * {@code checkpoint(note=...)}), kept as {@code note.txt} next to the manifest. A
 * label, not part of what a restart reads.
 */
public final class CheckpointNote {
    public static final String FILE = "note.txt";
    private static final int LIMIT = 4096;

    private CheckpointNote() {
    }

    /** @return the note of the checkpoint in {@code directory}, "" if none */
    public static String read(Path directory) {
        Path file = directory.resolve(FILE);
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) > LIMIT) {
                return "";
            }
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * Sets the note, replacing any earlier one (written aside, then renamed).
     *
     * @param directory a published checkpoint
     * @param text the note; line breaks become spaces
     * @throws IOException if it cannot be written
     */
    public static void write(Path directory, String text) throws IOException {
        String line = text.replaceAll("[\\r\\n]+", " ").strip();
        if (line.getBytes(StandardCharsets.UTF_8).length > LIMIT) {
            throw new IOException("a note has at most " + LIMIT + " bytes");
        }
        Path temporary = Files.createTempFile(directory, ".note", ".tmp");
        try {
            Files.writeString(temporary, line + "\n", StandardCharsets.UTF_8);
            Files.move(temporary, directory.resolve(FILE), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
