package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's everyday edges (issue 10, item 9): help without a coordinator,
 * unknown commands, errors once, JSON verdicts on failure, settings shown, checked
 * checkpoint directories, ids that never repeat, retention and kills reported, hints
 * that name the coordinator, and the TCP port of --listen.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliPolishIT {
    private static final String NAME = "polish";
    private static final Pattern CHECKPOINT_ID = Pattern.compile("checkpoint (\\S+) of computation");

    @TempDir
    static Path temp;

    private static StasisCli cli;
    private static StasisCli lonely;   // a runtime directory where no coordinator runs
    private static StasisCli.Result started;
    private static Process launched;               // the computation of tests 8 to 10
    private static Path launchOutput;
    private static final Set<String> ids = new HashSet<>();

    @BeforeAll
    static void startCoordinator() throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        cli = new StasisCli(runtime);
        lonely = new StasisCli(Files.createDirectory(temp.resolve("empty-run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
        launchOutput = temp.resolve("launch.out");
        started = cli.run("coordinator", "--daemon", "--name", NAME, "--listen", "127.0.0.1:0",
                "--ckpt-dir", temp.resolve("ckpt").toString());
        assertEquals(0, started.status(), started.toString());
    }

    @AfterAll
    static void stopCoordinator() throws Exception {
        if (launched != null) {
            launched.destroyForcibly();
        }
        if (cli == null) {
            return;
        }
        cli.run("shutdown", "--name", NAME);
        await(() -> cli.run("ping", "-q", "--name", NAME), r -> r.status() == 1, Duration.ofSeconds(20));
    }

    private static StasisCli.Result await(Supplier<StasisCli.Result> command, Predicate<StasisCli.Result> done,
            Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        StasisCli.Result result = command.get();
        while (!done.test(result) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            result = command.get();
        }
        return result;
    }

    @Test
    @Order(0)
    void everyCommandsHelpWorksWithoutACoordinator() {
        for (String command : new String[] { "status", "checkpoint", "kill", "ckptdir", "list", "note", "verify",
                "interval", "keep", "option", "plugins", "events", "dryrun", "version", "shutdown", "exec", "shell",
                "launch", "restart", "coordinators" }) {
            StasisCli.Result help = lonely.run(command, "--help");
            assertEquals(0, help.status(), command + " --help: " + help);
            assertTrue(help.out().toLowerCase().contains("usage: stasis " + command), command + " --help: " + help);
            assertEquals("", help.err(), command + " --help: " + help);
        }
    }

    @Test
    @Order(0)
    void anUnknownCommandIsAUsageErrorWithoutACoordinator() {
        StasisCli.Result unknown = lonely.run("frobnicate", "x");
        assertEquals(2, unknown.status(), unknown.toString());
        assertEquals("stasis: unknown command 'frobnicate'; see stasis --help\n", unknown.err(), unknown.toString());
    }

    @Test
    @Order(1)
    void theDaemonLineSaysItsTcpPort() {
        Matcher port = Pattern.compile("TCP 127\\.0\\.0\\.1:(\\d+)").matcher(started.out());
        assertTrue(port.find(), started.toString());
        assertTrue(Integer.parseInt(port.group(1)) > 0, started.toString());
    }

    @Test
    @Order(2)
    void anUnknownCommandIsAUsageErrorWithACoordinatorToo() {
        StasisCli.Result unknown = cli.run("frobnicate", "--name", NAME);
        assertEquals(2, unknown.status(), unknown.toString());
        assertEquals("stasis: unknown command 'frobnicate'; see stasis --help\n", unknown.err(), unknown.toString());
    }

    @Test
    @Order(3)
    void aFailedStartShowsOnlyItsOwnErrorsOnce() {
        cli.run("coordinator", "--daemon", "--name", "broken", "--bogus");
        StasisCli.Result again = cli.run("coordinator", "--daemon", "--name", "broken", "--bogus");
        assertEquals(1, again.status(), again.toString());
        String line = "unknown option '--bogus'";
        assertEquals(again.err().indexOf(line), again.err().lastIndexOf(line), again.toString());
        assertTrue(again.err().contains(line), again.toString());
    }

    @Test
    @Order(4)
    void intervalAndKeepWithoutAnArgumentShowTheCurrentValue() {
        assertEquals("interval checkpoints off\n", cli.run("interval", "--name", NAME).out());
        assertEquals(0, cli.run("interval", "--name", NAME, "7").status());
        assertEquals("checkpoint every 7 s\n", cli.run("interval", "--name", NAME).out());
        assertEquals(0, cli.run("interval", "--name", NAME, "0").status());
        assertEquals("keeping all checkpoints\n", cli.run("keep", "--name", NAME).out());
        StasisCli.Result bad = cli.run("keep", "--name", NAME, "many");
        assertEquals(2, bad.status(), bad.toString());
    }

    @Test
    @Order(5)
    void ckptdirRefusesWhatIsNotAWritableDirectory() throws Exception {
        Path file = Files.writeString(temp.resolve("a-file"), "x");
        StasisCli.Result notDir = cli.run("ckptdir", "--name", NAME, file.toString());
        assertEquals(1, notDir.status(), notDir.toString());
        assertTrue(notDir.err().contains("is not a directory"), notDir.toString());
        // (a mode-0500 directory would be writable to root, who runs some CIs: a place nobody can create)
        StasisCli.Result uncreatable = cli.run("ckptdir", "--name", NAME, file.resolve("sub").toString());
        assertEquals(1, uncreatable.status(), uncreatable.toString());
        assertTrue(uncreatable.err().contains("cannot create the checkpoint directory"), uncreatable.toString());
        StasisCli.Result shown = cli.run("ckptdir", "--name", NAME);
        assertEquals(temp.resolve("ckpt").toString() + "\n", shown.out(), shown.toString());
    }

    @Test
    @Order(6)
    void verifyJsonGivesAVerdictWhenItFails() throws Exception {
        Path broken = Files.createDirectories(temp.resolve("broken/c1/x"));
        StasisCli.Result verdict = cli.run("verify", "--name", NAME, "--json", broken.toString());
        assertEquals(1, verdict.status(), verdict.toString());
        assertTrue(verdict.out().contains("\"ok\" : false"), verdict.toString());
        assertTrue(verdict.out().contains("\"error\""), verdict.toString());
    }

    @Test
    @Order(7)
    void hintsNameTheCoordinator() {
        StasisCli.Result none = cli.run("checkpoint", "--name", NAME);
        assertEquals(1, none.status(), none.toString());
        assertTrue(none.err().contains("stasis launch --name " + NAME + " -- PROGRAM"), none.toString());
    }

    @Test
    @Order(8)
    void retentionDeletionsAreReported() throws Exception {
        assertEquals(0, cli.run("ckptdir", "--name", NAME, temp.resolve("ckpt").toString()).status());
        launched = cli.start(launchOutput, "launch", "--name", NAME, "--keep", "2", "--", "sleep", "300");
        StasisCli.Result status = await(() -> cli.run("status", "--name", NAME, "--json"),
                r -> r.out().contains("\"hostPid\""), Duration.ofSeconds(30));
        assertTrue(status.out().contains("\"hostPid\""), status.toString());
        StasisCli.Result last = null;
        for (int i = 0; i < 3; i++) {
            // full ones: an incremental checkpoint keeps the one it is built on (IncrementalIT)
            last = cli.run("checkpoint", "--name", NAME, "--full");
            assertEquals(0, last.status(), last.toString());
            ids.add(idOf(last));
        }
        assertTrue(last.out().contains("deleted " + NAME + "-c1-1 (keep 2)"), last.toString());
        StasisCli.Result events = cli.run("events", "--name", NAME, "-n", "200");
        assertTrue(events.out().contains("core:keep") && events.out().contains("deleted " + NAME + "-c1-1"),
                events.toString());
    }

    @Test
    @Order(9)
    void checkpointIdsDoNotRepeatAfterCkptdir() {
        assertTrue(launched != null && launched.isAlive(), "no computation from the test before");
        Path elsewhere = temp.resolve("elsewhere");
        assertEquals(0, cli.run("ckptdir", "--name", NAME, elsewhere.toString()).status());
        StasisCli.Result moved = cli.run("checkpoint", "--name", NAME);
        assertEquals(0, moved.status(), moved.toString());
        assertTrue(ids.add(idOf(moved)), "checkpoint id repeated after ckptdir: " + moved + " after " + ids);
    }

    @Test
    @Order(10)
    void launchSaysKilledByStasisKill() throws Exception {
        assertTrue(launched != null && launched.isAlive(), "no computation from the test before");
        try {
            StasisCli.Result killed = cli.run("kill", "--name", NAME);
            assertEquals(0, killed.status(), killed.toString());
            assertTrue(launched.waitFor(30, TimeUnit.SECONDS), "launch did not end after stasis kill");
            String said = Files.readString(launchOutput);
            assertTrue(said.contains("computation c1 was killed by stasis kill"), said);
        } finally {
            launched.destroyForcibly();
        }
        assertFalse(launched.isAlive());
    }

    @Test
    @Order(11)
    void aPlainLaunchOnARunningCoordinatorGetsItsOwnComputation() {
        StasisCli.Result first = cli.run("launch", "--name", NAME, "--", "sh", "-c", "echo $STASIS_COMPUTATION");
        StasisCli.Result second = cli.run("launch", "--name", NAME, "--", "sh", "-c", "echo $STASIS_COMPUTATION");
        assertEquals(0, first.status(), first.toString());
        assertEquals(0, second.status(), second.toString());
        assertTrue(first.out().matches("c\\d+\n"), first.toString());
        assertFalse(first.out().equals(second.out()), first + "\n" + second);
    }

    @Test
    @Order(12)
    void aRestartedComputationSaysKilledByStasisKillToo() throws Exception {
        Path output = temp.resolve("restart.out");
        Process restarted = cli.start(output, "restart", "--name", NAME, temp.resolve("elsewhere/latest").toString());
        try {
            StasisCli.Result status = await(() -> cli.run("status", "--name", NAME, "--json"),
                    r -> r.out().contains("\"restored\" : true"), Duration.ofSeconds(30));
            assertTrue(status.out().contains("\"restored\" : true"), status + "\n" + Files.readString(output));
            StasisCli.Result killed = cli.run("kill", "--name", NAME);
            assertEquals(0, killed.status(), killed.toString());
            assertTrue(restarted.waitFor(30, TimeUnit.SECONDS), "restart did not end after stasis kill");
            String said = Files.readString(output);
            assertTrue(said.contains("was killed by stasis kill"), said);
        } finally {
            restarted.destroyForcibly();
        }
    }

    private static String idOf(StasisCli.Result checkpoint) {
        Matcher m = CHECKPOINT_ID.matcher(checkpoint.out());
        assertTrue(m.find(), checkpoint.toString());
        return m.group(1);
    }
}
