package org.stasis.framework.span;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.junit.jupiter.api.Test;

class GatheringTest {
    private static byte[] b(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void completesOnceEveryPartGaveOrEnded() throws Exception {
        Gathering g = new Gathering(List.of("h1", "h2", "h3"));
        CompletableFuture<Map<String, byte[]>> h2 = g.give("h2", "socket", "DRAIN", "tcp", b("two"));
        CompletableFuture<Map<String, byte[]>> h1 = g.give("h1", "socket", "DRAIN", "tcp", b("one"));
        assertFalse(h1.isDone(), "h3 has neither given nor ended");
        g.ended("h3", "other", "DRAIN");
        assertFalse(h1.isDone(), "another plugin's end is not this one's");
        g.ended("h3", "socket", "RESUME");
        assertFalse(h1.isDone(), "another event's end is not this one's");
        g.ended("h3", "socket", "DRAIN");
        assertTrue(h1.isDone() && h2.isDone());
        Map<String, byte[]> all = h1.get();
        assertEquals(List.of("h1", "h2"), List.copyOf(all.keySet()), "in the parts' order, h3 absent");
        assertArrayEquals(b("two"), all.get("h2"));
        assertEquals(all.keySet(), h2.get().keySet());
    }

    @Test
    void theEndOfTheWholeEventCountsForEveryPlugin() throws Exception {
        Gathering g = new Gathering(List.of("h1", "h2"));
        g.ended("h2", "*", "DRAIN");
        Map<String, byte[]> all = g.give("h1", "socket", "DRAIN", "tcp", b("one")).get();
        assertEquals(List.of("h1"), List.copyOf(all.keySet()));
    }

    @Test
    void topicsAndEventsAreKeptApart() throws Exception {
        Gathering g = new Gathering(List.of("h1", "h2"));
        CompletableFuture<Map<String, byte[]>> tcp = g.give("h1", "socket", "DRAIN", "tcp", b("a"));
        CompletableFuture<Map<String, byte[]>> inflight = g.give("h1", "socket", "RESUME", "tcp", b("b"));
        g.give("h2", "socket", "DRAIN", "tcp", b("c"));
        assertTrue(tcp.isDone());
        assertFalse(inflight.isDone());
        g.give("h2", "socket", "RESUME", "tcp", b("d"));
        assertArrayEquals(b("d"), inflight.get().get("h2"));
    }

    @Test
    void aFailureFailsEveryOpenExchangeAndLaterOnes() {
        Gathering g = new Gathering(List.of("h1", "h2"));
        CompletableFuture<Map<String, byte[]>> open = g.give("h1", "socket", "DRAIN", "tcp", b("a"));
        g.fail(new IOException("the link to host h2 was lost"));
        ExecutionException e = assertThrows(ExecutionException.class, open::get);
        assertEquals("the link to host h2 was lost", e.getCause().getMessage());
        assertThrows(ExecutionException.class, g.give("h1", "socket", "DRAIN", "x", b("a"))::get);
    }
}
