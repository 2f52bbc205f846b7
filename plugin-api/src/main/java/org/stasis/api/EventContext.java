package org.stasis.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What every lifecycle event tells a plugin. Contexts are valid only during the
 * callback they are passed to.
 *
 * <p>The events of one operation share an {@link #store() operation store}: a
 * checkpoint's {@code preCheckpoint}, {@code drain}, {@code write} and {@code resume},
 * or a restart's {@code restart} and {@code resume}. What a context offers depends on
 * the phase; each method says what it does in each phase, and the core enforces it:
 * <ul>
 * <li>{@code preCheckpoint}: the processes still run: {@link CheckpointContext#openFds}
 * is empty, {@link CheckpointContext#terminalSettings} empty, and the methods of
 * {@link CheckpointContext#processes()} fail;</li>
 * <li>{@code drain}, {@code write}: the processes are suspended; the records and the
 * plugin directory are writable;</li>
 * <li>{@code restart}: {@link RestartContext#records()} are read-only and the plugin
 * directory is not created (read it, never write it);</li>
 * <li>{@code resume}: no records; the processes are still suspended (after an aborted
 * checkpoint they may be gone).</li>
 * </ul>
 */
@ProviderType
public interface EventContext {
    /** @return the event being dispatched */
    LifecycleEvent event();

    /** @return the computation being checkpointed or restarted */
    Computation computation();

    /** @return the checkpoint's id, e.g. {@code default-3} */
    String checkpointId();

    /** @return the checkpoint's generation, counting from 1 */
    long generation();

    /**
     * The plugin's own directory inside the checkpoint ({@code plugins/<id>/}),
     * created on first call. Files written here during a checkpoint are published
     * with it; during a restart the directory is read-only.
     *
     * @return the directory
     */
    Path pluginDirectory();

    /**
     * Adds a line to the coordinator's event log under the plugin's id, for the user
     * to read with {@code stasis:events}.
     *
     * @param message what happened
     */
    void log(String message);

    /**
     * The plugin's store for this operation, the same object in every event of it and
     * a new, empty one in the next operation. The default (a core older than 1.4)
     * refuses.
     *
     * @return the plugin's operation store
     * @throws UnsupportedOperationException if the core has no operation store
     * @since 1.4
     */
    default OperationStore store() {
        throw new UnsupportedOperationException("this core has no operation store (plugin API before 1.4)");
    }

    /**
     * This context's part of the computation. A computation that spans hosts has one
     * part per host it ran on (each an ordinary computation of that host's
     * coordinator, with its own processes); every part runs the same events of one
     * checkpoint or restart at the same time, with a barrier between phases. A
     * computation on one host has one part. The default (a core older than 1.7) is
     * {@code "local"}.
     *
     * @return the part's name, unique within the computation (e.g. the host's name)
     * @since 1.7
     */
    default String part() {
        return "local";
    }

    /**
     * @return the names of every part of the computation in this operation, this one
     *         included, in a stable order that every part sees alike
     * @since 1.7
     */
    default List<String> parts() {
        return List.of(part());
    }

    /**
     * Exchanges bytes with this plugin's instances in the other parts of the
     * computation: every part's instance may call it with the same {@code topic}
     * during the same event, and each call returns once every part has either given
     * its bytes for the topic or finished the event without giving any. This is how
     * a plugin learns what the other hosts hold, e.g. which TCP connections lead to
     * a process of the computation on another host. On one host it returns at once
     * with this part's bytes only.
     *
     * @param topic what is exchanged; a plugin may exchange several topics per event,
     *        each once
     * @param mine this part's bytes (at most 16 MiB)
     * @return every part's bytes by part name, this part's included; parts that gave
     *         nothing are absent
     * @throws IOException if a part could not be reached or the exchange timed out;
     *         the operation is aborted everywhere
     * @since 1.7
     */
    default Map<String, byte[]> exchange(String topic, byte[] mine) throws IOException {
        return Map.of(part(), mine);
    }
}
