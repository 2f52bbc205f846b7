package org.stasis.api.testkit;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.stasis.api.LifecycleEvent;

/**
 * The parts of a computation that spans hosts, played in one JVM: each part is a
 * {@link FakeComputation} bound with {@link FakeComputation#part(String, FakeParts)},
 * whose contexts report its {@code part()}, these {@code parts()} and exchange
 * through this object. As the core's, {@code exchange} really synchronises: each call
 * blocks until every part has given its bytes for the topic in that event or has
 * {@link #ended ended} the event, so run each part's callback on its own thread.
 *
 * <pre>{@code
 * FakeParts parts = new FakeParts("h1", "h2");
 * one.part("h1", parts);
 * two.part("h2", parts);
 * parts.run(LifecycleEvent.DRAIN, Map.of(
 *         "h1", () -> plugin1.drain(one.checkpoint(LifecycleEvent.DRAIN)),
 *         "h2", () -> plugin2.drain(two.checkpoint(LifecycleEvent.DRAIN))));
 * }</pre>
 */
public final class FakeParts {
    /** A callback of one part's plugin. */
    @FunctionalInterface
    public interface Callback {
        /**
         * @throws Exception whatever the plugin throws
         */
        void run() throws Exception;
    }

    private final List<String> names;
    private final Duration timeout;
    private final Map<String, Map<String, byte[]>> given = new HashMap<>();
    private final Set<String> ended = new HashSet<>();
    private final Map<String, List<String>> exchanges = new LinkedHashMap<>();

    /**
     * @param names the parts, in the order every part sees
     */
    public FakeParts(String... names) {
        this(Duration.ofSeconds(30), names);
    }

    /**
     * @param timeout how long an exchange waits for the other parts before it fails
     * @param names the parts, in the order every part sees
     */
    public FakeParts(Duration timeout, String... names) {
        this.names = List.of(names);
        this.timeout = timeout;
    }

    /** @return the parts' names */
    public List<String> names() {
        return names;
    }

    /**
     * @return "event/topic" of every exchange, with the parts that gave bytes for it, in the order
     *         of first calls
     */
    public synchronized Map<String, List<String>> exchanges() {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        exchanges.forEach((key, parts) -> copy.put(key, List.copyOf(parts)));
        return copy;
    }

    /**
     * Starts a new operation: forgets what was given and which parts ended their events.
     */
    public synchronized void newOperation() {
        given.clear();
        ended.clear();
        exchanges.clear();
    }

    /**
     * Marks a part's event as finished: exchanges of the other parts no longer wait for it.
     *
     * @param part the part
     * @param event the event it finished (or failed)
     */
    public synchronized void ended(String part, LifecycleEvent event) {
        ended.add(event + "/" + part);
        notifyAll();
    }

    /**
     * Runs each part's callback of one event on its own thread, as the parts' coordinators
     * do, marks each part's event ended when its callback returns or throws, and waits
     * for all.
     *
     * @param event the event
     * @param callbacks each part's callback, by part name (a part without one ended the event at once)
     * @throws Exception the first failure of a callback
     */
    public void run(LifecycleEvent event, Map<String, Callback> callbacks) throws Exception {
        for (String name : names) {
            if (!callbacks.containsKey(name)) {
                ended(name, event);
            }
        }
        Map<String, Exception> failures = new LinkedHashMap<>();
        List<Thread> threads = new java.util.ArrayList<>();
        for (Map.Entry<String, Callback> callback : callbacks.entrySet()) {
            Thread thread = new Thread(() -> {
                try {
                    callback.getValue().run();
                } catch (Exception | AssertionError e) {
                    synchronized (failures) {
                        failures.put(callback.getKey(), e instanceof Exception x ? x : new Exception(e));
                    }
                } finally {
                    ended(callback.getKey(), event);
                }
            }, "part " + callback.getKey());
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (!failures.isEmpty()) {
            Map.Entry<String, Exception> first = failures.entrySet().iterator().next();
            throw new Exception("part " + first.getKey() + " failed: " + first.getValue(), first.getValue());
        }
    }

    /**
     * What the core does for {@code EventContext.exchange}.
     *
     * @param part the calling part
     * @param event the event it runs
     * @param topic what is exchanged
     * @param mine its bytes
     * @return every part's bytes by name, once every part gave or ended the event
     * @throws IOException if the other parts take longer than the timeout
     */
    synchronized Map<String, byte[]> exchange(String part, LifecycleEvent event, String topic, byte[] mine)
            throws IOException {
        String key = event + "/" + topic;
        Map<String, byte[]> bytes = given.computeIfAbsent(key, k -> new LinkedHashMap<>());
        bytes.put(part, mine.clone());
        exchanges.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(part);
        notifyAll();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!complete(bytes, event)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("exchange " + key + ": the other parts did not give their bytes within "
                        + timeout.toSeconds() + " s");
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("exchange " + key + " interrupted", e);
            }
        }
        Map<String, byte[]> all = new LinkedHashMap<>();
        for (String name : names) {
            if (bytes.containsKey(name)) {
                all.put(name, bytes.get(name).clone());
            }
        }
        return all;
    }

    private boolean complete(Map<String, byte[]> bytes, LifecycleEvent event) {
        return names.stream().allMatch(name -> bytes.containsKey(name) || ended.contains(event + "/" + name));
    }
}
