package org.stasis.framework.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

class CheckpointOptionsTest {
    @Test
    void saveFilesTakesItsFourForms() {
        CheckpointOptions options = new CheckpointOptions();
        for (String value : new String[] { "none", "auto", "auto:512M", "/data/*.db,/data/*.db-*" }) {
            options.set("save-files", value);
            assertEquals(Map.of("save-files", value), options.asMap());
        }
        assertThrows(IllegalArgumentException.class, () -> options.set("save-files", "a b"));
        assertThrows(IllegalArgumentException.class, () -> options.set("Bad Name", "x"));
        options.set("save-files", "");
        assertEquals(Map.of(), options.asMap());
    }

    @Test
    void compressTakesNoneZstdOrALevel() {
        CheckpointOptions options = new CheckpointOptions();
        for (String value : new String[] { "none", "zstd", "zstd:3", "zstd:-5", "zstd:19" }) {
            options.set("compress", value);
            assertEquals(Map.of("compress", value), options.asMap());
        }
        for (String bad : new String[] { "gzip", "zstd:0", "zstd:20", "zstd:", "ZSTD", "zstd:1x" }) {
            assertThrows(IllegalArgumentException.class, () -> options.set("compress", bad), bad);
        }
        assertEquals(Map.of("compress", "zstd:19"), options.asMap());
    }

    @Test
    void aRestartAdoptsTheRecordedOptions() {
        CheckpointOptions options = new CheckpointOptions();
        options.set("save-files", "none");
        options.adopt(Map.of("save-files", "auto"));
        assertEquals("auto", options.asMap().get("save-files"));
    }
}
