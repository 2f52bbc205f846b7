package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * MPI across simulated hosts (issue #16), launched with the program's own tools: an sshd on
 * each host ({@link SecureShells}), {@code mpirun --host h1:2,h2:2} on host 1 starting
 * {@code orted} on host 2 over ssh. Under Stasis the agent follows that ssh (doc/several-hosts.md,
 * "Following ssh"): orted and host 2's ranks run as a part of mpirun's computation.
 */
@Timeout(420)
class MpiHostsIT {
    private static final int PORT = 7400;
    private static final int ROUNDS = 600;
    private static final Duration MINUTE = Duration.ofMinutes(1);
    private static final Pattern ROUND = Pattern.compile("round (\\d+)");
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path RING = REPO.resolve("samples/mpi/ring.py");
    private static final String PYTHON = "/usr/bin/python3";
    private static final Pattern CHECKSUM = Pattern.compile("OK ring \\d+ rounds checksum ([0-9a-f]+)");

    @TempDir
    Path temp;

    @BeforeAll
    static void needsNamespacesSshAndOpenMpi() {
        SimulatedHosts.assumeAvailable();
        SecureShells.assumeAvailable();
        assumeTrue(Commands.run(List.of("mpirun", "--version"), Duration.ofSeconds(30)).status() == 0,
                "no mpirun here (Debian openmpi-bin)");
        assumeTrue(Commands.run(List.of(PYTHON, "-c", "import mpi4py"), Duration.ofSeconds(30)).status() == 0,
                "no mpi4py for " + PYTHON + " here (Debian python3-mpi4py)");
    }

    /** mpirun of 4 ranks of the ring, {@code placement} ({@code --host}), over TCP on the hosts' network. */
    private List<String> mpirun(SecureShells shells, String placement, int rounds) {
        return mpirun(shells, placement, rounds, 0);
    }

    private List<String> mpirun(SecureShells shells, String placement, int rounds, double interval) {
        List<String> command = new ArrayList<>(List.of("mpirun", "--allow-run-as-root", "--oversubscribe",
                "--mca", "plm_rsh_agent", shells.command(), "--mca", "btl", "tcp,self", "--mca", "pml", "ob1",
                "--mca", "btl_tcp_if_include", SimulatedHosts.SUBNET + "0/24",
                "--mca", "oob_tcp_if_include", SimulatedHosts.SUBNET + "0/24",
                "--mca", "orte_tmpdir_base", temp.toString(), "--host", placement, "-n", "4",
                PYTHON, RING.toString(), String.valueOf(rounds), "--interval", String.valueOf(interval),
                "--progress", "20"));
        return command;
    }

    private static String checksum(Commands.Result run) {
        Matcher m = CHECKSUM.matcher(run.out());
        assertTrue(m.find(), "no checksum: " + run);
        return m.group(1);
    }

    /**
     * The ground: mpirun on host 1 starts orted on host 2 over ssh, two ranks run on each
     * host (each says its host name) and the ring ends with the checksum of the same ring
     * on one host.
     */
    @Test
    void mpirunOverSshRunsTwoRanksOnEachHostWithTheChecksumOfOneHost() throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts("mpi", 2)) {
            SecureShells shells = SecureShells.start(hosts);
            Host one = hosts.host(1);
            Commands.Result local = one.run(Duration.ofSeconds(120),
                    mpirun(shells, "h1:4", 200).toArray(String[]::new));
            assertEquals(0, local.status(), "the ring on one host: " + local);
            Commands.Result spread = one.run(Duration.ofSeconds(120),
                    mpirun(shells, "h1:2,h2:2", 200).toArray(String[]::new));
            assertEquals(0, spread.status(), "the ring on two hosts: " + spread);
            for (String ready : List.of("ready 0 h1", "ready 1 h1", "ready 2 h2", "ready 3 h2")) {
                assertTrue(spread.out().lines().anyMatch(ready::equals), "no '" + ready + "': " + spread);
            }
            assertEquals(checksum(local), checksum(spread), "checksums on one and on two hosts");
        }
    }

    /**
     * The scenario: the ring of 4 ranks, 2 per host, started by mpirun over ssh under
     * {@code stasis launch} on host 1; checkpointed mid-run, killed everywhere by the main's
     * {@code stasis kill}, restarted with all 4 ranks (and orted) on host 1; checkpointed there,
     * killed, restarted back on two hosts. Every rank notices each restart, the part that ran on
     * host 2 runs on host 1 and then on host 2 again, and the ring ends with the checksum of an
     * uninterrupted run.
     */
    @Test
    void aRingStartedByMpirunOverSshRestartsOnOneHostAndBackOnTwo() throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts("mpis", 2)) {
            SecureShells shells = SecureShells.start(hosts);
            Host one = hosts.host(1);
            Host two = hosts.host(2);
            Commands.Result plain = one.run(Duration.ofSeconds(120),
                    mpirun(shells, "h1:4", ROUNDS).toArray(String[]::new));
            assertEquals(0, plain.status(), "the uninterrupted ring: " + plain);
            Commands.Result main = one.stasis("coordinator", "--daemon", "--listen", one.address(PORT), "--ckpt-dir",
                    one.checkpoints().toString());
            assertEquals(0, main.status(), "the main coordinator: " + main);
            Path output = temp.resolve("ring.txt");
            List<Path> outputs = List.of(output);
            java.util.function.Supplier<String> context = () -> hosts.diagnostics(outputs);
            List<String> launch = new ArrayList<>(List.of("launch", "--"));
            launch.addAll(mpirun(shells, "h1:2,h2:2", ROUNDS, 0.02));
            Process foreground = one.startStasis(output, launch.toArray(String[]::new));
            for (String ready : List.of("ready 0 h1", "ready 1 h1", "ready 2 h2", "ready 3 h2")) {
                Lines.await(output, 0, ready::equals, MINUTE, context, foreground);
            }
            int round = Lines.awaitProgress(output, ROUND, 40, MINUTE, context, foreground);
            assertTrue(partsOf(one).contains(" h2 "), "orted's part on h2: " + partsOf(one));

            Process restarted = foreground;
            for (int generation = 1; generation <= 2; generation++) {
                Commands.Result checkpoint = one.stasis("checkpoint");
                assertEquals(0, checkpoint.status(), "checkpoint " + generation + ": " + checkpoint + context.get());
                String ckpt = checkpoint.out().strip().lines().reduce((a, b) -> b).orElseThrow();
                Commands.Result kill = one.stasis("kill");
                assertEquals(0, kill.status(), kill + context.get());
                assertTrue(kill.out().contains(" on h" + (generation == 1 ? 2 : 1)), "the other part killed: " + kill);
                assertTrue(restarted.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the foreground ended");
                int killedAt = Lines.count(output);
                String placement = generation == 1 ? "h1" : "h1,h2";
                if (generation == 2) {
                    Commands.Result member = two.stasis("coordinator", "--daemon", "--join", one.address(PORT),
                            "--token-file", one.token("default").toString(), "--ckpt-dir", two.checkpoints().toString());
                    assertEquals(0, member.status(), "host 2's member coordinator: " + member);
                }
                restarted = one.startStasis(output, "restart", "--hosts", placement, ckpt);
                for (int rank = 0; rank < 4; rank++) {
                    String line = "restarted rank " + rank + " " + generation;
                    Lines.await(output, killedAt, line::equals, MINUTE, context, restarted);
                }
                round = Lines.awaitProgress(output, killedAt, ROUND, round + 40, MINUTE, context, restarted);
                assertTrue(round < ROUNDS - 20, "the ring ended too soon to be checkpointed again: raise ROUNDS");
                String parts = partsOf(one);
                assertTrue(parts.contains(generation == 1 ? " h1 " : " h2 "), "orted's part on "
                        + (generation == 1 ? "h1" : "h2") + ": " + parts);
            }
            Lines.await(output, 0, l -> l.startsWith("OK ring"), Duration.ofMinutes(3), context, null);
            assertTrue(restarted.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "mpirun did not end" + context.get());
            assertEquals(0, restarted.exitValue(), "the restarted job's exit status" + context.get());
            Matcher m = CHECKSUM.matcher(Files.readString(output));
            assertTrue(m.find(), Files.readString(output));
            assertEquals(checksum(plain), m.group(1), "checksum after two restarts vs an uninterrupted run");
        }
    }

    /** @return the main's parts table ({@code stasis status}: COMPUTATION HOST PART STATE PIDS) */
    private static String partsOf(Host main) {
        String status = main.stasis("status").out();
        int at = status.indexOf("HOST  PART");
        return at < 0 ? "" : status.substring(at);
    }
}
