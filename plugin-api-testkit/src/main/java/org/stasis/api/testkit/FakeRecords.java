package org.stasis.api.testkit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.stasis.api.PluginRecords;

/**
 * A plugin's records over a map, in insertion order like the core's; read-only as at
 * restart when {@code writable} is false.
 */
public final class FakeRecords implements PluginRecords {
    private final Map<String, String> map;
    private final boolean writable;

    /**
     * @param map the records, shared with the caller
     * @param writable whether {@link #put} is allowed
     */
    public FakeRecords(Map<String, String> map, boolean writable) {
        this.map = map;
        this.writable = writable;
    }

    /** Empty, writable records. */
    public FakeRecords() {
        this(new LinkedHashMap<>(), true);
    }

    @Override
    public void put(String key, String value) {
        if (!writable) {
            throw new UnsupportedOperationException("records are read-only at restart");
        }
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a record needs a non-empty key");
        }
        map.put(key, value);
    }

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(map.get(key));
    }

    @Override
    public Map<String, String> asMap() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
