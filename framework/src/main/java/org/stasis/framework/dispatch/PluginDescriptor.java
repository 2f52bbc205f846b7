package org.stasis.framework.dispatch;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import org.stasis.api.LifecycleEvent;

/**
 * A plugin as the shell shows it.
 *
 * @param id the plugin id
 * @param bundle the bundle that provides it
 * @param ranking its highest service ranking
 * @param events the events it handles
 */
public record PluginDescriptor(String id, String bundle, int ranking, Set<LifecycleEvent> events) {
    static PluginDescriptor of(String id, List<PluginCallback> callbacks) {
        Set<LifecycleEvent> events = EnumSet.noneOf(LifecycleEvent.class);
        callbacks.forEach(c -> events.add(c.event()));
        PluginCallback first = callbacks.get(0);
        return new PluginDescriptor(id, first.bundle(), first.ranking(), events);
    }
}
