package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.EventContext;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.testkit.FakeComputation;
import org.stasis.api.testkit.FakeParts;

/** Exchanges larger than one exchange carries go in rounds that every part runs alike. */
class RoundsTest {
    @TempDir
    Path temp;

    @Test
    void partsWithMoreAndLessToSayRunTheSameRoundsAndGetEverythingWhole() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2", "h3");
        byte[] big = Kit.random(10_000, 1);
        byte[] small = Kit.random(300, 2);
        Map<String, byte[]> mine = Map.of("h1", big, "h2", small, "h3", new byte[0]);
        Map<String, Map<String, byte[]>> got = new ConcurrentHashMap<>();
        Map<String, FakeParts.Callback> callbacks = new java.util.LinkedHashMap<>();
        for (String name : List.of("h1", "h2", "h3")) {
            EventContext context = new FakeComputation(temp.resolve(name)).part(name, parts).restart();
            callbacks.put(name, () -> got.put(name, Rounds.exchange(context::exchange, "t", mine.get(name), 1000)));
        }
        parts.run(LifecycleEvent.RESTART, callbacks);
        for (String name : List.of("h1", "h2", "h3")) {
            assertArrayEquals(big, got.get(name).get("h1"));
            assertArrayEquals(small, got.get(name).get("h2"));
            assertArrayEquals(new byte[0], got.get(name).get("h3"));
        }
        assertEquals(10, parts.exchanges().size(), "ten rounds for 10 000 bytes in chunks of 1000: " + parts.exchanges().keySet());
        assertEquals(List.of("h1", "h2", "h3"), parts.exchanges().get("RESTART/t.9").stream().sorted().toList());
    }
}
