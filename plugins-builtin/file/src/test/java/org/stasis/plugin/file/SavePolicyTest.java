package org.stasis.plugin.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavePolicyTest {
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 01;
    private static final int O_RDWR = 02;
    private static final int O_APPEND = 02000;

    @TempDir
    Path temp;

    @Test
    void noneIsTheDefaultAndSavesNothing() {
        assertTrue(SavePolicy.parse(null).none());
        assertTrue(SavePolicy.parse("none").none());
        assertFalse(SavePolicy.parse("none").wants(Path.of("/x/db"), O_RDWR));
    }

    @Test
    void autoTakesFilesOpenForWritingButNotAppendedLogs() {
        SavePolicy auto = SavePolicy.parse("auto");
        assertEquals(256L << 20, auto.limit());
        assertTrue(auto.wants(Path.of("/x/db"), O_RDWR));
        assertTrue(auto.wants(Path.of("/x/out.log"), O_WRONLY));
        assertFalse(auto.wants(Path.of("/x/app.log"), O_WRONLY | O_APPEND));
        assertFalse(auto.wants(Path.of("/x/input"), O_RDONLY));
        assertEquals(512L << 20, SavePolicy.parse("auto:512M").limit());
        assertEquals(2L << 30, SavePolicy.parse("auto:2g").limit());
        assertEquals(1000, SavePolicy.parse("auto:1000").limit());
        assertThrows(IllegalArgumentException.class, () -> SavePolicy.parse("auto:lots"));
    }

    @Test
    void globsTakeMatchingFilesWhateverTheirMode() {
        SavePolicy globs = SavePolicy.parse("/data/*.db,/data/*.db-*");
        assertTrue(globs.wants(Path.of("/data/rows.db"), O_RDONLY));
        assertTrue(globs.wants(Path.of("/data/rows.db-wal"), O_WRONLY | O_APPEND));
        assertFalse(globs.wants(Path.of("/other/rows.db"), O_RDWR));
    }

    @Test
    void copyContentsReplacesTheTargetInPlace() throws Exception {
        Path source = Files.writeString(temp.resolve("saved"), "as at the checkpoint\n");
        Path target = Files.writeString(temp.resolve("db"), "written after the checkpoint, and longer\n");
        Object inode = Files.getAttribute(target, "unix:ino");
        assertEquals(21, new Opener().copyContents(source, target, 0600));
        assertEquals("as at the checkpoint\n", Files.readString(target));
        assertEquals(inode, Files.getAttribute(target, "unix:ino"), "the file must keep its inode");
        Path gone = temp.resolve("gone");
        new Opener().copyContents(source, gone, 0640);
        assertEquals("as at the checkpoint\n", Files.readString(gone));
    }
}
