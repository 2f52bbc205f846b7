package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * A Python REPL in a pseudo-terminal, typed at like a person, checkpointed at its
 * prompt and restarted on a new terminal (src/test/python/repl_in_terminal.py).
 */
@Timeout(300)
class TerminalIT {
    @TempDir
    Path temp;

    @Test
    void aReplInATerminalComesBackOnANewTerminal() throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        StasisCli cli = new StasisCli(runtime);
        Path stasis = Path.of(System.getProperty("stasis.dist", "../dist"), "bin", "stasis").toAbsolutePath();
        Path driver = Path.of("src/test/python/repl_in_terminal.py").toAbsolutePath();
        Path transcript = temp.resolve("transcript.txt");
        try {
            assertEquals(0, cli.run("coordinator", "--daemon", "--name", "repl", "--ckpt-dir",
                    temp.resolve("checkpoints").toString()).status());
            ProcessBuilder builder = new ProcessBuilder("python3", driver.toString(), stasis.toString(), "repl")
                    .redirectErrorStream(true).redirectOutput(transcript.toFile());
            builder.environment().put("STASIS_RUNTIME_DIR", runtime.toString());
            Process process = builder.start();
            assertTrue(process.waitFor(240, TimeUnit.SECONDS), "the terminal scenario did not finish");
            String output = Files.readString(transcript);
            assertEquals(0, process.exitValue(), output);
            assertTrue(output.contains("OK repl in terminal"), output);
        } finally {
            cli.run("kill", "--name", "repl");
            cli.run("shutdown", "--name", "repl");
        }
    }
}
