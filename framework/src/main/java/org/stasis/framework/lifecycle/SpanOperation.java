package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.stasis.api.LifecycleEvent;
import org.stasis.framework.store.Manifest;

/**
 * What one part of a checkpoint of a computation that spans hosts does with the other
 * parts (doc/several-hosts.md): the barriers between phases, the plugins' exchanges,
 * the main's list of parts and a member's link to the main's checkpoint. {@link #NONE},
 * a computation on one host, does nothing and costs nothing.
 */
public interface SpanOperation {
    /** A computation on one host: every barrier returns at once, an exchange sees this part only. */
    SpanOperation NONE = new SpanOperation() {
    };

    /** The fixed points of a checkpoint where every part waits for every other. */
    enum Barrier {
        /** after preCheckpoint */
        PREPARED,
        /** after the core suspended the part's processes */
        SUSPENDED,
        /** after drain */
        DRAINED,
        /** after the images and the plugins' write */
        WRITTEN,
        /** the part's checkpoint is durable, not yet published */
        SEALED;

        /** @return the barrier's name on the member link */
        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A part's checkpoint as the main's manifest lists it.
     *
     * @param id its checkpoint id
     * @param path where it is published (absolute, on its host)
     * @param processes how many processes it holds
     */
    record PartCheckpoint(String id, String path, int processes) {
    }

    /** @return whether the computation has more than one part */
    default boolean spans() {
        return false;
    }

    /**
     * The part's checkpoint has its id: the main asks the members for theirs.
     *
     * @param checkpointId this part's checkpoint id
     * @param generation its generation
     * @throws OperationFailedException if a member cannot be asked
     */
    default void begin(String checkpointId, long generation) throws OperationFailedException {
    }

    /**
     * Waits until every part reached {@code barrier}.
     *
     * @param barrier the barrier
     * @param mine this part's checkpoint (read by the main at {@link Barrier#WRITTEN})
     * @throws OperationFailedException if a part failed or was lost: abort
     */
    default void reach(Barrier barrier, PartCheckpoint mine) throws OperationFailedException {
    }

    /** @return this part's name */
    default String part() {
        return "local";
    }

    /** @return every part's name, in an order every part sees alike */
    default List<String> parts() {
        return List.of(part());
    }

    /**
     * A plugin's exchange (EventContext.exchange).
     *
     * @param plugin the plugin
     * @param event the event it runs in
     * @param topic the topic
     * @param mine this part's bytes
     * @return every part's bytes by part name
     * @throws IOException if a part failed, was lost or the exchange timed out
     */
    default Map<String, byte[]> exchange(String plugin, LifecycleEvent event, String topic, byte[] mine)
            throws IOException {
        return Map.of(part(), mine);
    }

    /**
     * A plugin finished an event in this part ({@code "*"}: every plugin did).
     *
     * @param plugin the plugin's id or {@code "*"}
     * @param event the event
     */
    default void ended(String plugin, LifecycleEvent event) {
    }

    /** @return in the main, the other parts' checkpoints, known once {@link Barrier#WRITTEN} is passed */
    default List<Manifest.Part> members() {
        return List.of();
    }

    /**
     * @return the id shared by the parts of one restart across hosts, whose restarts on
     *         one host run at once (each its own restorer); empty for none
     */
    default String group() {
        return "";
    }

    /** @return in a member, the id of the main's checkpoint this part belongs to; else null */
    default String spanId() {
        return null;
    }

    /**
     * This part's checkpoint failed: tell the other parts (the main aborts every part).
     *
     * @param why one line
     */
    default void abort(String why) {
    }

    /** The operation is over (published or aborted): forget it. */
    default void end() {
    }
}
