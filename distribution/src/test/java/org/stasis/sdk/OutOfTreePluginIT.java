package org.stasis.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * The plugin author's recipe of doc/writing-a-plugin.md, end to end: samples/hello-plugin
 * copied to a directory outside the Stasis tree and renamed builds with Maven offline against the
 * SDK in a local repository (stasis-plugin-parent, org.stasis.api, org.stasis.api.testkit,
 * as {@code mvn install} of Stasis puts them there) and runs its unit test on the test kit;
 * the jar it makes, dropped into a coordinator's plugins folder, becomes active and takes
 * part in a checkpoint and a restart of a real program.
 *
 * <p>Runs inside {@code mvn verify} without {@code mvn install}: the SDK artifacts are
 * copied from the reactor's build into a temporary local repository, and everything else
 * comes from the user's local repository, read as a file:// repository (the nested build
 * runs with -o: no network).
 */
@Timeout(600)
class OutOfTreePluginIT {
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final String VERSION = System.getProperty("stasis.version", "0.1.0-SNAPSHOT");
    private static final Path USER_REPOSITORY = Path.of(System.getProperty("stasis.m2",
            System.getProperty("user.home") + "/.m2/repository"));
    private static final Path SCENARIOS = REPO.resolve("native/target/scenarios");

    @TempDir
    Path temp;

    @Test
    void aPluginCopiedFromTheSampleBuildsOfflineAndWorksWhenDroppedIn() throws Exception {
        Path project = temp.resolve("my-plugin");
        copyTree(REPO.resolve("samples/hello-plugin"), project);
        makeItYours(project);
        Path repository = seedRepository(temp.resolve("repository"));
        Path settings = Files.writeString(temp.resolve("settings.xml"), "<settings><mirrors><mirror><id>user</id>"
                + "<mirrorOf>*</mirrorOf><url>" + USER_REPOSITORY.toUri() + "</url></mirror></mirrors></settings>");

        Path log = temp.resolve("build.log");
        int status = maven(project, log, "-B", "-o", "-Daether.offline.protocols=file", "-s", settings.toString(),
                "-Dmaven.repo.local=" + repository, "package");
        String output = Files.readString(log);
        assertEquals(0, status, "the out-of-tree build failed:\n" + tail(output));
        assertTrue(output.contains("Tests run: 1, Failures: 0"), "its test kit test did not run:\n" + tail(output));
        Path jar = project.resolve("target/com.example.myplugin-1.0.0.jar");
        assertTrue(Files.isRegularFile(jar), "no " + jar + ":\n" + tail(output));

        dropInAndCheckpoint(jar);
    }

    /** What doc/writing-a-plugin.md tells the author to change: coordinates, bundle name, parent lookup. */
    private static void makeItYours(Path project) throws IOException {
        Path pom = project.resolve("pom.xml");
        String text = Files.readString(pom);
        String changed = text.replace("<groupId>org.stasis.samples</groupId>", "<groupId>com.example</groupId>")
                .replace("<artifactId>org.stasis.samples.hello</artifactId>", "<artifactId>com.example.myplugin</artifactId>")
                .replace("<version>" + VERSION + "</version>\n  <name>", "<version>1.0.0</version>\n  <name>")
                .replaceAll("<relativePath>[^<]*</relativePath>", "<relativePath/>");
        assertTrue(!changed.contains("org.stasis.samples") && changed.contains("<version>1.0.0</version>")
                && changed.contains("<relativePath/>"), "the sample's pom changed shape:\n" + text);
        Files.writeString(pom, changed);
        Path bnd = project.resolve("bnd.bnd");
        Files.writeString(bnd, Files.readString(bnd).replace("org.stasis.samples.hello", "com.example.myplugin"));
    }

    /** The SDK as `mvn install` of Stasis leaves it in a local repository. */
    private static Path seedRepository(Path repository) throws IOException {
        install(repository, "stasis-parent", REPO.resolve("pom.xml"), null);
        install(repository, "stasis-plugin-parent", REPO.resolve("plugin-parent/pom.xml"), null);
        install(repository, "org.stasis.api", REPO.resolve("plugin-api/pom.xml"),
                REPO.resolve("plugin-api/target/org.stasis.api-" + VERSION + ".jar"));
        install(repository, "org.stasis.api.testkit", REPO.resolve("plugin-api-testkit/pom.xml"),
                REPO.resolve("plugin-api-testkit/target/org.stasis.api.testkit-" + VERSION + ".jar"));
        return repository;
    }

