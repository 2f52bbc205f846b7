package org.stasis.framework.commands;

import org.stasis.framework.control.CommandFailedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A checkpoint directory given by the user: it is, or can be created as, a directory we can write. */
final class WritableDirectory {
    private WritableDirectory() {
    }

    /**
     * @param directory the directory asked for
     * @return it, absolute, created (private) if it did not exist
     * @throws CommandFailedException if it is not a directory or cannot be written
     */
    static Path check(Path directory) {
        Path dir = directory.toAbsolutePath().normalize();
        if (!Files.exists(dir)) {
            try {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                throw new CommandFailedException("cannot create the checkpoint directory " + dir + " (" + why(e)
                        + "); pick a directory you can write", e);
            }
        }
        if (!Files.isDirectory(dir)) {
            throw new CommandFailedException(dir + " is not a directory; pick a directory for checkpoints", null);
        }
        if (!Files.isWritable(dir) || !Files.isExecutable(dir)) {
            throw new CommandFailedException("cannot write checkpoints into " + dir
                    + " (no write permission); pick a directory you can write", null);
        }
        return dir;
    }

    private static String why(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof java.nio.file.NoSuchFileException || e instanceof java.nio.file.FileAlreadyExistsException) {
            return "a part of the path is missing or is not a directory";
        }
        return e.getMessage();
    }
}
