package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An MPI program under Stasis (issue #16, stage 1: one host): Open MPI's {@code mpirun}
 * (Debian {@code openmpi-bin}) runs 4 ranks of samples/mpi/ring.py (mpi4py, Debian
 * {@code python3-mpi4py}) passing a token with a checksum round a ring, over the TCP
 * transport ({@code --mca btl tcp,self}) or Open MPI's default, shared memory between
 * ranks on one host (vader segments in /dev/shm). The whole job — mpirun, its PMIx server and the ranks — is checkpointed
 * mid-run, killed and restarted, twice; the ring goes on, every rank reports that it
 * was restarted (its output travels through mpirun's forwarding), and the final
 * checksum equals the one of an uninterrupted run of the same ring without Stasis.
 */
@Timeout(300)
class MpiIT {
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path RING = REPO.resolve("samples/mpi/ring.py");
    private static final String PYTHON = "/usr/bin/python3";
    private static final int RANKS = 4;
    private static final int ROUNDS = 1500;
    private static final Pattern ROUND = Pattern.compile("round (\\d+)");
    private static final Pattern CHECKSUM = Pattern.compile("OK ring \\d+ rounds checksum ([0-9a-f]+)");
    private static final Duration MINUTE = Duration.ofSeconds(60);

    @TempDir
    Path temp;

    @BeforeAll
    static void needsOpenMpiAndMpi4py() throws Exception {
        assumeTrue(run(List.of("mpirun", "--version")) == 0, "no mpirun here (Debian openmpi-bin)");
        assumeTrue(run(List.of(PYTHON, "-c", "import mpi4py")) == 0,
                "no mpi4py for " + PYTHON + " here (Debian python3-mpi4py)");
    }

    private static int run(List<String> command) throws Exception {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(60, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * mpirun with 4 ranks of the ring on this host, more ranks than cores; the session
     * directory in the test's own directory, as mpirun is pid 2 in every computation
     * (README "MPI").
     *
     * @param transport {@code tcp}: TCP between the ranks; {@code default}: Open MPI's choice
     */
    private List<String> mpirun(String transport, double interval) {
        List<String> command = new ArrayList<>(List.of("mpirun", "--oversubscribe", "--mca", "orte_tmpdir_base",
                temp.toString()));
        if (transport.equals("tcp")) {
            command.addAll(List.of("--mca", "btl", "tcp,self", "--mca", "pml", "ob1"));
        }
        command.addAll(List.of("-n", String.valueOf(RANKS), PYTHON, RING.toString(), String.valueOf(ROUNDS),
                "--interval", String.valueOf(interval), "--progress", "50"));
        if ("root".equals(System.getProperty("user.name"))) {
            command.add(1, "--allow-run-as-root");
        }
        return command;
    }

    /** @return the checksum an uninterrupted run of the ring prints, without Stasis */
    private String uninterruptedChecksum(String transport) throws Exception {
        Process process = new ProcessBuilder(mpirun(transport, 0)).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the uninterrupted ring did not end:\n" + output);
        assertEquals(0, process.exitValue(), "the uninterrupted ring failed:\n" + output);
        Matcher m = CHECKSUM.matcher(output);
        assertTrue(m.find(), "no checksum from the uninterrupted ring:\n" + output);
        return m.group(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "default"})
    void ringOfFourRanksGoesOnThroughTwoRestartsWithTheUninterruptedChecksum(String transport) throws Exception {
        String want = uninterruptedChecksum(transport);
        try (Computation computation = new Computation(temp, "mpi")) {
            Path output = temp.resolve("ring.txt");
            Process foreground = computation.launch(output, mpirun(transport, 0.002).toArray(String[]::new));
            for (int rank = 0; rank < RANKS; rank++) {
                String ready = "ready " + rank + " ";
                Computation.awaitLine(output, l -> l.startsWith(ready), MINUTE);
            }
            int round = Computation.awaitProgress(output, 0, ROUND, 100);
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                computation.kill(foreground);
                int killedAt = Computation.lineCount(output);
                foreground = computation.restart(checkpoint, output);
                for (int rank = 0; rank < RANKS; rank++) {
                    String restarted = "restarted rank " + rank + " " + generation;
                    Computation.awaitLine(output, killedAt, restarted::equals, MINUTE);
                }
                int after = Computation.awaitProgress(output, killedAt, ROUND, round + 100);
                assertTrue(after < ROUNDS, "the ring ended before it could be checkpointed again: raise ROUNDS");
                round = after;
            }
            Computation.assertFinished(foreground, output, "OK ring");
            Matcher m = CHECKSUM.matcher(Files.readString(output));
            assertTrue(m.find(), Files.readString(output));
            assertEquals(want, m.group(1), "checksum after two restarts vs an uninterrupted run");
            for (int rank = 0; rank < RANKS; rank++) {
                String ok = "OK rank " + rank;
                Computation.awaitLine(output, ok::equals, Duration.ofSeconds(5));
            }
        }
    }
}