    private static void install(Path repository, String artifact, Path pom, Path jar) throws IOException {
        Path directory = Files.createDirectories(repository.resolve("org/stasis").resolve(artifact).resolve(VERSION));
        Files.copy(pom, directory.resolve(artifact + "-" + VERSION + ".pom"));
        if (jar != null) {
            assertTrue(Files.isRegularFile(jar), "the reactor did not build " + jar);
            Files.copy(jar, directory.resolve(artifact + "-" + VERSION + ".jar"));
        }
    }

    private void dropInAndCheckpoint(Path jar) throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path plugins = Files.createDirectory(temp.resolve("plugins"));
        StasisCli cli = new StasisCli(runtime);
        List<Process> started = new ArrayList<>();
        StasisCli.Result coordinator = cli.run("coordinator", "--daemon", "--name", "sdk", "--plugins",
                plugins.toString(), "--ckpt-dir", temp.resolve("ckpt").toString());
        assertEquals(0, coordinator.status(), coordinator.toString());
        try {
            Files.copy(jar, plugins.resolve("my-plugin.jar"), StandardCopyOption.REPLACE_EXISTING);
            StasisCli.Result listed = await(() -> cli.run("plugins", "--name", "sdk"),
                    r -> r.out().contains("com.example.myplugin"), Duration.ofSeconds(30));
            assertTrue(listed.out().contains("hello"), "the dropped-in plugin is not active: " + listed);

            Path output = temp.resolve("output.txt");
            started.add(cli.start(output, "launch", "--name", "sdk", "--", SCENARIOS.resolve("counter").toString(),
                    "100000", "20"));
            awaitFile(output, text -> text.contains("count 3"));
            StasisCli.Result checkpoint = cli.run("checkpoint", "--name", "sdk");
            assertEquals(0, checkpoint.status(), checkpoint.toString());
            List<String> lines = checkpoint.out().strip().lines().toList();
            Path directory = Path.of(lines.get(lines.size() - 1));
            assertTrue(Files.readString(directory.resolve("plugins/hello/events.txt")).contains("write"),
                    "the plugin wrote no blob into the checkpoint");
            assertTrue(Files.readString(directory.resolve("manifest.json")).contains("events-seen"),
                    "the plugin's records are not in the manifest");

            StasisCli.Result killed = cli.run("kill", "--name", "sdk");
            assertEquals(0, killed.status(), killed.toString());
            assertTrue(started.get(0).waitFor(30, TimeUnit.SECONDS), "the killed program did not end");
            started.add(cli.start(output, "restart", "--name", "sdk", directory.toString()));
            StasisCli.Result events = await(() -> cli.run("exec", "--name", "sdk", "hello:events"),
                    r -> r.out().contains("resume restarted"), Duration.ofSeconds(60));
            assertTrue(events.out().contains("restart records={events-seen="), events.toString());
            cli.run("kill", "--name", "sdk");
        } finally {
            for (Process process : started) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            cli.run("shutdown", "--name", "sdk");
            await(() -> cli.run("ping", "-q", "--name", "sdk"), r -> r.status() == 1, Duration.ofSeconds(20));
        }
    }

    private static int maven(Path project, Path log, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        String home = System.getProperty("maven.home");
        command.add(home != null && Files.isExecutable(Path.of(home, "bin", "mvn")) ? home + "/bin/mvn" : "mvn");
        command.addAll(List.of(args));
        Process maven = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        if (!maven.waitFor(8, TimeUnit.MINUTES)) {
            maven.destroyForcibly();
            fail("the out-of-tree build did not finish in 8 minutes:\n" + tail(Files.readString(log)));
        }
        return maven.exitValue();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.filter(f -> !from.relativize(f).startsWith("target")).toList()) {
                Files.copy(file, to.resolve(from.relativize(file).toString()));
            }
        }
    }

    private static StasisCli.Result await(Supplier<StasisCli.Result> command, Predicate<StasisCli.Result> done,
            Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        StasisCli.Result result = command.get();
        while (!done.test(result) && System.nanoTime() < deadline) {
            Thread.sleep(250);
            result = command.get();
        }
        return result;
    }

    private static void awaitFile(Path file, Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(Files.exists(file) && done.test(Files.readString(file)))) {
            if (System.nanoTime() > deadline) {
                fail("the program made no progress: " + (Files.exists(file) ? Files.readString(file) : "no output"));
            }
            Thread.sleep(100);
        }
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
