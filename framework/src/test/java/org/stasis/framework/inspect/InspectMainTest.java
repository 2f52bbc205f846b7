package org.stasis.framework.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone entry point's statuses and lines: 0 ok, 1 failed (one line), 2 usage. */
class InspectMainTest {
    @TempDir
    Path temp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return InspectMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void usageErrorsExitTwoWithOneLine() {
        assertEquals(2, run("--home", temp.toString()));
        assertEquals(2, run("--home", temp.toString(), "verify"));
        assertEquals(2, run("--home", temp.toString(), "info", "a", "b"));
        assertEquals(2, run("--home", temp.toString(), "list", "--bogus"));
        assertEquals(2, run("--home", temp.toString(), "list", "--ckpt-dir"));
        assertEquals(2, run("--home", temp.toString(), "frobnicate"));
        assertEquals(1, err().lines().count(), err());
        assertTrue(err().startsWith("stasis: unknown command 'frobnicate'"), err());
    }

    @Test
    void aMissingCheckpointIsOneLineAndStatusOne() {
        Path missing = temp.resolve("missing");
        for (String command : new String[] { "verify", "info" }) {
            assertEquals(1, run("--home", temp.toString(), command, "--name", "ignored", missing.toString()));
            assertEquals("stasis: no checkpoint at " + missing + "; list them with: stasis list\n", err());
        }
    }

    @Test
    void verifyJsonGivesAVerdictWhenItFails() throws Exception {
        Path empty = Files.createDirectory(temp.resolve("empty"));
        assertEquals(1, run("--home", temp.toString(), "verify", "--json", empty.toString()));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("\"ok\" : false"), out.toString());
        assertTrue(err().contains("is not a complete checkpoint"), err());
    }

    @Test
    void anEmptyDirectoryListsNoCheckpoints() throws Exception {
        Path empty = Files.createDirectory(temp.resolve("empty"));
        assertEquals(0, run("--home", temp.toString(), "list", "--ckpt-dir=" + empty));
        assertEquals("no checkpoints in " + empty + "\n", out.toString(StandardCharsets.UTF_8));
        assertEquals(0, run("--home", temp.toString(), "list", "--json", "--ckpt-dir", empty.toString()));
        assertEquals("[ ]\n", out.toString(StandardCharsets.UTF_8));
    }
}
