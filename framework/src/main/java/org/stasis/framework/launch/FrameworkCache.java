package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

import org.stasis.framework.util.PrivateDirectory;
import org.stasis.framework.util.Trees;

/**
 * Where a coordinator's OSGi framework keeps its state. By default a cache per coordinator name
 * that outlives the coordinator, {@code <cache root>/<name>/felix}, so that the next start of
 * that name finds its bundles installed and Declarative Services' descriptors parsed
 * ({@code ds.cache.metadata}) instead of doing it all again. The cache root is
 * {@code $STASIS_CACHE_DIR}, else {@code $XDG_CACHE_HOME/stasis}, else {@code ~/.cache/stasis},
 * mode 0700. A cache is used only by the coordinator holding its lock ({@code <name>.lock} in the
 * root: coordinators of one name in two runtime directories must not share it) and only for the
 * distribution, plugins folder and JVM it was made with ({@link DistFingerprint}); otherwise it is
 * wiped first, and a new one starts as a copy of another name's if one fits ({@link SiblingCaches}). Where no cache can be kept ({@code STASIS_NO_CACHE=1}, its lock held, the root not
 * private), a throwaway one in the runtime directory, {@code <run>/<name>.cache}, removed at stop.
 */
final class FrameworkCache implements AutoCloseable {
    private final Path storage;
    private final Path root;
    private final NameLock lock;
    private final String warning;
    private boolean reused;
    private String copiedFrom;

    private FrameworkCache(Path storage, NameLock lock, boolean reused, String warning) {
        this.storage = storage;
        this.root = lock == null ? null : storage.getParent().getParent();
        this.lock = lock;
        this.reused = reused;
        this.warning = warning;
    }

    /**
     * @param environment the process environment
     * @param options what the coordinator was asked to do (its name, distribution, plugins folder)
     * @param runtime the runtime directory, for a throwaway cache
     * @return the cache to start the framework from; why it is not kept, if it is not, in
     *         {@link #warning()}
     */
    static FrameworkCache open(Map<String, String> environment, LaunchOptions options, Path runtime) {
        Path throwaway = runtime.resolve(options.name() + ".cache");
        String off = environment.getOrDefault("STASIS_NO_CACHE", "");
        if (!off.isEmpty() && !off.equals("0")) {
            return new FrameworkCache(throwaway, null, false, null);
        }
        Path root = root(environment);
        NameLock lock = null;
        try {
            ensurePrivate(root);
            lock = NameLock.tryAcquire(root.resolve(options.name() + ".lock"));
            if (lock == null) {
                return new FrameworkCache(throwaway, null, false, "the framework cache " + root.resolve(options.name())
                        + " is in use by another coordinator of that name (running, starting or stopping); starting"
                        + " without it");
            }
            Path directory = root.resolve(options.name());
            Path fingerprintFile = directory.resolve("fingerprint");
            byte[] fingerprint = DistFingerprint.of(options.home(), options.pluginsDirectory())
                    .getBytes(StandardCharsets.UTF_8);
            Path storage = directory.resolve("felix");
            // compared as bytes: a damaged file is only a mismatch
            boolean same = Files.isRegularFile(fingerprintFile)
                    && Arrays.equals(Files.readAllBytes(fingerprintFile), fingerprint);
            FrameworkCache cache = new FrameworkCache(storage, lock,
                    same && Files.exists(storage, LinkOption.NOFOLLOW_LINKS), null);
            if (!same) {
                cache.wipe();
                Files.createDirectories(directory);
                // before the fingerprint: a copy cut short is then wiped at the next start
                cache.copiedFrom = SiblingCaches.copyInto(root, options.name(), fingerprint, storage).orElse(null);
                cache.reused = cache.copiedFrom != null;
                Path written = directory.resolve("fingerprint.new");
                Files.write(written, fingerprint);
                Files.move(written, fingerprintFile, StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            } else {
                Files.setLastModifiedTime(fingerprintFile, FileTime.from(Instant.now())); // its last use
            }
            return cache;
        } catch (IOException | RuntimeException e) {
            if (lock != null) {
                lock.close();
            }
            return new FrameworkCache(throwaway, null, false, "cannot keep a framework cache in " + root + " ("
                    + e.getMessage() + "); starting without it (STASIS_NO_CACHE=1 does so quietly)");
        }
    }

    private static Path root(Map<String, String> environment) {
        String explicit = environment.getOrDefault("STASIS_CACHE_DIR", "");
        if (!explicit.isEmpty()) {
            return Path.of(explicit).toAbsolutePath();
        }
        String xdg = environment.getOrDefault("XDG_CACHE_HOME", "");
        if (xdg.startsWith("/")) {
            return Path.of(xdg, "stasis");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "stasis");
    }

    private static void ensurePrivate(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(root.getParent());   // as usual: only the root is private
        }
        if (!PrivateDirectory.create(root)) {
            throw new IOException("it is not a directory private to " + System.getProperty("user.name")
                    + " (mode 0700)");
        }
    }

    /** @return the framework's storage directory */
    Path storage() {
        return storage;
    }

    /** @return why the cache is not kept although it should be, or null */
    String warning() {
        return warning;
    }

    /** @return whether it outlives the coordinator (else it is removed at stop) */
    boolean persistent() {
        return lock != null;
    }

    /** @return whether it holds the state a previous start of this distribution left */
    boolean reused() {
        return reused;
    }

    /** @return the name whose cache this new one was copied from, or null */
    String copiedFrom() {
        return copiedFrom;
    }

    /**
     * Empties it: what follows starts from nothing.
     *
     * @throws IOException if something in it cannot be removed
     */
    void wipe() throws IOException {
        Trees.delete(storage);
        reused = false;
    }

    /**
     * Call once the framework has stopped: a throwaway cache is removed, a kept one let go of
     * (and other names' caches nobody uses any more are removed, off the start's path).
     *
     * @throws IOException if a throwaway cache cannot be removed
     */
    @Override
    public void close() throws IOException {
        if (lock == null) {
            Trees.delete(storage);
            return;
        }
        try {
            UnusedCaches.prune(root, storage.getParent().getFileName().toString(), Instant.now());
        } catch (IOException | RuntimeException e) {
            System.err.println("stasis: cannot remove unused framework caches in " + root + ": " + e.getMessage());
        } finally {
            lock.close();
        }
    }
}
