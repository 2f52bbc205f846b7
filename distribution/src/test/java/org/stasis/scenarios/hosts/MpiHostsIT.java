package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * MPI across simulated hosts (issue #16, stage 2), launched with the program's own tools:
 * an sshd on each host ({@link SecureShells}), {@code mpirun --host h1:2,h2:2} on host 1
 * starting {@code orted} on host 2 over ssh. Built so far: the hosts and the job itself,
 * without Stasis, as the ground the Stasis scenario stands on (doc/several-hosts.md, "MPI
 * across hosts": following ssh and a stand-in for the ssh client are not built yet).
 */
@Timeout(300)
class MpiHostsIT {
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
        List<String> command = new ArrayList<>(List.of("mpirun", "--allow-run-as-root", "--oversubscribe",
                "--mca", "plm_rsh_agent", shells.command(), "--mca", "btl", "tcp,self", "--mca", "pml", "ob1",
                "--mca", "btl_tcp_if_include", SimulatedHosts.SUBNET + "0/24",
                "--mca", "oob_tcp_if_include", SimulatedHosts.SUBNET + "0/24",
                "--mca", "orte_tmpdir_base", temp.toString(), "--host", placement, "-n", "4",
                PYTHON, RING.toString(), String.valueOf(rounds), "--interval", "0"));
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
}
