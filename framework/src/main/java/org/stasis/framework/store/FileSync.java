package org.stasis.framework.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Durability helpers: a rename is only as durable as the fsyncs before it. */
final class FileSync {
    private FileSync() {
    }

    /**
     * Makes every directory under {@code root} 0700 and every file 0600: a checkpoint
     * holds program memory and plugin blobs, whatever permissions a plugin used.
     */
    static void makePrivate(Path root) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.collect(Collectors.toList());
        }
        for (Path path : paths) {
            if (Files.isSymbolicLink(path)) {
                continue;
            }
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(
                    Files.isDirectory(path) ? "rwx------" : "rw-------"));
        }
    }

    /** Fsyncs every regular file and directory under {@code root}, then root itself. */
    static void tree(Path root) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.collect(Collectors.toList());
        }
        for (int i = paths.size() - 1; i >= 0; i--) {
            one(paths.get(i));
        }
    }

    /** Fsyncs one file or directory. */
    static void one(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
