package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Kernel state of files and IPC objects through the real command line (issue #9):
 * each program sets its state up, is checkpointed (and resumed), killed and restarted
 * two generations deep, and checks its own state, exiting 0 only if it is all there.
 * What cannot be restored yet must be refused at checkpoint time, naming it.
 */
@Timeout(300)
class FilesAndIpcIT {
    @TempDir
    Path temp;

    /**
     * The programs step up to N times (a bound for a loaded machine); once the file
     * SC_STOP_FILE names exists they end after their current step (common.h), their
     * final checks the same. The test creates it when it is done with them.
     */
    private static Map<String, String> stopWhen(Path stop) {
        return Map.of("SC_STOP_FILE", stop.toString());
    }

    private void threeGenerations(String name, String okPrefix, Pattern progress, String... command) throws Exception {
        Path output = temp.resolve("output.txt");
        Path stop = temp.resolve("stop");
        try (Computation computation = new Computation(temp, name)) {
            Process running = computation.launchWith(output, List.of(), stopWhen(stop), command);
            Computation.awaitProgress(output, 0, progress, 3);
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                int resumed = Computation.lineCount(output);
                Computation.awaitProgress(output, resumed, progress, 0);
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                int resumedAt = Computation.awaitProgress(output, before, progress, 0);
                Computation.awaitProgress(output, before, progress, resumedAt + 3);
            }
            Files.createFile(stop);
            Computation.assertFinished(running, output, okPrefix);
        }
    }

    private String scenario(String name) {
        return Computation.SCENARIOS.resolve(name).toString();
    }

    /** fcntl record locks, OFD locks and flocks are held again by the restored process. */
    @Test
    void fileLocksAreHeldAgainAfterARestart() throws Exception {
        Path dir = Files.createDirectory(temp.resolve("locked"));
        threeGenerations("locks", "OK locks ", Pattern.compile("locked (\\d+)"), scenario("kf_locks"), "400",
                dir.toString(), "40");
    }

    /** A restart while the original still holds its locks fails and names the lock. */
    @Test
    void aRestartWhoseLockIsHeldElsewhereFailsNamingIt() throws Exception {
        Path dir = Files.createDirectory(temp.resolve("locked"));
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "twinlocks")) {
            Process original = computation.launch(output, scenario("kf_locks"), "100000", dir.toString(), "40");
            Computation.awaitProgress(output, 0, Pattern.compile("locked (\\d+)"), 3);
            Path checkpoint = computation.checkpoint();
            Path twinOutput = temp.resolve("twin.txt");
            Process twin = computation.restart(checkpoint, twinOutput);
            assertTrue(twin.waitFor(60, TimeUnit.SECONDS), "the clashing restart did not end");
            assertNotEquals(0, twin.exitValue());
            // The restart command became the restorer: the reason is in the event log.
            String said = computation.run("events").toString();
            assertTrue(said.contains("cannot take its POSIX write lock on bytes 0-9 of fd 3 again")
                    && said.contains("held by someone else"), said);
            assertTrue(original.isAlive(), "the original died of the clashing restart");
        }
    }

    /** Memory files come back as memory files: name, size, content, seals, shared offsets. */
    @Test
    void memoryFilesKeepTheirNameContentAndSeals() throws Exception {
        threeGenerations("memfd", "OK memfd ", Pattern.compile("memfd (\\d+)"), scenario("kf_memfd"), "400", "40");
    }

    /** O_PATH descriptors on a symlink itself, on its target and on a directory come back as such. */
    @Test
    void openSymlinksStaySymlinks() throws Exception {
        Path dir = Files.createDirectory(temp.resolve("paths"));
        threeGenerations("symlink", "OK symlink ", Pattern.compile("paths (\\d+)"), scenario("kf_symlink"), "400",
                dir.toString(), "40");
    }

    /** Non-blocking and packet-mode pipe ends shared by a parent and its child keep their flags. */
    @Test
    void pipeStatusFlagsSurvive() throws Exception {
        threeGenerations("pipeflags", "OK pipeflags 400", Pattern.compile("pipes (\\d+)"), scenario("kf_pipeflags"),
                "400", "40");
    }

    private void refused(String mode, String... named) throws Exception {
        Path output = temp.resolve(mode + ".txt");
        Path stop = temp.resolve("stop-" + mode);
        try (Computation computation = new Computation(temp, "refuse-" + mode)) {
            Process running = computation.launchWith(output, List.of(), stopWhen(stop), scenario("kf_refuse"), mode,
                    "120", "40");
            Computation.awaitProgress(output, 0, Pattern.compile("step (\\d+)"), 3);
            StasisCli.Result result = computation.run("checkpoint");
            assertNotEquals(0, result.status(), "a checkpoint with a " + mode + " was published: " + result);
            for (String word : named) {
                assertTrue(result.toString().contains(word), "the refusal does not name " + word + ": " + result);
            }
            assertTrue(result.toString().contains("not supported yet"), result.toString());
            // a step checked after the refusal, then the end
            Computation.awaitProgress(output, Computation.lineCount(output), Pattern.compile("step (\\d+)"), 0);
            Files.createFile(stop);
            Computation.assertFinished(running, output, "OK refuse " + mode);
        }
    }

    @Test
    void aPidfdIsRefusedNamingIt() throws Exception {
        refused("pidfd", "pidfd", "for pid");
    }

    @Test
    void aPosixMessageQueueIsRefusedNamingIt() throws Exception {
        refused("mqueue", "POSIX message queue /kf-refuse-");
    }

    @Test
    void anAttachedSysVSegmentIsRefusedNamingIt() throws Exception {
        refused("sysvshm", "System V shared memory segment", "shmid");
    }

    @Test
    void aSysVMessageQueueIsRefusedNamingIt() throws Exception {
        refused("sysvmsg", "System V message queue");
    }

    @Test
    void aMemoryFileBothOpenAndMappedSharedIsRefusedNamingIt() throws Exception {
        refused("memfdmap", "memory file /memfd:kf-mapped", "also maps shared");
    }
}
