package org.stasis.framework.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class LiveSettingsTest {
    @Test
    void aPropertyAppliesWhenItAppearsAndWhenItChangesOnly() {
        LiveSettings settings = new LiveSettings(Set.of());

        assertEquals(Map.of("interval", "0", "keep", "2"), settings.changes(Map.of("interval", 0L, "keep", "2")));
        assertEquals(Map.of(), settings.changes(Map.of("interval", "0", "keep", "2")));
        assertEquals(Map.of("keep", "3"), settings.changes(Map.of("interval", "0", "keep", "3")));
    }

    @Test
    void theCommandLineWinsAtStartAndTheFileAfterwards() {
        LiveSettings settings = new LiveSettings(Set.of("ckpt.dir"));

        assertEquals(Map.of("interval", "5"), settings.changes(Map.of("ckpt.dir", "/a", "interval", "5")));
        assertEquals(Map.of("ckpt.dir", "/b"), settings.changes(Map.of("ckpt.dir", "/b", "interval", "5")));
    }

    @Test
    void unknownPropertiesAreNotSettings() {
        assertEquals(Map.of(), new LiveSettings(Set.of()).changes(Map.of("component.name", "x", "service.pid", "y")));
    }
}
