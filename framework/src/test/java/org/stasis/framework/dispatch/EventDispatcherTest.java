package org.stasis.framework.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.EventContext;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.RestartCallback;

class EventDispatcherTest {
    private final PluginRegistry registry = new PluginRegistry();
    private final EventLog log = new EventLog(100);
    private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch neverReleased = new CountDownLatch(1);
    private EventDispatcher dispatcher = new EventDispatcher(registry, log, Duration.ofSeconds(5));
    private long nextServiceId = 1;

    @AfterEach
    void close() {
        neverReleased.countDown();
        dispatcher.close();
    }

    private void drain(String id, int ranking, Runnable body) {
        DrainCallback callback = (CheckpointContext c) -> {
            calls.add(id);
            body.run();
        };
        registry.add(new PluginCallback(id, LifecycleEvent.DRAIN, callback, ranking, nextServiceId++, "test 1.0"));
    }

    private void restart(String id, int ranking) {
        RestartCallback callback = c -> calls.add(id);
        registry.add(new PluginCallback(id, LifecycleEvent.RESTART, callback, ranking, nextServiceId++, "test 1.0"));
    }

    private static EventContext noContext(PluginCallback callback) {
        return null;
    }

    @Test
    void checkpointEventsRunByDescendingRankingThenRegistrationOrder() throws Exception {
        drain("low", -5, () -> { });
        drain("high", 100, () -> { });
        drain("middle-first", 0, () -> { });
        drain("middle-second", 0, () -> { });

        dispatcher.dispatch(LifecycleEvent.DRAIN, "c-1", EventDispatcherTest::noContext);

        assertEquals(List.of("high", "middle-first", "middle-second", "low"), calls);
    }

    @Test
    void restartRunsInReverseOrder() throws Exception {
        restart("low", -5);
        restart("high", 100);
        restart("middle", 0);

        dispatcher.dispatch(LifecycleEvent.RESTART, "c-1", EventDispatcherTest::noContext);

        assertEquals(List.of("low", "middle", "high"), calls);
    }

    @Test
    void aFailingPluginStopsTheEventAndIsNamed() {
        drain("first", 3, () -> { });
        drain("broken", 2, () -> {
            throw new IllegalStateException("disk on fire");
        });
        drain("never", 1, () -> { });

        PluginFailedException failure = assertThrows(PluginFailedException.class,
                () -> dispatcher.dispatch(LifecycleEvent.DRAIN, "c-1", EventDispatcherTest::noContext));

        assertEquals("broken", failure.pluginId());
        assertEquals("plugin 'broken' failed in drain: disk on fire", failure.getMessage());
        assertEquals(List.of("first", "broken"), calls);
    }

    @Test
    @Timeout(60)   // a guard against a hang, not a speed check
    void aHungPluginIsCutOffAfterTheTimeout() {
        dispatcher = new EventDispatcher(registry, log, Duration.ofMillis(300));
        drain("hung", 0, () -> {
            try {
                neverReleased.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        // The plugin is never released: had the dispatcher waited for it, this would not return.
        PluginFailedException failure = assertThrows(PluginFailedException.class,
                () -> dispatcher.dispatch(LifecycleEvent.DRAIN, "c-1", EventDispatcherTest::noContext));

        assertEquals("hung", failure.pluginId());
        assertTrue(failure.getMessage().contains("did not finish within 300 ms"), failure.getMessage());
        assertEquals(1, neverReleased.getCount(), "the hung plugin was released");
        assertEquals("timeout", log.recent(1).get(0).status());
    }

    @Test
    void everyStepIsLoggedWithPluginEventAndStatus() throws Exception {
        drain("a", 2, () -> { });
        drain("b", 1, () -> { });

        dispatcher.dispatch(LifecycleEvent.DRAIN, "c-7", EventDispatcherTest::noContext);

        List<EventLogEntry> entries = log.recent(10);
        assertEquals(2, entries.size());
        assertEquals(List.of("a", "b"), entries.stream().map(EventLogEntry::actor).toList());
        for (EventLogEntry entry : entries) {
            assertEquals("c-7", entry.operation());
            assertEquals("drain", entry.step());
            assertEquals("ok", entry.status());
        }
    }

    @Test
    void dispatchToAllCallsEveryPluginDespiteFailures() {
        drain("broken", 2, () -> {
            throw new IllegalStateException("nope");
        });
        drain("fine", 1, () -> { });

        List<PluginFailedException> failures = dispatcher.dispatchToAll(LifecycleEvent.DRAIN, "c-1",
                EventDispatcherTest::noContext);

        assertEquals(List.of("broken", "fine"), calls);
        assertEquals(1, failures.size());
        assertEquals("broken", failures.get(0).pluginId());
    }

    @Test
    void aRemovedPluginIsNoLongerCalled() throws Exception {
        drain("gone", 0, () -> { });
        registry.remove(1, LifecycleEvent.DRAIN);

        dispatcher.dispatch(LifecycleEvent.DRAIN, "c-1", EventDispatcherTest::noContext);

        assertEquals(List.of(), calls);
        assertEquals(List.of(), registry.plugins());
    }
}
