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
 * the limit is skipped with a line for the event log. A file or directory that cannot
 * be read fails the save (the checkpoint is refused: a restored session would miss it).
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
     * @throws IOException naming the first file or directory that cannot be read
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
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                throw unreadable(file, e);
            }
        });
        return new Saved((int) counts[0], counts[1], (int) counts[2]);
    }

    private static void copyOne(Path file, Path copy, long limit, Consumer<String> note, long[] counts)
            throws IOException {
        long size = Files.size(file);
        if (size > limit) {
            note.accept("not saved: " + file + " has " + size + " bytes, more than the limit of " + limit
                    + " (Config Admin: org.stasis.plugin.ipythonconfig max.file.bytes)");
            counts[2]++;
            return;
        }
        try {
            Files.copy(file, copy, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.FileSystemException e) {
            throw file.toString().equals(e.getFile()) ? unreadable(file, e) : e;
        }
        counts[0]++;
        counts[1] += size;
    }

    /** One line: which file, why, what to do. */
    private static IOException unreadable(Path file, IOException cause) {
        String why = cause instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : " " + cause.getMessage());
        return new IOException("cannot read " + file + " (" + why + "): the IPython profile cannot be saved;"
                + " make the file readable or remove it, then checkpoint again", cause);
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
