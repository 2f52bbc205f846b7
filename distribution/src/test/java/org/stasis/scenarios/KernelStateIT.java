package org.stasis.scenarios;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-process kernel state through the command line: POSIX timers, pending signals
 * with their values, parent-death signal and child subreaper, madvise advice,
 * /proc/self/cmdline and environ, a deleted working directory. Each generation takes
 * a checkpoint the program resumes from, then one it is killed after and restarted
 * from; each program checks its own state and exits 0 only if it is right.
 */
@Timeout(300)
class KernelStateIT {

    private static final Pattern STEP = Pattern.compile("step (\\d+).*");

    @TempDir
    Path temp;

    private void resumedThenRestarted(String okPrefix, String... command) throws Exception {
        Path output = temp.resolve("output.txt");
        // the programs step up to 400 times (a bound for a loaded machine); once the file
        // SC_STOP_FILE names exists they end at their next step, their final checks the same
        Path stop = temp.resolve("stop");
        try (Computation computation = new Computation(temp, "kstate")) {
            Process running = computation.launchWith(output, List.of(), Map.of("SC_STOP_FILE", stop.toString()),
                    command);
            int at = Computation.awaitProgress(output, 0, STEP, 3);
            for (int generation = 1; generation <= 2; generation++) {
                computation.checkpoint();
                at = Computation.awaitProgress(output, 0, STEP, at + 3);
                Path checkpoint = computation.checkpoint();
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                int resumedAt = Computation.awaitProgress(output, before, STEP, 0);
                at = Computation.awaitProgress(output, before, STEP, resumedAt + 3);
            }
            Files.createFile(stop);
            Computation.assertFinished(running, output, okPrefix);
        }
    }

    private static String scenario(String name) {
        return Computation.SCENARIOS.resolve(name).toString();
    }

    @Test
    void posixTimersKeepTheirIdsValuesTargetsAndRates() throws Exception {
        resumedThenRestarted("OK ticks", scenario("ktimers"), "400", "100");
    }

    @Test
    void pendingSignalsAreDeliveredOnceWithTheirValues() throws Exception {
        resumedThenRestarted("OK restarts 2", scenario("ksigpend"), "400", "100");
    }

    @Test
    void parentDeathSignalAndSubreaperStaySet() throws Exception {
        resumedThenRestarted("OK prctl restarts 2", scenario("kprocmisc"), "prctl", "400", "100");
    }

    @Test
    void madviseAdviceStaysWithItsForkSemantics() throws Exception {
        resumedThenRestarted("OK madvise restarts 2", scenario("kprocmisc"), "madvise", "400", "100");
    }

    @Test
    void cmdlineAndEnvironReadTheSame() throws Exception {
        resumedThenRestarted("OK cmdline restarts 2", scenario("kprocmisc"), "cmdline", "400", "100");
    }

    @Test
    void aDeletedWorkingDirectoryIsDeletedAgain() throws Exception {
        resumedThenRestarted("OK cwd restarts 2", scenario("kprocmisc"), "cwd", "400", "100");
    }
}
