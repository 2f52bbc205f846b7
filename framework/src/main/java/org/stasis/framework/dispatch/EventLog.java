package org.stasis.framework.dispatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The most recent steps of every checkpoint and restart, for {@code stasis:events}.
 * Bounded so a coordinator that checkpoints every few seconds for weeks stays small.
 */
public final class EventLog {
    private int capacity;
    private final Deque<EventLogEntry> entries = new ArrayDeque<>();

    /** @param capacity how many entries to keep */
    public EventLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("event log capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * @param newCapacity how many entries to keep from now on (the oldest go if there are more)
     */
    public synchronized void capacity(int newCapacity) {
        if (newCapacity < 1) {
            throw new IllegalArgumentException("event log capacity must be positive: " + newCapacity);
        }
        capacity = newCapacity;
        while (entries.size() > capacity) {
            entries.removeFirst();
        }
    }

    /** @param entry a step that happened */
    public synchronized void add(EventLogEntry entry) {
        while (entries.size() >= capacity) {
            entries.removeFirst();
        }
        entries.addLast(entry);
    }

    /**
     * @param limit the most entries to return
     * @return the newest entries, oldest first
     */
    public synchronized List<EventLogEntry> recent(int limit) {
        List<EventLogEntry> all = new ArrayList<>(entries);
        return all.subList(Math.max(0, all.size() - limit), all.size());
    }
}
