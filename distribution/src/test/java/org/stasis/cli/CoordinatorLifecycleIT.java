package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stasis.cli.Await.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A coordinator's life seen from the command line: {@code stasis coordinators} lists
 * the running ones; one that {@code launch} started ends after its program; what a
 * SIGKILLed one left behind is removed; its configuration file applies while it runs.
 */
class CoordinatorLifecycleIT {
    private static final Path SCENARIOS = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath()
            .normalize().resolve("native/target/scenarios");
    private static final Pattern PID = Pattern.compile("\"pid\" : (\\d+)");
    private static final Pattern READY = Pattern.compile("is ready \\(pid (\\d+),");
    private static final Path BUNDLES = Path.of(System.getProperty("stasis.dist", "../dist"), "bundles");
    /** The built-in plugins' ids, one per org.stasis.plugin.*.jar of the distribution. */
    private static final Set<String> BUILT_IN = Set.of("event", "file", "ipython-config", "pid", "pty", "socket",
            "vnc");

    @TempDir
    Path temp;

    private StasisCli cli;
    private Path runtime;
    private Path plugins;
    private final List<String> started = new ArrayList<>();

    @BeforeEach
    void privateRuntimeDirectory() throws Exception {
        runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        plugins = Files.createDirectory(temp.resolve("plugins"));
        cli = new StasisCli(runtime);
    }

    @AfterEach
    void stopWhatWasStarted() throws Exception {
        for (String name : started) {
            if (cli.run("ping", "-q", "--name", name).status() == 0) {
                cli.run("shutdown", "--name", name);
                await(() -> cli.run("ping", "-q", "--name", name).status() != 0, Duration.ofSeconds(20));
            }
        }
    }

    @Test
    void listsTheRunningCoordinatorsAndNoneWhenNoneRuns() throws Exception {
        StasisCli.Result none = cli.run("coordinators");
        assertEquals(0, none.status(), none.toString());
        assertTrue(none.out().startsWith("NAME"), none.toString());
        assertEquals(1, none.out().strip().lines().count(), none.toString());
        assertEquals("[\n]", cli.run("coordinators", "--json").out().strip());
        assertEquals(0, cli.run("coordinators", "--help").status());

        start("first");
        start("second");
        StasisCli.Result both = cli.run("coordinators");
        assertEquals(0, both.status(), both.toString());
        assertTrue(both.out().contains("first") && both.out().contains("second"), both.toString());
        assertEquals(3, both.out().strip().lines().count(), "a header and one line each: " + both);
        assertTrue(both.out().contains(temp.resolve("ckpt-first").toString()), both.toString());
        StasisCli.Result json = cli.run("coordinators", "--json");
        assertTrue(json.out().contains("\"name\" : \"second\"") && json.out().contains("\"uptimeSeconds\""),
                json.toString());

        cli.run("shutdown", "--name", "second");
        await(() -> !cli.run("coordinators").out().contains("second"), Duration.ofSeconds(20));
        StasisCli.Result one = cli.run("coordinators");
        assertTrue(one.out().contains("first") && !one.out().contains("second"), one.toString());
    }

    // The launcher starts the core and the built-in plugins on two threads at once: "ready"
    // must still mean that every one of them takes part in the first checkpoint.
    @Test
    void aCheckpointRightAfterTheStartHasEveryBuiltInPlugin() throws Exception {
        try (var jars = Files.list(BUNDLES)) {
            assertEquals(BUILT_IN.size(), jars.filter(j -> j.getFileName().toString().startsWith("org.stasis.plugin."))
                    .count(), "a built-in plugin was added or removed: update BUILT_IN");
        }
        start("fresh");
        Process launch = cli.start(temp.resolve("launch.out"), "launch", "--name", "fresh", "--", "sleep", "20");
        try {
            assertTrue(await(() -> cli.run("status", "--name", "fresh", "--json").out().contains("\"pid\""),
                    Duration.ofSeconds(60)), Files.readString(temp.resolve("launch.out")));
            StasisCli.Result checkpoint = cli.run("checkpoint", "--name", "fresh");
            assertEquals(0, checkpoint.status(), checkpoint.toString());
            Path manifest = temp.resolve("ckpt-fresh").resolve("latest").resolve("manifest.json");
            Set<String> plugins = new TreeSet<>();
            new ObjectMapper().readTree(manifest.toFile()).get("plugins").fieldNames().forEachRemaining(plugins::add);
            assertEquals(new TreeSet<>(BUILT_IN), plugins, "plugins in the first checkpoint's manifest");
        } finally {
            cli.run("kill", "--name", "fresh");
            launch.waitFor();
        }
    }

