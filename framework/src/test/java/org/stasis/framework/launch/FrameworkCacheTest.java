package org.stasis.framework.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrameworkCacheTest {
    @TempDir
    Path temp;

    private Path dist;
    private Path plugins;
    private Path runtime;
    private Map<String, String> environment;

    @BeforeEach
    void aDistribution() throws Exception {
        dist = Files.createDirectories(temp.resolve("dist"));
        Files.createDirectories(dist.resolve("lib"));
        Files.createDirectories(dist.resolve("bundles"));
        Files.writeString(dist.resolve("lib/org.apache.felix.framework.jar"), "felix");
        Files.writeString(dist.resolve("bundles/org.stasis.plugin.pid.jar"), "pid");
        plugins = Files.createDirectories(temp.resolve("plugins"));
        runtime = Files.createDirectories(temp.resolve("run"));
        environment = Map.of("STASIS_CACHE_DIR", temp.resolve("cache").toString());
    }

    @Test
    void aCacheIsKeptAndReusedForTheSameDistribution() throws Exception {
        FrameworkCache first = open("a");
        assertTrue(first.persistent());
        assertFalse(first.reused(), "a new cache reused");
        assertEquals(temp.resolve("cache/a/felix"), first.storage());
        Files.createDirectories(first.storage().resolve("bundle1"));
        first.close();
        assertTrue(Files.isDirectory(first.storage().resolve("bundle1")), "a kept cache removed at stop");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(temp.resolve("cache"))));

        FrameworkCache second = open("a");
        assertTrue(second.reused());
        assertTrue(Files.isDirectory(second.storage().resolve("bundle1")));
        second.close();
    }

    @Test
    void aRebuiltJarAFileInThePluginsFolderOrAnotherPluginsFolderEmptiesIt() throws Exception {
        fill();
        Path jar = dist.resolve("bundles/org.stasis.plugin.pid.jar");
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(5)));
        assertEmptied();

        fill();
        Files.writeString(plugins.resolve("hello.jar"), "hello");
        assertEmptied();

        fill();
        Files.delete(plugins.resolve("hello.jar"));
        assertEmptied();

        fill();
        plugins = Files.createDirectories(temp.resolve("other-plugins"));
        assertEmptied();
    }

    // The lock is another process's (a POSIX record lock, as Java's, held by Python): within one
    // JVM a second lock on the file would not be refused the way another coordinator's is.
    @Test
    void oneCoordinatorAtATimeUsesAName() throws Exception {
        Path cacheRoot = Files.createDirectory(temp.resolve("cache"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Process holder = holdLock(cacheRoot.resolve("busy.lock"));
        try {
            FrameworkCache second = open("busy");
            assertFalse(second.persistent());
            assertEquals(runtime.resolve("busy.cache"), second.storage());
            assertTrue(second.warning().contains("in use by another coordinator"), second.warning());
            Files.createDirectories(second.storage());
            second.close();
            assertFalse(Files.exists(second.storage()), "a throwaway cache kept");
            assertFalse(Files.exists(temp.resolve("cache/busy")), "the holder's cache touched");
        } finally {
            holder.destroy();
            holder.waitFor();
        }
        FrameworkCache after = open("busy");
        assertTrue(after.persistent(), "the name's cache still locked after its holder let go");
        after.close();
    }

    @Test
    void aNewNameStartsFromACopyOfTheCacheOfAnotherNameOfTheSameDistribution() throws Exception {
        FrameworkCache older = open("older");
        assertNull(older.copiedFrom(), "nothing to copy from yet");
        Files.createDirectories(older.storage().resolve("bundle7"));
        older.close();
        FrameworkCache a = open("a");
        assertEquals("older", a.copiedFrom());
        Files.createDirectories(a.storage().resolve("bundle1"));
        Files.writeString(a.storage().resolve("bundle1/bundle.info"), "1\n");
        a.close();
        Files.writeString(temp.resolve("cache/older/felix/bundle7/only-here"), "");
        Files.setLastModifiedTime(temp.resolve("cache/older/fingerprint"), FileTime.from(Instant.now().minusSeconds(60)));

        FrameworkCache b = open("b");
        assertEquals("a", b.copiedFrom(), "the most recently used cache that fits");
        assertTrue(b.reused());
        assertEquals("1\n", Files.readString(b.storage().resolve("bundle1/bundle.info")));
        assertFalse(Files.exists(b.storage().resolve("bundle7/only-here")), "copied from the older one");
        b.close();
        assertEquals("1\n", Files.readString(temp.resolve("cache/a/felix/bundle1/bundle.info")), "a's cache taken");
        FrameworkCache bAgain = open("b");
        assertTrue(bAgain.reused());
        assertNull(bAgain.copiedFrom(), "its own cache now");
        bAgain.close();

        Files.setLastModifiedTime(dist.resolve("bundles/org.stasis.plugin.pid.jar"),
                FileTime.from(Instant.now().plusSeconds(5)));
        FrameworkCache other = open("c");
        assertNull(other.copiedFrom(), "a cache of another distribution copied");
        assertFalse(other.reused());
        other.close();
    }

    @Test
    void aCacheItsCoordinatorHoldsIsNotCopied() throws Exception {
        FrameworkCache a = open("a");
        Files.createDirectories(a.storage().resolve("bundle1"));
        a.close();
        Process holder = holdLock(temp.resolve("cache/a.lock"));
        try {
            FrameworkCache b = open("b");
            assertNull(b.copiedFrom(), "a running coordinator's cache copied");
            assertFalse(b.reused());
            b.close();
        } finally {
            holder.destroy();
            holder.waitFor();
        }
    }

    @Test
    void noCacheIsKeptWhenAskedOrWhereOthersCouldReadIt() throws Exception {
        environment = Map.of("STASIS_CACHE_DIR", temp.resolve("cache").toString(), "STASIS_NO_CACHE", "1");
        FrameworkCache off = open("a");
        assertFalse(off.persistent());
        assertNull(off.warning(), "asked for: nothing to warn about");
        assertFalse(Files.exists(temp.resolve("cache")));

        Path shared = Files.createDirectories(temp.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        environment = Map.of("STASIS_CACHE_DIR", shared.toString());
        FrameworkCache refused = open("a");
        assertFalse(refused.persistent());
        assertTrue(refused.warning().contains("0700"), refused.warning());
    }

    @Test
    void aStopRemovesOtherNamesCachesUnusedForAWeekOrBeyondTheQuota() throws Exception {
        Path root = temp.resolve("cache");
        FrameworkCache own = open("own");
        Instant now = Instant.now();
        for (int i = 0; i < 20; i++) {
            usedAt(root.resolve("name" + i), now.minus(Duration.ofHours(i)));
        }
        usedAt(root.resolve("old"), now.minus(UnusedCaches.UNUSED).minus(Duration.ofHours(1)));
        own.close();
        assertTrue(Files.isRegularFile(root.resolve("own/fingerprint")), "the stopping coordinator's own cache removed");
        assertFalse(Files.exists(root.resolve("old")), "a cache unused for over a week kept");
        for (int i = 0; i < 20; i++) {
            assertEquals(i < UnusedCaches.KEPT - 1, Files.exists(root.resolve("name" + i)), "name" + i);
        }
    }

    /** @return another process holding the lock on {@code file} (destroy it to let go) */
    private static Process holdLock(Path file) throws Exception {
        Process holder = new ProcessBuilder("python3", "-c", "import fcntl, sys, time\n"
                + "f = open(sys.argv[1], 'a'); fcntl.lockf(f, fcntl.LOCK_EX)\n"
                + "print('held', flush=True); time.sleep(60)", file.toString()).redirectErrorStream(true).start();
        try {
            assertEquals("held", new String(holder.getInputStream().readNBytes(4)));
            return holder;
        } catch (Exception | AssertionError e) {
            holder.destroy();
            throw e;
        }
    }

    private static void usedAt(Path cache, Instant when) throws Exception {
        Path fingerprint = Files.createDirectories(cache).resolve("fingerprint");
        Files.writeString(fingerprint, "a cache of another name\n");
        Files.setLastModifiedTime(fingerprint, FileTime.from(when));
    }

    private void fill() throws Exception {
        FrameworkCache cache = open("a");
        Files.createDirectories(cache.storage().resolve("bundle1"));
        cache.close();
        FrameworkCache again = open("a");
        assertTrue(again.reused(), "unchanged, yet not reused");
        again.close();
    }

    private void assertEmptied() throws Exception {
        FrameworkCache cache = open("a");
        assertFalse(cache.reused());
        assertFalse(Files.exists(cache.storage().resolve("bundle1")), "a cache of another distribution kept");
        cache.close();
    }

    private FrameworkCache open(String name) throws Exception {
        LaunchOptions options = LaunchOptions.parse(List.of("--home", dist.toString(), "--name", name, "--plugins",
                plugins.toString()));
        return FrameworkCache.open(environment, options, runtime);
    }
}
