package org.stasis.framework.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@code stasis verify} takes the restorer's verdict: stand-in restorers (scripts)
 * that accept, refuse with one line, say too much, or are missing. The real rules are
 * tested in native/tests/t_hostile_images.py and HostileImagesIT.
 */
class NativeImageCheckTest {
    @TempDir
    Path temp;

    private Path restorer(String body) throws Exception {
        Path script = temp.resolve("stasis-restore");
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    @Test
    void anAcceptedImagePasses() throws Exception {
        NativeImageCheck.check(restorer("[ \"$1\" = --check ] && [ \"$2\" = \"" + temp + "/image-2.img\" ]"),
                temp.resolve("image-2.img"));
    }

    @Test
    void aRefusalIsTheRestorersLineWithoutItsPrefix() throws Exception {
        Path script = restorer("echo 'stasis: image image-2.img: area 7 overlaps area 3' >&2; exit 1");
        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class,
                () -> NativeImageCheck.check(script, temp.resolve("image-2.img")));
        assertEquals("image image-2.img: area 7 overlaps area 3", e.getMessage());
    }

    @Test
    void endlessOutputIsBoundedAndAnUnexpectedEndIsReported() throws Exception {
        Path script = restorer("yes garbage | head -c 10000000 >&2; exit 3");
        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class,
                () -> NativeImageCheck.check(script, temp.resolve("image-2.img")));
        assertTrue(e.getMessage().length() <= 4096 && e.getMessage().startsWith("garbage"), e.getMessage());
    }

    @Test
    void aMissingRestorerSaysTheInstallationIsIncomplete() {
        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class,
                () -> NativeImageCheck.check(temp.resolve("nowhere"), temp.resolve("image-2.img")));
        assertTrue(e.getMessage().contains("is the Stasis installation complete?"), e.getMessage());
    }
}
