package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
        List<KeptCache> others = KeptCache.othersByLastUse(root, own);
        List<Path> removed = new ArrayList<>();
        for (int i = 0; i < others.size(); i++) {
            KeptCache cache = others.get(i);
            if (i >= KEPT - 1 || cache.lastUse().isBefore(now.minus(UNUSED))) {
                NameLock lock = cache.tryLock();
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
}
