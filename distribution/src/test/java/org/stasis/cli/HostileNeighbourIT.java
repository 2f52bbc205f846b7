package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a neighbour could do to a user's coordinator before it even starts, and what
 * its shell must not offer (issue: hostile neighbours).
 */
class HostileNeighbourIT {
    @TempDir
    Path temp;

    private static final String PRIVATE = "rwx------";

    private Path directory(String name, String mode) throws Exception {
        Path dir = Files.createDirectory(temp.resolve(name));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        return dir;
    }

    @Test
    void aRuntimeDirectoryOthersMayWriteIsRefusedBeforeAnythingIsOpenedInIt() throws Exception {
        Path shared = directory("run", "rwxrwxrwx");

        StasisCli.Result started = new StasisCli(shared).run("coordinator", "--daemon", "--name", "hostile");

        assertEquals(1, started.status(), started.toString());
        assertTrue(started.err().contains("refusing the runtime directory"), started.toString());
        try (var files = Files.list(shared)) {
            assertEquals(0, files.count(), "nothing may be created in a refused directory");
        }
    }

    @Test
    void aSymlinkedRuntimeDirectoryIsRefused() throws Exception {
        Path real = directory("real", PRIVATE);
        Path link = Files.createSymbolicLink(temp.resolve("link"), real);

        StasisCli.Result started = new StasisCli(link).run("coordinator", "--daemon", "--name", "hostile");

        assertEquals(1, started.status(), started.toString());
        assertTrue(started.err().contains("symbolic link"), started.toString());
    }

    @Test
    void aLogSymlinkedIntoTheUsersFilesIsNeverWritten() throws Exception {
        Path run = directory("run", PRIVATE);
        Path victim = Files.writeString(temp.resolve("bashrc"), "export PS1='$ '\n");
        Files.createSymbolicLink(run.resolve("hostile.log"), victim);

        StasisCli.Result started = new StasisCli(run).run("coordinator", "--daemon", "--name", "hostile");

        assertEquals(1, started.status(), started.toString());
        assertTrue(started.err().contains("refusing the log"), started.toString());
        assertEquals("export PS1='$ '\n", Files.readString(victim));
    }

    @Test
    void theShellOffersNoTelnetServer() throws Exception {
        Path run = directory("run", PRIVATE);
        StasisCli cli = new StasisCli(run);
        StasisCli.Result started = cli.run("coordinator", "--daemon", "--name", "hostile", "--ckpt-dir",
                temp.resolve("ckpt").toString());
        assertEquals(0, started.status(), started.toString());
        try {
            StasisCli.Result telnet = cli.run("exec", "--name", "hostile", "telnetd -p 0 start");
            assertEquals(2, telnet.status(), telnet.toString());
            assertTrue(telnet.err().contains("unknown command: telnetd"), telnet.toString());

            // the shell itself still works: the guard hides one command, not the shell
            StasisCli.Result echo = cli.run("exec", "--name", "hostile", "echo still-here");
            assertEquals(0, echo.status(), echo.toString());
            assertTrue(echo.out().contains("still-here"), echo.toString());
            assertFalse(Files.readString(run.resolve("hostile.log")).contains("Listening on port"));
        } finally {
            cli.run("shutdown", "--name", "hostile");
            for (int i = 0; i < 80 && cli.run("ping", "-q", "--name", "hostile").status() == 0; i++) {
                Thread.sleep(250);
            }
        }
    }
}
