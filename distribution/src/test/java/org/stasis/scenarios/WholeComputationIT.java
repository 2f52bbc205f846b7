package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole computations — several processes talking through pipes, Unix and TCP sockets
 * and event loops — checkpointed mid-stream, killed and restarted three generations
 * deep, and checkpointed 50 times in a row while running (the resume path). Every
 * program checks itself: each numbered record must arrive exactly once and in order,
 * and it exits 0 with an OK line only then. The programs are in native/scenarios:
 * <ul>
 * <li>py_pool.py: a multiprocessing.Pool of 4 forked workers mapping rounds of tasks;
 * <li>py_tcp_stream.py: a TCP server thread and a client process streaming numbered
 * messages as fast as they can, acknowledged one by one (IPv4 and IPv6 loopback);
 * <li>py_asyncio_echo.py: an asyncio echo server and an asyncio client in two processes;
 * <li>socktree: a C tree three levels deep (root, A, B) joined by pipes and a Unix
 * socketpair, A's process group signalled by B after each restart, and a zombie.
 * </ul>
 */
@Timeout(300)
class WholeComputationIT {
    private static final Pattern PROGRESS = Pattern.compile("progress (\\d+)");
    private static final Pattern ROUND = Pattern.compile("round (\\d+)");
    private static final Pattern TICK = Pattern.compile("tick (\\d+)");

    @TempDir
    Path temp;

