package org.stasis.framework.lifecycle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.stasis.api.OperationStore;

/**
 * The plugins' operation stores of one checkpoint or restart: one per plugin, all
 * dropped together when the operation ends ({@link #end}), whatever its outcome.
 */
final class OperationStores {
    private final String label;
    private final Map<String, Store> stores = new ConcurrentHashMap<>();
    private volatile boolean ended;

    /** @param label the operation, for messages (e.g. {@code default-c1-3}) */
    OperationStores(String label) {
        this.label = label;
    }

    /**
     * @param pluginId a plugin
     * @return its store, made on first use
     */
    OperationStore of(String pluginId) {
        return stores.computeIfAbsent(pluginId, id -> new Store());
    }

    /**
     * Ends the operation: every store refuses from now on, and the closeable values
     * still in it are closed, last put first.
     *
     * @param failures hears the plugin id and the failure of each close that threw
     */
    void end(BiConsumer<String, Exception> failures) {
        ended = true;
        stores.forEach((pluginId, store) -> store.closeAll(e -> failures.accept(pluginId, e)));
        stores.clear();
    }

    private final class Store implements OperationStore {
        private final Map<String, Object> values = Collections.synchronizedMap(new LinkedHashMap<>());

        @Override
        public void put(String key, Object value) {
            open();
            if (key == null || key.isEmpty() || value == null) {
                throw new IllegalArgumentException("the operation store needs a non-empty key and a value");
            }
            synchronized (values) {
                values.remove(key);     // a replaced key moves to the end: closed first
                values.put(key, value);
            }
        }

        @Override
        public <T> Optional<T> get(String key, Class<T> type) {
            open();
            return Optional.ofNullable(values.get(key)).map(type::cast);
        }

        @Override
        public <T> T computeIfAbsent(String key, Class<T> type, Supplier<? extends T> create) {
            open();
            synchronized (values) {
                Object value = values.get(key);
                if (value == null) {
                    value = create.get();
                    put(key, value);
                }
                return type.cast(value);
            }
        }

        @Override
        public <T> Optional<T> remove(String key, Class<T> type) {
            open();
            synchronized (values) {
                Object value = values.get(key);
                if (value == null) {
                    return Optional.empty();
                }
                T typed = type.cast(value);     // a wrong type leaves the value where it is
                values.remove(key);
                return Optional.of(typed);
            }
        }

        private void open() {
            if (ended) {
                throw new IllegalStateException("the operation store of " + label
                        + " is gone: the operation ended; keep state in the store only from one event to a later one of the same operation");
            }
        }

        private void closeAll(Consumer<Exception> failures) {
            List<Object> all;
            synchronized (values) {
                all = new ArrayList<>(values.values());
                values.clear();
            }
            Collections.reverse(all);
            for (Object value : all) {
                if (value instanceof AutoCloseable closeable) {
                    try {
                        closeable.close();
                    } catch (Exception e) {
                        failures.accept(e);
                    }
                }
            }
        }
    }
}
