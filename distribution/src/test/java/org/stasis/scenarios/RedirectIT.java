package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Path redirection through the real command line (issue #11, section 1): a Python
 * program works in a directory, is checkpointed and killed, the directory moves, and
 * {@code stasis restart --redirect OLD=NEW} brings it back working at the old path
 * (open, os.stat, listdir, sqlite3, pathlib, a thread, fork, exec: py_redirect.py);
 * a checkpoint of the restarted program restarts without {@code --redirect} and still
 * works there. Bad {@code --redirect}s fail with one line and start nothing.
 */
@Timeout(300)
class RedirectIT {
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path temp;

    private static void refused(StasisCli.Result result, String expected) {
        assertEquals(1, result.status(), result.toString());
        String err = result.err().strip();
        assertEquals(1, err.lines().count(), "not one line: " + result);
        assertTrue(err.contains(expected), "'" + expected + "' not in: " + err);
    }

    @Test
    void aMovedDirectoryIsServedAtItsOldPathAcrossTwoRestarts() throws Exception {
        Path old = Files.createDirectories(temp.resolve("work/data"));
        Files.writeString(old.resolve("f.txt"), "hello\n");
        Path sibling = Files.createDirectories(temp.resolve("work/datac"));
        Files.writeString(sibling.resolve("s.txt"), "sibling\n");
        Path moved = temp.resolve("elsewhere/data");
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "redirect")) {
            Process running = computation.launch(output, PYTHON,
                    Computation.SCENARIOS.resolve("py_redirect.py").toString(), old.toString(), sibling.toString(), "2");
            Computation.awaitLine(output, l -> l.equals("ready"), Duration.ofSeconds(60));
            Path first = computation.checkpoint();
            computation.kill(running);
            Files.createDirectories(moved.getParent());
            Files.move(old, moved);

            badRedirects(computation, first, old, moved);

            Path restartOutput = temp.resolve("restart1.txt");
            Process restarted = computation.startCli(restartOutput, "restart", "--redirect", old + "=" + moved,
                    first.toString());
            // The program's stdout is output.txt, a file: the restart reopens it.
            Computation.awaitLine(output, l -> l.equals("checked 1"), Duration.ofSeconds(60));
            Path second = computation.checkpoint();
            computation.kill(restarted);

            Path againOutput = temp.resolve("restart2.txt");
            Process again = computation.restart(second, againOutput);
            Computation.assertFinished(again, output, "OK redirect");
        }
        assertFalse(Files.exists(old), "the restored program wrote at the old path");
        assertEquals(List.of("started", "restart 1", "restart 2"), Files.readAllLines(moved.resolve("log.txt")));
        assertTrue(Files.exists(moved.resolve("new2.txt.moved")), "the second restart did not write in the new place");
    }

    private void badRedirects(Computation computation, Path checkpoint, Path old, Path moved) throws Exception {
        String ck = checkpoint.toString();
        // Without --redirect the file plugin names the one that would fix it.
        refused(computation.run("restart", ck), "--redirect " + old + "=");
        refused(computation.run("restart", "--redirect", "data=" + moved, ck), "absolute");
        refused(computation.run("restart", "--redirect", old + "=" + temp.resolve("missing"), ck), "does not exist");
        Path sibling = temp.resolve("work/datac");
        refused(computation.run("restart", "--redirect", old + "=" + moved, "--redirect", moved + "=" + sibling, ck),
                "loop");
        Path file = Files.writeString(temp.resolve("a-file"), "x");
        refused(computation.run("restart", "--redirect", old + "=" + file, ck), "not a directory");
        assertEquals(0, computation.processCount(), "a refused restart left processes: " + computation.status());
    }
}