    // FileInstall installs the plugins folder's bundles as soon as it starts: the plugin API they
    // import must be installed by then, not a moment later with the core.
    @Test
    void aPluginInThePluginsFolderStartsWithTheCoordinatorWithoutAnError() throws Exception {
        Path hello = Path.of(System.getProperty("stasis.dist", "../dist"), "samples", "org.stasis.samples.hello.jar");
        Files.copy(hello, plugins.resolve("hello.jar"));
        start("dropin");
        assertTrue(await(() -> cli.run("plugins", "--name", "dropin").out().contains("org.stasis.samples.hello"),
                Duration.ofSeconds(20)), cli.run("plugins", "--name", "dropin").toString());
        String log = Files.readString(runtime.resolve("dropin.log"));
        assertFalse(log.contains("Unable to resolve"), log);
    }

    @Test
    void aCoordinatorLaunchStartedExitsAfterItsProgramAndKeepsTheCheckpoints() throws Exception {
        Path ckpt = temp.resolve("ckpt");
        started.add("implicit");
        Process launch = cli.start(temp.resolve("launch.out"), "launch", "--name", "implicit", "--ckpt-dir",
                ckpt.toString(), "--", "sleep", "4");
        await(() -> cli.run("status", "--name", "implicit", "--json").out().contains("\"pid\""),
                Duration.ofSeconds(60));
        StasisCli.Result checkpoint = cli.run("checkpoint", "--name", "implicit");
        assertEquals(0, checkpoint.status(), checkpoint.toString());
        assertEquals(0, launch.waitFor(), Files.readString(temp.resolve("launch.out")));

        // a few seconds of grace: a checkpoint or restart right after the program ended finds it;
        // watched without a request (a request would start the grace period again)
        assertEquals(0, cli.run("ping", "-q", "--name", "implicit").status());
        assertTrue(await(() -> !Files.exists(runtime.resolve("implicit.sock")), Duration.ofSeconds(30)),
                "the coordinator launch started still runs 30 s after its program ended");
        assertEquals(1, cli.run("ping", "-q", "--name", "implicit").status());
        assertTrue(Files.isDirectory(ckpt.resolve("latest")), "its checkpoint is gone");
    }

    @Test
    void killThenRestartAfterTheCoordinatorExitedStartsOneThatExitsToo() throws Exception {
        Path ckpt = temp.resolve("ckpt");
        Path output = temp.resolve("counter.out");
        Path socket = runtime.resolve("again.sock");
        started.add("again");
        Process launch = cli.start(output, "launch", "--name", "again", "--ckpt-dir", ckpt.toString(), "--",
                SCENARIOS.resolve("counter").toString(), "150", "20");
        assertTrue(await(() -> read(output).contains("count 3"), Duration.ofSeconds(60)), read(output));
        StasisCli.Result checkpoint = cli.run("checkpoint", "--name", "again");
        assertEquals(0, checkpoint.status(), checkpoint.toString());
        assertEquals(0, cli.run("kill", "--name", "again").status());
        launch.waitFor();
        assertTrue(await(() -> !Files.exists(socket), Duration.ofSeconds(30)), "the coordinator stayed after the kill");

        Process restart = cli.start(output, "restart", "--name", "again", ckpt.resolve("latest").toString());
        assertEquals(0, restart.waitFor(), read(output));
        assertTrue(read(output).contains("count 150"), read(output));
        assertTrue(await(() -> !Files.exists(socket), Duration.ofSeconds(30)),
                "the coordinator restart started stayed after its program ended");
        assertTrue(Files.isDirectory(ckpt.resolve("latest")));
    }

