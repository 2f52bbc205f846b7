package org.stasis.framework.dispatch;

import org.stasis.api.LifecycleEvent;

/**
 * One registered callback service: the plugin it belongs to, the event it handles
 * and the facts that order it among the others.
 *
 * @param pluginId the plugin's id (its {@code stasis.plugin} property)
 * @param event the event this callback handles
 * @param callback the service object
 * @param ranking the service ranking; higher runs earlier on checkpoint
 * @param serviceId the service id; breaks ties, lower runs earlier
 * @param bundle the symbolic name and version of the bundle that registered it
 */
public record PluginCallback(String pluginId, LifecycleEvent event, Object callback, int ranking, long serviceId,
        String bundle) {
}
