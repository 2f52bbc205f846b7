package org.stasis.api;

import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Key/value records a plugin keeps in a checkpoint's manifest. Keys and values are
 * strings so that the manifest stays readable and independent of plugin classes.
 */
@ProviderType
public interface PluginRecords {
    /**
     * Stores a record, replacing any earlier value of the key.
     *
     * @param key a non-empty key
     * @param value the value
     * @throws UnsupportedOperationException if the records are read-only (at restart)
     */
    void put(String key, String value);

    /**
     * @param key the key
     * @return the value stored under the key, if any
     */
    Optional<String> get(String key);

    /** @return an unmodifiable snapshot of all records, in insertion order */
    Map<String, String> asMap();
}
