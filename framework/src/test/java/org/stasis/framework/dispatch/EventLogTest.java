package org.stasis.framework.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

class EventLogTest {
    private static EventLogEntry entry(String actor) {
        return new EventLogEntry(Instant.EPOCH, "op", "drain", actor, 0, "ok", "");
    }

    @Test
    void keepsOnlyTheNewestEntries() {
        EventLog log = new EventLog(2);
        log.add(entry("a"));
        log.add(entry("b"));
        log.add(entry("c"));

        assertEquals(List.of("b", "c"), log.recent(10).stream().map(EventLogEntry::actor).toList());
        assertEquals(List.of("c"), log.recent(1).stream().map(EventLogEntry::actor).toList());
    }
}
