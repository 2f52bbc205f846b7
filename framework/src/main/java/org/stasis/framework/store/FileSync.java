package org.stasis.framework.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /**
     * Fsyncs every regular file and directory under {@code root}, root included, all at
     * once (up to {@link #PARALLEL} at a time): the file system commits concurrent fsyncs
     * together, and none has to be durable before another (only all of them before the
     * rename that publishes), so one round costs about one journal commit.
     */
    static void tree(Path root) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.collect(Collectors.toList());
        }
        parallel(paths);
    }

    static final int PARALLEL = 16;

    private static void parallel(List<Path> files) throws IOException {
        if (files.size() < 2) {
            for (Path file : files) {
                one(file);
            }
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL, files.size()), r -> {
            Thread thread = new Thread(r, "stasis-fsync");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Path file : files) {
                done.add(pool.submit(() -> {
                    one(file);
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the checkpoint was made durable", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Fsyncs one file or directory. */
    static void one(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
