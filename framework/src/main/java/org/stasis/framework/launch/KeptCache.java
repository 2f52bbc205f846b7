package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A name's framework cache in the cache directory, {@code <root>/<name>}, as the caches of
 * other names see it: when it was last used (its fingerprint's modification time, which every
 * start from it renews; the directory's if it has none) and the lock its coordinator holds.
 *
 * @param directory the cache
 * @param lastUse when a start last used it
 */
record KeptCache(Path directory, Instant lastUse) {
    /**
     * @param root the cache directory
     * @param own the caller's name, left out
     * @return the other names' caches, the most recently used first
     * @throws IOException if the cache directory cannot be listed
     */
    static List<KeptCache> othersByLastUse(Path root, String own) throws IOException {
        List<KeptCache> found = new ArrayList<>();
        try (DirectoryStream<Path> listed = Files.newDirectoryStream(root)) {
            for (Path directory : listed) {
                if (Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)
                        && !directory.getFileName().toString().equals(own)) {
                    found.add(new KeptCache(directory, lastUse(directory)));
                }
            }
        }
        found.sort(Comparator.comparing(KeptCache::lastUse, Comparator.reverseOrder()));
        return found;
    }

    /**
     * @return its name's lock, or null while a coordinator of that name holds it
     * @throws IOException if the lock file cannot be created or locked
     */
    NameLock tryLock() throws IOException {
        return NameLock.tryAcquire(directory.resolveSibling(directory.getFileName() + ".lock"));
    }

    private static Instant lastUse(Path directory) throws IOException {
        try {
            return Files.getLastModifiedTime(directory.resolve("fingerprint")).toInstant();
        } catch (NoSuchFileException e) {
            return Files.getLastModifiedTime(directory, LinkOption.NOFOLLOW_LINKS).toInstant();
        }
    }
}
