package org.stasis.plugin.ipythonconfig;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.Consumer;

/**
 * Copies a saved directory tree (or one file) into the checkpoint's plugin directory and
 * back out of it. Regular files and directories only: symbolic links, sockets and FIFOs
 * are not saved (the profile's own files are what IPython needs); a file larger than
 * the limit or unreadable is skipped with a line for the event log.
 */
final class Blobs {
    private Blobs() {
    }

    /** What a save copied. */
    record Saved(int files, long bytes, int skipped) {
    }

    /**
     * @param source an existing directory or regular file
     * @param target where its copy goes (created; must not exist)
     * @param limit the largest file saved, in bytes
     * @param note receives one line per skipped file
     */
    static Saved save(Path source, Path target, long limit, Consumer<String> note) throws IOException {
        long[] counts = new long[3];
        if (Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(target);
            copyOne(source, target.resolve(source.getFileName().toString()), limit, note, counts);
            return new Saved((int) counts[0], counts[1], (int) counts[2]);
        }
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(target.resolve(source.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    copyOne(file, target.resolve(source.relativize(file).toString()), limit, note, counts);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                note.accept("not saved: " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
                counts[2]++;
                return FileVisitResult.CONTINUE;
            }
        });
        return new Saved((int) counts[0], counts[1], (int) counts[2]);
    }

    private static void copyOne(Path file, Path copy, long limit, Consumer<String> note, long[] counts) {
        try {
            long size = Files.size(file);
            if (size > limit) {
                note.accept("not saved: " + file + " has " + size + " bytes, more than the limit of " + limit
                        + " (Config Admin: org.stasis.plugin.ipythonconfig max.file.bytes)");
                counts[2]++;
                return;
            }
            Files.copy(file, copy, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            counts[0]++;
            counts[1] += size;
        } catch (IOException e) {
            note.accept("not saved: " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
            counts[2]++;
        }
    }

    /** Copies a saved tree to {@code target} (created), keeping the files' modes. */
    static void restore(Path saved, Path target) throws IOException {
        Files.walkFileTree(saved, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(target.resolve(saved.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, target.resolve(saved.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Removes a tree; what cannot be removed stays (a line for the log says so). */
    static void remove(Path tree, Consumer<String> note) {
        if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(tree, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            note.accept("could not remove " + tree + ": " + e.getMessage());
        }
    }
}
