package org.stasis.framework.core;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.stasis.api.LifecycleEvent;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.SpanOperation;
import org.stasis.framework.store.Manifest;

/** A span that notes whether the lifecycle used it (then the lifecycle ends it). */
final class SpanWatch implements SpanOperation {
    private final SpanOperation span;
    private final boolean[] used;

    SpanWatch(SpanOperation span, boolean[] used) {
        this.span = span;
        this.used = used;
    }

    private SpanOperation used() {
        synchronized (used) {
            used[0] = true;
        }
        return span;
    }

    @Override
    public boolean spans() {
        return span.spans();
    }

    @Override
    public void begin(String checkpointId, long generation) throws OperationFailedException {
        used().begin(checkpointId, generation);
    }

    @Override
    public void reach(Barrier barrier, PartCheckpoint mine) throws OperationFailedException {
        used().reach(barrier, mine);
    }

    @Override
    public String part() {
        return span.part();
    }

    @Override
    public String group() {
        return span.group();
    }

    @Override
    public List<String> parts() {
        return span.parts();
    }

    @Override
    public Map<String, byte[]> exchange(String plugin, LifecycleEvent event, String topic, byte[] mine)
            throws IOException {
        return used().exchange(plugin, event, topic, mine);
    }

    @Override
    public void ended(String plugin, LifecycleEvent event) {
        used().ended(plugin, event);
    }

    @Override
    public List<Manifest.Part> members() {
        return span.members();
    }

    @Override
    public String spanId() {
        return span.spanId();
    }

    @Override
    public void abort(String why) {
        used().abort(why);
    }

    @Override
    public void end() {
        used().end();
    }
}
