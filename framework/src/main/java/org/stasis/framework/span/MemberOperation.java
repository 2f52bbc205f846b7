package org.stasis.framework.span;

import java.io.IOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.stasis.api.LifecycleEvent;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.SpanOperation;

/**
 * A member's side of one checkpoint across hosts: this part arrives at each barrier and
 * waits for the main's {@code go} ({@code commit} after {@code sealed}); an {@code abort}
 * or a lost link fails the part's checkpoint.
 */
final class MemberOperation implements SpanOperation {
    private final Link link;
    private final String op;
    private final String part;
    private final String name;
    private final List<String> parts;
    private final Set<String> passed = new HashSet<>();
    private final Map<String, Map<String, byte[]>> taken = new HashMap<>();
    private String aborted;
    private boolean failedHere;

    /**
     * @param link the link to the main
     * @param op the main's checkpoint id
     * @param part this part's computation id on this host
     * @param name this part's name in the computation
     * @param parts every part's name
     */
    MemberOperation(Link link, String op, String part, String name, List<String> parts) {
        this.link = link;
        this.op = op;
        this.part = part;
        this.name = name;
        this.parts = List.copyOf(parts);
    }

    @Override
    public boolean spans() {
        return true;
    }

    @Override
    public String part() {
        return name;
    }

    @Override
    public String group() {
        return op;
    }

    @Override
    public List<String> parts() {
        return parts;
    }

    @Override
    public String spanId() {
        return op;
    }

    @Override
    public void reach(Barrier barrier, PartCheckpoint mine) throws OperationFailedException {
        ObjectNode m = Link.message(barrier == Barrier.SEALED ? "sealed" : "arrive");
        put(m);
        m.put("barrier", barrier.wire());
        m.put("ok", true);
        if (mine != null) {
            m.put("id", mine.id());
            m.put("path", mine.path());
            m.put("processes", mine.processes());
        }
        if (!link.send(m)) {
            throw failed("the link to the main coordinator is lost");
        }
        synchronized (this) {
            while (aborted == null && !passed.contains(barrier.wire())) {
                try {
                    wait(1_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw failed("interrupted at the barrier '" + barrier.wire() + "'");
                }
                if (link.closed() && aborted == null) {
                    aborted = "the link to the main coordinator is lost";
                }
            }
            if (aborted != null) {
                throw failed(aborted);
            }
        }
    }

    @Override
    public Map<String, byte[]> exchange(String plugin, LifecycleEvent event, String topic, byte[] mine)
            throws IOException {
        ObjectNode m = Link.message("give");
        put(m);
        m.put("plugin", plugin);
        m.put("event", event.name());
        m.put("topic", topic);
        m.put("data", Base64.getEncoder().encodeToString(mine));
        String key = plugin + "\0" + event.name() + "\0" + topic;
        if (!link.send(m)) {
            throw new IOException("the link to the main coordinator is lost");
        }
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MainOperation.EXCHANGE_MILLIS);
        synchronized (this) {
            while (aborted == null && !taken.containsKey(key)) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("the exchange '" + topic + "' of plugin " + plugin + " timed out after "
                            + MainOperation.EXCHANGE_MILLIS / 1000 + " s");
                }
                try {
                    wait(Math.max(1, Math.min(1_000, TimeUnit.NANOSECONDS.toMillis(left))));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted during the exchange '" + topic + "'");
                }
                if (link.closed() && aborted == null) {
                    aborted = "the link to the main coordinator is lost";
                }
            }
            if (aborted != null) {
                throw new IOException("checkpoint " + op + " aborted: " + aborted);
            }
            return taken.remove(key);
        }
    }

    @Override
    public void ended(String plugin, LifecycleEvent event) {
        ObjectNode m = Link.message("ended");
        put(m);
        m.put("plugin", plugin);
        m.put("event", event.name());
        link.send(m);
    }

    @Override
    public void abort(String why) {
        synchronized (this) {
            if (aborted != null && !failedHere) {
                return; // the main aborted it: it knows
            }
        }
        ObjectNode m = Link.message("arrive");
        put(m);
        m.put("ok", false);
        m.put("error", why);
        link.send(m);
    }

    /** A message of this operation from the main. */
    synchronized void message(ObjectNode m) {
        switch (m.path("type").asText()) {
            case "go" -> passed.add(m.path("barrier").asText());
            case "commit" -> passed.add(Barrier.SEALED.wire());
            case "abort" -> {
                if (aborted == null) {
                    aborted = "the main coordinator aborted it: " + m.path("why").asText("?");
                }
            }
            case "take" -> {
                Map<String, byte[]> all = new LinkedHashMap<>();
                m.path("parts").fields().forEachRemaining(e -> all.put(e.getKey(),
                        Base64.getDecoder().decode(e.getValue().asText())));
                taken.put(m.path("plugin").asText() + "\0" + m.path("event").asText() + "\0"
                        + m.path("topic").asText(), all);
            }
            default -> {
                return;
            }
        }
        notifyAll();
    }

    /** The link to the main was lost. */
    synchronized void lost(String why) {
        if (aborted == null) {
            aborted = "the link to the main coordinator was lost (" + why + ")";
        }
        notifyAll();
    }

    private OperationFailedException failed(String why) {
        synchronized (this) {
            if (aborted == null) {
                aborted = why;
                failedHere = true;
            }
        }
        return new OperationFailedException("part " + part + " of checkpoint " + op + " aborted: " + why, null);
    }

    private void put(ObjectNode m) {
        m.put("op", op);
        m.put("part", part);
    }
}
