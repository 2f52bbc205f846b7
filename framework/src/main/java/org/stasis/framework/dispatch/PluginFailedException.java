package org.stasis.framework.dispatch;

import org.stasis.api.LifecycleEvent;

/**
 * A plugin threw or timed out while handling an event; the operation is aborted.
 */
public final class PluginFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String pluginId;
    private final LifecycleEvent event;

    PluginFailedException(String pluginId, LifecycleEvent event, String reason, Throwable cause) {
        super("plugin '" + pluginId + "' failed in " + event.displayName() + ": " + reason, cause);
        this.pluginId = pluginId;
        this.event = event;
    }

    /** @return the id of the plugin that failed */
    public String pluginId() {
        return pluginId;
    }

    /** @return the event it failed in */
    public LifecycleEvent event() {
        return event;
    }
}
