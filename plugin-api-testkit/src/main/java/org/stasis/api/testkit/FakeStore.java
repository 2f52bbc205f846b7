package org.stasis.api.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import org.stasis.api.OperationStore;

/**
 * An operation store as the core keeps one: {@link #end()} closes the closeable values
 * still in it, last put first, and from then on every method throws
 * {@link IllegalStateException}, so a test sees a plugin that holds on to state past
 * its operation.
 */
public final class FakeStore implements OperationStore {
    private final Map<String, Object> values = new LinkedHashMap<>();
    private boolean ended;

    @Override
    public synchronized void put(String key, Object value) {
        check();
        if (key == null || key.isEmpty() || value == null) {
            throw new IllegalArgumentException("the operation store needs a non-empty key and a value");
        }
        values.remove(key);
        values.put(key, value);
    }

    @Override
    public synchronized <T> Optional<T> get(String key, Class<T> type) {
        check();
        return Optional.ofNullable(values.get(key)).map(type::cast);
    }

    @Override
    public synchronized <T> T computeIfAbsent(String key, Class<T> type, Supplier<? extends T> create) {
        check();
        if (!values.containsKey(key)) {
            put(key, create.get());
        }
        return type.cast(values.get(key));
    }

    @Override
    public synchronized <T> Optional<T> remove(String key, Class<T> type) {
        Optional<T> value = get(key, type);
        values.remove(key);
        return value;
    }

    /** @return the keys in the store, in the order they were put (for assertions) */
    public synchronized List<String> keys() {
        check();
        return List.copyOf(values.keySet());
    }

    /**
     * Ends the operation: closes the closeable values, last put first.
     *
     * @throws IllegalStateException if a value failed to close (the others are still closed)
     */
    public void end() {
        List<Object> all;
        synchronized (this) {
            ended = true;
            all = new ArrayList<>(values.values());
            values.clear();
        }
        Collections.reverse(all);
        IllegalStateException failure = null;
        for (Object value : all) {
            if (value instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    failure = failure == null ? new IllegalStateException("closing a stored value failed: " + e, e)
                            : failure;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void check() {
        if (ended) {
            throw new IllegalStateException("the operation store is gone: the operation ended");
        }
    }
}
