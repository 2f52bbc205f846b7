package org.stasis.framework.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ownership rule on real files: what a neighbour could plant in a checkpoint. */
class CheckpointTrustTest {
    @TempDir
    Path temp;

    private Path checkpoint;
    private final CheckpointTrust mine = CheckpointTrust.ofCurrentUser();

    @BeforeEach
    void checkpoint() throws Exception {
        Path root = Files.createDirectory(temp.resolve("ckpt"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        checkpoint = Files.createDirectory(root.resolve("default-1"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(checkpoint.resolve("manifest.json"), "{}");
        Files.writeString(checkpoint.resolve("image-2.img"), "image");
        Files.createDirectories(checkpoint.resolve("plugins/file"));
        Files.writeString(checkpoint.resolve("plugins/file/blob"), "blob");
    }

    private static boolean foreign(CheckpointInvalidException e) {
        return e.isForeign() && e.getMessage().startsWith("foreign checkpoint:") && e.getMessage().contains("--trust");
    }

    @Test
    void theUsersOwnPrivateCheckpointPasses() throws Exception {
        mine.checkDirectory(checkpoint);
        mine.checkFile(checkpoint, "image-2.img", "memory image");
        mine.checkPluginFiles(checkpoint);
    }

    @Test
    void aCheckpointOfAnotherUserIsForeign() {
        CheckpointTrust someoneElse = new CheckpointTrust(
                ((Integer) uncheckedUid(checkpoint)) + 1);
        var e = assertThrows(CheckpointInvalidException.class, () -> someoneElse.checkDirectory(checkpoint));
        assertTrue(foreign(e) && e.getMessage().contains("belongs to uid"), e.getMessage());
    }

    @Test
    void aFileOthersMayWriteIsForeign() throws Exception {
        Files.setPosixFilePermissions(checkpoint.resolve("image-2.img"), PosixFilePermissions.fromString("rw-rw-r--"));
        var e = assertThrows(CheckpointInvalidException.class,
                () -> mine.checkFile(checkpoint, "image-2.img", "memory image"));
        assertTrue(foreign(e) && e.getMessage().contains("writable by group or others"), e.getMessage());
    }

    @Test
    void aSharedRootIsForeignEvenWithStickyBit() throws Exception {
        Files.setPosixFilePermissions(checkpoint.getParent(), PosixFilePermissions.fromString("rwxrwxrwx"));
        var e = assertThrows(CheckpointInvalidException.class, () -> mine.checkDirectory(checkpoint));
        assertTrue(foreign(e), e.getMessage());
    }

    @Test
    void namesThatLeaveTheCheckpointAreRefused() {
        for (String name : new String[] { "/etc/passwd", "../default-2/image-2.img", "..", "", "a/b", "x\ny" }) {
            assertFalse(CheckpointTrust.isPlainName(name), name);
            var e = assertThrows(CheckpointInvalidException.class, () -> mine.checkFile(checkpoint, name, "memory image"));
            assertTrue(foreign(e) && e.getMessage().contains("outside the checkpoint"), e.getMessage());
        }
    }

    @Test
    void aSymlinkedImageIsRefusedWithoutBeingFollowed() throws Exception {
        Path target = Files.writeString(temp.resolve("elsewhere.img"), "evil");
        Files.createSymbolicLink(checkpoint.resolve("image-3.img"), target);
        var e = assertThrows(CheckpointInvalidException.class,
                () -> mine.checkFile(checkpoint, "image-3.img", "memory image"));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    }

    @Test
    void aFifoNamedAsAnImageIsRefusedWithoutBlocking() throws Exception {
        Path fifo = checkpoint.resolve("image-4.img");
        assertTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0);
        var e = assertThrows(CheckpointInvalidException.class, () -> mine.checkFile(checkpoint, "image-4.img", "memory image"));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        var image = assertThrows(CheckpointInvalidException.class, () -> ImageFile.check(fifo, true));
        assertTrue(image.getMessage().contains("not a regular file"), image.getMessage());
    }

    @Test
    void aPlantedPluginSymlinkIsRefused() throws Exception {
        Files.createSymbolicLink(checkpoint.resolve("plugins/file/stolen"), Path.of("/etc/hostname"));
        var e = assertThrows(CheckpointInvalidException.class, () -> mine.checkPluginFiles(checkpoint));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    }

    private static Object uncheckedUid(Path path) {
        try {
            return Files.getAttribute(path, "unix:uid");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
