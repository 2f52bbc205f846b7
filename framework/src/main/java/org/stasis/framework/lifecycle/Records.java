package org.stasis.framework.lifecycle;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.stasis.api.PluginRecords;

/** A plugin's records: writable during a checkpoint, read-only at restart. */
final class Records implements PluginRecords {
    private final Map<String, String> values;
    private final boolean writable;

    private Records(Map<String, String> values, boolean writable) {
        this.values = values;
        this.writable = writable;
    }

    static Records writable() {
        return new Records(Collections.synchronizedMap(new LinkedHashMap<>()), true);
    }

    static Records readOnly(Map<String, String> values) {
        return new Records(new LinkedHashMap<>(values), false);
    }

    @Override
    public void put(String key, String value) {
        if (!writable) {
            throw new UnsupportedOperationException("plugin records are read-only during a restart");
        }
        if (key == null || key.isEmpty() || value == null) {
            throw new IllegalArgumentException("plugin records need a non-empty key and a value");
        }
        values.put(key, value);
    }

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    @Override
    public Map<String, String> asMap() {
        synchronized (values) {
            return Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }
    }
}
