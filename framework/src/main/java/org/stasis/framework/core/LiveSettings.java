package org.stasis.framework.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which properties of org.stasis.coordinator.cfg changed since they were last applied.
 * A property is applied when it first appears and whenever its value changes, so a
 * command ({@code stasis interval 5}) holds until the file changes that property
 * again. A setting the command line gave wins over the file's value at start.
 */
final class LiveSettings {
    /** The properties the coordinator applies while it runs. */
    static final List<String> KEYS = List.of("plugin.timeout.seconds", "event.log.size", "interval", "keep",
            "ckpt.dir", "idle.exit.seconds", "save.files", "warm.cache", "snapshot.min.mib");

    private final Map<String, String> applied = new LinkedHashMap<>();
    private final Set<String> fromCommandLine;

    /** @param fromCommandLine the properties the command line set ({@code ckpt.dir}, {@code interval}, {@code keep}) */
    LiveSettings(Set<String> fromCommandLine) {
        this.fromCommandLine = fromCommandLine;
    }

    /**
     * @param properties the configuration as it is now
     * @return the properties to apply, in {@link #KEYS} order
     */
    synchronized Map<String, String> changes(Map<String, ?> properties) {
        Map<String, String> changed = new LinkedHashMap<>();
        for (String key : KEYS) {
            Object value = properties.get(key);
            if (value == null) {
                continue;
            }
            String text = String.valueOf(value).trim();
            boolean first = !applied.containsKey(key);
            if (text.equals(applied.put(key, text))) {
                continue;
            }
            if (!(first && fromCommandLine.contains(key))) {
                changed.put(key, text);
            }
        }
        return changed;
    }
}
