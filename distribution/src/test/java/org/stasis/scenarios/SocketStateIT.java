package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Socket state a program must find as it left it (issue #9, cause 8), through the real
 * command line. Each program (native/scenarios/sock_*.py) builds its sockets, then
 * ticks while it is checkpointed (and goes on: the resume path), killed and restarted
 * right away, three generations deep; then the test creates its GO file and the
 * program checks every socket itself and exits 0 with an OK line only if all is right.
 */
@Timeout(400)
class SocketStateIT {
    @TempDir
    Path temp;

    /** What the test does to the world between a kill and the restart. */
    @FunctionalInterface
    private interface Between {
        void after(int generation) throws Exception;
    }

    private static String[] python(String script, String... args) {
        List<String> command = new ArrayList<>(List.of("python3", Computation.SCENARIOS.resolve(script).toString()));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    private static boolean tick(String line) {
        return line.startsWith("tick ");
    }

    /** Checkpoint (the program goes on), kill, restart at once; three times; then GO and the program's own check. */
    private String generations(Computation computation, Path output, Process running, Path go, String ok,
            Between between) throws Exception {
        for (int generation = 1; generation <= 3; generation++) {
            Path checkpoint = computation.checkpoint();
            Computation.awaitLine(output, Computation.lineCount(output), SocketStateIT::tick, Duration.ofSeconds(30));
            computation.kill(running);
            between.after(generation);
            int before = Computation.lineCount(output);
            running = computation.restart(checkpoint, output);
            computation.awaitRestored();
            String restarted = "restarted " + generation;
            Computation.awaitLine(output, before, restarted::equals, Duration.ofSeconds(60));
            Computation.awaitLine(output, Computation.lineCount(output), SocketStateIT::tick, Duration.ofSeconds(30));
        }
        Files.createFile(go);
        Computation.assertFinished(running, output, ok);
        return Files.readString(output);
    }

    private String generations(String name, String ok, Between between, String... command) throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, name)) {
            Process running = computation.launch(output, command);
            Computation.awaitLine(output, "ready"::equals, Duration.ofSeconds(60));
            return generations(computation, output, running, temp.resolve("go"), ok, between);
        }
    }

    /**
     * A TCP server that did not set SO_REUSEADDR, with clients opening and closing
     * connections all the time: after a kill its port has connections in TIME_WAIT,
     * and the restart right after must listen there again (with its SO_REUSEADDR still off).
     */
    @Test
    void aListenerComesBackRightAfterAKillWithConnectionsInTimeWait() throws Exception {
        generations("timewait", "OK timewait", g -> { }, python("sock_timewait.py", temp.resolve("go").toString()));
    }

    /**
     * Unix sockets bound in a directory that is gone at restart (removed between the
     * kill and the restart: the whole tree once, the last level once) or whose socket
     * files were left behind: the directories come back with their modes, the socket
     * file with its mode, the names and connections as they were.
     */
    @Test
    void unixSocketsComeBackWhenTheirDirectoryIsGoneOrTheirFileIsLeft() throws Exception {
        Path top = temp.resolve("sockets");
        generations("unixpath", "OK unixpath", generation -> {
            if (generation == 2) {
                deleteTree(top.resolve("a"));
            } else if (generation == 3) {
                deleteTree(top.resolve("a/b"));
            }
        }, python("sock_unixpath.py", temp.resolve("go").toString(), top.toString()));
    }

    /** Unix and TCP connections shut with SHUT_WR, SHUT_RD and SHUT_RDWR, with bytes queued before the shutdown. */
    @Test
    void shutdownsComeBackAfterTheDataQueuedBeforeThem() throws Exception {
        generations("shutdown", "OK shutdown", g -> { }, python("sock_shutdown.py", temp.resolve("go").toString()));
    }

    /** UDP and Unix datagram sockets connected to bound peers, datagrams waiting both ways. */
    @Test
    void datagramSocketsComeBackConnectedToTheirPeers() throws Exception {
        generations("dgram", "OK dgram", g -> { }, python("sock_dgram.py", temp.resolve("go").toString(),
                temp.resolve("dgram").toString()));
    }

    /**
     * Unix and TCP listeners with clients of the computation waiting to be accepted,
     * each having sent bytes already (one client watched by epoll): they are accepted in
     * their old order with their bytes, after a resume and after each restart.
     */
    @Test
    void clientsWaitingInAListenersQueueComeBackWithTheBytesTheySent() throws Exception {
        generations("backlog", "OK backlog", g -> { }, python("sock_backlog.py", temp.resolve("go").toString(),
                temp.resolve("backlog").toString()));
    }

    /**
     * Descriptors in flight (SCM_RIGHTS) cannot come back at a restart: the checkpoint is
     * refused with one line that says so, the program goes on unharmed and receives them;
     * once received, checkpoints and restarts work again.
     */
    @Test
    void descriptorsInFlightRefuseTheCheckpointUntilReceived() throws Exception {
        Path output = temp.resolve("output.txt");
        Path go = temp.resolve("go");
        try (Computation computation = new Computation(temp, "scm")) {
            Process running = computation.launch(output, python("sock_scm.py", go.toString()));
            Computation.awaitLine(output, "ready"::equals, Duration.ofSeconds(60));
            StasisCli.Result refused = computation.run("checkpoint");
            assertNotEquals(0, refused.status(), refused.toString());
            assertTrue(refused.toString().contains("SCM_RIGHTS"), refused.toString());
            assertTrue(Files.notExists(computation.checkpoints().resolve("latest")), "a checkpoint was published");
            Computation.awaitLine(output, Computation.lineCount(output), SocketStateIT::tick, Duration.ofSeconds(30));
            Files.createFile(Path.of(go + ".received"));
            int at = Computation.lineCount(output);
            Computation.awaitLine(output, "received"::equals, Duration.ofSeconds(30));
            Computation.awaitLine(output, at, "ready"::equals, Duration.ofSeconds(30));
            generations(computation, output, running, go, "OK scm", g -> { });
        }
    }

    private static void deleteTree(Path top) throws Exception {
        if (!Files.exists(top)) {
            return;
        }
        try (Stream<Path> all = Files.walk(top)) {
            for (Path p : all.sorted((x, y) -> y.getNameCount() - x.getNameCount()).toList()) {
                Files.delete(p);
            }
        }
    }
}