    @Test
    void launchesStartingTheSameCoordinatorAtOnceShareOne() throws Exception {
        String name = "race" + ProcessHandle.current().pid();
        started.add(name);
        List<Process> launches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            launches.add(cli.start(temp.resolve("launch" + i + ".out"), "launch", "--name", name, "--ckpt-dir",
                    temp.resolve("ckpt").toString(), "--keep-coordinator", "--", "sleep", "1"));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(0, launches.get(i).waitFor(), read(temp.resolve("launch" + i + ".out")));
        }
        // one coordinator of that name, and it answers (before: the later ones took the
        // socket away from the first, which ran on unreachable)
        BooleanSupplier one = () -> coordinatorJvms(name).size() == 1;
        assertTrue(await(one, Duration.ofSeconds(20)), "coordinators named " + name + ": " + coordinatorJvms(name));
        assertEquals(0, cli.run("ping", "-q", "--name", name).status());
    }

    // Whether process pid runs (a zombie has ended: its parent may not be the one to reap it).
    private static boolean runs(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static List<Long> coordinatorJvms(String name) {
        return ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(List::of)
                .map(a -> a.contains("org.stasis.framework.launch.Main") && a.contains(name)).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aLaunchRightAfterShutdownStartsANewCoordinator() throws Exception {
        String name = "again";
        for (int i = 0; i < 3; i++) {
            long old = start(name);
            StasisCli.Result shutdown = cli.run("shutdown", "--name", name);
            assertEquals(0, shutdown.status(), shutdown.toString());
            // shutdown returns once the coordinator has exited and its files are gone
            assertFalse(runs(old), "shutdown returned while the coordinator still ran");
            assertFalse(Files.exists(runtime.resolve(name + ".sock")), "its control socket is still there");
            assertFalse(Files.exists(runtime.resolve(name + ".lock")), "its lock file is still there");
            // its framework cache is kept on purpose, in the cache directory, not in the runtime one
            assertFalse(Files.exists(runtime.resolve(name + ".cache")), "a framework cache in the runtime directory");
            assertTrue(Files.isDirectory(cli.cacheDirectory().resolve(name).resolve("felix")),
                    "no framework cache kept");
            assertFalse(Files.exists(cli.cacheDirectory().resolve(name + ".lock")),
                    "its cache's lock file is still there");
            // before: the launch found the old coordinator still answering, registered with it, and it vanished
            StasisCli.Result launch = cli.run("launch", "--name", name, "--keep-coordinator", "--ckpt-dir",
                    temp.resolve("ckpt").toString(), "--", "sleep", "1");
            assertEquals(0, launch.status(), "round " + i + ": " + launch);
            assertEquals(0, cli.run("ping", "-q", "--name", name).status(), "the coordinator launch used vanished");
            assertTrue(pidOf(name) != old, "the launch used the coordinator that was shut down");
            assertEquals(0, cli.run("shutdown", "--name", name).status());
        }
        assertEquals(1, cli.run("ping", "-q", "--name", name).status());
        assertTrue(cli.run("shutdown", "--name", name).status() != 0, "shutdown of no coordinator succeeded");
    }

    @Test
    void keepCoordinatorKeepsIt() throws Exception {
        started.add("kept");
        Process launch = cli.start(temp.resolve("launch.out"), "launch", "--name", "kept", "--keep-coordinator",
                "--ckpt-dir", temp.resolve("ckpt").toString(), "--", "true");
        assertEquals(0, launch.waitFor(), Files.readString(temp.resolve("launch.out")));
        long coordinator = pidOf("kept");
        Thread.sleep(8000);
        assertTrue(ProcessHandle.of(coordinator).map(ProcessHandle::isAlive).orElse(false),
                "--keep-coordinator did not keep it");
        StasisCli.Result about = cli.run("about", "--name", "kept", "--json");
        assertTrue(about.out().contains("\"exitsWhenIdle\" : false"), about.toString());
    }

    @Test
    void whatAKilledCoordinatorLeftIsRemovedByCoordinatorsAndByTheNextStart() throws Exception {
        long victim = start("victim");
        Path plan = runtime.resolve("c1-" + victim + "-1.plan");
        Files.writeString(plan, "a restart plan of the victim\n");
        kill(victim);
        assertTrue(Files.exists(runtime.resolve("victim.sock")), "SIGKILL left no socket: nothing to test");
        StasisCli.Result listed = cli.run("coordinators");
        assertEquals(0, listed.status(), listed.toString());
        assertFalse(listed.out().contains("victim"), listed.toString());
        assertFalse(Files.exists(runtime.resolve("victim.sock")), "stale control socket kept");
        assertFalse(Files.exists(runtime.resolve("victim.agent.sock")), "stale agent socket kept");
        assertFalse(Files.exists(plan), "stale restart plan kept");

        long second = start("victim2");
        kill(second);
        assertTrue(Files.exists(runtime.resolve("victim2.sock")));
        long live = start("alive");
        assertFalse(Files.exists(runtime.resolve("victim2.sock")), "the next start kept the stale socket");
        assertFalse(Files.exists(runtime.resolve("victim2.agent.sock")));
        assertTrue(Files.exists(runtime.resolve("alive.sock")));
        // lock files of killed coordinators go with the next start (a coordinator that exits removes its own)
        assertFalse(Files.exists(runtime.resolve("victim.lock")), "stale lock file kept");
        assertFalse(Files.exists(runtime.resolve("victim2.lock")), "stale lock file kept");
        assertTrue(Files.exists(runtime.resolve("alive.lock")));
        assertTrue(ProcessHandle.of(live).isPresent());
        cli.run("coordinators");
        assertEquals(0, cli.run("ping", "-q", "--name", "alive").status(), "a live coordinator lost its socket");
    }

    @Test
    void editingTheConfigurationFileOfARunningCoordinatorAppliesEveryProperty() throws Exception {
        Path cfg = plugins.resolve("org.stasis.coordinator.cfg");
        Files.writeString(cfg, "interval=0\nkeep=0\n");
        start("configured");
        Path moved = temp.resolve("elsewhere");
        Files.writeString(cfg, "interval=3600\nkeep=3\nckpt.dir=" + moved + "\nevent.log.size=50\n"
                + "plugin.timeout.seconds=30\nidle.exit.seconds=0\nsave.files=auto\n");
        assertTrue(await(() -> {
            String status = cli.run("status", "--name", "configured", "--json").out();
            return status.contains("\"intervalSeconds\" : 3600") && status.contains("\"keep\" : 3");
        }, Duration.ofSeconds(20)), cli.run("status", "--name", "configured", "--json").toString());
        assertEquals(moved.toString(), cli.run("ckptdir", "--name", "configured").out().strip());
        assertTrue(cli.run("option", "--name", "configured").out().contains("auto"),
                cli.run("option", "--name", "configured").toString());

        // a command's value holds until the file changes that property again
        cli.run("interval", "--name", "configured", "5");
        Files.writeString(cfg, "interval=3600\nkeep=4\nckpt.dir=" + moved + "\n");
        assertTrue(await(() -> cli.run("status", "--name", "configured", "--json").out().contains("\"keep\" : 4"),
                Duration.ofSeconds(20)));
        assertTrue(cli.run("status", "--name", "configured", "--json").out().contains("\"intervalSeconds\" : 5"));
    }

    private long start(String name) throws Exception {
        started.add(name);
        StasisCli.Result result = cli.run("coordinator", "--daemon", "--name", name, "--plugins", plugins.toString(),
                "--ckpt-dir", temp.resolve("ckpt-" + name).toString());
        assertEquals(0, result.status(), result.toString());
        Matcher pid = READY.matcher(result.out());
        assertTrue(pid.find(), result.toString());
        return Long.parseLong(pid.group(1));
    }

    private long pidOf(String name) {
        StasisCli.Result about = cli.run("about", "--name", name, "--json");
        Matcher pid = PID.matcher(about.out());
        assertTrue(pid.find(), about.toString());
        return Long.parseLong(pid.group(1));
    }

    // Only the coordinator this test started, by its pid.
    private static void kill(long pid) throws Exception {
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
        process.destroyForcibly();
        process.onExit().get();
        Thread.sleep(200);
    }
}
