package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.stasis.framework.util.Trees;

/**
 * Removes the framework caches of names no coordinator uses any more: tools name their
 * coordinators after their process id (fastslow, FReD), and each such name would otherwise leave
 * a cache behind for good. A cache goes when it was last used longer ago than a week, or when
 * more recently used ones fill the quota; one that a coordinator holds (its lock) never goes.
 * Its last use is its fingerprint's modification time, which every start from it renews.
 */
final class UnusedCaches {
    /** How many names' caches are kept at most, the most recently used ones. */
    static final int KEPT = 16;
    /** How long a cache nobody used is kept. */
    static final Duration UNUSED = Duration.ofDays(7);

    private UnusedCaches() {
    }

    /**
     * @param root the cache directory
     * @param own the name whose cache the caller holds (kept, and counted)
     * @param now the time to measure the caches' age from
     * @return the caches removed
     * @throws IOException if the cache directory cannot be listed
     */
    static List<Path> prune(Path root, String own, Instant now) throws IOException {
        record Cache(Path directory, Instant lastUse) {
        }
        List<Cache> others = new ArrayList<>();
        try (DirectoryStream<Path> listed = Files.newDirectoryStream(root)) {
            for (Path directory : listed) {
                if (Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)
                        && !directory.getFileName().toString().equals(own)) {
                    others.add(new Cache(directory, lastUse(directory)));
                }
            }
        }
        others.sort(Comparator.comparing(Cache::lastUse).reversed());
        List<Path> removed = new ArrayList<>();
        for (int i = 0; i < others.size(); i++) {
            Cache cache = others.get(i);
            if (i >= KEPT - 1 || cache.lastUse().isBefore(now.minus(UNUSED))) {
                NameLock lock = NameLock.tryAcquire(root.resolve(cache.directory().getFileName() + ".lock"));
                if (lock != null) {
                    try {
                        Trees.delete(cache.directory());
                        removed.add(cache.directory());
                    } finally {
                        lock.close();
                    }
                }
            }
        }
        return removed;
    }

    private static Instant lastUse(Path directory) throws IOException {
        try {
            return Files.getLastModifiedTime(directory.resolve("fingerprint")).toInstant();
        } catch (NoSuchFileException e) {
            return Files.getLastModifiedTime(directory, LinkOption.NOFOLLOW_LINKS).toInstant();
        }
    }
}
