package org.stasis.scenarios;

import java.nio.file.Path;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pseudo-terminals created inside the computation, through the real command line:
 * three generations of checkpoint (the program resumes and goes on), checkpoint
 * again, kill, restart. The program (native/scenarios/py_pty.py) checks at every
 * round that settings, window sizes, packet mode, lock, controlling terminal and
 * foreground group are as it left them and that every byte written to a terminal
 * arrives once and in order (some are always buffered in the terminals); it exits 0
 * with an OK line only then.
 */
@Timeout(300)
class PseudoTerminalsIT {
    private static final Pattern PROGRESS = Pattern.compile("progress (\\d+)");

    @TempDir
    Path temp;

    private void generations(String mode, int rounds) throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "pty-" + mode)) {
            Process running = computation.launch(output, "python3",
                    Computation.SCENARIOS.resolve("py_pty.py").toString(), mode, Integer.toString(rounds));
            int at = Computation.awaitProgress(output, 0, PROGRESS, 5);
            for (int generation = 1; generation <= 3; generation++) {
                computation.checkpoint();                  // resumed: the drained bytes go back
                int before = Computation.lineCount(output);
                at = Computation.awaitProgress(output, before, PROGRESS, at + 5);
                Path checkpoint = computation.checkpoint();
                computation.kill(running);
                before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                at = Computation.awaitProgress(output, before, PROGRESS, at + 5);
            }
            Computation.assertFinished(running, output, "OK " + mode);
        }
    }

    /** A script-like parent on the master, its child a session leader on the slave answering commands. */
    @Test
    void sessionLeaderOnItsPseudoTerminal() throws Exception {
        generations("script", 400);
    }

    /** One process with two pseudo-terminals: raw with a locked slave, canonical with a master in packet mode. */
    @Test
    void twoPseudoTerminalsInOneProcess() throws Exception {
        generations("two", 500);
    }

    /** Masters whose slave is closed read EIO, after the bytes the slave wrote before it closed. */
    @Test
    void masterWhoseSlaveIsClosed() throws Exception {
        generations("closed", 400);
    }
}
