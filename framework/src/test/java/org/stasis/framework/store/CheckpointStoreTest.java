package org.stasis.framework.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
    @TempDir
    Path root;

    private CheckpointStore store() {
        return new CheckpointStore(root.resolve("ckpt"));
    }

    private static Manifest manifest(Staging staging) {
        return new Manifest(Manifest.FORMAT_VERSION, staging.id(), "app", staging.generation(), "2026-11-25T00:00:00Z",
                System.getProperty("os.arch"), "6.18", List.of(), List.of(), Map.of(), "lineage-1", null, Map.of(),
                "c1", "app", null);
    }

    private static Manifest manifest(Staging staging, String base) {
        return new Manifest(Manifest.FORMAT_VERSION, staging.id(), "app", staging.generation(), "2026-11-25T00:00:00Z",
                System.getProperty("os.arch"), "6.18", List.of(), List.of(), Map.of(), "lineage-1", null, Map.of(),
                "c1", "app", base);
    }

    @Test
    void pruneKeepsTheParentsOfKeptIncrementalCheckpointsAndSaysSo() throws Exception {
        CheckpointStore store = store();
        // app-1 full, app-2 and app-3 over it, app-4 full, app-5 over app-4
        String[] bases = { null, "app-1", "app-2", null, "app-4" };
        for (String base : bases) {
            Staging staging = store.begin("app");
            store.publish(staging, manifest(staging, base));
        }
        java.util.List<String> said = new java.util.ArrayList<>();
        // keep 3 = app-3..app-5: app-3 needs app-2 and app-1
        assertEquals(List.of(), store.prune("app", 3, said::add));
        assertEquals(List.of("kept app-1: app-2 is incremental over it", "kept app-2: app-3 is incremental over it"),
                said);
        assertEquals(List.of("app-2", "app-1"), store.chain(store.root().resolve("app-3")));
        // keep 2 = app-4, app-5: the first chain goes
        List<Path> deleted = store.prune("app", 2);
        assertEquals(List.of("app-1", "app-2", "app-3"), deleted.stream().map(p -> p.getFileName().toString()).toList());
        assertTrue(Files.isDirectory(store.root().resolve("app-4")));
    }

    private Path publishOne() throws Exception {
        CheckpointStore store = store();
        Staging staging = store.begin("app");
        return store.publish(staging, manifest(staging));
    }

    @Test
    void aSealedCheckpointIsDurableButNotPublishedUntilItIsRenamed() throws Exception {
        CheckpointStore store = store();
        Staging staging = store.begin("app");
        for (int i = 0; i < 20; i++) { // more images than one fsync thread each
            Files.write(staging.directory().resolve(i + ".img"), new byte[] { (byte) i });
        }
        Files.createDirectories(staging.directory().resolve("plugins/p"));
        Files.writeString(staging.directory().resolve("plugins/p/blob"), "x");

        store.seal(staging, manifest(staging));

        assertTrue(store.list().isEmpty());
        assertTrue(Files.isRegularFile(staging.directory().resolve(CheckpointStore.MANIFEST)));
        Path published = store.publishSealed(staging);
        assertEquals(List.of(published), store.list());
        assertEquals(19, Files.readAllBytes(published.resolve("19.img"))[0]);
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(published.resolve("plugins/p/blob"))));
    }

    @Test
    void checkpointsArePrivateToTheUser() throws Exception {
        Path published = publishOne();

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("ckpt"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(published)));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(published.resolve(CheckpointStore.MANIFEST))));
    }

    @Test
    void pluginBlobsArePrivateWhateverModeThePluginUsed() throws Exception {
        CheckpointStore store = store();
        Staging staging = store.begin("app");
        Path blobs = Files.createDirectories(staging.directory().resolve("plugins/loose"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.createFile(blobs.resolve("data"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-r--r--")));

        Path published = store.publish(staging, manifest(staging));

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                published.resolve("plugins/loose"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                published.resolve("plugins/loose/data"))));
    }

    @Test
    void aDiscardedStagingLeavesNothingBehind() throws Exception {
        CheckpointStore store = store();
        Staging staging = store.begin("app");
        Files.writeString(staging.directory().resolve("image"), "partial");

        store.discard(staging);

        try (var entries = Files.list(root.resolve("ckpt"))) {
            assertEquals(0, entries.count());
        }
    }

    @Test
    void aDirectoryWithoutManifestIsRefusedClearly() throws Exception {
        Path notCheckpoint = Files.createDirectories(root.resolve("ckpt/app-9"));

        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class, () -> store().read(notCheckpoint));

        assertTrue(e.getMessage().contains("is not a complete checkpoint"), e.getMessage());
    }

    @Test
    void aCorruptManifestIsRefusedClearly() throws Exception {
        Path published = publishOne();
        Files.writeString(published.resolve(CheckpointStore.MANIFEST), "{\"formatVersion\": 1, \"id\": ");

        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class, () -> store().read(published));

        assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void anUnknownFormatVersionIsRefused() throws Exception {
        Path published = publishOne();
        String json = Files.readString(published.resolve(CheckpointStore.MANIFEST));
        Files.writeString(published.resolve(CheckpointStore.MANIFEST),
                json.replace("\"formatVersion\" : 1", "\"formatVersion\" : 99"));

        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class, () -> store().read(published));

        assertTrue(e.getMessage().contains("format version 99"), e.getMessage());
    }

    @Test
    void aCheckpointFromAnotherArchitectureIsRefused() throws Exception {
        Path published = publishOne();
        String json = Files.readString(published.resolve(CheckpointStore.MANIFEST));
        Files.writeString(published.resolve(CheckpointStore.MANIFEST),
                json.replace("\"arch\" : \"" + System.getProperty("os.arch") + "\"", "\"arch\" : \"riscv64\""));

        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class, () -> store().read(published));

        assertTrue(e.getMessage().contains("taken on riscv64"), e.getMessage());
    }

    @Test
    void aMissingPathSaysHowToFindCheckpoints() {
        CheckpointInvalidException e = assertThrows(CheckpointInvalidException.class,
                () -> store().read(root.resolve("nowhere")));

        assertTrue(e.getMessage().contains("stasis list"), e.getMessage());
    }

    @Test
    void aStagingAbandonedByAKilledCoordinatorIsRemovedByTheNextCheckpoint() throws Exception {
        CheckpointStore store = store();
        Staging abandoned = store.begin("app");
        Files.writeString(abandoned.directory().resolve("image-2.img"), "half an image");
        Staging other = new CheckpointStore(root.resolve("ckpt")).begin("other");

        Staging next = store().begin("app");

        assertFalse(Files.exists(abandoned.directory().resolve("image-2.img")), "the abandoned image is still there");
        assertTrue(Files.exists(other.directory()), "another computation's staging was removed");
        assertEquals(abandoned.generation(), next.generation());
    }

    /** Random damage to a manifest is always a clear refusal, never another exception. */
    @Test
    void fuzzedManifestsAreRefusedCleanly() throws Exception {
        Path published = publishOne();
        Path file = published.resolve(CheckpointStore.MANIFEST);
        byte[] good = Files.readAllBytes(file);
        java.util.Random random = new java.util.Random(11);
        int refused = 0;
        for (int i = 0; i < 300; i++) {
            byte[] bad = good.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(3) == 0) {
                bad = java.util.Arrays.copyOf(bad, random.nextInt(bad.length));
            }
            Files.write(file, bad);
            try {
                store().read(published);
            } catch (CheckpointInvalidException e) {
                refused++;
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
            }
        }
        // Some damage is harmless (inside a string, say); most must be caught.
        assertTrue(refused > 200, "only " + refused + " of 300 damaged manifests were refused");
    }
}
