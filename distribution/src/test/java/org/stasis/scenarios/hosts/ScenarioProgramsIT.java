package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scenario programs of issue #16 (samples/several-hosts) by themselves: across
 * simulated hosts without Stasis (their own checks pass, their connections really go
 * from host to host), and on one host under Stasis, checkpointed while they run (the
 * resume path), killed and restarted (so they survive being paused: no wall-clock
 * timeouts). What a computation spanning hosts adds is tested by {@link SeveralHostsIT}.
 */
@Timeout(300)
class ScenarioProgramsIT {
    private static final Duration MINUTE = Duration.ofSeconds(60);
    private static final Pattern PROGRESS = Pattern.compile("progress (\\d+)");
    private static final Pattern ROUND = Pattern.compile("round (\\d+)");

    @TempDir
    Path temp;

    @BeforeAll
    static void needsNamespaces() {
        SimulatedHosts.assumeAvailable();
    }

    private static void assertFinished(Process process, Path output, String ok) throws Exception {
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "did not finish:\n" + Lines.show(output));
        assertEquals(0, process.exitValue(), "exit status\n" + Lines.show(output));
        assertTrue(Lines.read(output).stream().anyMatch(l -> l.startsWith(ok)), "no " + ok + "\n" + Lines.show(output));
    }

    private static String ring(Host first, Host second) {
        return String.join(",", first.address(4301), first.address(4302), second.address(4303), second.address(4304));
    }

    @Test
    void theServiceAndItsWorkersAndTheRingRunAcrossHostsWithoutStasis() throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts("programs", 3)) {
            Host one = hosts.host(1);
            Path serviceOut = temp.resolve("service.txt");
            Process service = one.start(serviceOut, Lines.program("service.py", one.address(4200), "2", "500"));
            Lines.await(serviceOut, 0, "ready"::equals, MINUTE, () -> "", service);
            Path[] workerOut = new Path[3];
            Process[] workers = new Process[3];
            for (int n = 1; n <= 2; n++) {
                workerOut[n] = temp.resolve("worker" + n + ".txt");
                workers[n] = hosts.host(n + 1).start(workerOut[n], Lines.program("worker.py", one.address(4200),
                        String.valueOf(n), "500"));
            }
            for (int n = 1; n <= 2; n++) {
                assertFinished(workers[n], workerOut[n], "OK worker " + n + " 500 records");
            }
            assertFinished(service, serviceOut, "OK service 2 workers 500 records each");
            List<String> lines = Lines.read(serviceOut);
            assertTrue(lines.contains("worker 1 connected from 192.0.2.2"), Lines.show(serviceOut));
            assertTrue(lines.contains("worker 2 connected from 192.0.2.3"), Lines.show(serviceOut));

            // The ring, two nodes on each of two hosts.
            Host two = hosts.host(2);
            Path firstOut = temp.resolve("ring-h1.txt");
            Path secondOut = temp.resolve("ring-h2.txt");
            Process first = one.start(firstOut, Lines.program("ring.py", "--ring", ring(one, two), "--nodes", "0,1",
                    "--rounds", "60"));
            Process second = two.start(secondOut, Lines.program("ring.py", "--ring", ring(one, two), "--nodes", "2,3",
                    "--rounds", "60"));
            assertFinished(first, firstOut, "OK ring 60 rounds checksum ");
            assertFinished(second, secondOut, "OK node 3");
            assertTrue(Lines.read(secondOut).contains("OK node 2"), Lines.show(secondOut));
        }
    }

    /**
     * Runs {@code program} under Stasis on one simulated host: two checkpoints while it
     * runs, a kill and a restart from the second, one more checkpoint, then the GO file
     * and its own verdict.
     */
    private void survivesOnOneHost(String label, Pattern progress, int step, String ok, String... program)
            throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts(label, 1)) {
            Host host = hosts.host(1);
            Commands.Result coordinator = host.stasis("coordinator", "--daemon", "--ckpt-dir",
                    host.checkpoints().toString());
            assertEquals(0, coordinator.status(), coordinator.toString());
            Path output = temp.resolve(label + ".txt");
            Supplier<String> log = () -> {
                try {
                    return "\n" + Lines.show(host.log("default"));
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            };
            String[] launch = new String[program.length + 2];
            launch[0] = "launch";
            launch[1] = "--";
            System.arraycopy(program, 0, launch, 2, program.length);
            Process running = host.startStasis(output, launch);
            int seen = Lines.awaitProgress(output, progress, step, MINUTE, log, running);
            checkpoint(host);
            seen = Lines.awaitProgress(output, progress, seen + step, MINUTE, log, running);
            Path checkpoint = checkpoint(host);
            seen = Lines.awaitProgress(output, progress, seen + step, MINUTE, log, running);

            Commands.Result kill = host.stasis("kill");
            assertEquals(0, kill.status(), kill.toString());
            assertTrue(running.waitFor(30, TimeUnit.SECONDS), "the killed computation did not end");
            assertNotEquals(0, running.exitValue());
            int before = Lines.count(output);
            Process restarted = host.startStasis(output, "restart", checkpoint.toString());
            Lines.await(output, before, l -> l.startsWith("restarted "), MINUTE, log, restarted);
            int after = Lines.count(output);
            Lines.await(output, after, l -> progress.matcher(l).matches(), MINUTE, log, restarted);
            checkpoint(host);
            Files.createFile(temp.resolve("go"));
            assertFinished(restarted, output, ok);
        }
    }

    private static Path checkpoint(Host host) {
        Commands.Result result = host.stasis("checkpoint");
        assertEquals(0, result.status(), result.toString());
        List<String> lines = result.out().strip().lines().toList();
        Path directory = Path.of(lines.get(lines.size() - 1));
        assertTrue(Files.isRegularFile(directory.resolve("manifest.json")), result.toString());
        return directory;
    }

    @Test
    void theServiceAndItsWorkersSurviveACheckpointAndARestart() throws Exception {
        survivesOnOneHost("together", PROGRESS, 500, "OK together 2 workers 3000 records each",
                Lines.program("together.py", SimulatedHosts.SUBNET + "1:4200", "2", "3000", "--hold",
                        temp.resolve("go").toString()));
    }

    @Test
    void theRingSurvivesACheckpointAndARestart() throws Exception {
        String ring = String.join(",", "192.0.2.1:4301", "192.0.2.1:4302", "192.0.2.1:4303", "192.0.2.1:4304");
        survivesOnOneHost("ring", ROUND, 40, "OK ring 400 rounds checksum ", Lines.program("ring.py", "--ring", ring,
                "--nodes", "0,1,2,3", "--rounds", "400", "--hold", temp.resolve("go").toString()));
    }
}
