package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * File contents after the checkpoint, through the real command line: a sqlite3 database
 * written after the checkpoint is put back with {@code --save-files auto} (and without
 * it the restart terminal warns); a {@code >} log keeps every line; a deleted companion
 * file does not stop the restart; and a restart keeps the checkpoint directory.
 */
@Timeout(300)
class FileContentsIT {
    private static final String PYTHON = "/usr/bin/python3";
    private static final Pattern ROW = Pattern.compile("row (\\d+)");

    @TempDir
    Path temp;

    private static String scenario(String name) {
        return Computation.SCENARIOS.resolve(name).toString();
    }

    /** The number on the last line of {@code file} that matches. */
    private static int last(Path file, Pattern pattern) throws Exception {
        int last = 0;
        for (String line : Files.readAllLines(file)) {
            Matcher m = pattern.matcher(line);
            if (m.matches()) {
                last = Integer.parseInt(m.group(1));
            }
        }
        return last;
    }

    /** Launches the sqlite program, checkpoints it after 10 rows and kills it 10 rows later. */
    private Path checkpointThenWriteMore(Computation computation, Path output, Path db, List<String> options,
            String journal) throws Exception {
        Process running = computation.launchWith(output, options, PYTHON, scenario("fc_sqlite.py"), db.toString(),
                "300", journal);
        Computation.awaitProgress(output, 0, ROW, 10);
        Path checkpoint = computation.checkpoint();
        Computation.awaitProgress(output, 0, ROW, last(output, ROW) + 10);
        computation.kill(running);
        return checkpoint;
    }

    @Test
    void aSqliteDatabaseSavedWithTheCheckpointComesBackIntactAndContinues() throws Exception {
        Path output = temp.resolve("output.txt");
        Path db = temp.resolve("rows.db");
        try (Computation computation = new Computation(temp, "sqlite-saved")) {
            Path checkpoint = checkpointThenWriteMore(computation, output, db, List.of("--save-files", "auto"), "WAL");
            assertTrue(Files.readString(checkpoint.resolve("manifest.json")).contains("\"save-files\" : \"auto\""),
                    "the checkpoint does not record --save-files auto");
            Process restarted = computation.restart(checkpoint, output);
            computation.awaitRestored();
            // The restarted computation keeps the option the checkpoint recorded.
            assertEquals("save-files auto", computation.run("option", "save-files").out().strip());
            Computation.assertFinished(restarted, output, "OK 300 rows, integrity ok");
        }
    }

    @Test
    void withoutSaveFilesAChangedDatabaseIsAWarningOnTheRestartTerminal() throws Exception {
        Path output = temp.resolve("output.txt");
        Path terminal = temp.resolve("restart.txt");
        Path db = temp.resolve("rows.db");
        try (Computation computation = new Computation(temp, "sqlite-warned")) {
            // A rollback journal: the rows after the checkpoint are in the database file itself.
            Path checkpoint = checkpointThenWriteMore(computation, output, db, List.of(), "DELETE");
            computation.restart(checkpoint, terminal);
            Computation.awaitLine(terminal, l -> l.startsWith("stasis: warning: file " + db + " ")
                    && l.contains("changed since the checkpoint") && l.contains("--save-files"), Duration.ofSeconds(60));
        }
    }

    @Test
    void aDeletedWalIsPutBackFromTheCheckpoint() throws Exception {
        Path output = temp.resolve("output.txt");
        Path db = temp.resolve("rows.db");
        Path wal = temp.resolve("rows.db-wal");
        try (Computation computation = new Computation(temp, "sqlite-wal")) {
            Path checkpoint = checkpointThenWriteMore(computation, output, db, List.of("--save-files", "auto"), "WAL");
            assertTrue(Files.deleteIfExists(wal), "sqlite left no -wal file to delete");
            Process restarted = computation.restart(checkpoint, output);
            computation.awaitRestored();
            Computation.assertFinished(restarted, output, "OK 300 rows, integrity ok");
        }
    }

    @Test
    void aDeletedScratchCompanionIsRecreatedEmpty() throws Exception {
        Path output = temp.resolve("output.txt");
        Path terminal = temp.resolve("restart.txt");
        Path data = temp.resolve("data");
        Pattern step = Pattern.compile("step (\\d+)");
        try (Computation computation = new Computation(temp, "companion")) {
            Process running = computation.launch(output, PYTHON, scenario("fc_companion.py"), data.toString(), "300");
            Computation.awaitProgress(output, 0, step, 5);
            // Nothing saved, said explicitly through 'stasis checkpoint --save-files'.
            var result = computation.run("checkpoint", "--save-files", "none");
            assertEquals(0, result.status(), result.toString());
            Path checkpoint = Path.of(result.out().strip().lines().reduce((a, b) -> b).orElseThrow());
            assertTrue(Files.readString(checkpoint.resolve("manifest.json")).contains("\"save-files\" : \"none\""));
            computation.kill(running);
            Files.delete(temp.resolve("data-scratch"));
            Process restarted = computation.restart(checkpoint, terminal);
            Computation.awaitLine(terminal, l -> l.startsWith("stasis: warning: file " + data + "-scratch ")
                    && l.contains("recreated it empty"), Duration.ofSeconds(60));
            computation.awaitRestored();
            assertTrue(restarted.waitFor(120, TimeUnit.SECONDS), "the restarted program did not finish");
            assertEquals(0, restarted.exitValue(), Files.readString(terminal));
            Computation.awaitLine(output, l -> l.equals("OK 300 steps"), Duration.ofSeconds(5));
        }
    }

