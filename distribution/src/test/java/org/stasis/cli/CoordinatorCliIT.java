package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line against a real coordinator running in the background: the path a
 * user takes from {@code stasis coordinator --daemon} to a dropped-in plugin.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CoordinatorCliIT {
    @TempDir
    static Path temp;

    private static StasisCli cli;
    private static Path plugins;
    private static final Path SAMPLE = Path.of(System.getProperty("stasis.dist", "../dist"), "samples",
            "org.stasis.samples.hello.jar");

    @BeforeAll
    static void startCoordinator() throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        plugins = Files.createDirectory(temp.resolve("plugins"));
        cli = new StasisCli(runtime);
        StasisCli.Result started = cli.run("coordinator", "--daemon", "--name", "itest", "--plugins", plugins.toString(),
                "--ckpt-dir", temp.resolve("ckpt").toString());
        assertEquals(0, started.status(), started.toString());
        assertTrue(started.out().contains("coordinator 'itest' is ready"), started.toString());
    }

    @AfterAll
    static void stopCoordinator() throws Exception {
        if (cli == null) {
            return;
        }
        cli.run("shutdown", "--name", "itest");
        // The JVM removes its socket as it stops; wait so the temp dir can go.
        awaitOutput(() -> cli.run("ping", "-q", "--name", "itest"), r -> r.status() == 1, Duration.ofSeconds(20));
    }

    private static StasisCli.Result awaitOutput(java.util.function.Supplier<StasisCli.Result> command,
            Predicate<StasisCli.Result> done, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        StasisCli.Result result = command.get();
        while (!done.test(result) && System.nanoTime() < deadline) {
            Thread.sleep(250);
            result = command.get();
        }
        return result;
    }

    @Test
    @Order(1)
    void versionAnswersThroughTheControlSocket() {
        StasisCli.Result version = cli.run("version", "--name", "itest", "--json");

        assertEquals(0, version.status(), version.toString());
        assertTrue(version.out().contains("\"pluginApi\" : \"1.7.0\""), version.toString());
        assertTrue(version.out().contains("\"coordinator\" : \"itest\""), version.toString());
    }

    @Test
    @Order(2)
    void aSecondCoordinatorOfTheSameNameIsRefused() {
        StasisCli.Result again = cli.run("coordinator", "--daemon", "--name", "itest");

        assertEquals(1, again.status(), again.toString());
        assertTrue(again.err().contains("already running"), again.toString());
    }

    @Test
    @Order(3)
    void aDroppedInPluginJoinsReceivesEventsAndLeaves() throws Exception {
        StasisCli.Result before = cli.run("plugins", "--name", "itest");
        assertTrue(before.out().contains("pid") && before.out().contains("file") && before.out().contains("pty"),
                before.toString());
        assertTrue(!before.out().contains("hello"), before.toString());

        Files.copy(SAMPLE, plugins.resolve("hello.jar"), StandardCopyOption.REPLACE_EXISTING);
        StasisCli.Result listed = awaitOutput(() -> cli.run("plugins", "--name", "itest"),
                r -> r.out().contains("hello"), Duration.ofSeconds(20));
        assertTrue(listed.out().contains("org.stasis.samples.hello"), listed.toString());

        StasisCli.Result dryrun = cli.run("dryrun", "--name", "itest");
        assertEquals(0, dryrun.status(), dryrun.toString());
        StasisCli.Result events = cli.run("exec", "--name", "itest", "hello:events");
        for (String event : new String[] { "preCheckpoint", "drain", "write", "restart", "resume restarted" }) {
            assertTrue(events.out().contains(event), "hello did not receive " + event + ": " + events);
        }
        StasisCli.Result log = cli.run("events", "--name", "itest", "--json");
        assertTrue(log.out().contains("\"actor\" : \"hello\""), log.toString());

        Files.delete(plugins.resolve("hello.jar"));
        StasisCli.Result gone = awaitOutput(() -> cli.run("plugins", "--name", "itest"),
                r -> r.status() == 0 && !r.out().contains("hello"), Duration.ofSeconds(20));
        assertTrue(gone.status() == 0 && !gone.out().contains("hello") && gone.out().contains("pty"), gone.toString());
    }

    @Test
    @Order(4)
    void errorsAreOneLineWithTheRightStatus() {
        StasisCli.Result unknown = cli.run("frobnicate", "--name", "itest");
        assertEquals(2, unknown.status(), unknown.toString());
        assertTrue(unknown.err().startsWith("stasis: unknown command"), unknown.toString());
        assertEquals(1, unknown.err().strip().lines().count(), unknown.toString());

        StasisCli.Result badArgs = cli.run("events", "--name", "itest", "--bogus");
        assertEquals(2, badArgs.status(), badArgs.toString());
        assertTrue(badArgs.err().contains("wrong arguments for 'events'"), badArgs.toString());
    }

    @Test
    @Order(5)
    void scriptsAndShellSessionsRunInTheCoordinator() throws Exception {
        Path script = temp.resolve("check.gosh");
        Files.writeString(script, "stasis:version\nstasis:plugins\n");
        StasisCli.Result scripted = cli.run("exec", "--name", "itest", "-f", script.toString());
        assertEquals(0, scripted.status(), scripted.toString());
        assertTrue(scripted.out().contains("coordinator  itest") && scripted.out().contains("pty"), scripted.toString());

        StasisCli.Result shell = cli.runWithInput("stasis:version\nexit\n", "shell", "--name", "itest");
        assertEquals(0, shell.status(), shell.toString());
        assertTrue(shell.out().contains("g! ") && shell.out().contains("coordinator  itest"), shell.toString());
    }

    @Test
    @Order(6)
    void withoutACoordinatorTheUserIsToldHowToStartOne() {
        StasisCli.Result missing = cli.run("plugins", "--name", "nobody");

        assertEquals(1, missing.status(), missing.toString());
        assertTrue(missing.err().contains("stasis coordinator --daemon --name nobody"), missing.toString());
    }
}
