package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stasis coordinator} in the foreground: its console runs commands, and leaving it stops it. */
class ForegroundCoordinatorIT {
    @TempDir
    Path temp;

    @Test
    void theConsoleRunsCommandsAndExitStopsTheCoordinator() throws Exception {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        StasisCli cli = new StasisCli(runtime);

        StasisCli.Result console = cli.runWithInput("stasis:version\nstasis:nosuch\nexit\n", "coordinator", "--name", "fg",
                "--plugins", temp.resolve("plugins").toString());

        assertEquals(0, console.status(), console.toString());
        assertTrue(console.out().contains("coordinator  fg"), console.toString());
        assertTrue(console.out().contains("unknown command"), console.toString());
        assertEquals(1, cli.run("ping", "-q", "--name", "fg").status(), "the coordinator outlived its console");
    }

    @Test
    void helpAndBadOptions() {
        StasisCli cli = new StasisCli(temp);
        StasisCli.Result help = cli.run("coordinator", "--help");
        assertEquals(0, help.status(), help.toString());
        assertTrue(help.out().contains("--plugins DIR"), help.toString());

        StasisCli.Result bad = cli.run("coordinator", "--frob");
        assertEquals(2, bad.status(), bad.toString());
        assertTrue(bad.err().contains("unknown option '--frob'"), bad.toString());
    }
}
