package org.stasis.framework.dispatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.stasis.api.LifecycleEvent;

/**
 * The plugins known to the core and the order they run in. Thread-safe: plugin
 * bundles come and go (FileInstall) while checkpoints run; a dispatch works on a
 * snapshot taken when it starts.
 */
public final class PluginRegistry {
    /** Checkpoint order: higher ranking first, then older service first. */
    static final Comparator<PluginCallback> CHECKPOINT_ORDER = Comparator
            .comparingInt(PluginCallback::ranking).reversed()
            .thenComparingLong(PluginCallback::serviceId);

    private final Map<Long, PluginCallback> callbacks = new ConcurrentHashMap<>();

    /** @param callback a callback service that appeared */
    public void add(PluginCallback callback) {
        callbacks.put(key(callback.serviceId(), callback.event()), callback);
    }

    /**
     * @param serviceId the service that went away
     * @param event the event it was registered for
     */
    public void remove(long serviceId, LifecycleEvent event) {
        callbacks.remove(key(serviceId, event));
    }

    /**
     * @param event an event
     * @return the callbacks for the event in the order they must run
     */
    public List<PluginCallback> callbacksFor(LifecycleEvent event) {
        Comparator<PluginCallback> order = event.reversed() ? CHECKPOINT_ORDER.reversed() : CHECKPOINT_ORDER;
        return callbacks.values().stream()
                .filter(c -> c.event() == event)
                .sorted(order)
                .collect(Collectors.toList());
    }

    /** @return every plugin with the events it handles, in checkpoint order */
    public List<PluginDescriptor> plugins() {
        Map<String, List<PluginCallback>> byPlugin = callbacks.values().stream()
                .sorted(CHECKPOINT_ORDER)
                .collect(Collectors.groupingBy(PluginCallback::pluginId,
                        java.util.LinkedHashMap::new, Collectors.toList()));
        List<PluginDescriptor> result = new ArrayList<>();
        byPlugin.forEach((id, list) -> result.add(PluginDescriptor.of(id, list)));
        return result;
    }

    // Services registered under several callback interfaces share one service id.
    private static long key(long serviceId, LifecycleEvent event) {
        return serviceId * LifecycleEvent.values().length + event.ordinal();
    }
}