    /**
     * {@code prog > log}: the restarted program must not write over the lines written
     * after the checkpoint. Each line carries a random token, so a line rewritten by the
     * restarted run differs from the first run's.
     */
    @Test
    void aRedirectedStdoutLogKeepsEveryLine() throws Exception {
        Path output = temp.resolve("output.txt");
        Path log = temp.resolve("log.txt");
        Pattern line = Pattern.compile("line (\\d+) [0-9a-f]{8}");
        try (Computation computation = new Computation(temp, "stream")) {
            Process running = computation.launch(output, "/bin/sh", "-c",
                    "exec " + PYTHON + " " + scenario("fc_stream.py") + " 400 > " + log);
            Computation.awaitProgress(log, 0, line, 7);
            Path checkpoint = computation.checkpoint();
            Computation.awaitProgress(log, 0, line, last(log, line) + 5);
            computation.kill(running);
            String before = Files.readString(log);
            int checkpointed = checkpointedLines(checkpoint, log);
            Process restarted = computation.restart(checkpoint, output);
            assertTrue(restarted.waitFor(120, TimeUnit.SECONDS), "the restarted program did not finish");
            assertEquals(0, restarted.exitValue(), Files.readString(output));
            String after = Files.readString(log);
            assertTrue(after.startsWith(before), "lines written after the checkpoint were overwritten:\nbefore kill:\n"
                    + before + "\nafter restart:\n" + after);
            List<String> resumed = after.substring(before.length()).lines().toList();
            for (int i = 0; i < resumed.size() - 1; i++) {
                Matcher m = line.matcher(resumed.get(i));
                assertTrue(m.matches() && Integer.parseInt(m.group(1)) == checkpointed + 1 + i,
                        "restarted line " + i + " is '" + resumed.get(i) + "':\n" + after);
            }
            assertEquals("done", resumed.get(resumed.size() - 1), after);
            assertTrue(Files.readString(output).contains("grew since the checkpoint"), Files.readString(output));
        }
    }

    // The lines the log held at the checkpoint: its recorded size over the fixed line length.
    private static int checkpointedLines(Path checkpoint, Path log) throws Exception {
        Matcher m = Pattern.compile("\"open\\.\\d+\\.1\" : \"\\d+ \\d+ (\\d+) -?\\d+ " + Pattern.quote(log.toString())
                + "\"").matcher(Files.readString(checkpoint.resolve("manifest.json")));
        assertTrue(m.find(), "the file plugin did not record " + log);
        long size = Long.parseLong(m.group(1));
        int lines = 0;
        long bytes = 0;
        while (bytes < size) {
            lines++;
            bytes += ("line " + lines + " 01234567\n").length();
        }
        assertEquals(size, bytes, "the log did not end with a whole line at the checkpoint");
        return lines;
    }

    @Test
    void restartKeepsTheCheckpointDirectoryOrTakesCkptDir() throws Exception {
        Path output = temp.resolve("output.txt");
        Path elsewhere = temp.resolve("elsewhere");
        try (Computation computation = new Computation(temp, "ckptdir")) {
            Process running = computation.launch(output, scenario("counter"), "1000", "40");
            Computation.awaitProgress(output, 0, Pattern.compile("count (\\d+)"), 3);
            Path first = computation.checkpoint();
            computation.kill(running);
            stopCoordinator(computation);
            // No coordinator runs: restart starts one, which must keep the checkpoint's directory.
            computation.restart(first.getParent().resolve("latest"), output);
            computation.awaitRestored();
            Path second = computation.checkpoint();
            // each computation's checkpoints are in its own subdirectory (c1)
            assertEquals(computation.checkpoints(), second.getParent().getParent(), "a later checkpoint landed elsewhere");
            computation.kill(running);
            stopCoordinator(computation);
            computation.startCli(output, "restart", "--ckpt-dir", elsewhere.toString(), second.toString());
            computation.awaitRestored();
            assertEquals(elsewhere, computation.checkpoint().getParent().getParent(), "restart --ckpt-dir was not followed");
        }
    }

    private static void stopCoordinator(Computation computation) throws InterruptedException {
        computation.run("shutdown");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (computation.run("ping", "-q").status() == 0) {
            assertTrue(System.nanoTime() < deadline, "the coordinator did not stop");
            Thread.sleep(100);
        }
    }
}
