package org.stasis.framework.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

class DefaultCheckpointsTest {
    @Test
    void theEnvironmentsHomeWinsOverTheAccounts() {
        assertEquals(Path.of("/home/h2/.local/share/stasis/checkpoints"),
                DefaultCheckpoints.directory(Map.of("HOME", "/home/h2"), "/root"));
    }

    @Test
    void xdgDataHomeWinsOverHome() {
        assertEquals(Path.of("/data/stasis/checkpoints"),
                DefaultCheckpoints.directory(Map.of("HOME", "/home/h2", "XDG_DATA_HOME", "/data"), "/root"));
    }

    @Test
    void withoutAnAbsoluteHomeTheAccountsIsUsed() {
        assertEquals(Path.of("/root/.local/share/stasis/checkpoints"),
                DefaultCheckpoints.directory(Map.of("HOME", "relative", "XDG_DATA_HOME", ""), "/root"));
    }
}
