package org.stasis.framework.span;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The main's side of the plugins' exchanges in one operation (doc/several-hosts.md,
 * Exchange): per plugin and topic, the bytes each part gave; complete once every part
 * has given or has ended the event for that plugin without giving.
 */
final class Gathering {
    /** Every part's bytes for one plugin and topic, and who waits for them. */
    private static final class Topic {
        final String event;
        final Map<String, byte[]> given = new LinkedHashMap<>();
        final CompletableFuture<Map<String, byte[]>> done = new CompletableFuture<>();

        Topic(String event) {
            this.event = event;
        }
    }

    private final List<String> parts;
    private final Map<String, Topic> topics = new HashMap<>();
    private final Set<String> ended = new HashSet<>();
    private IOException failure;

    /** @param parts every part's name, the main's own included */
    Gathering(List<String> parts) {
        this.parts = List.copyOf(parts);
    }

    /**
     * @param part the part giving
     * @param plugin the plugin
     * @param event the event it runs in
     * @param topic the topic
     * @param data its bytes
     * @return completes with every part's bytes (in the parts' order), or fails with the operation
     */
    synchronized CompletableFuture<Map<String, byte[]>> give(String part, String plugin, String event, String topic,
            byte[] data) {
        Topic t = topics.computeIfAbsent(plugin + "\0" + event + "\0" + topic, k -> new Topic(event));
        if (failure != null) {
            t.done.completeExceptionally(failure);
            return t.done;
        }
        t.given.put(part, data);
        check(plugin, t);
        return t.done;
    }

    /**
     * Gives a part's bytes and waits for every part's, at most
     * {@link MainOperation#EXCHANGE_MILLIS}.
     *
     * @param part the part giving
     * @param plugin the plugin
     * @param event the event it runs in
     * @param topic the topic
     * @param data its bytes
     * @param onTimeout hears why, before this throws, when the parts did not all give in time
     * @return every part's bytes (in the parts' order)
     * @throws IOException if the exchange timed out or the operation failed
     */
    Map<String, byte[]> exchange(String part, String plugin, String event, String topic, byte[] data,
            Consumer<String> onTimeout) throws IOException {
        try {
            return give(part, plugin, event, topic, data).get(MainOperation.EXCHANGE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            String why = "the exchange '" + topic + "' of plugin " + plugin + " timed out after "
                    + MainOperation.EXCHANGE_MILLIS / 1000 + " s";
            onTimeout.accept(why);
            throw new IOException(why);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during the exchange '" + topic + "'");
        }
    }

    /**
     * @param part the part
     * @param plugin the plugin that finished the event there, or {@code "*"}: every plugin did
     * @param event the event
     */
    synchronized void ended(String part, String plugin, String event) {
        ended.add(part + "\0" + plugin + "\0" + event);
        topics.forEach((key, t) -> check(key.substring(0, key.indexOf('\0')), t));
    }

    /** @param why the operation failed: every exchange still open fails */
    synchronized void fail(IOException why) {
        if (failure == null) {
            failure = why;
        }
        topics.values().forEach(t -> t.done.completeExceptionally(why));
    }

    private void check(String plugin, Topic t) {
        if (t.done.isDone()) {
            return;
        }
        for (String part : parts) {
            if (!t.given.containsKey(part) && !ended.contains(part + "\0" + plugin + "\0" + t.event)
                    && !ended.contains(part + "\0*\0" + t.event)) {
                return;
            }
        }
        Map<String, byte[]> all = new LinkedHashMap<>();
        for (String part : parts) {
            if (t.given.containsKey(part)) {
                all.put(part, t.given.get(part));
            }
        }
        t.done.complete(all);
    }
}
