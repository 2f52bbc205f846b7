package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stasis.cli.Await.await;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The framework cache a coordinator keeps for the next start of its name: it is used while
 * the distribution is the one it was made from, never once a jar was rebuilt, and a damaged
 * one costs a start nothing but its time.
 */
class FrameworkCacheIT {
    private static final String NAME = "cached";
    private static final List<String> BUILT_IN = List.of("event", "file", "ipython-config", "pid", "pty", "socket",
            "vnc");

    @TempDir
    Path temp;

    private Path dist;
    private Path plugins;
    private StasisCli cli;

    @BeforeEach
    void privateDistribution() throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        plugins = Files.createDirectory(temp.resolve("plugins"));
        dist = TestDist.copyInto(temp);
        cli = new StasisCli(runtime, dist);
    }

    @AfterEach
    void stopWhatWasStarted() {
        if (cli.run("ping", "-q", "--name", NAME).status() == 0) {
            cli.run("shutdown", "--name", NAME);
        }
    }

    // Declarative Services keys the descriptors it keeps by bundle id and install time, not by
    // the jar's content: without the cache's fingerprint, the old ranking would come back.
    @Test
    void aRebuiltBundleJarIsUsedNotWhatTheCacheHeldOfTheOldOne() throws Exception {
        startAndStop();
        assertEquals("1000", rankingAfterAStart("pid"));
        Path store = metadataStore().orElseThrow(() -> new AssertionError(
                "no Declarative Services metadata kept in " + felix() + ": nothing to test"));
        assertTrue(Files.size(store) > 0, store.toString());

        rewrite(dist.resolve("bundles/org.stasis.plugin.pid.jar"), "OSGI-INF/org.stasis.plugin.pid.PidPlugin.xml",
                "name=\"service.ranking\" type=\"Integer\" value=\"1000\"",
                "name=\"service.ranking\" type=\"Integer\" value=\"1001\"");
        assertEquals("1001", rankingAfterAStart("pid"), "a start used the cache of the jar before it was rebuilt");
    }

    @Test
    void aDamagedCacheIsStartedFromCleanAndEveryBuiltInPluginIsThere() throws Exception {
        startAndStop();
        // every file of it cut short: the bundles' records and Declarative Services' descriptors
        try (Stream<Path> files = Files.walk(felix())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                long size = Files.size(file);
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    channel.truncate(size / 2);
                }
            }
        }
        start();
        String listed = cli.run("plugins", "--name", NAME).out();
        for (String plugin : BUILT_IN) {
            assertTrue(ranking(listed, plugin).isPresent(), plugin + " missing after a start from a damaged cache:\n"
                    + listed);
        }
        cli.run("shutdown", "--name", NAME);

        // damaged beyond what Felix repairs itself: its folder a file
        Files.walk(felix()).sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        Files.writeString(felix(), "not a framework cache\n");
        assertEquals("1000", rankingAfterAStart("pid"), "no start from a cache Felix cannot open");
        assertTrue(Files.isDirectory(felix()), "the damaged cache was not replaced");
        assertEquals("1000", rankingAfterAStart("pid"), "the cache made after the damage is not usable");
    }

    // FileInstall's own state is in the cache too: a plugin removed from the folder while no
    // coordinator ran must not come back from it, one added while it runs must still join.
    @Test
    void thePluginsFolderIsFollowedAcrossStartsFromTheCache() throws Exception {
        Path hello = TestDist.BUILT.resolve("samples/org.stasis.samples.hello.jar");
        Files.copy(hello, plugins.resolve("hello.jar"));
        start();
        assertTrue(await(() -> pluginsListed().contains("org.stasis.samples.hello"), Duration.ofSeconds(20)),
                pluginsListed());
        cli.run("shutdown", "--name", NAME);
        start();
        assertTrue(await(() -> pluginsListed().contains("org.stasis.samples.hello"), Duration.ofSeconds(20)),
                "a plugin of the folder is gone after a start from the cache: " + pluginsListed());
        cli.run("shutdown", "--name", NAME);

        Files.delete(plugins.resolve("hello.jar"));
        start();
        assertFalse(pluginsListed().contains("org.stasis.samples.hello"), "removed while stopped, back from the cache: "
                + pluginsListed());
        Files.copy(hello, plugins.resolve("hello.jar"));
        assertTrue(await(() -> pluginsListed().contains("org.stasis.samples.hello"), Duration.ofSeconds(20)),
                "added while running from the cache, not picked up: " + pluginsListed());
    }

    // Tools name their coordinators after their pid: each run a new name, which starts from a
    // copy of a cache that fits instead of from nothing.
    @Test
    void aNewNameStartsFromACopyOfAnotherNamesCacheAndEveryBuiltInPluginIsThere() throws Exception {
        startAndStop();
        String other = NAME + "-" + ProcessHandle.current().pid();
        Path copied = cli.cacheDirectory().resolve(other).resolve("felix");
        try {
            StasisCli.Result result = cli.run("coordinator", "--daemon", "--name", other, "--plugins",
                    plugins.toString(), "--ckpt-dir", temp.resolve("ckpt").toString());
            assertEquals(0, result.status(), result.toString());
            // Declarative Services writes its descriptors at its stop: before this name's first stop,
            // only a copy can have them.
            try (Stream<Path> files = Files.walk(copied)) {
                assertTrue(files.anyMatch(f -> f.getFileName().toString().equals("componentMetadataStore")),
                        "the new name's cache was not started from a copy of " + felix());
            }
            String listed = cli.run("plugins", "--name", other).out();
            for (String plugin : BUILT_IN) {
                assertTrue(ranking(listed, plugin).isPresent(), plugin + " missing after a start from a copy:\n"
                        + listed);
            }
        } finally {
            cli.run("shutdown", "--name", other);
        }
        assertTrue(metadataStore().isPresent(), "the copied cache was changed or taken");
    }

    private Path felix() {
        return cli.cacheDirectory().resolve(NAME).resolve("felix");
    }

    private Optional<Path> metadataStore() throws IOException {
        try (Stream<Path> files = Files.walk(felix())) {
            return files.filter(f -> f.getFileName().toString().equals("componentMetadataStore")).findFirst();
        }
    }

    private String rankingAfterAStart(String plugin) {
        start();
        String listed = cli.run("plugins", "--name", NAME).out();
        cli.run("shutdown", "--name", NAME);
        return ranking(listed, plugin).orElseThrow(() -> new AssertionError("no plugin " + plugin + " in:\n" + listed));
    }

    private void startAndStop() {
        start();
        StasisCli.Result shutdown = cli.run("shutdown", "--name", NAME);
        assertEquals(0, shutdown.status(), shutdown.toString());
        assertTrue(Files.isDirectory(felix()), "no framework cache kept in " + felix());
    }

    private void start() {
        StasisCli.Result result = cli.run("coordinator", "--daemon", "--name", NAME, "--plugins", plugins.toString(),
                "--ckpt-dir", temp.resolve("ckpt").toString());
        assertEquals(0, result.status(), result.toString());
    }

    private String pluginsListed() {
        return cli.run("plugins", "--name", NAME).out();
    }

    // `stasis plugins`: ORDER PLUGIN RANKING EVENTS BUNDLE
    private static Optional<String> ranking(String listed, String plugin) {
        return listed.lines().map(l -> l.strip().split("\\s+")).filter(f -> f.length > 2 && f[1].equals(plugin))
                .map(f -> f[2]).findFirst();
    }

    // The jar with one text replaced in one entry, written anew (a rebuild: new time, new content).
    private static void rewrite(Path jar, String entry, String from, String to) throws IOException {
        Path rewritten = jar.resolveSibling(jar.getFileName() + ".new");
        boolean replaced = false;
        try (ZipFile in = new ZipFile(jar.toFile());
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(rewritten))) {
            for (Enumeration<? extends ZipEntry> entries = in.entries(); entries.hasMoreElements();) {
                ZipEntry e = entries.nextElement();
                out.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream content = in.getInputStream(e)) {
                    if (e.getName().equals(entry)) {
                        String text = new String(content.readAllBytes(), StandardCharsets.UTF_8);
                        replaced = text.contains(from);
                        out.write(text.replace(from, to).getBytes(StandardCharsets.UTF_8));
                    } else {
                        content.transferTo(out);
                    }
                }
                out.closeEntry();
            }
        }
        assertTrue(replaced, "no '" + from + "' in " + jar + "!" + entry);
        Files.move(rewritten, jar, StandardCopyOption.REPLACE_EXISTING);
    }
}
