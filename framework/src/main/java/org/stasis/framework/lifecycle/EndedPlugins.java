package org.stasis.framework.lifecycle;

import org.stasis.api.EventContext;
import org.stasis.api.LifecycleEvent;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.PluginCallback;

/**
 * Tells the other parts of a computation that spans hosts when each plugin has finished
 * an event here: the dispatcher calls plugins one after the other, so asking for the
 * next plugin's context means the previous one ended. An exchange completes once every
 * part has given its bytes or ended the event without giving any.
 */
final class EndedPlugins implements EventDispatcher.ContextFactory {
    private final SpanOperation span;
    private final LifecycleEvent event;
    private final EventDispatcher.ContextFactory contexts;
    private String previous;

    EndedPlugins(SpanOperation span, LifecycleEvent event, EventDispatcher.ContextFactory contexts) {
        this.span = span;
        this.event = event;
        this.contexts = contexts;
    }

    @Override
    public EventContext contextFor(PluginCallback callback) {
        if (previous != null) {
            span.ended(previous, event);
        }
        previous = callback.pluginId();
        return contexts.contextFor(callback);
    }

    /** The event is over in this part, for every plugin. */
    void all() {
        span.ended("*", event);
    }
}
