package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.stasis.framework.util.Trees;

/**
 * Starts a new name's framework cache from a copy of another name's. Tools name their
 * coordinators after their process id (fastslow, FReD, benchmarks), so every run is a name
 * never seen before and would start cold; a cache holds nothing of its name (bundle locations
 * point into the distribution, the plugins folder is part of the fingerprint), so one made for
 * the same distribution, plugins folder and JVM serves any name. It is copied, never taken:
 * the name it belongs to keeps it. A cache that a coordinator holds is never read (it may be
 * changing); one being copied is held by the copier, so its coordinator cannot start meanwhile.
 */
final class SiblingCaches {
    private SiblingCaches() {
    }

    /**
     * @param root the cache directory
     * @param own the name whose cache is being made (its lock is held by the caller)
     * @param fingerprint what a usable cache's {@code fingerprint} file holds
     * @param target where the copy goes: the new cache's framework storage (absent or empty)
     * @return the name whose cache was copied, if one was
     */
    static Optional<String> copyInto(Path root, String own, byte[] fingerprint, Path target) {
        List<KeptCache> others;
        try {
            others = KeptCache.othersByLastUse(root, own);   // the most recent: likeliest complete and current
        } catch (IOException e) {
            return Optional.empty();
        }
        for (KeptCache cache : others) {
            Path candidate = cache.directory();
            try (NameLock lock = cache.tryLock()) {
                if (lock == null || !sameFingerprint(candidate, fingerprint)
                        || !Files.isDirectory(candidate.resolve("felix"), LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                copy(candidate.resolve("felix"), target);
                return Optional.of(candidate.getFileName().toString());
            } catch (IOException | RuntimeException e) {
                try {
                    Trees.delete(target); // half a copy is worse than none
                } catch (IOException ignored) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    private static boolean sameFingerprint(Path cache, byte[] fingerprint) throws IOException {
        Path file = cache.resolve("fingerprint");
        return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                && Arrays.equals(Files.readAllBytes(file), fingerprint);
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes)
                    throws IOException {
                Files.createDirectories(to.resolve(from.relativize(directory).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                if (attributes.isRegularFile()) { // nothing else belongs in a cache: not followed, not copied
                    Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
