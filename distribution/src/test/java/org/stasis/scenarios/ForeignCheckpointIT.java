package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * A checkpoint is a program: one that somebody else could have written is neither
 * restarted nor called healthy, unless the user says {@code --trust}.
 */
@Timeout(300)
class ForeignCheckpointIT {
    @TempDir
    Path temp;

    @Test
    void aCheckpointOthersCouldWriteIsRefusedListedForeignAndRestartedOnlyWithTrust() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "foreign")) {
            Process program = computation.launch(output, Computation.SCENARIOS.resolve("counter").toString(), "100000",
                    "20");
            Computation.awaitLine(output, l -> l.equals("count 5"), Duration.ofSeconds(30));
            Path checkpoint = computation.checkpoint();
            computation.kill(program);

            // what a neighbour with group write access could have changed
            Files.setPosixFilePermissions(checkpoint.resolve("manifest.json"),
                    PosixFilePermissions.fromString("rw-rw----"));

            StasisCli.Result refused = computation.run("restart", checkpoint.toString());
            assertEquals(1, refused.status(), refused.toString());
            assertTrue(refused.err().contains("foreign checkpoint: manifest manifest.json is writable by group or others"),
                    refused.toString());
            assertTrue(refused.err().strip().lines().count() == 1, refused.toString());

            StasisCli.Result list = computation.run("list");
            assertTrue(list.out().contains("foreign checkpoint"), list.toString());
            StasisCli.Result verify = computation.run("verify", checkpoint.toString());
            assertEquals(1, verify.status(), verify.toString());
            assertTrue(computation.run("verify", "--trust", checkpoint.toString()).out().contains("is intact"));

            int before = Computation.lineCount(output);
            Process restarted = computation.run("restart", "--help").out().contains("--trust")
                    ? computation.startCli(output, "restart", "--trust", checkpoint.toString()) : null;
            assertTrue(restarted != null, "restart --help does not mention --trust");
            Computation.awaitLine(output, before, l -> l.startsWith("count "), Duration.ofSeconds(30));
            assertTrue(Files.readString(output).contains("warning: --trust: restarting"), Files.readString(output));
            computation.kill(restarted);
        }
    }
}