    private static String[] python(String script, String... args) {
        List<String> command = new ArrayList<>(List.of("python3", Computation.SCENARIOS.resolve(script).toString()));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /**
     * Launches, waits for some progress, then three times: checkpoint, kill, restart,
     * and see the restarted computation make {@code step} more progress; then it must
     * finish on its own with {@code ok}.
     *
     * @return the program's whole output
     */
    private String threeGenerations(String ok, Pattern progress, int step, List<Path> checkpoints,
            String... command) throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "whole")) {
            Process running = computation.launch(output, command);
            int at = Computation.awaitProgress(output, 0, progress, step);
            for (int generation = 1; generation <= 3; generation++) {
                checkpoints.add(computation.checkpoint());
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoints.get(checkpoints.size() - 1), output);
                computation.awaitRestored();
                at = Computation.awaitProgress(output, before, progress, at + 1);
                at = Computation.awaitProgress(output, before, progress, at + step);
            }
            Computation.assertFinished(running, output, ok);
            return Files.readString(output);
        }
    }

    /** The running computation checkpointed 50 times in a row still finishes, every record checked. */
    private void fiftyInARow(String ok, Pattern progress, String... command) throws Exception {
        fiftyInARow(ok, progress, null, command);
    }

    /** @param stop created once the fifty checkpoints are done (null: the program ends by itself) */
    private void fiftyInARow(String ok, Pattern progress, Path stop, String... command) throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "fifty")) {
            assertEquals(0, computation.exec("stasis:keep 2").status());
            Process running = computation.launch(output, command);
            Computation.awaitProgress(output, 0, progress, 5);
            for (int round = 1; round <= 50; round++) {
                computation.checkpoint();
            }
            // still going after fifty suspensions (so the last ones caught it mid-stream)
            Computation.awaitProgress(output, Computation.lineCount(output), progress, 0);
            if (stop != null) {
                Files.createFile(stop);
            }
            Computation.assertFinished(running, output, ok);
        }
    }

    /** @return the bytes of the files in {@code directory} (relative) of the checkpoints, named with {@code prefix} */
    private static long bytesIn(List<Path> checkpoints, String directory, String prefix) throws IOException {
        long bytes = 0;
        for (Path checkpoint : checkpoints) {
            Path where = checkpoint.resolve(directory);
            if (!Files.isDirectory(where)) {
                continue;
            }
            try (var files = Files.list(where)) {
                bytes += files.filter(f -> f.getFileName().toString().startsWith(prefix))
                        .mapToLong(f -> f.toFile().length()).sum();
            }
        }
        return bytes;
    }

    /**
     * Data waited in some socket at some checkpoint: the restarts had bytes in flight to
     * bring back (the socket plugin keeps each queue it drained as plugins/socket/queue-*).
     */
    private static void assertSocketDataInFlight(List<Path> checkpoints) throws IOException {
        assertTrue(bytesIn(checkpoints, "plugins/socket", "queue-") > 0,
                "no checkpoint found data in flight in a socket: " + checkpoints);
    }

    private static void assertRestarted(String output, String... who) {
        for (String one : who) {
            assertTrue(output.contains("restarted " + one + " 3\n"), one + " did not notice the third restart:\n"
                    + output);
        }
    }

    // ---- multiprocessing.Pool ----

    @Test
    void aPoolMappingWorkSurvivesThreeGenerations() throws Exception {
        String output = threeGenerations("OK pool 150 30000", ROUND, 5, new ArrayList<>(),
                python("py_pool.py", "150", "200", "0.02"));
        assertRestarted(output, "pool");
    }

    @Test
    void aPoolMappingWorkCheckpointedFiftyTimesInARowLosesNothing() throws Exception {
        // runs until the test is done with it: fifty checkpoints of a loaded machine outlast any fixed length
        Path stop = temp.resolve("stop-pool");
        fiftyInARow("OK pool ", ROUND, stop, python("py_pool.py", "100000", "200", "0.02", stop.toString()));
    }

    // ---- TCP: a server thread, a client process ----

    @Test
    void aTcpStreamSurvivesThreeGenerations() throws Exception {
        List<Path> checkpoints = new ArrayList<>();
        String output = threeGenerations("OK tcp 600000", PROGRESS, 20, checkpoints,
                python("py_tcp_stream.py", "600000", "ipv4"));
        assertRestarted(output, "server", "client");
        assertTrue(output.contains("client OK 600000\n"), output);
        assertSocketDataInFlight(checkpoints);
    }

    /** TCP lines both ways beside a SOCK_SEQPACKET socketpair carrying numbered messages. */
    @Test
    void tcpLinesAndSeqpacketMessagesSurviveThreeGenerations() throws Exception {
        String output = threeGenerations("OK tcp+seqpacket 600000", PROGRESS, 20000, new ArrayList<>(),
                python("tcp_lines.py", "600000"));
        assertTrue(output.contains("client OK"), output);
    }

    /**
     * A Unix stream listener bound by a relative path, Unix datagrams to a named
     * receiver and UDP over IPv6 (::1), between a parent and its child.
     */
    @Test
    void unixListenerDatagramsAndUdpSurviveThreeGenerations() throws Exception {
        String output = threeGenerations("OK unix+udp 60000", PROGRESS, 5000, new ArrayList<>(),
                python("unix_udp.py", "60000"));
        assertTrue(output.contains("child OK"), output);
    }

    @Test
    void aTcpStreamOverIpv6SurvivesThreeGenerations() throws Exception {
        Assumptions.assumeTrue(ipv6Loopback(), "no IPv6 loopback here");
        List<Path> checkpoints = new ArrayList<>();
        String output = threeGenerations("OK tcp 600000", PROGRESS, 20, checkpoints,
                python("py_tcp_stream.py", "600000", "ipv6"));
        assertRestarted(output, "server", "client");
        assertSocketDataInFlight(checkpoints);
    }

    @Test
    void aTcpStreamCheckpointedFiftyTimesInARowLosesNothing() throws Exception {
        // streams until the test is done with it (a fixed length ran out before the fiftieth checkpoint on a quiet
        // machine): the program still checks that every message sent arrived once and in order
        Path stop = temp.resolve("stop-tcp");
        fiftyInARow("OK tcp ", PROGRESS, stop, python("py_tcp_stream.py", "100000000", "ipv4", "1", stop.toString()));
    }

    private static boolean ipv6Loopback() {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
            return probe.isBound();
        } catch (IOException e) {
            return false;
        }
    }

    // ---- asyncio: echo server and client, two processes ----

    @Test
    void anAsyncioEchoSurvivesThreeGenerations() throws Exception {
        List<Path> checkpoints = new ArrayList<>();
        String output = threeGenerations("OK asyncio 300000", PROGRESS, 10, checkpoints,
                python("py_asyncio_echo.py", "300000"));
        assertRestarted(output, "server", "client");
        assertTrue(output.contains("client OK 300000\n"), output);
        assertSocketDataInFlight(checkpoints);
    }

    @Test
    void anAsyncioEchoCheckpointedFiftyTimesInARowLosesNothing() throws Exception {
        fiftyInARow("OK asyncio 400000", PROGRESS, python("py_asyncio_echo.py", "400000"));
    }

    // ---- C: a tree three levels deep, pipes, a socketpair, a process group, a zombie ----

    @Test
    void aTreeWithPipesSocketpairGroupAndZombieSurvivesThreeGenerations() throws Exception {
        List<Path> checkpoints = new ArrayList<>();
        String output = threeGenerations("OK socktree 25000", TICK, 10, checkpoints,
                Computation.SCENARIOS.resolve("socktree").toString(), "250");
        assertRestarted(output, "root", "A", "B");
        assertTrue(bytesIn(checkpoints, ".", "pipe-") > 0, "no checkpoint found records in flight in the pipe");
        assertSocketDataInFlight(checkpoints);
        // B signalled its group once after each restart and once at the end; A and B got each
        assertTrue(output.contains("B got 25000 records, sent 4 signals\n"), output);
        assertTrue(output.contains("A got 4 signals\n"), output);
        assertTrue(output.contains("A reaped Z and B\n"), output);
    }

    @Test
    void aTreeWithPipesAndSocketpairCheckpointedFiftyTimesInARowLosesNothing() throws Exception {
        fiftyInARow("OK socktree 50000", TICK, Computation.SCENARIOS.resolve("socktree").toString(), "500");
    }
}
