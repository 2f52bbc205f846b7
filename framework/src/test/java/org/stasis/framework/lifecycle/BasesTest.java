package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.Staging;

class BasesTest {
    @TempDir
    Path root;

    private static Manifest manifest(Staging staging, String base) {
        return new Manifest(Manifest.FORMAT_VERSION, staging.id(), "app", staging.generation(), "2026-12-03T00:00:00Z",
                System.getProperty("os.arch"), "6.18", List.of(), List.of(), Map.of(), "lineage-1", null, Map.of(),
                "c1", "app", base);
    }

    private static Path publish(CheckpointStore store, String base) throws Exception {
        Staging staging = store.begin("app");
        return store.publish(staging, manifest(staging, base));
    }

    // a full checkpoint app-1 and an incremental one over it: the second's directory
    private static Path incrementalOverFull(CheckpointStore store) throws Exception {
        publish(store, null);
        return publish(store, "app-1");
    }

    @Test
    void aManifestReplacedSinceItWasReadIsReadAgain() throws Exception {
        CheckpointStore store = new CheckpointStore(root);
        Path second = incrementalOverFull(store);
        Bases bases = new Bases();
        assertEquals("app-1", bases.baseOf(store, second));
        // compact: the manifest is replaced (a new file) by one without a base
        Path replacement = second.resolve("manifest.json.new");
        Files.writeString(replacement, Files.readString(second.resolve(CheckpointStore.MANIFEST))
                .replace("\"base\" : \"app-1\"", "\"base\" : null"));
        Files.move(replacement, second.resolve(CheckpointStore.MANIFEST),
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertNull(bases.baseOf(store, second));
    }

    @Test
    void aManifestThatIsGoneIsNotTakenFromMemory() throws Exception {
        CheckpointStore store = new CheckpointStore(root);
        Path second = incrementalOverFull(store);
        Bases bases = new Bases();
        bases.published(second, "app-1");
        Files.delete(second.resolve(CheckpointStore.MANIFEST));
        assertThrows(CheckpointInvalidException.class, () -> bases.baseOf(store, second));
    }

    @Test
    void aManifestGivenOtherPermissionsIsCheckedAgain() throws Exception {
        CheckpointStore store = new CheckpointStore(root);
        Path second = incrementalOverFull(store);
        Bases bases = new Bases();
        bases.published(second, "app-1");
        // others may write it now: the store's check refuses it, and so must the chain
        Files.setPosixFilePermissions(second.resolve(CheckpointStore.MANIFEST),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThrows(CheckpointInvalidException.class, () -> bases.baseOf(store, second));
    }
}
